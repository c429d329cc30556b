#include "dkim.hpp"

#include "dmarc/dmarc.hpp"
#include "text.hpp"

#include <async.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

namespace bp::probes::dkim {

namespace {

constexpr std::size_t max_header_block = 1024 * 1024;  // a header larger than this is not read for DKIM
constexpr std::size_t max_signatures = 10;

bool wsp(char c) { return c == ' ' || c == '\t'; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && (wsp(s[a]) || s[a] == '\r' || s[a] == '\n')) ++a;
  while (b > a && (wsp(s[b - 1]) || s[b - 1] == '\r' || s[b - 1] == '\n')) --b;
  return std::string(s.substr(a, b - a));
}

std::string strip_ws(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!wsp(c) && c != '\r' && c != '\n') out += c;
  }
  return out;
}

std::optional<std::string> base64_decode(const std::string& in) {
  const std::string s = strip_ws(in);
  if (s.empty() || s.size() % 4 != 0) return std::nullopt;
  std::string out(s.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                                static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(n);
  if (s.size() >= 1 && s[s.size() - 1] == '=') --len;
  if (s.size() >= 2 && s[s.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

struct EvpMdCtx {
  EvpMdCtx() : p(EVP_MD_CTX_new()) {}
  ~EvpMdCtx() { EVP_MD_CTX_free(p); }
  EVP_MD_CTX* p;
};

std::string sha256(std::string_view data) {  // one shot, for Ed25519's pre-hash
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

/// The message's header fields, raw ("Name: value" with folding, CRLF inside), in order.
struct RawMessage {
  std::vector<std::string> fields;
  off_t body_offset{0};
};

RawMessage read_header(int fd) {
  RawMessage m;
  std::string block;
  char buf[8192];
  std::size_t end = std::string::npos, sep = 0;
  while (block.size() < max_header_block) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    block.append(buf, static_cast<std::size_t>(n));
    if (auto p = block.find("\r\n\r\n"); p != std::string::npos) {
      end = p;
      sep = 4;
    }
    if (auto p = block.find("\n\n"); p != std::string::npos && (end == std::string::npos || p < end)) {
      end = p;
      sep = 2;
    }
    if (end != std::string::npos) break;
  }
  if (end == std::string::npos) {
    end = block.size();
    sep = 0;
  }
  m.body_offset = static_cast<off_t>(end + sep);
  // Lines with CRLF restored; a line starting with WSP continues the field before it.
  std::string header = block.substr(0, end);
  std::size_t i = 0;
  while (i < header.size()) {
    auto nl = header.find('\n', i);
    std::string line = header.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && wsp(line.front()) && !m.fields.empty()) {
      m.fields.back() += "\r\n" + line;
    } else if (!line.empty()) {
      m.fields.push_back(line);
    }
    if (nl == std::string::npos) break;
    i = nl + 1;
  }
  return m;
}

std::string field_name(const std::string& f) { return trim(f.substr(0, f.find(':'))); }

/// The DKIM-Signature field with its b= value taken out (section 3.7).
std::string without_b_value(const std::string& field) {
  std::string out;
  std::size_t i = 0;
  const auto colon = field.find(':');
  out = field.substr(0, colon + 1);
  i = colon + 1;
  while (i < field.size()) {
    auto semi = field.find(';', i);
    std::string tag = field.substr(i, semi == std::string::npos ? std::string::npos : semi - i);
    const auto eq = tag.find('=');
    if (eq != std::string::npos && strip_ws(tag.substr(0, eq)) == "b") tag = tag.substr(0, eq + 1);
    out += tag;
    if (semi == std::string::npos) break;
    out += ';';
    i = semi + 1;
  }
  return out;
}

asio::awaitable<SignatureResult> verify_one(resolver::Resolver& r, const std::string& path, const RawMessage& msg,
                                            const std::string& field) {
  SignatureResult res;
  std::string error;
  const auto value = field.substr(field.find(':') + 1);
  auto tags = parse_tag_list(value, &error);
  auto perm = [&](std::string why) {
    res.outcome = Outcome::permerror;
    res.detail = std::move(why);
    return res;
  };
  if (!tags) co_return perm("malformed DKIM-Signature: " + error);
  auto& t = *tags;
  res.domain = lower(trim(t["d"]));
  res.selector = trim(t["s"]);
  res.algorithm = lower(trim(t["a"]));
  for (const char* need : {"v", "a", "b", "bh", "d", "h", "s"}) {
    if (!t.count(need)) co_return perm(fmt::format("the signature has no {}= tag (RFC 6376 section 3.5)", need));
  }
  if (trim(t["v"]) != "1") co_return perm("v= is not 1");
  if (res.algorithm != "rsa-sha256" && res.algorithm != "ed25519-sha256") {
    co_return perm(fmt::format("a={} is not accepted (rsa-sha256 or ed25519-sha256; RFC 8301 retired rsa-sha1)", shown(res.algorithm)));
  }
  std::vector<std::string> signed_names;
  {
    const auto h = strip_ws(t["h"]);
    std::size_t i = 0;
    while (i <= h.size()) {
      auto c = h.find(':', i);
      auto name = lower(h.substr(i, c == std::string::npos ? std::string::npos : c - i));
      if (!name.empty()) signed_names.push_back(name);
      if (c == std::string::npos) break;
      i = c + 1;
    }
  }
  if (std::find(signed_names.begin(), signed_names.end(), "from") == signed_names.end()) {
    co_return perm("h= does not include From (RFC 6376 section 5.4)");
  }
  std::string canon = lower(trim(t.count("c") ? t["c"] : "simple/simple"));
  const auto slash = canon.find('/');
  const std::string hc = canon.substr(0, slash);
  const std::string bc = slash == std::string::npos ? "simple" : canon.substr(slash + 1);
  if ((hc != "simple" && hc != "relaxed") || (bc != "simple" && bc != "relaxed")) co_return perm("unknown c=" + canon);
  std::optional<std::uint64_t> body_length;
  if (t.count("l")) {
    const auto l = trim(t["l"]);
    if (l.empty() || l.size() > 18 || !std::all_of(l.begin(), l.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
      co_return perm("l= is not a number");
    }
    body_length = std::stoull(l);
  }
  if (t.count("x")) {
    const auto x = trim(t["x"]);
    if (!x.empty() && x.size() < 19 && std::all_of(x.begin(), x.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      if (std::stoll(x) < now) {
        res.outcome = Outcome::fail;
        res.detail = "the signature expired (x= is in the past)";
        co_return res;
      }
    }
  }
  const auto sig = base64_decode(t["b"]);
  const auto bh = base64_decode(t["bh"]);
  if (!sig || !bh) co_return perm("b= or bh= is not base64");

  // The key (section 3.6.2).
  const std::string key_name = res.selector + "._domainkey." + res.domain;
  auto l = co_await r.lookup(key_name, resolver::RrType::txt);
  res.evidence.push_back({key_name + " TXT", resolver::answer_text(l)});
  if (!l.ok()) {
    if (resolver::is_negative(l.error().kind)) {
      res.outcome = Outcome::permerror;
      res.detail = fmt::format("no key at {} ({})", key_name, resolver::to_string(l.error().kind));
    } else {
      res.outcome = Outcome::temperror;
      res.detail = fmt::format("the key at {} could not be looked up: {}", key_name, l.error().detail);
    }
    co_return res;
  }
  std::string record;
  for (const auto& rec : l->records) {
    std::string joined;
    for (const auto& s : rec.strings) joined += s;
    if (record.empty() || joined.find("p=") != std::string::npos) record = joined;
  }
  auto key_tags = parse_tag_list(record, &error);
  if (!key_tags) co_return perm(fmt::format("the key record at {} is malformed: {}", key_name, error));
  auto& k = *key_tags;
  if (k.count("v") && trim(k["v"]) != "DKIM1") co_return perm("the key record's v= is not DKIM1");
  res.testing = k.count("t") && strip_ws(k["t"]).find('y') != std::string::npos;
  const std::string key_type = lower(trim(k.count("k") ? k["k"] : "rsa"));
  if (!k.count("p")) co_return perm("the key record has no p=");
  if (strip_ws(k["p"]).empty()) {
    res.outcome = Outcome::fail;
    res.detail = fmt::format("the key at {} is revoked (empty p=)", key_name);
    co_return res;
  }
  const auto key_bytes = base64_decode(k["p"]);
  if (!key_bytes) co_return perm("the key's p= is not base64");
  if ((key_type == "rsa") != (res.algorithm == "rsa-sha256") || (key_type != "rsa" && key_type != "ed25519")) {
    co_return perm(fmt::format("key type k={} does not fit a={}", key_type, res.algorithm));
  }

  // The body hash, read from the file in pieces (section 3.7).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) co_return perm(fmt::format("cannot read the message again: {}", std::strerror(errno)));
  ::lseek(fd, msg.body_offset, SEEK_SET);
  EvpMdCtx body;
  EVP_DigestInit_ex(body.p, EVP_sha256(), nullptr);
  BodyCanon bcanon(bc == "relaxed");
  std::string out;
  std::uint64_t hashed = 0;
  auto take = [&](std::string& chunk) {
    std::size_t n = chunk.size();
    if (body_length) n = static_cast<std::size_t>(std::min<std::uint64_t>(n, *body_length - std::min(*body_length, hashed)));
    EVP_DigestUpdate(body.p, chunk.data(), n);
    hashed += n;
    chunk.clear();
  };
  char buf[64 * 1024];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bcanon.feed(std::string_view(buf, static_cast<std::size_t>(n)), out);
    take(out);
  }
  ::close(fd);
  bcanon.finish(out);
  take(out);
  unsigned char body_md[EVP_MAX_MD_SIZE];
  unsigned int body_md_len = 0;
  EVP_DigestFinal_ex(body.p, body_md, &body_md_len);
  if (std::string(reinterpret_cast<char*>(body_md), body_md_len) != *bh) {
    res.outcome = Outcome::fail;
    res.detail = "the body hash does not match: the body was changed after signing";
    co_return res;
  }

  // The header hash input (section 3.7): h= fields bottom-up, then this signature without b=.
  const bool relaxed = hc == "relaxed";
  std::string data;
  std::vector<bool> used(msg.fields.size(), false);
  for (const auto& name : signed_names) {
    for (std::size_t i = msg.fields.size(); i-- > 0;) {
      if (used[i] || lower(field_name(msg.fields[i])) != name) continue;
      used[i] = true;
      data += canonical_header(msg.fields[i], relaxed) + "\r\n";
      break;
    }
  }
  data += canonical_header(without_b_value(field), relaxed);

  bool ok = false;
  const auto* kb = reinterpret_cast<const unsigned char*>(key_bytes->data());
  EVP_PKEY* pkey = nullptr;
  if (key_type == "rsa") {
    const unsigned char* p = kb;
    pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(key_bytes->size()));
    if (pkey == nullptr) {
      p = kb;  // some publish the bare RSAPublicKey
      pkey = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(key_bytes->size()));
    }
  } else if (key_bytes->size() == 32) {
    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, kb, key_bytes->size());
  }
  if (pkey == nullptr) co_return perm(fmt::format("the key at {} cannot be read as a {} public key", key_name, key_type));
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_holder(pkey, EVP_PKEY_free);
  if (key_type == "rsa" && EVP_PKEY_bits(pkey) < 1024) {
    co_return perm(fmt::format("the RSA key at {} has {} bits; receivers refuse keys under 1024 (RFC 8301)", key_name,
                               EVP_PKEY_bits(pkey)));
  }
  EvpMdCtx v;
  const auto* sig_bytes = reinterpret_cast<const unsigned char*>(sig->data());
  if (key_type == "rsa") {
    ok = EVP_DigestVerifyInit(v.p, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
         EVP_DigestVerify(v.p, sig_bytes, sig->size(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  } else {
    // RFC 8463: Ed25519 signs the SHA-256 hash of the header data.
    const auto digest = sha256(data);
    ok = EVP_DigestVerifyInit(v.p, nullptr, nullptr, nullptr, pkey) == 1 &&
         EVP_DigestVerify(v.p, sig_bytes, sig->size(), reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
  }
  res.outcome = ok ? Outcome::pass : Outcome::fail;
  if (!ok) res.detail = "the signature does not verify: a signed header field was changed, or the key is not the signer's";
  co_return res;
}

}  // namespace

std::optional<std::map<std::string, std::string>> parse_tag_list(const std::string& text, std::string* error) {
  std::map<std::string, std::string> tags;
  std::size_t i = 0;
  while (i <= text.size()) {
    auto semi = text.find(';', i);
    const std::string spec = text.substr(i, semi == std::string::npos ? std::string::npos : semi - i);
    const std::string trimmed = trim(spec);
    if (!trimmed.empty()) {
      const auto eq = trimmed.find('=');
      if (eq == std::string::npos) {
        *error = fmt::format("'{}' is not tag=value", shown(trimmed, 40));
        return std::nullopt;
      }
      std::string name = trim(trimmed.substr(0, eq));
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
          })) {
        *error = fmt::format("'{}' is not a tag name", shown(name, 40));
        return std::nullopt;
      }
      if (tags.count(name)) {
        *error = fmt::format("tag {}= appears twice", name);
        return std::nullopt;
      }
      tags[name] = trim(trimmed.substr(eq + 1));
    }
    if (semi == std::string::npos) break;
    i = semi + 1;
  }
  return tags;
}

std::string canonical_header(const std::string& field, bool relaxed) {
  if (!relaxed) return field;
  const auto colon = field.find(':');
  std::string name = lower(trim(field.substr(0, colon)));
  std::string value;
  bool space = false;
  for (std::size_t i = colon == std::string::npos ? field.size() : colon + 1; i < field.size(); ++i) {
    const char c = field[i];
    if (c == '\r' || c == '\n') continue;  // unfold
    if (wsp(c)) {
      space = true;
      continue;
    }
    if (space && !value.empty()) value += ' ';
    space = false;
    value += c;
  }
  return name + ":" + value;
}

void BodyCanon::line(std::string_view l, std::string& out) {
  std::string canon;
  if (relaxed_) {
    bool space = false;
    for (char c : l) {
      if (wsp(c)) {
        space = true;
        continue;
      }
      if (space) canon += ' ';
      space = false;
      canon += c;
    }
  } else {
    canon.assign(l);
  }
  if (canon.empty()) {
    ++empty_lines_;  // kept back: empty lines at the end of the body are not hashed
    return;
  }
  for (; empty_lines_ > 0; --empty_lines_) out += "\r\n";
  out += canon;
  out += "\r\n";
  any_ = true;
}

void BodyCanon::feed(std::string_view raw, std::string& out) {
  std::size_t i = 0;
  while (i < raw.size()) {
    const auto nl = raw.find('\n', i);
    if (nl == std::string_view::npos) {
      partial_.append(raw.substr(i));
      return;
    }
    partial_.append(raw.substr(i, nl - i));
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    line(partial_, out);
    partial_.clear();
    i = nl + 1;
  }
}

void BodyCanon::finish(std::string& out) {
  if (!partial_.empty()) {
    line(partial_, out);  // a last line without CRLF gets one
    partial_.clear();
  }
  // An empty body is one CRLF in simple canonicalisation, nothing in relaxed (section 3.4.3, 3.4.4).
  if (!any_ && !relaxed_) out += "\r\n";
  empty_lines_ = 0;
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::pass: return "pass";
    case Outcome::fail: return "fail";
    case Outcome::temperror: return "temperror";
    case Outcome::permerror: return "permerror";
  }
  return "permerror";
}

asio::awaitable<std::vector<SignatureResult>> verify_dkim(resolver::Resolver& r, std::string path) {
  std::vector<SignatureResult> out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) co_return out;
  const auto msg = read_header(fd);
  ::close(fd);
  for (const auto& f : msg.fields) {
    if (lower(field_name(f)) != "dkim-signature") continue;
    if (out.size() >= max_signatures) break;
    out.push_back(co_await verify_one(r, path, msg, f));
  }
  co_return out;
}

std::vector<Finding> dkim_findings(const std::vector<SignatureResult>& results, const std::string& from_domain) {
  std::vector<Finding> out;
  bool aligned_pass = false;
  for (const auto& s : results) {
    const std::string who = fmt::format("d={} s={}", s.domain, s.selector);
    Finding f;
    switch (s.outcome) {
      case Outcome::pass:
        f = make_finding("dkim", "dkim.pass", Severity::ok, s.domain,
                         fmt::format("DKIM signature {} ({}) verifies{}", who, s.algorithm,
                                     s.testing ? "; the key says t=y (testing): receivers may treat it as unsigned" : ""));
        break;
      case Outcome::fail:
        f = make_finding("dkim", "dkim.fail", Severity::error, s.domain, fmt::format("DKIM signature {} fails: {}", who, s.detail));
        f.fix = "sign the message as it is sent, after every change to it, with the key published at the selector";
        break;
      case Outcome::temperror:
        f = make_finding("dkim", "dkim.temperror", Severity::warning, s.domain,
                         fmt::format("DKIM signature {} could not be checked: {}", who, s.detail));
        f.checked = false;
        break;
      case Outcome::permerror:
        f = make_finding("dkim", "dkim.permerror", Severity::error, s.domain,
                         fmt::format("DKIM signature {} is unusable: {}", who, s.detail));
        f.fix = "publish the key at selector._domainkey.domain and sign with rsa-sha256 or ed25519-sha256";
        break;
    }
    f.reference = "RFC 6376";
    f.evidence = s.evidence;
    out.push_back(std::move(f));
    // Relaxed alignment: the same organizational domain (RFC 7489 section 3.1.1).
    if (s.outcome == Outcome::pass && !from_domain.empty() && dmarc::aligned(s.domain, from_domain, false)) aligned_pass = true;
  }
  if (!from_domain.empty() && !aligned_pass) {
    auto f = make_finding("dkim", "dkim.not-aligned", results.empty() ? Severity::info : Severity::warning, from_domain,
                          results.empty() ? fmt::format("the message carries no DKIM signature: only SPF can align with {}", from_domain)
                                          : fmt::format("no verified DKIM signature is from {} (or a parent): d= differs from "
                                                        "the From: domain, so DKIM does not align for DMARC",
                                                        from_domain));
    f.fix = "sign with d= the From: domain (or its organizational domain)";
    f.reference = "RFC 7489 section 3.1.1";
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> key_findings(const std::string& name, const resolver::Lookup& txt, bool asked_for) {
  std::vector<Finding> out;
  const Evidence ev{name + " TXT", resolver::answer_text(txt)};
  auto add = [&](const char* code, Severity sev, std::string summary, std::string fix = {}) {
    auto f = make_finding("dkim", code, sev, name, std::move(summary));
    f.fix = std::move(fix);
    f.reference = "RFC 6376 section 3.6.1";
    f.evidence = {ev};
    out.push_back(std::move(f));
  };
  if (!txt.ok()) {
    if (!resolver::is_negative(txt.error().kind)) {
      add("dkim.key-lookup-failed", Severity::warning, fmt::format("could not look up the DKIM key at {}: {}", name, txt.error().detail));
      out.back().checked = false;
    } else if (asked_for) {
      add("dkim.key-missing", Severity::error, fmt::format("no DKIM key at {}: signatures with this selector fail", name),
          "publish the selector's public key, or sign with a selector that has one");
    }
    return out;
  }
  std::vector<std::string> records;
  for (const auto& rec : txt->records) {
    std::string joined;
    for (const auto& str : rec.strings) joined += str;
    records.push_back(joined);
  }
  if (records.empty()) return out;
  if (records.size() > 1) {
    add("dkim.key-several", Severity::error, fmt::format("{} publishes {} TXT records: verifiers may pick any", name, records.size()),
        "keep one key record per selector");
  }
  std::string error;
  const auto tags = parse_tag_list(records.front(), &error);
  if (!tags) {
    add("dkim.key-syntax", Severity::error, fmt::format("the DKIM key at {} is malformed: {}", name, error), "publish v=DKIM1; k=...; p=...");
    return out;
  }
  auto t = *tags;
  if (t.count("v") && trim(t["v"]) != "DKIM1") {
    add("dkim.key-syntax", Severity::error, fmt::format("the key at {} has v={} (must be DKIM1)", name, shown(t["v"], 20)));
    return out;
  }
  const std::string type = lower(trim(t.count("k") ? t["k"] : "rsa"));
  if (type != "rsa" && type != "ed25519") {
    add("dkim.key-type", Severity::error, fmt::format("the key at {} has k={}: verifiers know rsa and ed25519", name, shown(type, 20)));
    return out;
  }
  if (!t.count("p")) {
    add("dkim.key-syntax", Severity::error, fmt::format("the key at {} has no p= tag", name), "publish the public key in p=");
    return out;
  }
  if (strip_ws(t["p"]).empty()) {
    add("dkim.key-revoked", Severity::warning, fmt::format("the key at {} is revoked (empty p=): every signature with it fails", name),
        "sign with another selector, or remove the record once no mail in transit uses it");
    return out;
  }
  const auto bytes = base64_decode(t["p"]);
  if (!bytes) {
    add("dkim.key-syntax", Severity::error, fmt::format("the key at {} is not valid base64", name), "publish the key as base64");
    return out;
  }
  if (t.count("h") && lower(strip_ws(t["h"])).find("sha256") == std::string::npos) {
    add("dkim.key-hash", Severity::error, fmt::format("the key at {} allows only h={}: rsa-sha1 is no longer accepted (RFC 8301)", name,
                                                      shown(t["h"], 20)),
        "allow sha256 (or drop h=)");
  }
  std::string what;
  if (type == "rsa") {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes->data());
    EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(bytes->size()));
    if (pkey == nullptr) {
      p = reinterpret_cast<const unsigned char*>(bytes->data());
      pkey = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(bytes->size()));
    }
    if (pkey == nullptr) {
      add("dkim.key-syntax", Severity::error, fmt::format("the key at {} is not an RSA public key", name));
      return out;
    }
    const int bits = EVP_PKEY_bits(pkey);
    EVP_PKEY_free(pkey);
    if (bits < 1024) {
      add("dkim.key-weak", Severity::error,
          fmt::format("the RSA key at {} has {} bits: verifiers refuse keys under 1024 (RFC 8301)", name, bits),
          "publish a 2048-bit key under a new selector and sign with it");
      return out;
    }
    if (bits < 2048) {
      add("dkim.key-short", Severity::warning, fmt::format("the RSA key at {} has {} bits; 2048 is the recommended size", name, bits),
          "publish a 2048-bit key under a new selector and sign with it");
      return out;
    }
    what = fmt::format("RSA {} bits", bits);
  } else {
    if (bytes->size() != 32) {
      add("dkim.key-syntax", Severity::error, fmt::format("the Ed25519 key at {} is {} bytes, not 32 (RFC 8463)", name, bytes->size()));
      return out;
    }
    what = "Ed25519";
  }
  if (t.count("t") && strip_ws(t["t"]).find('y') != std::string::npos) {
    add("dkim.key-testing", Severity::warning,
        fmt::format("the key at {} ({}) is in testing mode (t=y): receivers may treat signed mail as unsigned", name, what),
        "remove t=y once signing works");
    return out;
  }
  add("dkim.key-ok", Severity::ok, fmt::format("DKIM key at {}: {}", name, what));
  return out;
}

asio::awaitable<std::vector<Finding>> check_keys(resolver::Resolver& r, std::string domain, std::vector<std::string> selectors) {
  const bool asked = !selectors.empty();
  if (!asked) selectors = common_selectors;
  std::vector<asio::awaitable<resolver::Lookup>> ops;
  std::vector<std::string> names;
  for (const auto& s : selectors) {
    names.push_back(s + "._domainkey." + domain);
    ops.push_back(r.lookup(names.back(), resolver::RrType::txt));
  }
  auto answers = co_await when_all(std::move(ops));
  std::vector<Finding> out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (auto& f : key_findings(names[i], answers[i], asked)) out.push_back(std::move(f));
  }
  const bool found = std::any_of(answers.begin(), answers.end(), [](const resolver::Lookup& l) { return l.ok(); });
  if (!asked && !found) {
    auto f = make_finding("dkim", "dkim.no-key-found", Severity::info, domain,
                          fmt::format("no DKIM key at the common selectors of {} ({} tried); name yours with --dkim-selector",
                                      domain, selectors.size()));
    f.reference = "RFC 6376 section 3.6.2.1";
    out.push_back(std::move(f));
  }
  co_return out;
}

}  // namespace bp::probes::dkim

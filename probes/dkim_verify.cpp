// DKIM signatures of a message, verified as a receiver verifies them (RFC 6376, RFC 8463).
#include "dkim.hpp"
#include "dkim_detail.hpp"

#include "dmarc/dmarc.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace bp::probes::dkim {

using detail::lower;
using detail::strip_ws;
using detail::trim;
using detail::base64_decode;

namespace {

constexpr std::size_t max_header_block = 1024 * 1024;  // a header larger than this is not read for DKIM
constexpr std::size_t max_signatures = 10;

bool wsp(char c) { return c == ' ' || c == '\t'; }

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

/// The hash of the canonical body, read from the file in pieces (section 3.7), or nullopt when it cannot be read.
std::optional<std::string> body_hash(const std::string& path, off_t offset, bool relaxed, std::optional<std::uint64_t> length) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  ::lseek(fd, offset, SEEK_SET);
  EvpMdCtx body;
  EVP_DigestInit_ex(body.p, EVP_sha256(), nullptr);
  BodyCanon canon(relaxed);
  std::string out;
  std::uint64_t hashed = 0;
  auto take = [&](std::string& chunk) {
    std::size_t n = chunk.size();
    if (length) n = static_cast<std::size_t>(std::min<std::uint64_t>(n, *length - std::min(*length, hashed)));
    EVP_DigestUpdate(body.p, chunk.data(), n);
    hashed += n;
    chunk.clear();
  };
  char buf[64 * 1024];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    canon.feed(std::string_view(buf, static_cast<std::size_t>(n)), out);
    take(out);
  }
  ::close(fd);
  canon.finish(out);
  take(out);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(body.p, md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

/// The header hash input (section 3.7): the h= fields bottom-up, then the signature field without b=.
std::string signed_header_data(const RawMessage& msg, const std::vector<std::string>& signed_names, const std::string& field,
                               bool relaxed) {
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
  return data + canonical_header(without_b_value(field), relaxed);
}

bool signature_verifies(EVP_PKEY* key, const std::string& type, const std::string& sig, const std::string& data) {
  EvpMdCtx v;
  const auto* s = reinterpret_cast<const unsigned char*>(sig.data());
  if (type == "rsa") {
    return EVP_DigestVerifyInit(v.p, nullptr, EVP_sha256(), nullptr, key) == 1 &&
           EVP_DigestVerify(v.p, s, sig.size(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  }
  // RFC 8463: Ed25519 signs the SHA-256 hash of the header data.
  const auto digest = sha256(data);
  return EVP_DigestVerifyInit(v.p, nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(v.p, s, sig.size(), reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
}

bool all_digits(const std::string& s, std::size_t max) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

asio::awaitable<SignatureResult> verify_one(resolver::Resolver& r, const std::string& path, const RawMessage& msg,
                                            const std::string& field) {
  SignatureResult res;
  std::string error;
  auto tags = parse_tag_list(field.substr(field.find(':') + 1), &error);
  auto ends = [&](Outcome o, std::string why) {
    res.outcome = o;
    res.detail = std::move(why);
    return res;
  };
  if (!tags) co_return ends(Outcome::permerror, "malformed DKIM-Signature: " + error);
  auto& t = *tags;
  res.domain = lower(trim(t["d"]));
  res.selector = trim(t["s"]);
  res.algorithm = lower(trim(t["a"]));
  for (const char* need : {"v", "a", "b", "bh", "d", "h", "s"}) {
    if (!t.count(need)) co_return ends(Outcome::permerror, fmt::format("the signature has no {}= tag (RFC 6376 section 3.5)", need));
  }
  if (trim(t["v"]) != "1") co_return ends(Outcome::permerror, "v= is not 1");
  if (res.algorithm != "rsa-sha256" && res.algorithm != "ed25519-sha256") {
    co_return ends(Outcome::permerror, fmt::format("a={} is not accepted (rsa-sha256 or ed25519-sha256; RFC 8301 retired rsa-sha1)",
                                                   shown(res.algorithm)));
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
    co_return ends(Outcome::permerror, "h= does not include From (RFC 6376 section 5.4)");
  }
  const std::string canon = lower(trim(t.count("c") ? t["c"] : "simple/simple"));
  const auto slash = canon.find('/');
  const std::string hc = canon.substr(0, slash);
  const std::string bc = slash == std::string::npos ? "simple" : canon.substr(slash + 1);
  if ((hc != "simple" && hc != "relaxed") || (bc != "simple" && bc != "relaxed")) co_return ends(Outcome::permerror, "unknown c=" + canon);
  std::optional<std::uint64_t> body_length;
  if (t.count("l")) {
    if (!all_digits(trim(t["l"]), 18)) co_return ends(Outcome::permerror, "l= is not a number");
    body_length = std::stoull(trim(t["l"]));
  }
  if (const auto x = trim(t["x"]); all_digits(x, 18)) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (std::stoll(x) < now) co_return ends(Outcome::fail, "the signature expired (x= is in the past)");
  }
  const auto sig = base64_decode(t["b"]);
  const auto bh = base64_decode(t["bh"]);
  if (!sig || !bh) co_return ends(Outcome::permerror, "b= or bh= is not base64");

  // The key (section 3.6.2), read as the key check reads it.
  const std::string key_name = res.selector + "._domainkey." + res.domain;
  auto l = co_await r.lookup(key_name, resolver::RrType::txt);
  res.evidence.push_back({key_name + " TXT", resolver::answer_text(l)});
  if (!l.ok()) {
    if (resolver::is_negative(l.error().kind)) {
      co_return ends(Outcome::permerror, fmt::format("no key at {} ({})", key_name, resolver::to_string(l.error().kind)));
    }
    co_return ends(Outcome::temperror, fmt::format("the key at {} could not be looked up: {}", key_name, l.error().detail));
  }
  std::string record;
  for (const auto& rec : l->records) {
    std::string joined;
    for (const auto& s : rec.strings) joined += s;
    if (record.empty() || joined.find("p=") != std::string::npos) record = joined;
  }
  const auto key = detail::read_key_record(record);
  if (!key.problem.empty()) co_return ends(Outcome::permerror, fmt::format("the key at {} {}", key_name, key.problem));
  if (key.revoked) co_return ends(Outcome::fail, fmt::format("the key at {} is revoked (empty p=)", key_name));
  res.testing = key.testing;
  if ((key.type == "rsa") != (res.algorithm == "rsa-sha256")) {
    co_return ends(Outcome::permerror, fmt::format("key type k={} does not fit a={}", key.type, res.algorithm));
  }
  if (key.type == "rsa" && key.bits < 1024) {
    co_return ends(Outcome::permerror,
                   fmt::format("the RSA key at {} has {} bits; receivers refuse keys under 1024 (RFC 8301)", key_name, key.bits));
  }

  const auto hash = body_hash(path, msg.body_offset, bc == "relaxed", body_length);
  if (!hash) co_return ends(Outcome::permerror, fmt::format("cannot read the message again: {}", std::strerror(errno)));
  if (*hash != *bh) co_return ends(Outcome::fail, "the body hash does not match: the body was changed after signing");
  if (!signature_verifies(key.key.get(), key.type, *sig, signed_header_data(msg, signed_names, field, hc == "relaxed"))) {
    co_return ends(Outcome::fail, "the signature does not verify: a signed header field was changed, or the key is not the signer's");
  }
  res.outcome = Outcome::pass;
  co_return res;
}

}  // namespace

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

}  // namespace bp::probes::dkim

// DKIM key records (RFC 6376 section 3.6.1, RFC 8301, RFC 8463): read once, judged for check.
#include "dkim.hpp"
#include "dkim_detail.hpp"

#include "text.hpp"

#include <async.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>

namespace bp::probes::dkim {

namespace detail {

KeyRecord read_key_record(const std::string& text) {
  KeyRecord k;
  auto fail = [&](const char* code, std::string why) {
    k.code = code;
    k.problem = std::move(why);
    return k;
  };
  std::string error;
  auto parsed = parse_tag_list(text, &error);
  if (!parsed) return fail("dkim.key-syntax", "is malformed: " + error);
  auto& t = *parsed;
  if (t.count("v") && trim(t["v"]) != "DKIM1") return fail("dkim.key-syntax", fmt::format("has v={} (must be DKIM1)", shown(t["v"], 20)));
  k.type = lower(trim(t.count("k") ? t["k"] : "rsa"));
  if (k.type != "rsa" && k.type != "ed25519") {
    return fail("dkim.key-type", fmt::format("has k={}: verifiers know rsa and ed25519", shown(k.type, 20)));
  }
  k.testing = t.count("t") && strip_ws(t["t"]).find('y') != std::string::npos;
  k.sha1_only = t.count("h") && lower(strip_ws(t["h"])).find("sha256") == std::string::npos;
  if (!t.count("p")) return fail("dkim.key-syntax", "has no p= tag");
  if (strip_ws(t["p"]).empty()) {
    k.revoked = true;
    return k;
  }
  const auto bytes = base64_decode(t["p"]);
  if (!bytes) return fail("dkim.key-syntax", "is not valid base64");
  const auto* kb = reinterpret_cast<const unsigned char*>(bytes->data());
  EVP_PKEY* pkey = nullptr;
  if (k.type == "rsa") {
    const unsigned char* p = kb;
    pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(bytes->size()));
    if (pkey == nullptr) {
      p = kb;  // some publish the bare RSAPublicKey
      pkey = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(bytes->size()));
    }
    if (pkey == nullptr) return fail("dkim.key-syntax", "is not an RSA public key");
    k.bits = EVP_PKEY_bits(pkey);
  } else {
    if (bytes->size() != 32) return fail("dkim.key-syntax", fmt::format("is an Ed25519 key of {} bytes, not 32 (RFC 8463)", bytes->size()));
    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, kb, bytes->size());
    if (pkey == nullptr) return fail("dkim.key-syntax", "is not an Ed25519 public key");
  }
  k.key = std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free);
  return k;
}

}  // namespace detail

std::vector<Finding> key_findings(const std::string& name, const resolver::Lookup& txt, bool asked_for) {
  std::vector<Finding> out;
  const Evidence ev{name + " TXT", resolver::answer_text(txt)};
  auto add = [&](const std::string& code, Severity sev, std::string summary, std::string fix = {}) {
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
  const auto k = detail::read_key_record(records.front());
  if (!k.problem.empty()) {
    add(k.code, Severity::error, fmt::format("the DKIM key at {} {}", name, k.problem),
        "publish v=DKIM1; k=rsa (or ed25519); p=<the base64 public key>");
    return out;
  }
  if (k.revoked) {
    add("dkim.key-revoked", Severity::warning, fmt::format("the key at {} is revoked (empty p=): every signature with it fails", name),
        "sign with another selector, or remove the record once no mail in transit uses it");
    return out;
  }
  if (k.sha1_only) {
    add("dkim.key-hash", Severity::error, fmt::format("the key at {} allows only sha1 in h=: rsa-sha1 is no longer accepted (RFC 8301)", name),
        "allow sha256 (or drop h=)");
  }
  if (k.type == "rsa" && k.bits < 1024) {
    add("dkim.key-weak", Severity::error,
        fmt::format("the RSA key at {} has {} bits: verifiers refuse keys under 1024 (RFC 8301)", name, k.bits),
        "publish a 2048-bit key under a new selector and sign with it");
    return out;
  }
  if (k.type == "rsa" && k.bits < 2048) {
    add("dkim.key-short", Severity::warning, fmt::format("the RSA key at {} has {} bits; 2048 is the recommended size", name, k.bits),
        "publish a 2048-bit key under a new selector and sign with it");
    return out;
  }
  const std::string what = k.type == "rsa" ? fmt::format("RSA {} bits", k.bits) : "Ed25519";
  if (k.testing) {
    add("dkim.key-testing", Severity::warning,
        fmt::format("the key at {} ({}) is in testing mode (t=y): receivers may treat signed mail as unsigned", name, what),
        "remove t=y once signing works");
    return out;
  }
  add("dkim.key-ok", Severity::ok, fmt::format("DKIM key at {}: {}", name, what));
  return out;
}

asio::awaitable<KeysReport> check_keys(resolver::Resolver& r, std::string domain, std::vector<std::string> selectors) {
  const bool asked = !selectors.empty();
  if (!asked) selectors = common_selectors;
  std::vector<resolver::Resolver::Question> ops;
  std::vector<std::string> names;
  for (const auto& s : selectors) {
    names.push_back(s + "._domainkey." + domain);
    ops.push_back({names.back(), resolver::RrType::txt});
  }
  auto answers = co_await r.lookup_all(std::move(ops));
  KeysReport rep;
  auto& out = rep.findings;
  for (std::size_t i = 0; i < names.size(); ++i) {
    KeyFact k{selectors[i], names[i], answers[i].ok(), {}};
    for (auto& f : key_findings(names[i], answers[i], asked)) {
      if (k.result.empty()) k.result = f.code;
      out.push_back(std::move(f));
    }
    rep.keys.push_back(std::move(k));
  }
  // "No key" only when every common selector answered that there is none: failed lookups say nothing of it.
  const bool none = std::all_of(answers.begin(), answers.end(),
                                [](const resolver::Lookup& l) { return !l.ok() && resolver::is_negative(l.error().kind); });
  if (!asked && none) {
    auto f = make_finding("dkim", "dkim.no-key-found", Severity::info, domain,
                          fmt::format("no DKIM key at the common selectors of {} ({} tried); name yours with --dkim-selector",
                                      domain, selectors.size()));
    f.reference = "RFC 6376 section 3.6.2.1";
    out.push_back(std::move(f));
  }
  co_return rep;
}


}  // namespace bp::probes::dkim

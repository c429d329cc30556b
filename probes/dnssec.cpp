#include "dnssec.hpp"

#include <async.hpp>
#include <domain_name.hpp>

#include <fmt/format.h>

namespace bp::probes::dnssec {

using resolver::DnsFailure;
using resolver::Lookup;
using resolver::RrType;

namespace {
Finding make(std::string code, Severity s, const std::string& domain, std::string summary, std::string reference,
             std::string fix = {}) {
  auto f = make_finding("dnssec", std::move(code), s, domain, std::move(summary));
  f.reference = std::move(reference);
  f.fix = std::move(fix);
  return f;
}

bool has_records(const Lookup& l, RrType type) {
  if (!l.ok()) return false;
  for (const auto& r : l->records) {
    if (r.type == type) return true;
  }
  return false;
}
}  // namespace

std::vector<Finding> dnssec_findings(const Gathered& g) {
  std::vector<Finding> out;
  const auto& d = g.domain;
  const std::string kq = d + " DNSKEY", dq = d + " DS";
  // Bogus: the resolver fails the zone, and answers for it once asked not to validate.
  if (g.dnskey_unchecked && has_records(*g.dnskey_unchecked, RrType::dnskey) && g.soa_unchecked &&
      has_records(*g.soa_unchecked, RrType::soa)) {
    auto f = make("dnssec.bogus", Severity::error, d,
                  fmt::format("{} fails DNSSEC validation: the resolver answers SERVFAIL, yet answers when asked not to "
                              "validate (CD); validating resolvers, which most large receivers and senders use, can look up "
                              "nothing in the zone, so its MX, SPF and DMARC records are unreachable to them and mail to it "
                              "is deferred, then bounced",
                              d),
                  "RFC 4035 section 5.5; RFC 4033 section 5",
                  "compare the DS record at the registrar with the zone's key signing key (DNSKEY flags 257) and re-sign "
                  "the zone if its signatures expired; while it cannot be fixed, remove the DS at the registrar");
    f.evidence.push_back({kq, resolver::answer_text(g.dnskey)});
    f.evidence.push_back({kq + " (CD=1)", resolver::answer_text(*g.dnskey_unchecked)});
    out.push_back(std::move(f));
    return out;
  }
  if (!g.soa.ok() && !resolver::is_negative(g.soa.error().kind)) {
    auto f = make("dnssec.not-checked", Severity::warning, d,
                  fmt::format("whether {} is signed could not be checked: {}", d, g.soa.error().detail), "RFC 4035 section 5");
    f.checked = false;
    f.evidence.push_back({d + " SOA", resolver::answer_text(g.soa)});
    out.push_back(std::move(f));
    return out;
  }
  // Only a zone apex has DNSKEY and DS of its own.
  if (!has_records(g.soa, RrType::soa)) return out;
  for (const auto* l : {&g.dnskey, &g.ds}) {
    if (!l->ok() && !resolver::is_negative(l->error().kind)) {
      auto f = make("dnssec.not-checked", Severity::warning, d,
                    fmt::format("whether {} is signed could not be checked: {}", d, l->error().detail), "RFC 4035 section 5");
      f.checked = false;
      f.evidence.push_back({l == &g.dnskey ? kq : dq, resolver::answer_text(*l)});
      out.push_back(std::move(f));
      return out;
    }
  }
  const bool signed_zone = has_records(g.dnskey, RrType::dnskey);
  const bool ds = has_records(g.ds, RrType::ds);
  const bool validated = g.dnskey.ok() && g.ds.ok() && g.dnskey->authenticated && g.ds->authenticated;
  // One verdict, in the order a validator meets the problems; its evidence is the answers it rests on.
  struct Verdict {
    const char* code;
    Severity severity;
    std::string summary;
    const char* reference;
    const char* fix;
  };
  const Verdict v =
      !signed_zone ? Verdict{"dnssec.unsigned", Severity::info,
                             fmt::format("{} is not signed (no DNSKEY): its answers cannot be validated, so DANE for its "
                                         "mail hosts cannot be used and MTA-STS is the only way to require TLS",
                                         d),
                             "RFC 4033; RFC 7672 section 2.2",
                             "sign the zone (most DNS hosts offer it) and publish its DS at the registrar"}
      : !ds        ? Verdict{"dnssec.no-ds", Severity::warning,
                             fmt::format("{} is signed, but its parent publishes no DS record for it: validators cannot "
                                         "reach its keys and treat it as unsigned (an island of security)",
                                         d),
                             "RFC 4035 section 5; RFC 4033 section 5",
                             "publish the DS record of the zone's key signing key at the registrar"}
      : !validated ? Verdict{"dnssec.not-validated", Severity::info,
                             fmt::format("{} is signed and has a DS at its parent, but this resolver did not mark the "
                                         "answers as validated (no AD flag): it does not validate, or validation failed; "
                                         "DANE is judged as unvalidated here",
                                         d),
                             "RFC 4035 section 3.2.3; RFC 6840 section 5.7",
                             "run the check against a validating resolver (--resolver) to see whether the chain of trust holds"}
                   : Verdict{"dnssec.ok", Severity::ok,
                             fmt::format("{} is signed, its parent holds the DS, and the resolver validated the answers", d),
                             "RFC 4035", ""};
  auto f = make(v.code, v.severity, d, v.summary, v.reference, v.fix);
  f.evidence.push_back({kq, resolver::answer_text(g.dnskey)});
  if (signed_zone) f.evidence.push_back({dq, resolver::answer_text(g.ds)});
  out.push_back(std::move(f));
  return out;
}

Facts dnssec_facts(const Gathered& g) {
  Facts f;
  const auto& soa = g.soa_unchecked && !g.soa.ok() ? *g.soa_unchecked : g.soa;
  const auto& dnskey = g.dnskey_unchecked && !g.dnskey.ok() ? *g.dnskey_unchecked : g.dnskey;
  f.apex = has_records(soa, RrType::soa);
  f.signed_zone = has_records(dnskey, RrType::dnskey);
  f.ds = has_records(g.ds, RrType::ds);
  f.validated = g.dnskey.ok() && g.ds.ok() && g.dnskey->authenticated && g.ds->authenticated;
  f.bogus = g.dnskey_unchecked && has_records(*g.dnskey_unchecked, RrType::dnskey) && !g.dnskey.ok();
  if (dnskey.ok()) {
    for (const auto& r : dnskey->records) {
      if (r.type == RrType::dnskey) f.keys.push_back(fmt::format("{} {}", r.key_flags_or_tag, r.algorithm));
    }
  }
  return f;
}

asio::awaitable<Report> check_dnssec(resolver::Resolver& r, std::string domain) {
  Gathered g;
  g.domain = resolver::normalize_name(domain);
  std::vector<resolver::Resolver::Question> q;
  q.push_back({g.domain, RrType::soa});
  q.push_back({g.domain, RrType::dnskey});
  q.push_back({g.domain, RrType::ds});
  auto answers = co_await r.lookup_all(std::move(q));
  g.soa = std::move(answers[0]);
  g.dnskey = std::move(answers[1]);
  g.ds = std::move(answers[2]);
  const auto servfail = [](const Lookup& l) { return !l.ok() && l.error().kind == DnsFailure::servfail; };
  if (servfail(g.soa) || servfail(g.dnskey)) {
    auto [soa, dnskey] = co_await all(r.lookup_unchecked(g.domain, RrType::soa), r.lookup_unchecked(g.domain, RrType::dnskey));
    g.soa_unchecked = std::move(soa);
    g.dnskey_unchecked = std::move(dnskey);
  }
  co_return Report{dnssec_findings(g), dnssec_facts(g)};
}

}  // namespace bp::probes::dnssec

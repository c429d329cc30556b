#include "mx.hpp"

#include "limits.hpp"

#include <domain_name.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace bp::probes {

using resolver::DnsFailure;
using resolver::Lookup;
using resolver::RrType;

std::string_view to_string(MxStatus s) {
  switch (s) {
    case MxStatus::has_mx: return "has_mx";
    case MxStatus::no_usable_target: return "no_usable_target";
    case MxStatus::implicit_mx: return "implicit_mx";
    case MxStatus::null_mx: return "null_mx";
    case MxStatus::null_mx_mixed: return "null_mx_mixed";
    case MxStatus::no_mail_host: return "no_mail_host";
    case MxStatus::domain_not_found: return "domain_not_found";
    case MxStatus::lookup_failed: return "lookup_failed";
  }
  return "unknown";
}

bool HostLookup::unresolvable() const {
  return !ip_literal && addresses.empty() && a_failure && aaaa_failure && resolver::is_negative(a_failure->kind) &&
         resolver::is_negative(aaaa_failure->kind);
}

bool HostLookup::lookup_failed() const { return !ip_literal && addresses.empty() && !unresolvable(); }

bool HostLookup::has_global_address() const {
  return std::any_of(addresses.begin(), addresses.end(), [](const AddressClass& a) { return a.global; });
}

namespace {

Evidence evidence_of(const std::string& name, RrType type, const Lookup& l) {
  return Evidence{fmt::format("{} {}", name, resolver::to_string(type)), resolver::answer_text(l)};
}

Finding make(std::string code, Severity sev, std::string subject, std::string summary) {
  return make_finding("mx", std::move(code), sev, std::move(subject), std::move(summary));
}

std::string failure_text(const resolver::Failure& f) { return fmt::format("{} ({})", resolver::to_string(f.kind), f.detail); }

}  // namespace

namespace {
/// Pure: a host's addresses from its A and AAAA answers.
HostLookup host_from(std::string host, const Lookup& a, const Lookup& aaaa, AddressPolicy policy) {
  HostLookup h;
  h.host = std::move(host);
  const RrType types[] = {RrType::a, RrType::aaaa};
  const Lookup* results[] = {&a, &aaaa};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& l = *results[i];
    h.evidence.push_back(evidence_of(h.host, types[i], l));
    const auto& chain = l.ok() ? l->cname_chain : l.error().cname_chain;
    if (h.cname_chain.empty() && !chain.empty()) h.cname_chain = chain;
    if (l.ok()) {
      for (const auto& rec : l->records) {
        if (h.addresses.size() >= limits::addresses_per_host) {
          ++h.addresses_not_kept;
          continue;
        }
        if (auto c = classify(rec.address, policy)) h.addresses.push_back(*c);
      }
    } else {
      (i == 0 ? h.a_failure : h.aaaa_failure) = l.error();
    }
  }
  return h;
}

/// \return each host's addresses (IP literals are not looked up), all asked at once.
asio::awaitable<std::vector<HostLookup>> lookup_hosts(resolver::Resolver& r, std::vector<std::string> hosts,
                                                       AddressPolicy policy) {
  std::vector<resolver::Resolver::Question> questions;
  for (const auto& host : hosts) {
    if (resolver::looks_like_ip_literal(host)) continue;
    questions.push_back({host, RrType::a});
    questions.push_back({host, RrType::aaaa});
  }
  auto answers = co_await r.lookup_all(std::move(questions));
  std::vector<HostLookup> out;
  std::size_t k = 0;
  for (auto& host : hosts) {
    if (resolver::looks_like_ip_literal(host)) {
      HostLookup h;
      h.host = std::move(host);
      h.ip_literal = true;
      out.push_back(std::move(h));
      continue;
    }
    out.push_back(host_from(std::move(host), answers[k], answers[k + 1], policy));
    k += 2;
  }
  co_return out;
}
}  // namespace

asio::awaitable<HostLookup> lookup_host(resolver::Resolver& r, std::string host, AddressPolicy policy) {
  std::vector<std::string> one;
  one.push_back(std::move(host));
  auto hosts = co_await lookup_hosts(r, std::move(one), policy);
  co_return std::move(hosts.front());
}

asio::awaitable<MxReport> probe_mx(resolver::Resolver& r, std::string domain, AddressPolicy policy) {
  MxReport rep;
  rep.domain = resolver::normalize_name(domain);
  auto mx = co_await r.lookup(rep.domain, RrType::mx);
  rep.evidence.push_back(evidence_of(rep.domain, RrType::mx, mx));
  if (mx.ok()) {
    rep.cname_chain = mx->cname_chain;
    auto records = mx->records;
    std::stable_sort(records.begin(), records.end(),
                     [](const auto& a, const auto& b) { return a.preference < b.preference; });
    std::vector<std::string> targets;
    std::vector<std::uint16_t> prefs;
    const bool has_null = std::any_of(records.begin(), records.end(), [](const auto& x) { return x.target.empty(); });
    std::set<std::string> hosts;
    for (const auto& rec : records) {
      if (rec.target.empty()) continue;
      if (!hosts.insert(rec.target).second) continue;  // the same host twice is looked up once
      // Past the bound, hosts are counted, not looked up (limits.hpp).
      if (hosts.size() > limits::mx_hosts) continue;
      // A null MX next to others is a broken set; still resolve the others to show them.
      targets.push_back(rec.target);
      prefs.push_back(rec.preference);
    }
    rep.hosts_not_looked_up = hosts.size() > limits::mx_hosts ? hosts.size() - limits::mx_hosts : 0;
    rep.targets = co_await lookup_hosts(r, std::move(targets), policy);
    for (std::size_t i = 0; i < prefs.size(); ++i) rep.targets[i].preference = prefs[i];
    if (has_null) {
      HostLookup null_target;
      null_target.host = "";
      rep.targets.insert(rep.targets.begin(), null_target);
    }
  } else {
    rep.failure = mx.error();
    rep.cname_chain = mx.error().cname_chain;
    if (mx.error().kind == DnsFailure::nodata) {
      // RFC 5321 5.1: no MX, so the domain itself is the implicit MX.
      auto self = co_await lookup_host(r, rep.domain, policy);
      rep.targets.push_back(std::move(self));
    }
  }
  interpret_mx(rep);
  co_return rep;
}

void interpret_mx(MxReport& rep) {
  const auto& d = rep.domain;
  auto& out = rep.findings;
  auto add_evidence = [&](Finding& f) { f.evidence = rep.evidence; };

  if (rep.failure && rep.failure->kind == DnsFailure::nxdomain) {
    rep.status = MxStatus::domain_not_found;
    auto f = make("mx.domain-not-found", Severity::error, d, fmt::format("{} does not exist (NXDOMAIN)", d));
    f.reference = "RFC 5321 section 5.1";
    f.fix = "check the spelling of the domain; if it is yours, register it and publish its zone";
    add_evidence(f);
    out.push_back(std::move(f));
    return;
  }
  if (rep.failure && rep.failure->kind != DnsFailure::nodata) {
    rep.status = MxStatus::lookup_failed;
    auto f = make("mx.lookup-failed", Severity::warning, d,
                  fmt::format("could not check the MX records of {}: {}", d, failure_text(*rep.failure)));
    f.checked = false;
    f.fix = "make the domain's name servers answer (a receiver would defer mail while they fail)";
    add_evidence(f);
    out.push_back(std::move(f));
    return;
  }
  if (!rep.cname_chain.empty()) {
    auto f = make("mx.domain-is-alias", Severity::info, d,
                  fmt::format("{} is an alias of {}; mail uses the MX records of the alias target", d,
                              rep.cname_chain.back()));
    f.reference = "RFC 5321 section 5.1";
    out.push_back(std::move(f));
  }

  const bool implicit = rep.failure && rep.failure->kind == DnsFailure::nodata;
  const bool has_null = !implicit && !rep.targets.empty() && rep.targets.front().host.empty();
  if (has_null && rep.targets.size() == 1) {
    rep.status = MxStatus::null_mx;
    auto f = make("mx.null-mx", Severity::info, d,
                  fmt::format("{} publishes a null MX (MX 0 .): it accepts no mail; mail to it fails at once, and "
                              "receivers may refuse mail from it (550 5.7.27)",
                              d));
    f.reference = "RFC 7505 sections 3 and 4";
    f.fix = "remove the null MX and publish real MX records if the domain should receive mail";
    add_evidence(f);
    out.push_back(std::move(f));
    return;
  }
  if (has_null) {
    auto f = make("mx.null-mx-mixed", Severity::error, d,
                  fmt::format("{} publishes a null MX next to {} other MX record(s); RFC 7505 forbids this and "
                              "senders may treat the domain as accepting no mail",
                              d, rep.targets.size() - 1));
    f.reference = "RFC 7505 section 3";
    f.fix = "remove either the null MX or the other MX records";
    add_evidence(f);
    out.push_back(std::move(f));
  }

  if (implicit) {
    const auto& self = rep.targets.front();
    if (self.addresses.empty()) {
      if (self.lookup_failed()) {
        rep.status = MxStatus::lookup_failed;
        auto f = make("mx.lookup-failed", Severity::warning, d,
                      fmt::format("{} has no MX records and its addresses could not be checked: A {}, AAAA {}", d,
                                  self.a_failure ? failure_text(*self.a_failure) : "ok",
                                  self.aaaa_failure ? failure_text(*self.aaaa_failure) : "ok"));
        f.checked = false;
        f.evidence = rep.evidence;
        f.evidence.insert(f.evidence.end(), self.evidence.begin(), self.evidence.end());
        out.push_back(std::move(f));
        return;
      }
      rep.status = MxStatus::no_mail_host;
      auto f = make("mx.no-mail-host", Severity::error, d,
                    fmt::format("{} has no MX, A or AAAA records: mail to it cannot be delivered", d));
      f.reference = "RFC 5321 section 5.1";
      f.fix = fmt::format("publish MX records for {} that name your mail servers", d);
      f.evidence = rep.evidence;
      f.evidence.insert(f.evidence.end(), self.evidence.begin(), self.evidence.end());
      out.push_back(std::move(f));
      return;
    }
    rep.status = self.has_global_address() ? MxStatus::implicit_mx : MxStatus::no_usable_target;
    std::string addrs;
    for (const auto& a : self.addresses) addrs += (addrs.empty() ? "" : ", ") + a.address;
    auto f = make("mx.implicit-mx", Severity::warning, d,
                  fmt::format("{} has no MX records; senders fall back to its own address ({}) as an implicit MX", d,
                              addrs));
    f.reference = "RFC 5321 section 5.1";
    f.fix = fmt::format("publish an explicit MX record for {} (or a null MX if it should receive no mail)", d);
    f.evidence = rep.evidence;
    f.evidence.insert(f.evidence.end(), self.evidence.begin(), self.evidence.end());
    out.push_back(std::move(f));
    for (const auto& a : self.addresses) {
      if (auto af = address_finding(a, d, "implicit MX")) {
        af->evidence = self.evidence;
        out.push_back(std::move(*af));
      }
    }
    if (rep.status == MxStatus::no_usable_target) {
      auto nf = make("mx.no-usable-target", Severity::error, d,
                     fmt::format("{} has no MX and its own addresses are not reachable from the internet", d));
      nf.fix = "publish an MX record whose target has a public address";
      out.push_back(std::move(nf));
    }
    return;
  }

  // Explicit MX set.
  if (rep.hosts_not_looked_up > 0) {
    auto f = make("mx.too-many-hosts", Severity::warning, d,
                  fmt::format("{} names {} distinct MX hosts; only the {} most preferred were looked up, the other {} "
                              "were not (a sender tries at most a handful of addresses: Postfix's smtp_mx_address_limit is 5)",
                              d, limits::mx_hosts + rep.hosts_not_looked_up, limits::mx_hosts, rep.hosts_not_looked_up));
    f.fix = "publish only the MX hosts that receive mail; a few, at two or three preferences, are enough";
    out.push_back(std::move(f));
  }
  int usable = 0, failed = 0;
  for (const auto& t : rep.targets) {
    if (t.host.empty()) continue;
    const std::string who = fmt::format("MX {} {}", t.preference, t.host);
    if (t.addresses_not_kept > 0) {
      out.push_back(make("mx.too-many-addresses", Severity::info, t.host,
                         fmt::format("{} has {} more addresses than the {} examined; the rest were not classified or "
                                     "checked on blocklists",
                                     who, t.addresses_not_kept, limits::addresses_per_host)));
    }
    if (t.ip_literal) {
      auto f = make("mx.target-ip-literal", Severity::error, t.host,
                    fmt::format("{} is an IP address written as a name; an MX target must be a host name with A/AAAA "
                                "records, and most senders look up {} as a name and fail",
                                who, t.host));
      f.reference = "RFC 5321 section 5.1, RFC 1035 section 3.3.9";
      f.fix = fmt::format("create a host name (e.g. mail.{}) with an A record for {} and use it as the MX target", d, t.host);
      add_evidence(f);
      out.push_back(std::move(f));
      continue;
    }
    if (!t.cname_chain.empty()) {
      auto f = make("mx.target-cname", Severity::warning, t.host,
                    fmt::format("{} is an alias (CNAME to {}); an MX target must not be an alias", who,
                                t.cname_chain.back()));
      f.reference = "RFC 2181 section 10.3, RFC 5321 section 5.1";
      f.fix = fmt::format("point the MX record at the canonical name {} (or give {} its own A/AAAA records)",
                          t.cname_chain.back(), t.host);
      f.evidence = t.evidence;
      out.push_back(std::move(f));
    }
    if (t.unresolvable()) {
      auto f = make("mx.target-unresolvable", Severity::warning, t.host,
                    fmt::format("{} has no address: A {}, AAAA {}", who, failure_text(*t.a_failure),
                                failure_text(*t.aaaa_failure)));
      f.reference = "RFC 5321 section 5.1";
      f.fix = fmt::format("give {} an A (and AAAA) record, or remove the MX record", t.host);
      f.evidence = t.evidence;
      out.push_back(std::move(f));
      continue;
    }
    if (t.lookup_failed()) {
      ++failed;
      auto f = make("mx.target-lookup-failed", Severity::warning, t.host,
                    fmt::format("could not resolve {}: A {}, AAAA {}", who,
                                t.a_failure ? failure_text(*t.a_failure) : "ok",
                                t.aaaa_failure ? failure_text(*t.aaaa_failure) : "ok"));
      f.checked = false;
      f.evidence = t.evidence;
      out.push_back(std::move(f));
      continue;
    }
    for (const auto& a : t.addresses) {
      if (auto af = address_finding(a, t.host, "MX host")) {
        af->evidence = t.evidence;
        out.push_back(std::move(*af));
      }
    }
    if (t.has_global_address()) ++usable;
  }
  if (usable > 0) {
    rep.status = MxStatus::has_mx;
    std::string list;
    for (const auto& t : rep.targets) {
      if (!t.host.empty()) list += (list.empty() ? "" : ", ") + fmt::format("{} {}", t.preference, t.host);
    }
    const auto total = rep.targets.size() - (has_null ? 1 : 0);
    auto f = make("mx.ok", Severity::ok, d,
                  fmt::format("{}: {} of {} MX host{} usable ({})", d, usable, total, total == 1 ? "" : "s", list));
    add_evidence(f);
    out.push_back(std::move(f));
  } else if (failed > 0) {
    rep.status = MxStatus::lookup_failed;
  } else {
    rep.status = MxStatus::no_usable_target;
    auto f = make("mx.no-usable-target", Severity::error, d,
                  fmt::format("none of the MX hosts of {} has an address reachable from the internet: mail to it "
                              "cannot be delivered",
                              d));
    f.reference = "RFC 5321 section 5.1";
    f.fix = "point the MX records at hosts with public A/AAAA records";
    add_evidence(f);
    out.push_back(std::move(f));
  }
}

}  // namespace bp::probes

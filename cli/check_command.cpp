// bounceprobe check: every domain's MX, SPF, DMARC, blocklists and SMTP dialogue.
#include "exit_codes.hpp"
#include "run_support.hpp"

#include <text.hpp>

#include <observed.hpp>
#include <sender.hpp>
#include <spf/lint.hpp>

#include <asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace bp::cli {

using probes::AddressPolicy;
using probes::Finding;
using probes::Severity;

namespace {

asio::awaitable<std::optional<probes::SmtpReport>> maybe_smtp(resolver::Resolver& r, probes::SmtpGate& gate,
                                                            const probes::MxReport& mx, std::optional<probes::SmtpOptions> o) {
  if (!o) co_return std::nullopt;
  co_return co_await probes::probe_smtp(r, gate, mx, std::move(*o));
}

struct CheckContext {
  resolver::Resolver& r;
  resolver::Resolver& blr;
  std::chrono::milliseconds deadline;  ///< each domain's DNS budget, from its start
  probes::SmtpGate& gate;
  const report::Catalog& catalog;
  AddressPolicy policy;
  std::vector<probes::dnsbl::DnsList> lists;
  std::optional<probes::SmtpOptions> smtp;
  bool relay_test{false};
  std::string relay_to;
  std::string smtp_from;
};

asio::awaitable<report::DomainResult> check_one(const CheckContext& cx, std::string domain) {
  // This domain's handles: its lookups stop waiting at its deadline.
  const auto until = resolver::Resolver::Clock::now() + cx.deadline;
  auto r = cx.r.with_deadline(until);
  auto blr = cx.blr.with_deadline(until);
  auto policy = cx.policy;
  using namespace asio::experimental::awaitable_operators;
  report::DomainResult d;
  d.domain = domain;
  // MX, SPF and DMARC are independent: all three run at once.
  auto [mx, spf, dm] = co_await (probes::probe_mx(r, domain, policy) && probes::spf::lint_spf(r, domain) &&
                                 probes::dmarc::discover_dmarc(r, domain, true));
  d.mx = std::move(mx);
  d.spf = std::move(spf);
  d.dmarc = std::move(dm);
  d.findings = d.mx.findings;
  for (auto& f : probes::sender_domain_findings(d.mx, "")) d.findings.push_back(std::move(f));
  // A domain that does not exist has no SPF or DMARC record either: saying so again is noise.
  const bool gone = d.mx.status == probes::MxStatus::domain_not_found;
  for (const auto& f : d.spf.findings) {
    if (!(gone && f.code == "spf.none")) d.findings.push_back(f);
  }
  for (auto& f : probes::spf::spf_mx_findings(d.spf, d.mx)) d.findings.push_back(std::move(f));
  for (const auto& f : d.dmarc.findings) {
    if (!(gone && f.code == "dmarc.none")) d.findings.push_back(f);
  }
  // Blocklists depend on the MX answer: the mail hosts' public addresses, the single
  // addresses SPF authorizes (wider ranges are named as skipped), and the domain itself.
  // check_dnsbl drops duplicates and bounds the count (limits::dnsbl_targets).
  std::vector<std::string> targets{domain};
  auto add = [&targets](const std::string& a) { targets.push_back(a); };
  for (const auto& t : d.mx.targets) {
    for (const auto& a : t.addresses) {
      if (a.global) add(a.address);  // public, or declared routable with --routable
    }
  }
  for (const auto& range : d.spf.authorized) {
    auto slash = range.find('/');
    const auto len = range.substr(slash + 1);
    if (len == "32" || len == "128") add(range.substr(0, slash));
    else d.dnsbl_skipped.push_back(range);
  }
  // The dialogue also needs only the MX answer: it runs next to the blocklist lookups.
  std::optional<probes::SmtpOptions> smtp = cx.smtp;
  if (smtp) {
    smtp->plan.recipients = {{"postmaster@" + domain, "postmaster"}, {probes::random_local_part() + "@" + domain, "random"}};
    if (cx.relay_test) smtp->plan.recipients.push_back({cx.relay_to, "relay"});
    smtp->plan.sender = cx.smtp_from;
  }
  auto [bl, sm] = co_await (probes::dnsbl::check_dnsbl(blr, targets, cx.lists) && maybe_smtp(cx.r, cx.gate, d.mx, std::move(smtp)));
  d.dnsbl = std::move(bl);
  d.smtp = std::move(sm);
  // Per domain, only what matters: listings and lookups that failed. Clean answers become one
  // line; a list without a public zone is a fact about the list (`bounceprobe dnsbl` shows it).
  int clean = 0;
  for (const auto& f : d.dnsbl.findings) {
    if (f.code == "dnsbl.clean") ++clean;
    else if (f.code != "dnsbl.no-public-zone") d.findings.push_back(f);
  }
  if (clean > 0) {
    d.findings.push_back(probes::make_finding(
        "dnsbl", "dnsbl.clean", probes::Severity::ok, domain,
        fmt::format("{} and its mail hosts are on no blocklist ({} lookup{})", domain, clean, clean == 1 ? "" : "s")));
  }
  if (!d.dnsbl_skipped.empty()) {
    d.findings.push_back(probes::make_finding(
        "dnsbl", "dnsbl.ranges-skipped", probes::Severity::info, domain,
        fmt::format("{} SPF range(s) wider than one address were not queried address by address (e.g. {})",
                    d.dnsbl_skipped.size(), d.dnsbl_skipped.front())));
  }
  if (d.smtp) {
    for (const auto& f : d.smtp->findings) d.findings.push_back(f);
    for (auto& f : report::observed_findings(report::observe(cx.catalog, *d.smtp))) d.findings.push_back(std::move(f));
  }
  co_return d;
}

/// Domains checked at once: each domain's deadline runs from its own start, so a
/// domain must not wait long for resolver slots behind others.
constexpr std::size_t check_window = 32;

asio::awaitable<std::vector<report::DomainResult>> check_all(const CheckContext& cx, std::vector<std::string> domains) {
  std::vector<report::DomainResult> results(domains.size());
  std::size_t next = 0;
  // A few workers, each taking the next domain when its last one is done.
  auto worker = [&]() -> asio::awaitable<bool> {
    // A mute resolver ends the run (exit 3): domains not started yet are not started.
    while (next < domains.size() && !cx.r.mute()) {
      const std::size_t i = next++;
      results[i] = co_await check_one(cx, domains[i]);
    }
    co_return true;
  };
  std::vector<asio::awaitable<bool>> workers;
  for (std::size_t k = 0; k < std::min(check_window, domains.size()); ++k) workers.push_back(worker());
  co_await when_all(std::move(workers));
  co_return results;
}


}  // namespace

int run_check(const CommonOptions& o, const std::vector<std::string>& raw_domains) {
  std::vector<std::string> domains;
  for (const auto& d : raw_domains) domains.push_back(check_domain_arg(d));
  auto policy = address_policy(o);
  std::optional<report::Catalog> catalog_holder;
  const auto& catalog = catalog_for(o, catalog_holder);
  if (!o.smtp_from.empty() && o.smtp_from != "<>") {
    auto c = probes::check_address(o.smtp_from, "sender");
    if (!c.address || !c.problem.empty()) throw UsageError(fmt::format("--from '{}' is not a usable address{}", probes::shown(o.smtp_from), c.problem.empty() ? "" : ": " + c.problem));
  }
  if (o.relay_test) {
    auto c = probes::check_address(o.relay_to, "recipient");
    if (!c.address || c.address->domain.empty()) throw UsageError(fmt::format("--relay-to '{}' is not a recipient address", probes::shown(o.relay_to)));
  }
  DnsRun dns(o, domains.size(), !o.no_smtp);
  probes::SmtpGate gate(dns.resolver().executor(), o.smtp_parallel);
  CheckContext cx{dns.resolver(), dns.dnsbl_resolver(), target_deadline(o), gate, catalog, policy, dnsbl_lists(o), smtp_options(o, ""),
                  o.relay_test, o.relay_to, o.smtp_from == "<>" ? "" : o.smtp_from};
  auto results = dns.run(check_all(cx, domains));
  const auto run = dns.info();
  Severity threshold = Severity::error;
  probes::parse_severity(o.fail_on, &threshold);
  if (o.format == "json") {
    emit_json(report::check_json(results, run, o.verbose));
  } else if (o.format == "jsonl") {
    emit(report::check_jsonl(results, run, o.verbose));
  } else if (o.format == "junit") {
    emit(report::check_junit(results, run, threshold));
  } else {
    emit(report::check_text(results, run, render_options(o)));
  }
  std::vector<Finding> all;
  for (const auto& d : results) all.insert(all.end(), d.findings.begin(), d.findings.end());
  return exit_for(all, o);
}

}  // namespace bp::cli

#include "check.hpp"

#include <delegation.hpp>
#include <dnssec.hpp>
#include <dkim.hpp>
#include <mta_sts.hpp>

#include <async.hpp>
#include <data_file.hpp>
#include <domain_name.hpp>
#include <mx.hpp>
#include <observed.hpp>
#include <sender.hpp>
#include <spf/lint.hpp>
#include <dmarc/dmarc.hpp>
#include <text.hpp>

#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <tuple>

namespace bp::engine {

namespace {

asio::awaitable<std::optional<probes::SmtpReport>> maybe_smtp(resolver::Resolver& r, probes::SmtpGate& gate,
                                                            const probes::MxReport& mx, std::optional<probes::SmtpOptions> o) {
  if (!o) co_return std::nullopt;
  co_return co_await probes::probe_smtp(r, gate, mx, std::move(*o));
}

}  // namespace

namespace {
asio::awaitable<report::DomainResult> check_one(const CheckContext& cx, std::string domain);
}  // namespace

report::Comparison compare_findings(const std::vector<probes::Finding>& before, const std::vector<probes::Finding>& changed) {
  auto same = [](const probes::Finding& a, const probes::Finding& b) {
    return a.code == b.code && a.subject == b.subject && a.severity == b.severity && a.checked == b.checked &&
           a.summary == b.summary;
  };
  auto missing_from = [&](const std::vector<probes::Finding>& from, const std::vector<probes::Finding>& in) {
    std::vector<probes::Finding> out;
    for (const auto& f : from) {
      if (std::none_of(in.begin(), in.end(), [&](const probes::Finding& g) { return same(f, g); })) out.push_back(f);
    }
    return out;
  };
  return {missing_from(changed, before), missing_from(before, changed)};
}

asio::awaitable<report::DomainResult> check_domain(const CheckContext& cx, std::string domain) {
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(); };
  if (cx.live == nullptr) {
    auto d = co_await check_one(cx, std::move(domain));
    d.elapsed_ms = elapsed();
    co_return d;
  }
  CheckContext live{*cx.live, cx.blr, cx.gate, cx.catalog, cx.settings, nullptr, cx.zone_health};
  auto [changed, before] = co_await all(check_one(cx, domain), check_one(live, domain));
  changed.compare = compare_findings(before.findings, changed.findings);
  changed.elapsed_ms = elapsed();
  co_return changed;
}

namespace {

/// --mta-sts-state: a valid policy is compared with the one remembered for the domain, then remembered.
void remember_policy(probes::transport::PolicyMemory* memory, const std::string& domain,
                     const probes::transport::PolicyFetch& p, std::vector<probes::Finding>& findings) {
  if (memory == nullptr || !p.policy || !p.policy->problems.empty()) return;
  char at[32] = "";
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (gmtime_r(&now, &tm) != nullptr) std::strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
  probes::transport::SeenPolicy seen{p.id, probes::transport::policy_digest(*p.policy),
                                     probes::transport::policy_summary(*p.policy), at};
  for (auto& f : probes::transport::id_findings(domain, memory->recall(domain), seen)) findings.push_back(std::move(f));
  memory->remember(domain, std::move(seen));
}

asio::awaitable<report::DomainResult> check_one(const CheckContext& cx, std::string domain) {
  // This domain's handles: its lookups stop waiting at its deadline.
  const auto until = resolver::Resolver::Clock::now() + cx.settings.deadline;
  auto r = cx.r.with_deadline(until);
  auto blr = &cx.blr == &cx.r ? r : cx.blr.with_deadline(until);  // one deadline timer when they are one resolver
  auto policy = cx.settings.policy;
  report::DomainResult d;
  d.domain = domain;
  // The dialogue needs only the MX answer.
  std::optional<probes::SmtpOptions> smtp = cx.settings.smtp;
  if (smtp) {
    smtp->plan.recipients = {{"postmaster@" + domain, "postmaster"}, {probes::random_local_part() + "@" + domain, "random"}};
    if (cx.settings.relay_test) smtp->plan.recipients.push_back({cx.settings.relay_to, "relay"});
    smtp->plan.sender = cx.settings.smtp_from;
  }
  // The critical path is MX -> the hosts' addresses -> their blocklist entries (and the
  // dialogue): that chain runs beside SPF and DMARC rather than after them.
  struct MxBranch {
    probes::MxReport mx;
    std::set<std::string> targets;  ///< asked on the blocklists
    probes::dnsbl::DnsblReport dnsbl;
    std::optional<probes::SmtpReport> smtp;
  };
  auto mx_branch = [&]() -> asio::awaitable<MxBranch> {
    MxBranch b;
    b.mx = co_await probes::probe_mx(r, domain, policy);
    // The domain itself (domain lists) and the mail hosts' public addresses (or declared routable).
    std::vector<std::string> targets{domain};
    for (const auto& t : b.mx.targets) {
      for (const auto& a : t.addresses) {
        if (a.global) targets.push_back(a.address);
      }
    }
    b.targets.insert(targets.begin(), targets.end());
    if (!smtp) {
      b.dnsbl = co_await probes::dnsbl::check_dnsbl(blr, std::move(targets), cx.settings.lists, probes::limits::dnsbl_targets,
                                                    false, cx.zone_health.get());
      co_return b;
    }
    auto [bl, sm] = co_await all(probes::dnsbl::check_dnsbl(blr, targets, cx.settings.lists, probes::limits::dnsbl_targets,
                                                            false, cx.zone_health.get()),
                                 maybe_smtp(cx.r, cx.gate, b.mx, std::move(smtp)));
    b.dnsbl = std::move(bl);
    b.smtp = std::move(sm);
    co_return b;
  };
  // Each of these is absent when turned off (--no-dkim, --no-delegation, --no-dnssec).
  auto keys = [&]() -> asio::awaitable<std::optional<probes::dkim::KeysReport>> {
    if (!cx.settings.dkim) co_return std::nullopt;
    co_return co_await probes::dkim::check_keys(r, domain, cx.settings.dkim_selectors);
  };
  auto name_servers = [&]() -> asio::awaitable<std::optional<probes::delegation::Report>> {
    if (!cx.settings.delegation) co_return std::nullopt;
    co_return co_await probes::delegation::check_delegation(r, domain, policy);
  };
  auto signing = [&]() -> asio::awaitable<std::optional<probes::dnssec::Report>> {
    if (!cx.settings.dnssec) co_return std::nullopt;
    co_return co_await probes::dnssec::check_dnssec(r, domain);
  };
  // The three that can be turned off run as one operation: nothing is started for them when all are off.
  using Extras = std::tuple<std::optional<probes::dkim::KeysReport>, std::optional<probes::delegation::Report>,
                            std::optional<probes::dnssec::Report>>;
  auto extras = [&]() -> asio::awaitable<Extras> {
    if (!cx.settings.dkim && !cx.settings.delegation && !cx.settings.dnssec) co_return Extras{};
    co_return co_await all(keys(), name_servers(), signing());
  };
  auto transport_options = cx.settings.transport;
  transport_options.addresses = policy;
  auto [branch, spf, dm, transport, optional_parts] =
      co_await all(mx_branch(), probes::spf::lint_spf(r, domain), probes::dmarc::discover_dmarc(r, domain, true),
                   probes::transport::check_transport(r, domain, transport_options), extras());
  auto& [dkim_keys, delegation, dnssec] = optional_parts;
  d.mx = std::move(branch.mx);
  d.spf = std::move(spf);
  d.dmarc = std::move(dm);
  d.dnsbl = std::move(branch.dnsbl);
  d.smtp = std::move(branch.smtp);
  d.findings = d.mx.findings;
  for (auto& f : probes::sender_domain_findings(d.mx, "")) d.findings.push_back(std::move(f));
  // A domain that does not exist has no SPF or DMARC record either: saying so again is noise.
  const bool gone = d.mx.status == probes::MxStatus::domain_not_found;
  // The probes' findings move into the domain's list (the reports keep their facts).
  for (auto& f : d.spf.findings) {
    if (!(gone && f.code == "spf.none")) d.findings.push_back(std::move(f));
  }
  d.spf.findings.clear();
  for (auto& f : probes::spf::spf_mx_findings(d.spf, d.mx)) d.findings.push_back(std::move(f));
  for (auto& f : d.dmarc.findings) {
    if (!(gone && f.code == "dmarc.none")) d.findings.push_back(std::move(f));
  }
  d.dmarc.findings.clear();
  if (!gone) {
    if (dkim_keys) {
      for (auto& f : dkim_keys->findings) d.findings.push_back(std::move(f));
      d.dkim_keys = std::move(dkim_keys->keys);
    }
    for (auto& f : transport.findings) d.findings.push_back(std::move(f));
    if (transport.policy) {
      for (auto& f : probes::transport::policy_findings(domain, *transport.policy, d.mx, d.smtp ? &*d.smtp : nullptr)) {
        d.findings.push_back(std::move(f));
      }
      remember_policy(cx.settings.transport.memory, domain, *transport.policy, d.findings);
      d.mta_sts = std::move(transport.policy);
    } else if (transport.fetch_skipped) {
      auto f = probes::make_finding("mta-sts", "mta-sts.policy-not-fetched", probes::Severity::info, domain,
                                    "the MTA-STS policy was not fetched (--no-mta-sts-fetch)");
      f.checked = false;
      d.findings.push_back(std::move(f));
    }
    if (delegation) {
      for (auto& f : delegation->findings) d.findings.push_back(std::move(f));
      d.delegation = std::move(delegation->facts);
    }
    if (dnssec) {
      for (auto& f : dnssec->findings) d.findings.push_back(std::move(f));
      d.dnssec = std::move(dnssec->facts);
    }
  }
  // The single addresses SPF authorizes go on the blocklists too (wider ranges are named
  // as skipped), within what is left of the per-domain bound (limits::dnsbl_targets).
  std::vector<std::string> extra;
  for (const auto& range : d.spf.authorized) {
    auto slash = range.find('/');
    const auto len = range.substr(slash + 1);
    if (len == "32" || len == "128") {
      auto a = range.substr(0, slash);
      if (!branch.targets.count(a)) extra.push_back(std::move(a));
    } else {
      d.dnsbl_skipped.push_back(range);
    }
  }
  const std::size_t room = probes::limits::dnsbl_targets - std::min(branch.targets.size(), probes::limits::dnsbl_targets);
  if (extra.size() > room) {
    d.dnsbl.findings.push_back(probes::make_finding(
        "dnsbl", "dnsbl.targets-capped", probes::Severity::warning, domain,
        fmt::format("{} address(es) SPF authorizes were not checked on the blocklists: at most {} per domain are queried",
                    extra.size() - room, probes::limits::dnsbl_targets)));
    extra.resize(room);
  }
  if (!extra.empty()) {
    auto more = co_await probes::dnsbl::check_dnsbl(blr, extra, cx.settings.lists, extra.size(), false, cx.zone_health.get());
    for (auto& x : more.results) d.dnsbl.results.push_back(std::move(x));
    for (auto& f : more.findings) d.dnsbl.findings.push_back(std::move(f));
  }
  // Per domain, only what matters: listings and lookups that failed. Clean answers become one
  // line; a list without a public zone is a fact about the list (`bounceprobe dnsbl` shows it).
  for (auto& f : d.dnsbl.findings) {
    if (f.code != "dnsbl.no-public-zone") d.findings.push_back(std::move(f));
  }
  d.dnsbl.findings.clear();
  const auto clean = std::count_if(d.dnsbl.results.begin(), d.dnsbl.results.end(), [](const probes::dnsbl::Result& x) {
    return x.verdict.state == probes::dnsbl::State::clean;
  });
  if (clean > 0) {
    // Only what was looked up is clean: hosts that are unknown are not said to be.
    const bool hosts_unknown = d.mx.status == probes::MxStatus::lookup_failed;
    const bool some_addresses_unknown = std::any_of(d.mx.targets.begin(), d.mx.targets.end(), [](const probes::HostLookup& h) {
      return (h.a_failure && !resolver::is_negative(h.a_failure->kind)) ||
             (h.aaaa_failure && !resolver::is_negative(h.aaaa_failure->kind));
    });
    std::string what = fmt::format("{} and its mail hosts are on no blocklist", domain);
    if (hosts_unknown) {
      what = fmt::format("{} is on no domain blocklist; its mail hosts are unknown (the MX lookup failed), so their "
                         "addresses were not looked up",
                         domain);
    } else if (some_addresses_unknown) {
      what = fmt::format("{} and the mail host addresses that could be looked up are on no blocklist", domain);
    }
    d.findings.push_back(probes::make_finding("dnsbl", "dnsbl.clean", probes::Severity::ok, domain,
                                              fmt::format("{} ({} lookup{})", what, clean, clean == 1 ? "" : "s")));
  }
  if (!d.dnsbl_skipped.empty()) {
    d.findings.push_back(probes::make_finding(
        "dnsbl", "dnsbl.ranges-skipped", probes::Severity::info, domain,
        fmt::format("{} SPF range(s) wider than one address were not queried address by address (e.g. {})",
                    d.dnsbl_skipped.size(), d.dnsbl_skipped.front())));
  }
  if (d.smtp) {
    for (const auto& f : d.smtp->findings) d.findings.push_back(f);
    for (auto& f : report::observed_findings(report::observe(cx.catalog(), *d.smtp))) d.findings.push_back(std::move(f));
  }
  if (const auto& overlay = cx.r.options().overlay; overlay && overlay->covering(domain) == nullptr) {
    std::string origins;
    for (const auto& o : overlay->origins()) origins += (origins.empty() ? "" : ", ") + o;
    auto f = probes::make_finding("zone", "zone.not-covered", probes::Severity::warning, domain,
                                  fmt::format("the zone files ({}) do not cover {}: its own records come from DNS, "
                                              "not from the files",
                                              origins, domain));
    f.fix = "Give this domain's zone file (or its parent zone's) with --zone-file, or check the domain the file is for.";
    d.findings.insert(d.findings.begin(), std::move(f));
  }
  co_return d;
}

}  // namespace

std::optional<std::string> parse_domain(const std::string& raw, std::string* error) {
  std::string problem;
  auto ascii = probes::domain_to_ascii(raw, &problem);
  if (!ascii) {
    *error = fmt::format("not a valid domain: {}", problem);  // the problem quotes the name
    return std::nullopt;
  }
  if (auto why = resolver::hostname_problem(*ascii); !why.empty()) {
    *error = fmt::format("'{}' is not a valid domain: {}", probes::shown(raw), why);
    return std::nullopt;
  }
  if (ascii->find('.') == std::string::npos) {
    *error = fmt::format("'{}' is not a fully qualified domain (no dot)", probes::shown(raw));
    return std::nullopt;
  }
  return ascii;
}

namespace {
Target make_target(std::size_t line, std::string input) {
  Target t;
  t.line = line;
  t.input = std::move(input);
  if (auto d = parse_domain(t.input, &t.error)) t.domain = std::move(*d);
  return t;
}
}  // namespace

std::optional<Target> ArgumentTargets::next() {
  if (i_ >= args_.size()) return std::nullopt;
  return make_target(0, args_[i_++]);
}

std::optional<Target> LineTargets::next() {
  constexpr std::size_t max_line = 1024;
  std::string line;
  bool cut = false;
  while (probes::read_line(in_, line, max_line, cut)) {
    ++line_;
    auto is_space = [](char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; };
    while (!line.empty() && is_space(line.back())) line.pop_back();
    std::size_t start = 0;
    while (start < line.size() && is_space(line[start])) ++start;
    line.erase(0, start);
    if (cut) {
      Target t;
      t.line = line_;
      t.input = probes::shown(line, 80);
      t.error = fmt::format("line {} is longer than {} bytes: not a domain", line_, max_line);
      return t;
    }
    if (line.empty() || line.front() == '#') continue;
    return make_target(line_, std::move(line));
  }
  return std::nullopt;
}

asio::awaitable<std::size_t> run_checks(const CheckContext& cx, TargetSource& source, ResultSink& sink, RunOptions options) {
  auto ex = co_await asio::this_coro::executor;
  // The blocklist zones are tested once per run, from the first moment: a domain's
  // blocklist queries then wait only for its own addresses, not for the zone tests.
  probes::dnsbl::prefetch_zone_tests(cx.blr, *cx.settings.lists);
  // Finished items wait here for their turn (input order), keyed by their position.
  struct Done {
    Target target;
    std::optional<report::DomainResult> result;
  };
  std::map<std::size_t, Done> ready;
  std::size_t taken = 0, written = 0;
  bool exhausted = false;
  // Wakes workers held back by a full reorder buffer: each wait is on the
  // event of the moment, set (and replaced) when results are written. (A timer
  // cancelled to wake them would be re-armed by each waker, cancelling the
  // others' waits: a livelock while the head of the buffer is slow.)
  auto room = std::make_shared<Event>(ex);

  auto deliver = [&](Done&& d) {
    if (d.result) sink.result(d.target, std::move(*d.result));
    else sink.rejected(d.target);
  };
  auto flush = [&] {
    for (auto it = ready.find(written); it != ready.end(); it = ready.find(written)) {
      deliver(std::move(it->second));
      ready.erase(it);
      ++written;
    }
    room->set();
    room = std::make_shared<Event>(ex);
  };

  struct Release {  // run_checks's state goes with it: the control must not call into it after
    RunControl* control;
    ~Release() {
      if (control != nullptr) control->release_ = nullptr;
    }
  } release{options.control};
  if (options.control != nullptr) {
    options.control->release_ = [&] {
      for (auto& [pos, d] : ready) deliver(std::move(d));
      ready.clear();
    };
  }
  const auto stopping = [&] { return cx.r.mute() || (options.control != nullptr && options.control->interrupted()); };

  auto worker = [&]() -> asio::awaitable<bool> {
    while (!exhausted && !stopping()) {
      if (!options.unordered) {
        while (taken - written >= options.max_buffered && !stopping()) {
          auto wake = room;  // the event outlives its replacement while this waits
          co_await wake->wait();
        }
      }
      auto t = source.next();
      if (!t) {
        exhausted = true;
        break;
      }
      const std::size_t pos = taken++;
      Done d{std::move(*t), std::nullopt};
      if (!d.target.domain.empty()) d.result = co_await check_domain(cx, d.target.domain);
      if (options.unordered || (options.control != nullptr && options.control->interrupted())) {
        deliver(std::move(d));
        ++written;
      } else {
        ready.emplace(pos, std::move(d));
        flush();
      }
    }
    co_return true;
  };
  std::vector<asio::awaitable<bool>> workers;
  for (std::size_t k = 0; k < std::max<std::size_t>(1, options.window); ++k) workers.push_back(worker());
  co_await when_all(std::move(workers));
  sink.end();
  co_return taken;
}

bool fails(const std::vector<probes::Finding>& findings, probes::Severity threshold, bool allow_unchecked) {
  return std::any_of(findings.begin(), findings.end(), [&](const probes::Finding& f) {
    if (f.checked) return f.severity >= threshold;
    return !allow_unchecked && probes::own_record(f);
  });
}

}  // namespace bp::engine

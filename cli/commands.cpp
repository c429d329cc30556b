#include "commands.hpp"

#include "exit_codes.hpp"

#include <address.hpp>
#include <async.hpp>
#include <catalog.hpp>
#include <domain_name.hpp>
#include <explain.hpp>
#include <bounce_message.hpp>
#include <confirm.hpp>
#include <mx.hpp>
#include <predictor.hpp>
#include <profile.hpp>
#include <render.hpp>
#include <resolver.hpp>
#include <rdns.hpp>
#include <sender.hpp>
#include <text.hpp>
#include <smtp.hpp>
#include <observed.hpp>
#include <spf/evaluate.hpp>
#include <spf/lint.hpp>
#include <dmarc/dmarc.hpp>
#include <dnsbl/dnsbl.hpp>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/host_name.hpp>
#include <asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <cstdlib>
#include <iostream>
#include <functional>
#include <optional>

namespace bp::cli {

namespace {

using probes::AddressPolicy;
using probes::Finding;
using probes::Severity;

/// Runs one top-level coroutine on `ctx`; rethrows what it threw. Empty when
/// the loop was stopped before the coroutine finished.
template <typename T>
std::optional<T> run_loop(asio::io_context& ctx, asio::awaitable<T> op, const std::function<void()>& done = {}) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(ctx, std::move(op), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result = std::move(value);
    if (done) done();
  });
  ctx.run();
  if (error) std::rethrow_exception(error);
  return result;
}

bool use_color(const CommonOptions& o) {
  if (o.color == "always") return true;
  if (o.color == "never") return false;
  const char* term = std::getenv("TERM");
  return isatty(fileno(stdout)) != 0 && std::getenv("NO_COLOR") == nullptr && (term == nullptr || std::string(term) != "dumb");
}

report::RenderOptions render_options(const CommonOptions& o) { return {o.verbose, use_color(o)}; }

AddressPolicy address_policy(const CommonOptions& o) {
  AddressPolicy p;
  for (const auto& r : o.routable) {
    auto c = probes::Cidr::parse(r);
    if (!c) throw UsageError(fmt::format("--routable '{}' is not an address prefix (e.g. 192.0.2.0/24)", probes::shown(r)));
    p.routable.push_back(*c);
  }
  return p;
}

std::chrono::milliseconds seconds_to_ms(double s) { return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000.0)); }

/// `targets`: how many domains the run checks; one target's run ends at its deadline.
resolver::ResolverOptions resolver_options(const CommonOptions& o, std::size_t targets = 1) {
  for (const auto& s : o.resolvers) {
    if (auto why = resolver::server_spec_problem(s); !why.empty()) {
      throw UsageError(fmt::format("--resolver '{}': {}", probes::shown(s), why));
    }
  }
  resolver::ResolverOptions r{o.resolvers, std::chrono::milliseconds(o.timeout_ms), o.tries};
  if (o.run_deadline_s > 0) {
    r.run_deadline = seconds_to_ms(o.run_deadline_s);
  } else if (targets <= 1) {
    r.run_deadline = target_deadline(o);
  }
  return r;
}

/// Asks the resolver one cheap question (". NS") next to the real work, so that a
/// domain whose every lookup times out is not mistaken for a dead resolver.
void start_reachability_probe(resolver::Resolver& r) { r.prefetch(".", resolver::RrType::ns); }

/// Exit 3 when not one query, the probe included, got a DNS reply: the resolver is unreachable or mute.
void require_reachable_resolver(const resolver::Resolver& r) {
  const auto& log = r.log();
  // Queries cancelled because the work was done before they came back prove nothing.
  const bool asked = std::any_of(log.entries().begin(), log.entries().end(),
                                 [](const auto& e) { return e.outcome != "cancelled"; });
  if (!asked || log.answered() > 0) return;
  std::string servers;
  for (const auto& s : r.servers()) servers += (servers.empty() ? "" : ", ") + s;
  const auto& first = log.entries().front();
  const std::string why = r.stopped().empty() ? fmt::format("{}: {}", first.outcome, first.detail) : r.stopped();
  throw RunError(fmt::format("no DNS reply from {} ({}); check --resolver or the network", servers, why));
}

/// One command's DNS work: the event loop, the resolver with its reachability
/// probe, the timing, and the exit-3 check once the work is done.
class DnsRun {
 public:
  /// `targets`: how many domains the run checks (deadlines: see resolver_options).
  explicit DnsRun(const CommonOptions& o, std::size_t targets = 1) : r_(ctx_.get_executor(), resolver_options(o, targets)) {
    start_reachability_probe(r_);
    if (!o.dnsbl_resolvers.empty()) {
      CommonOptions bl = o;
      bl.resolvers = o.dnsbl_resolvers;
      dnsbl_.emplace(ctx_.get_executor(), resolver_options(bl, targets));
    }
  }

  resolver::Resolver& resolver() { return r_; }
  /// The resolver for blocklist queries: --dnsbl-resolver, else the main one.
  resolver::Resolver& dnsbl_resolver() { return dnsbl_ ? *dnsbl_ : r_; }

  /// Runs `op` to completion; throws RunError when the resolver never answered.
  template <typename T>
  T run(asio::awaitable<T> op) {
    const auto start = std::chrono::steady_clock::now();
    // The deadline timers must not hold the loop once the work is done.
    std::optional<T> value = run_loop(ctx_, std::move(op), [this] {
      r_.finish();
      if (dnsbl_) dnsbl_->finish();
    });
    ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    require_reachable_resolver(r_);
    if (!value) throw RunError("the run was stopped before it finished");
    return std::move(*value);
  }

  /// \return what the report says about the run; `blocklists` reports the blocklist resolver.
  report::RunInfo info(bool blocklists = false) const {
    const auto& r = blocklists && dnsbl_ ? *dnsbl_ : r_;
    return {r.servers(), &r.log(), ms_};
  }

 private:
  asio::io_context ctx_;
  resolver::Resolver r_;
  std::optional<resolver::Resolver> dnsbl_;
  double ms_{0};
};

const report::Catalog& catalog_for(const CommonOptions& o, std::optional<report::Catalog>& holder) {
  if (o.catalog_file.empty()) return report::Catalog::builtin();
  holder = report::Catalog::load_file(o.catalog_file);
  return *holder;
}

int exit_for(const std::vector<Finding>& findings, const CommonOptions& o) {
  Severity threshold = Severity::error;
  probes::parse_severity(o.fail_on, &threshold);
  for (const auto& f : findings) {
    const Severity s = f.checked ? f.severity : Severity::warning;
    if (s >= threshold) return exit_findings;
  }
  return exit_ok;
}

/// \return true when `ip` is an address of this machine (a socket can be bound to it).
bool is_local_address(const std::string& ip) {
  asio::io_context ctx;
  std::error_code ec;
  const auto addr = asio::ip::make_address(ip, ec);
  if (ec) return false;
  asio::ip::tcp::socket sock(ctx);
  sock.open(addr.is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
  if (!ec) sock.bind(asio::ip::tcp::endpoint(addr, 0), ec);
  return !ec;
}

/// The dialogue's plan from the options: who we say we are, where we connect from, how long we wait.
std::optional<probes::SmtpOptions> smtp_options(const CommonOptions& o, std::string source) {
  if (o.no_smtp) return std::nullopt;
  probes::SmtpOptions s;
  s.max_connections = o.max_connections;
  auto& p = s.plan;
  if (!o.helo.empty()) {
    if (auto why = resolver::hostname_problem(o.helo); !why.empty()) {
      throw UsageError(fmt::format("--helo '{}' is not a host name: {}", probes::shown(o.helo), why));
    }
    p.helo = o.helo;
  } else {
    // This machine's name; a receiver may refuse one that is not fully qualified (--helo fixes that).
    p.helo = asio::ip::host_name();
    if (!resolver::hostname_problem(p.helo).empty()) p.helo = "localhost";
  }
  p.tls.ca_file = o.ca_file;
  if (!o.ca_file.empty() && access(o.ca_file.c_str(), R_OK) != 0) {
    throw UsageError(fmt::format("--ca-file '{}' cannot be read", probes::shown(o.ca_file)));
  }
  p.timeouts.connect = smtp::Millis(o.connect_timeout_ms);
  p.timeouts.banner = smtp::Millis(o.smtp_timeout_ms);
  p.timeouts.command = smtp::Millis(o.smtp_timeout_ms);
  p.timeouts.tls = smtp::Millis(o.smtp_timeout_ms);
  p.port = static_cast<std::uint16_t>(o.smtp_port);
  if (!o.source_ip.empty()) {
    if (!probes::classify(o.source_ip)) throw UsageError(fmt::format("--source-ip '{}' is not an IP address", probes::shown(o.source_ip)));
    if (!is_local_address(o.source_ip)) throw UsageError(fmt::format("--source-ip {} is not an address of this machine", o.source_ip));
    source = o.source_ip;
  }
  p.source = std::move(source);
  return s;
}

std::string check_domain_arg(const std::string& raw) {
  std::string problem;
  auto ascii = probes::domain_to_ascii(raw, &problem);
  if (!ascii) throw UsageError(fmt::format("not a valid domain: {}", problem));  // the problem quotes the name
  if (auto why = resolver::hostname_problem(*ascii); !why.empty()) {
    throw UsageError(fmt::format("'{}' is not a valid domain: {}", probes::shown(raw), why));
  }
  if (ascii->find('.') == std::string::npos) {
    throw UsageError(fmt::format("'{}' is not a fully qualified domain (no dot)", probes::shown(raw)));
  }
  return *ascii;
}

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
  auto [bl, sm] = co_await (probes::dnsbl::check_dnsbl(blr, targets, cx.lists) && maybe_smtp(r, cx.gate, d.mx, std::move(smtp)));
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

/// jsonl and junit describe per-domain checks; the other commands print one object.
void require_single_object_format(const CommonOptions& o, const char* command) {
  if (o.format == "jsonl" || o.format == "junit") {
    throw UsageError(fmt::format("--format {} is for check; {} prints text or json", o.format, command));
  }
}

void emit(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

/// Bytes from the network need not be UTF-8: invalid sequences are replaced, never fatal.
void emit_json(const nlohmann::json& j) { emit(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"); }

}  // namespace

std::vector<probes::dnsbl::DnsList> dnsbl_lists(const CommonOptions& o) {
  auto lists = probes::dnsbl::builtin_lists();
  if (!o.spamhaus_key.empty()) {
    try {
      lists = probes::dnsbl::with_spamhaus_key(std::move(lists), o.spamhaus_key);
    } catch (const std::runtime_error& e) {
      throw UsageError(std::string("--spamhaus-key: ") + e.what());
    }
  }
  for (const auto& z : o.zones) {
    try {
      lists.push_back(probes::dnsbl::custom_zone(z));
    } catch (const std::runtime_error& e) {
      throw UsageError(e.what());
    }
  }
  return lists;
}

std::chrono::milliseconds target_deadline(const CommonOptions& o) {
  if (o.deadline_s > 0) return seconds_to_ms(o.deadline_s);
  return std::chrono::milliseconds(o.timeout_ms) * o.tries * depth_factor;
}

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
  DnsRun dns(o, domains.size());
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

namespace {

struct PredictGather {
  std::optional<probes::MxReport> sender_mx;
  std::optional<probes::MxReport> recipient_mx;
  std::optional<probes::spf::SpfOutcome> spf;
  std::optional<probes::dmarc::DmarcDiscovery> dmarc;
  std::optional<probes::dnsbl::DnsblReport> dnsbl;
  std::map<std::string, std::string> client_names;
  std::optional<probes::SmtpReport> smtp;
};

asio::awaitable<std::map<std::string, std::string>> client_names(resolver::Resolver& r, std::vector<std::string> ips) {
  std::vector<asio::awaitable<std::string>> ops;
  for (const auto& ip : ips) ops.push_back(probes::confirmed_name(r, ip));
  auto names = co_await when_all(std::move(ops));
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < ips.size(); ++i) {
    if (!names[i].empty()) out[ips[i]] = names[i];
  }
  co_return out;
}

asio::awaitable<std::optional<probes::dnsbl::DnsblReport>> maybe_dnsbl(resolver::Resolver& r, std::vector<std::string> ips,
                                                                      std::vector<probes::dnsbl::DnsList> lists) {
  if (ips.empty()) co_return std::nullopt;
  co_return co_await probes::dnsbl::check_dnsbl(r, std::move(ips), std::move(lists));
}

asio::awaitable<std::optional<probes::dmarc::DmarcDiscovery>> maybe_dmarc(resolver::Resolver& r, std::string domain) {
  if (domain.empty()) co_return std::nullopt;
  co_return co_await probes::dmarc::discover_dmarc(r, domain, true);
}

asio::awaitable<std::optional<probes::MxReport>> maybe_mx(resolver::Resolver& r, std::string domain, AddressPolicy policy) {
  if (domain.empty()) co_return std::nullopt;
  co_return co_await probes::probe_mx(r, domain, policy);
}

asio::awaitable<std::optional<probes::spf::SpfOutcome>> maybe_spf(resolver::Resolver& r, std::optional<probes::spf::SpfQuery> q) {
  if (!q) co_return std::nullopt;
  co_return co_await probes::spf::check_host(r, *q);
}

/// The sender's MX, the recipient's MX and SPF for --ip are independent: all three run at once.
asio::awaitable<PredictGather> gather(resolver::Resolver& r, resolver::Resolver& blr, std::string sender_domain,
                                      std::string recipient_domain, std::optional<probes::spf::SpfQuery> spf,
                                      std::vector<std::string> ips, std::vector<probes::dnsbl::DnsList> lists,
                                      AddressPolicy policy, probes::SmtpGate& gate, std::optional<probes::SmtpOptions> smtp) {
  using namespace asio::experimental::awaitable_operators;
  std::vector<std::string> addresses;
  for (const auto& t : ips) {
    if (probes::classify(t)) addresses.push_back(t);
  }
  auto [s, rc, f, d, b, n] = co_await (maybe_mx(r, sender_domain, policy) && maybe_mx(r, recipient_domain, policy) &&
                                       maybe_spf(r, std::move(spf)) && maybe_dmarc(r, sender_domain) &&
                                       maybe_dnsbl(blr, std::move(ips), std::move(lists)) && client_names(r, addresses));
  PredictGather g{std::move(s), std::move(rc), std::move(f), std::move(d), std::move(b), std::move(n), std::nullopt};
  // The dialogue with the recipient's MX needs its MX answer first.
  if (smtp && g.recipient_mx) g.smtp = co_await probes::probe_smtp(r, gate, *g.recipient_mx, std::move(*smtp));
  co_return g;
}

}  // namespace

int run_predict(const CommonOptions& o, const std::string& from, const std::string& to,
                const std::vector<std::string>& ips, const std::vector<std::string>& dkim_pass) {
  const std::string& helo = o.helo;
  require_single_object_format(o, "predict");
  std::optional<report::Catalog> catalog_holder;
  const auto& catalog = catalog_for(o, catalog_holder);
  auto profile = o.profile_file.empty() ? report::Profile::builtin(catalog) : report::Profile::load_file(o.profile_file, catalog);
  for (const auto& ip : ips) {
    if (!probes::classify(ip)) throw UsageError(fmt::format("--ip '{}' is not an IP address", probes::shown(ip)));
  }
  report::PredictInput in;
  in.sender = from;
  in.recipient = to;
  in.ips = ips;
  in.helo = helo;
  in.sender_check = probes::check_address(from, "sender");
  in.recipient_check = probes::check_address(to, "recipient");
  const auto& ra = in.recipient_check.address;
  if (!ra || ra->null_sender || ra->domain.empty() || ra->domain_literal) {
    throw UsageError(fmt::format("--to '{}' is not a recipient address with a domain{}", probes::shown(to),
                                 in.recipient_check.problem.empty() ? "" : ": " + in.recipient_check.problem));
  }
  std::string sender_domain;
  if (const auto& sa = in.sender_check.address; sa && in.sender_check.fqdn && !sa->null_sender && !sa->domain_literal) {
    sender_domain = sa->ascii_domain;
  }
  auto policy = address_policy(o);
  DnsRun dns(o);
  std::optional<probes::spf::SpfQuery> spf_query;
  if (const auto& sa = in.sender_check.address; !ips.empty() && sa) {
    // SPF checks MAIL FROM's domain, or the HELO name for the null sender (RFC 7208 section 2.4).
    if (sa->null_sender ? !helo.empty() : !sender_domain.empty()) {
      spf_query = probes::spf::SpfQuery{ips.front(), sa->null_sender ? "" : sa->local + "@" + sender_domain, helo, "unknown"};
    }
  }
  std::vector<std::string> bl_targets = ips;
  if (!ips.empty() && !sender_domain.empty()) bl_targets.push_back(sender_domain);  // the domain on domain lists
  // The dialogue comes from --source-ip, else from --ip when it is an address of this
  // machine (then the receiver's answer stands for --ip), else from wherever the kernel picks.
  std::string source;
  if (o.source_ip.empty() && !ips.empty() && is_local_address(ips.front())) source = ips.front();
  auto smtp = smtp_options(o, source);
  if (smtp) {
    smtp->plan.sender = (from == "<>") ? "" : from;
    smtp->plan.recipients = {{to, "recipient"}};
    if (o.relay_test) smtp->plan.recipients.push_back({o.relay_to, "relay"});
  }
  probes::SmtpGate gate(dns.resolver().executor(), o.smtp_parallel);
  auto g = dns.run(gather(dns.resolver(), dns.dnsbl_resolver(), sender_domain, in.recipient_check.fqdn ? ra->ascii_domain : "",
                          spf_query, bl_targets, dnsbl_lists(o), policy, gate, smtp));
  in.sender_mx = std::move(g.sender_mx);
  in.recipient_mx = std::move(g.recipient_mx);
  in.spf = std::move(g.spf);
  in.dmarc = std::move(g.dmarc);
  in.dkim_pass = dkim_pass;
  in.dnsbl = std::move(g.dnsbl);
  in.client_names = std::move(g.client_names);
  if (g.smtp) {
    in.observed = report::observe(catalog, *g.smtp);
    if (const auto* fin = g.smtp->final()) {
      if (const auto* x = fin->find("rcpt", "recipient"); x != nullptr && x->reply && x->reply->positive()) {
        in.rcpt_accepted = fmt::format("{} [{}]", fin->host, fin->address);
      }
    }
    in.smtp = std::move(g.smtp);
  }

  std::vector<Finding> findings = in.sender_check.findings;
  findings.insert(findings.end(), in.recipient_check.findings.begin(), in.recipient_check.findings.end());
  if (in.sender_mx) {
    for (auto& f : probes::sender_domain_findings(*in.sender_mx, in.sender_check.address->text)) findings.push_back(std::move(f));
  }
  if (in.recipient_mx) findings.insert(findings.end(), in.recipient_mx->findings.begin(), in.recipient_mx->findings.end());
  if (in.smtp) findings.insert(findings.end(), in.smtp->findings.begin(), in.smtp->findings.end());

  auto prediction = report::predict(profile, in);
  const auto run = dns.info();
  if (o.format == "json") {
    emit_json(report::predict_json(in, prediction, findings, profile.name, run, o.verbose));
  } else {
    emit(report::predict_text(in, prediction, findings, profile.name, run, render_options(o)));
  }
  if (prediction.verdict == "bounce" || prediction.verdict == "defer") return exit_findings;
  return exit_for(findings, o);
}

namespace {

/// Reads one line of at most `cap` bytes; the rest of a longer line is skipped and `cut` set.
bool read_line(std::FILE* in, std::string& line, std::size_t cap, bool& cut) {
  line.clear();
  cut = false;
  int c = 0;
  bool any = false;
  // Past the cap the rest of the line is skipped, but not forever (/dev/zero on standard input).
  constexpr std::size_t give_up = 64u << 20;
  std::size_t skipped = 0;
  while ((c = std::getc(in)) != EOF) {
    any = true;
    if (c == '\n') break;
    if (line.size() < cap) {
      line.push_back(static_cast<char>(c));
    } else {
      cut = true;
      if (++skipped > give_up) throw RunError("a line of the input is longer than 64 MiB: this is not a file of bounce texts");
    }
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return any;
}

std::string read_all(std::FILE* in, std::size_t cap, bool& cut) {
  std::string text;
  std::string chunk(64 * 1024, '\0');
  cut = false;
  while (true) {
    auto n = std::fread(chunk.data(), 1, chunk.size(), in);
    if (n == 0) break;
    if (text.size() + n > cap) {
      text.append(chunk.data(), cap - text.size());
      cut = true;
      break;
    }
    text.append(chunk.data(), n);
  }
  return text;
}

/// Opens FILE or "-" (standard input); a missing or unreadable file is a usage error (exit 2).
std::FILE* open_input(const std::string& path, const char* what) {
  if (path == "-") return stdin;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw UsageError(fmt::format("{} '{}': {}", what, probes::shown(path), std::strerror(errno)));
  struct stat st {};
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fclose(f);
    throw UsageError(fmt::format("{} '{}' is a directory", what, probes::shown(path)));
  }
  // Files and pipes (--input <(cmd)) are read; a device such as /dev/zero never ends.
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    std::fclose(f);
    throw UsageError(fmt::format("{} '{}' is a device, not a file", what, probes::shown(path)));
  }
  return f;
}

/// Runs the probe that can confirm the explained reason, on the targets the bounce (or --to/--from/--ip) names.
report::Confirmation confirm_by_probing(const CommonOptions& o, const ExplainOptions& x, const report::ExplainResult& r) {
  const auto& reasons = report::Reasons::builtin();
  if (!x.ip.empty() && !probes::classify(x.ip)) throw UsageError(fmt::format("--ip '{}' is not an IP address", probes::shown(x.ip)));
  auto t = report::confirm_targets(r, x.to, x.from, x.ip);
  if (!t.ip.empty() && !probes::classify(t.ip)) t.ip.clear();
  const auto* info = reasons.find(r.reason);
  const std::string probe = info != nullptr ? info->confirm : "none";
  report::ConfirmEvidence e;
  if (probe == "none") return report::confirm(reasons, r.reason, t, e);
  const bool wants_recipient_mx = (probe == "mx" || probe == "smtp") && !t.recipient_domain.empty();
  const bool wants_sender = (probe == "sender" || probe == "spf-dmarc") && !t.sender_domain.empty();
  std::optional<probes::spf::SpfQuery> spf;
  if (probe == "spf-dmarc" && !t.ip.empty() && !t.sender_domain.empty()) {
    spf = probes::spf::SpfQuery{t.ip, t.sender.empty() ? "postmaster@" + t.sender_domain : t.sender, o.helo, "unknown"};
  }
  std::vector<std::string> ips;
  if ((probe == "dnsbl" || probe == "rdns") && !t.ip.empty()) ips.push_back(t.ip);
  if (probe == "dnsbl" && !t.sender_domain.empty()) ips.push_back(t.sender_domain);
  auto lists = probe == "dnsbl" ? dnsbl_lists(o) : std::vector<probes::dnsbl::DnsList>{};
  std::optional<probes::SmtpOptions> smtp;
  if (probe == "smtp" && !t.recipient.empty()) {
    smtp = smtp_options(o, "");
    if (smtp) {
      smtp->plan.sender = x.from;
      smtp->plan.recipients = {{t.recipient, "recipient"}};
    } else {
      e.smtp_failure = "the SMTP dialogue is off (--no-smtp)";
    }
  }
  if (!wants_recipient_mx && !wants_sender && ips.empty() && !smtp) return report::confirm(reasons, r.reason, t, e);
  DnsRun dns(o);
  probes::SmtpGate gate(dns.resolver().executor(), o.smtp_parallel);
  auto g = dns.run(gather(dns.resolver(), dns.dnsbl_resolver(), wants_sender ? t.sender_domain : "",
                          wants_recipient_mx ? t.recipient_domain : "", spf, ips, lists, address_policy(o), gate, smtp));
  e.recipient_mx = std::move(g.recipient_mx);
  e.sender_mx = std::move(g.sender_mx);
  if (e.sender_mx) e.sender_findings = probes::sender_domain_findings(*e.sender_mx, t.sender.empty() ? "postmaster@" + t.sender_domain : t.sender);
  e.spf = std::move(g.spf);
  e.dmarc = std::move(g.dmarc);
  if (probe == "dnsbl") e.dnsbl = std::move(g.dnsbl);
  if (probe == "rdns" && !t.ip.empty()) {
    auto it = g.client_names.find(t.ip);
    e.rdns = it == g.client_names.end() ? std::string{} : it->second;
  }
  if (g.smtp) {
    std::optional<report::Catalog> holder;
    e.smtp_ran = true;
    e.observed = report::observe(catalog_for(o, holder), *g.smtp);
    if (const auto* fin = g.smtp->final()) {
      if (const auto* rc = fin->find("rcpt", "recipient"); rc != nullptr && rc->reply && rc->reply->positive()) {
        e.rcpt_accepted = fmt::format("{} [{}]", fin->host, fin->address);
      }
    }
    if (e.observed.empty() && e.rcpt_accepted.empty() && !g.smtp->findings.empty()) e.smtp_failure = g.smtp->findings.front().summary;
  } else if (smtp && e.recipient_mx) {
    e.smtp_failure = fmt::format("no mail host of {} to talk to ({})", t.recipient_domain, probes::to_string(e.recipient_mx->status));
  }
  return report::confirm(reasons, r.reason, t, e);
}

}  // namespace

int run_explain(const CommonOptions& o, const ExplainOptions& x) {
  const bool batch = !x.input.empty();
  if (!batch && o.format == "jsonl") throw UsageError("--format jsonl is for batches: explain --input FILE|- --format jsonl");
  if (o.format == "junit") throw UsageError("explain has no junit output");
  if (batch && (!x.message.empty() || !x.text.empty())) throw UsageError("--input takes the bounces from a file: no text or --message with it");
  if (batch && x.probe) throw UsageError("--probe confirms one bounce; it does not run on a batch");
  std::optional<report::Catalog> catalog_holder;
  const auto& catalog = catalog_for(o, catalog_holder);
  const auto& reasons = report::Reasons::builtin();

  if (batch) {
    std::FILE* in = open_input(x.input, "--input");
    std::string line, out;
    bool cut = false;
    long n = 0;
    while (read_line(in, line, report::max_input_bytes, cut)) {
      ++n;
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      auto res = report::explain(catalog, line, reasons);
      if (o.format == "text") {
        out = fmt::format("{}: {} ({}){}{}\n", n, res.reason, report::to_string(res.confidence),
                          res.code != 0 ? " " + std::to_string(res.code) : "", res.enhanced.empty() ? "" : " " + res.enhanced);
        if (!res.matches.empty()) out.insert(out.size() - 1, " " + res.matches.front().entry->id);
      } else {
        auto j = report::explain_json(res, reasons);
        j["input_line"] = n;
        if (cut) j["truncated"] = true;
        out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      }
      emit(out);
    }
    const bool failed = std::ferror(in) != 0;
    if (in != stdin) std::fclose(in);
    if (failed) throw RunError(fmt::format("cannot read --input '{}'", probes::shown(x.input)));
    return exit_ok;
  }

  if (!x.message.empty()) {
    if (!x.text.empty()) throw UsageError("give the bounce either as text or with --message, not both");
    std::FILE* in = open_input(x.message, "--message");
    bool cut = false;
    auto raw = read_all(in, report::max_message_bytes, cut);
    const bool failed = std::ferror(in) != 0;
    if (in != stdin) std::fclose(in);
    if (failed) throw RunError(fmt::format("cannot read --message '{}'", probes::shown(x.message)));
    if (raw.find_first_not_of(" \t\r\n") == std::string::npos) throw UsageError("--message: the message is empty");
    auto msg = report::parse_bounce_message(raw);
    msg.truncated = msg.truncated || cut;
    std::vector<report::MessageAnswer> answers;
    for (const auto& r : msg.recipients) {
      if (r.action == "delivered" || r.action == "relayed" || r.action == "expanded") continue;
      answers.push_back({&r, report::explain(catalog, report::recipient_text(msg, r), reasons), {}});
    }
    if (answers.empty()) {
      answers.push_back({nullptr, report::explain(catalog, msg.subject + "\n" + msg.human + "\n" + msg.report_text, reasons), {}});
    }
    for (auto& a : answers) {
      if (a.recipient != nullptr && !a.recipient->final_recipient.empty()) a.result.facts["recipient"] = a.recipient->final_recipient;
      if (!msg.original_sender.empty() && !a.result.facts.count("sender")) a.result.facts["sender"] = msg.original_sender;
      if (x.probe) a.confirmation = confirm_by_probing(o, x, a.result);
    }
    if (o.format == "json") {
      emit_json(report::message_json(msg, answers, reasons));
    } else {
      emit(report::message_text(msg, answers, reasons, render_options(o)));
    }
    const bool known = std::all_of(answers.begin(), answers.end(), [](const auto& a) { return a.result.reason != "other"; });
    return known ? exit_ok : exit_findings;
  }

  std::string text;
  if (x.text.empty() || (x.text.size() == 1 && x.text.front() == "-")) {
    if (isatty(fileno(stdin)) != 0) std::fprintf(stderr, "Paste the bounce, then press Ctrl-D.\n");
    bool cut = false;
    text = read_all(stdin, report::max_input_bytes + 1, cut);
  } else {
    for (const auto& a : x.text) text += (text.empty() ? "" : " ") + a;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw UsageError("explain needs the bounce text (argument or standard input)");
  auto res = report::explain(catalog, text, reasons);
  std::optional<report::Confirmation> confirmation;
  if (x.probe) confirmation = confirm_by_probing(o, x, res);
  if (o.format == "json") {
    auto j = report::explain_json(res, reasons);
    if (confirmation) j["confirm"] = report::confirmation_json(*confirmation);
    emit_json(j);
  } else {
    auto t = report::explain_text(res, reasons, render_options(o));
    if (confirmation) t += report::confirmation_text(*confirmation);
    emit(t);
  }
  return res.reason != "other" ? exit_ok : exit_findings;
}

int run_spf(const CommonOptions& o, const std::string& ip, const std::string& sender, const std::string& helo) {
  require_single_object_format(o, "spf");
  if (!probes::classify(ip)) throw UsageError(fmt::format("--ip '{}' is not an IP address", probes::shown(ip)));
  probes::spf::SpfQuery q{ip, sender, helo, "unknown"};
  if ((sender.empty() || sender == "<>") && helo.empty()) throw UsageError("the null sender needs --helo (its domain is checked)");
  DnsRun dns(o);
  auto outcome = dns.run(probes::spf::check_host(dns.resolver(), q));
  const auto run = dns.info();
  if (o.format == "json") {
    emit_json(report::spf_json(q, outcome, run, o.verbose));
  } else {
    emit(report::spf_text(q, outcome, run, render_options(o)));
  }
  return outcome.result == probes::spf::SpfResult::pass ? exit_ok : exit_findings;
}

int run_dmarc(const CommonOptions& o, const std::string& raw_domain) {
  require_single_object_format(o, "dmarc");
  const auto domain = check_domain_arg(raw_domain);
  DnsRun dns(o);
  auto d = dns.run(probes::dmarc::discover_dmarc(dns.resolver(), domain, true));
  const auto run = dns.info();
  if (o.format == "json") {
    emit_json(report::dmarc_command_json(d, run, o.verbose));
  } else {
    emit(report::dmarc_text(d, run, render_options(o)));
  }
  return exit_for(d.findings, o);
}

int run_dnsbl(const CommonOptions& o, const std::vector<std::string>& raw) {
  require_single_object_format(o, "dnsbl");
  std::vector<std::string> targets;
  for (const auto& t : raw) {
    if (probes::classify(t)) {
      targets.push_back(t);
    } else {
      targets.push_back(check_domain_arg(t));
    }
  }
  auto lists = dnsbl_lists(o);
  DnsRun dns(o);
  // Targets typed by the user are all checked; the bound is for targets the DNS chose.
  auto rep = dns.run(probes::dnsbl::check_dnsbl(dns.dnsbl_resolver(), targets, lists, targets.size()));
  const auto run = dns.info(true);
  if (o.format == "json") {
    emit_json(report::dnsbl_json(rep, run, o.verbose));
  } else {
    emit(report::dnsbl_text(rep, run, render_options(o)));
  }
  return exit_for(rep.findings, o);
}

int run_catalog(const CommonOptions& o) {
  require_single_object_format(o, "catalog");
  std::optional<report::Catalog> catalog_holder;
  const auto& catalog = catalog_for(o, catalog_holder);
  if (o.format == "json") {
    emit_json(report::catalog_json(catalog));
  } else {
    emit(report::catalog_text(catalog, render_options(o)));
  }
  return exit_ok;
}

}  // namespace bp::cli

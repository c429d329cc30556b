// bounceprobe predict: which bounce would this mail get.
#include "exit_codes.hpp"
#include "run_support.hpp"

#include <predictor.hpp>
#include <profile.hpp>
#include <rdns.hpp>
#include <sender.hpp>
#include <text.hpp>

#include <asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

namespace bp::cli {

using probes::AddressPolicy;
using probes::Finding;
using probes::Severity;

namespace {

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

}  // namespace

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
  DnsRun dns(o, 1, !o.no_smtp);
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

}  // namespace bp::cli

#include "predict.hpp"

#include <async.hpp>
#include <observed.hpp>
#include <rdns.hpp>
#include <sender.hpp>

#include <fmt/format.h>

namespace bp::engine {

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

asio::awaitable<std::optional<probes::dnsbl::DnsblReport>> maybe_dnsbl(resolver::Resolver& r, std::vector<std::string> targets,
                                                                      probes::dnsbl::Lists lists) {
  if (targets.empty()) co_return std::nullopt;
  co_return co_await probes::dnsbl::check_dnsbl(r, std::move(targets), std::move(lists));
}

asio::awaitable<std::optional<probes::dmarc::DmarcDiscovery>> maybe_dmarc(resolver::Resolver& r, std::string domain) {
  if (domain.empty()) co_return std::nullopt;
  co_return co_await probes::dmarc::discover_dmarc(r, domain, true);
}

asio::awaitable<std::optional<probes::MxReport>> maybe_mx(resolver::Resolver& r, std::string domain, probes::AddressPolicy policy) {
  if (domain.empty()) co_return std::nullopt;
  co_return co_await probes::probe_mx(r, domain, policy);
}

asio::awaitable<std::optional<probes::spf::SpfOutcome>> maybe_spf(resolver::Resolver& r, std::optional<probes::spf::SpfQuery> q) {
  if (!q) co_return std::nullopt;
  co_return co_await probes::spf::check_host(r, *q);
}

}  // namespace

asio::awaitable<Evidence> gather(resolver::Resolver& r, resolver::Resolver& blr, probes::SmtpGate& gate, Questions q) {
  std::vector<std::string> addresses;
  for (const auto& t : q.client_ips) {
    if (probes::classify(t)) addresses.push_back(t);
  }
  auto [s, rc, f, d, b, n] = co_await all(maybe_mx(r, q.sender_domain, q.policy), maybe_mx(r, q.recipient_domain, q.policy),
                                          maybe_spf(r, std::move(q.spf)), maybe_dmarc(r, q.from_domain.empty() ? q.sender_domain : q.from_domain),
                                          maybe_dnsbl(blr, std::move(q.blocklist_targets), std::move(q.lists)),
                                          client_names(r, addresses));
  Evidence e{std::move(s), std::move(rc), std::move(f), std::move(d), std::move(b), std::move(n), std::nullopt};
  // The dialogue with the recipient's MX needs its MX answer first.
  if (q.smtp && e.recipient_mx) e.smtp = co_await probes::probe_smtp(r, gate, *e.recipient_mx, std::move(*q.smtp));
  co_return e;
}

PredictPlan plan_predict(const std::string& from, const std::string& to, const std::vector<std::string>& ips,
                         const std::string& helo, probes::dnsbl::Lists lists, probes::AddressPolicy policy,
                         std::optional<probes::SmtpOptions> smtp, bool relay_test, const std::string& relay_to) {
  PredictPlan p;
  auto& in = p.input;
  in.sender = from;
  in.recipient = to;
  in.ips = ips;
  in.helo = helo;
  in.sender_check = probes::check_address(from, "sender");
  in.recipient_check = probes::check_address(to, "recipient");
  auto& q = p.questions;
  if (const auto& sa = in.sender_check.address; sa && in.sender_check.fqdn && !sa->null_sender && !sa->domain_literal) {
    q.sender_domain = sa->ascii_domain;
  }
  if (const auto& ra = in.recipient_check.address; ra && in.recipient_check.fqdn && !ra->domain_literal) {
    q.recipient_domain = ra->ascii_domain;
  }
  if (const auto& sa = in.sender_check.address; !ips.empty() && sa) {
    // SPF checks MAIL FROM's domain, or the HELO name for the null sender (RFC 7208 section 2.4).
    if (sa->null_sender ? !helo.empty() : !q.sender_domain.empty()) {
      q.spf = probes::spf::SpfQuery{ips.front(), sa->null_sender ? "" : sa->local + "@" + q.sender_domain, helo, "unknown"};
    }
  }
  q.blocklist_targets = ips;
  if (!ips.empty() && !q.sender_domain.empty()) q.blocklist_targets.push_back(q.sender_domain);  // on domain lists
  q.client_ips = ips;
  q.lists = std::move(lists);
  q.policy = std::move(policy);
  if (smtp) {
    smtp->plan.sender = (from == "<>") ? "" : from;
    smtp->plan.recipients = {{to, "recipient"}};
    if (relay_test) smtp->plan.recipients.push_back({relay_to, "relay"});
  }
  q.smtp = std::move(smtp);
  return p;
}

asio::awaitable<report::PredictInput> run_predict(resolver::Resolver& r, resolver::Resolver& blr, probes::SmtpGate& gate,
                                                  const report::Catalog& catalog, PredictPlan plan) {
  auto in = std::move(plan.input);
  // The message's signatures are verified beside the rest (their keys are DNS lookups too).
  auto dkim = [&]() -> asio::awaitable<std::vector<probes::dkim::SignatureResult>> {
    if (!in.message) co_return std::vector<probes::dkim::SignatureResult>{};
    co_return co_await probes::dkim::verify_dkim(r, in.message->file);
  };
  // The content scanners too: each is asked once, about the whole message.
  using Scan = std::optional<probes::scan::ScanResult>;
  auto scanner = [&](const std::optional<probes::scan::Endpoint>& where, bool spam) -> asio::awaitable<Scan> {
    if (!where || !in.message) co_return Scan{};
    const auto ex = r.executor();
    // One co_await per statement: GCC 12 destroys a conditional's co_await result twice.
    Scan out;
    if (spam) {
      out = co_await probes::scan::ask_spamd(ex, *where, in.message->file, in.message->size, plan.scans.timeout);
    } else {
      out = co_await probes::scan::ask_clamd(ex, *where, in.message->file, in.message->size, plan.scans.timeout);
    }
    co_return out;
  };
  auto [e, signatures, spam_scan, virus_scan] =
      co_await all(gather(r, blr, gate, std::move(plan.questions)), dkim(), scanner(plan.scans.spamd, true),
                   scanner(plan.scans.clamd, false));
  in.dkim = std::move(signatures);
  in.spam_scan = std::move(spam_scan);
  in.virus_scan = std::move(virus_scan);
  // A verified signature counts for DMARC as --dkim-pass does (which stays an override).
  for (const auto& s : in.dkim) {
    if (s.outcome == probes::dkim::Outcome::pass && std::find(in.dkim_pass.begin(), in.dkim_pass.end(), s.domain) == in.dkim_pass.end()) {
      in.dkim_pass.push_back(s.domain);
    }
  }
  in.sender_mx = std::move(e.sender_mx);
  in.recipient_mx = std::move(e.recipient_mx);
  in.spf = std::move(e.spf);
  in.dmarc = std::move(e.dmarc);
  in.dnsbl = std::move(e.dnsbl);
  in.client_names = std::move(e.client_names);
  if (e.smtp) {
    in.observed = report::observe(catalog, *e.smtp);
    if (const auto* fin = e.smtp->final()) {
      if (const auto* x = fin->find("rcpt", "recipient"); x != nullptr && x->reply && x->reply->positive()) {
        in.rcpt_accepted = fmt::format("{} [{}]", fin->host, fin->address);
      }
    }
    in.smtp = std::move(e.smtp);
  }
  co_return in;
}

std::vector<probes::Finding> predict_findings(const report::PredictInput& in) {
  std::vector<probes::Finding> findings = in.sender_check.findings;
  findings.insert(findings.end(), in.recipient_check.findings.begin(), in.recipient_check.findings.end());
  if (in.sender_mx) {
    for (auto& f : probes::sender_domain_findings(*in.sender_mx, in.sender_check.address->text)) findings.push_back(std::move(f));
  }
  if (in.recipient_mx) findings.insert(findings.end(), in.recipient_mx->findings.begin(), in.recipient_mx->findings.end());
  if (in.smtp) findings.insert(findings.end(), in.smtp->findings.begin(), in.smtp->findings.end());
  if (in.message) {
    for (auto& f : probes::message_findings(*in.message)) findings.push_back(std::move(f));
    for (auto& f : probes::dkim::dkim_findings(in.dkim, probes::from_domain(*in.message))) findings.push_back(std::move(f));
    const auto from = probes::from_domain(*in.message);
    const auto* sa = in.sender_check.address ? &*in.sender_check.address : nullptr;
    if (!from.empty() && sa != nullptr && !sa->domain.empty() && !probes::dmarc::aligned(sa->domain, from, false)) {
      findings.push_back(probes::make_finding(
          "message", "message.from-not-envelope", probes::Severity::info, in.message->source,
          fmt::format("the From: domain {} is not the envelope sender's {} (nor in its organizational domain): SPF cannot "
                      "align for DMARC, so only a DKIM signature of {} can",
                      from, sa->domain, from)));
    }
  }
  return findings;
}

}  // namespace bp::engine

// bounceprobe predict: which bounce would this mail get.
#include "exit_codes.hpp"
#include "run_support.hpp"

#include <predict.hpp>

#include <predictor.hpp>
#include <profile.hpp>
#include <text.hpp>

#include <fmt/format.h>

namespace bp::cli {

int run_predict(const CommonOptions& o, const std::string& from, const std::string& to,
                const std::vector<std::string>& ips, const std::vector<std::string>& dkim_pass, const MessageOptions& m) {
  const std::string& helo = o.helo;
  require_single_object_format(o, "predict");
  std::optional<report::Catalog> catalog_holder;
  const auto& catalog = catalog_for(o, catalog_holder);
  auto profile = [&] {
    if (o.profile_file.empty()) return report::Profile::builtin(catalog);
    try {
      return report::Profile::load_file(o.profile_file, catalog);
    } catch (const std::exception& e) {
      throw UsageError(e.what());  // a file named on the command line: exit 2 (docs/exit-codes.md)
    }
  }();
  for (const auto& ip : ips) {
    if (!probes::classify(ip)) throw UsageError(fmt::format("--ip '{}' is not an IP address", probes::shown(ip)));
  }
  // The dialogue comes from --source-ip, else from --ip when it is an address of this
  // machine (then the receiver's answer stands for --ip), else from wherever the kernel picks.
  std::string source;
  if (o.source_ip.empty() && !ips.empty() && is_local_address(ips.front())) source = ips.front();
  auto plan = engine::plan_predict(from, to, ips, helo, dnsbl_lists(o), address_policy(o), smtp_options(o, source),
                                   o.relay_test, o.relay_to);
  plan.input.dkim_pass = dkim_pass;
  plan.input.declared_size = m.size;
  if (!m.message.empty()) {
    try {
      plan.input.message = probes::read_message(m.message);
    } catch (const std::exception& e) {
      throw UsageError(e.what());  // a file named on the command line: exit 2 (docs/exit-codes.md)
    }
    // DMARC is judged on the From: header's domain (RFC 7489 section 3.1), not the envelope's.
    plan.questions.from_domain = probes::from_domain(*plan.input.message);
  }
  for (auto [spec, name, port, slot] : {std::tuple{&m.spamd, "--spamd", std::uint16_t{783}, &plan.scans.spamd},
                                         std::tuple{&m.clamd, "--clamd", std::uint16_t{3310}, &plan.scans.clamd}}) {
    if (!*spec) continue;
    if (m.message.empty()) throw UsageError(fmt::format("{} needs --message: there is nothing to scan", name));
    std::string why;
    *slot = probes::scan::parse_endpoint(**spec, port, true, &why);
    if (!*slot) throw UsageError(fmt::format("{} '{}' is not a socket path or HOST:PORT: {}", name, probes::shown(**spec), why));
  }
  plan.scans.timeout = std::chrono::milliseconds(o.smtp_timeout_ms);
  const auto& rc = plan.input.recipient_check;
  if (!rc.address || rc.address->null_sender || rc.address->domain.empty() || rc.address->domain_literal) {
    throw UsageError(fmt::format("--to '{}' is not a recipient address with a domain{}", probes::shown(to),
                                 rc.problem.empty() ? "" : ": " + rc.problem));
  }
  DnsRun dns(o, 1, !o.no_smtp);
  probes::SmtpGate gate(dns.resolver().executor(), o.smtp_parallel);
  auto in = dns.run(engine::run_predict(dns.resolver(), dns.dnsbl_resolver(), gate, catalog, std::move(plan)));
  const auto findings = engine::predict_findings(in);
  auto prediction = report::predict(profile, in);
  const auto run = dns.info();
  if (o.format == "json") {
    emit_json(report::predict_json(in, prediction, findings, profile.name, run, o.verbose));
  } else {
    emit(report::predict_text(in, prediction, findings, profile.name, run, render_options(o)));
  }
  // The verdict alone: a prediction of acceptance passes whatever else the findings say.
  return prediction.verdict == "accept" ? exit_ok : exit_findings;
}

}  // namespace bp::cli

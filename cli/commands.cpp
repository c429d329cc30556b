#include "commands.hpp"

#include "exit_codes.hpp"
#include "run_support.hpp"

#include <text.hpp>

#include <fmt/format.h>

namespace bp::cli {

using probes::AddressPolicy;
using probes::Finding;
using probes::Severity;

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

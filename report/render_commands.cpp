// The single-target commands' output: predict, spf, dmarc, dnsbl, catalog.
#include "render.hpp"

#include "json_writer.hpp"
#include "render_parts.hpp"
#include "text.hpp"

#include <fmt/format.h>

namespace bp::report {

using nlohmann::json;
using probes::Finding;
using probes::Severity;
using namespace parts;

json predict_json(const PredictInput& in, const Prediction& p, const std::vector<Finding>& findings,
                  const std::string& profile, const RunInfo& run, bool verbose) {
  json bounces = json::array();
  for (const auto& b : p.bounces) {
    json j = {{"catalog_id", b.entry ? b.entry->id : ""}, {"code", b.code}, {"enhanced", b.enhanced},
              {"text", b.text},           {"stage", b.stage}, {"temporary", b.temporary},
              {"check", b.restriction},   {"reason", b.reason}, {"evidence", evidence_json(b.evidence)},
              {"explanation", explanation_of(b)}, {"fix", b.entry ? b.entry->fix : ""}};
    if (b.defer_if_permit) j["defer_if_permit"] = true;
    json rows = json::array();
    if (b.entry) {
      for (const auto& d : b.entry->documented) rows.push_back(d.row);
    }
    j["documented_rows"] = rows;
    bounces.push_back(j);
  }
  json fs = json::array();
  for (const auto& f : findings) fs.push_back(finding_json(f));
  json input = {{"from", in.sender}, {"to", in.recipient}, {"ips", in.ips}};
  if (!in.helo.empty()) input["helo"] = in.helo;
  json elsewhere = json::array();
  for (const auto& x : p.observed_elsewhere) {
    elsewhere.push_back({{"catalog_id", x.entry ? x.entry->id : ""}, {"host", x.host}, {"address", x.address}, {"source", x.source},
                         {"command", x.command}, {"code", x.code}, {"enhanced", x.enhanced}, {"text", x.text}});
  }
  json j = {{"schema", schema_version}, {"command", "predict"}, {"input", input}, {"profile", profile},
            {"verdict", p.verdict}, {"bounces", bounces}, {"not_checked", p.not_checked}, {"passed", p.passed},
            {"observed_from_this_machine", elsewhere}, {"findings", fs}, {"run", run_json(run, verbose)}};
  if (in.smtp) j["smtp"] = smtp_json(*in.smtp, verbose);
  json scans = json::array();
  for (const auto* scan : {&in.spam_scan, &in.virus_scan}) {
    if (!*scan) continue;
    using probes::scan::Verdict;
    const auto& x = **scan;
    scans.push_back({{"scanner", x.scanner},
                     {"verdict", x.verdict == Verdict::flagged ? "flagged" : x.verdict == Verdict::clean ? "clean" : "not_checked"},
                     {"detail", x.detail}, {"rules", x.rules}, {"ms", x.ms}});
  }
  if (!scans.empty()) j["content_scans"] = scans;
  return j;
}

std::string predict_text(const PredictInput& in, const Prediction& p, const std::vector<Finding>& findings,
                         const std::string& profile, const RunInfo& run, const RenderOptions& o) {
  Paint paint{o.color};
  std::string out;
  out += fmt::format("Mail from <{}> to <{}>, receiver profile {}\n\n", probes::escaped(in.sender), probes::escaped(in.recipient),
                     profile);
  const char* colour = p.verdict == "accept" ? "32;1" : p.verdict == "defer" ? "33;1" : "31;1";
  out += fmt::format("Verdict: {}\n", paint(colour, p.verdict));
  int n = 0;
  for (const auto& b : p.bounces) {
    ++n;
    const std::string code = b.code != 0 ? fmt::format("{} ", b.code) : "";
    out += fmt::format("\n{} {}{}{}{}\n", n == 1 ? "→" : " ", code, b.enhanced.empty() ? "" : b.enhanced + " ",
                       paint("1", probes::escaped(b.text)), n == 1 ? "" : "   (next, once the one above is fixed)");
    out += fmt::format("    stage: {}{}   catalog: {}   check: {}\n", b.stage == "none" ? "sending MTA, before SMTP" : b.stage,
                       b.defer_if_permit ? " (deferred only if nothing else rejects)" : "", b.entry ? b.entry->id : "(none)",
                       b.restriction);
    out += fmt::format("    why:   {}\n", probes::escaped(b.reason));
    out += fmt::format("    means: {}\n", explanation_of(b));
    if (b.entry) out += fmt::format("    fix:   {}\n", b.entry->fix);
    if (o.verbose) {
      for (const auto& e : b.evidence) out += fmt::format("      · {} → {}\n", probes::escaped(e.query), probes::escaped(e.answer));
    }
  }
  if (!p.observed_elsewhere.empty()) {
    out += "\nThis machine got (the answer depends on the connecting address, so it need not hold for --ip):\n";
    for (const auto& x : p.observed_elsewhere) {
      out += fmt::format("  ! {} [{}] from {}: {} → {}{}\n", probes::escaped(x.host), x.address, x.source,
                         x.command.empty() ? "connect" : probes::escaped(x.command), probes::escaped(x.line()),
                         x.entry ? "   (" + x.entry->id + ")" : "");
    }
  }
  if (o.verbose && in.smtp) {
    out += "\nSMTP dialogue (never DATA):\n";
    for (const auto& s : in.smtp->sessions) out += transcript_text(s, "  ");
  }
  if (!p.not_checked.empty()) {
    out += "\nCould not check:\n";
    for (const auto& s : p.not_checked) out += fmt::format("  ? {}\n", probes::escaped(s));
  }
  if (o.verbose && !p.passed.empty()) {
    out += "\nPassed:\n";
    for (const auto& s : p.passed) out += fmt::format("  ✓ {}\n", probes::escaped(s));
  }
  if (!findings.empty()) {
    out += "\nFindings\n";
    findings_text(out, findings, o, paint, "  ");
  }
  if (run.log != nullptr) {
    out += fmt::format("\n{} DNS queries in {:.0f} ms\n", run.log->sent(), run.elapsed_ms);
  }
  return out;
}

json spf_json(const probes::spf::SpfQuery& q, const probes::spf::SpfOutcome& o, const RunInfo& run, bool verbose) {
  json trace = json::array();
  for (const auto& t : o.trace) {
    trace.push_back({{"depth", t.depth}, {"domain", t.domain}, {"term", t.term}, {"outcome", t.outcome}, {"detail", t.detail}});
  }
  json j = {{"schema", schema_version}, {"command", "spf"},
            {"input", {{"ip", q.ip}, {"sender", q.sender}, {"helo", q.helo}}},
            {"result", probes::spf::to_string(o.result)}, {"reason", o.reason}, {"explanation", o.explanation},
            {"domain", o.domain}, {"record", o.record}, {"lookups", o.lookups}, {"void_lookups", o.void_lookups},
            {"trace", trace}, {"run", run_json(run, verbose)}};
  if (!o.decisive_term.empty()) j["decisive"] = {{"domain", o.decisive_domain}, {"term", o.decisive_term}};
  return j;
}

std::string spf_text(const probes::spf::SpfQuery& q, const probes::spf::SpfOutcome& o, const RunInfo& run,
                     const RenderOptions& opt) {
  Paint paint{opt.color};
  using probes::spf::SpfResult;
  const char* colour = o.result == SpfResult::pass ? "32;1"
                       : (o.result == SpfResult::fail || o.result == SpfResult::permerror) ? "31;1"
                                                                                            : "33;1";
  std::string out = fmt::format("SPF for {} from {} (HELO {}): {}\n", o.domain.empty() ? q.sender : o.domain, q.ip,
                                q.helo.empty() ? "-" : q.helo, paint(colour, std::string(probes::spf::to_string(o.result))));
  if (!o.record.empty()) out += fmt::format("  record:      {}\n", probes::escaped(o.record));
  out += fmt::format("  why:         {}\n", probes::escaped(o.reason));
  if (!o.decisive_term.empty()) {
    out += fmt::format("  decided by:  '{}' in {}\n", probes::escaped(o.decisive_term), probes::escaped(o.decisive_domain));
  }
  if (!o.explanation.empty()) out += fmt::format("  explanation: {}\n", probes::escaped(o.explanation));
  out += fmt::format("  lookups:     {} of 10 DNS-querying terms, {} of 2 void lookups\n", o.lookups, o.void_lookups);
  if (opt.verbose) {
    out += "  trace:\n";
    for (const auto& t : o.trace) {
      out += fmt::format("    {}{} {}: {}{}\n", std::string(static_cast<std::size_t>(t.depth) * 2, ' '), probes::escaped(t.domain),
                         probes::escaped(t.term), t.outcome, t.detail.empty() ? "" : " (" + probes::escaped(t.detail) + ")");
    }
  }
  if (run.log != nullptr) out += fmt::format("{} DNS queries in {:.0f} ms\n", run.log->sent(), run.elapsed_ms);
  return out;
}


json dmarc_command_json(const probes::dmarc::DmarcDiscovery& d, const RunInfo& run, bool verbose) {
  json fs = json::array();
  for (const auto& f : d.findings) fs.push_back(finding_json(f));
  auto j = dmarc_json(d);
  j["schema"] = schema_version;
  j["command"] = "dmarc";
  j["domain"] = d.domain;
  j["findings"] = fs;
  j["run"] = run_json(run, verbose);
  return j;
}

std::string dmarc_text(const probes::dmarc::DmarcDiscovery& d, const RunInfo& run, const RenderOptions& o) {
  Paint paint{o.color};
  std::string out = fmt::format("DMARC for {} (organizational domain {})\n", d.domain, d.org_domain);
  if (d.record) {
    out += fmt::format("  record:  {} at {} (found by: {})\n", probes::escaped(d.record->text), d.found_at, d.rule);
    out += fmt::format("  policy:  {} (from {}=)\n", probes::escaped(d.policy), d.policy_tag);
    out += "  tags:   ";
    for (const auto& [k, t] : d.record->tags) {
      if (!t.value.empty()) out += fmt::format(" {}={}{}", k, probes::escaped(t.value), t.explicit_ ? "" : "(default)");
    }
    out += "\n";
  }
  findings_text(out, d.findings, o, paint, "  ");
  if (run.log != nullptr) out += fmt::format("{} DNS queries in {:.0f} ms\n", run.log->sent(), run.elapsed_ms);
  return out;
}

json dnsbl_json(const probes::dnsbl::DnsblReport& r, const RunInfo& run, bool verbose) {
  json results = json::array();
  for (const auto& x : r.results) {
    json j = {{"target", x.target}, {"list", x.list_id()}, {"name", x.list_name()}, {"zone", x.zone()}, {"query", x.query},
              {"state", probes::dnsbl::to_string(x.verdict.state)}, {"code", x.verdict.code},
              {"sublist", x.verdict.sublist}, {"meaning", x.verdict.meaning}, {"reason", x.verdict.reason},
              {"txt", x.txt}, {"removal", x.removal()}};
    results.push_back(j);
  }
  json fs = json::array();
  for (const auto& f : r.findings) fs.push_back(finding_json(f));
  return {{"schema", schema_version}, {"command", "dnsbl"}, {"results", results}, {"findings", fs}, {"run", run_json(run, verbose)}};
}

std::string dnsbl_text(const probes::dnsbl::DnsblReport& r, const RunInfo& run, const RenderOptions& o) {
  Paint paint{o.color};
  std::string out;
  findings_text(out, r.findings, o, paint, "");
  if (run.log != nullptr) out += fmt::format("{} DNS queries in {:.0f} ms\n", run.log->sent(), run.elapsed_ms);
  return out;
}

json catalog_json(const Catalog& c) {
  json entries = json::array();
  for (const auto& e : c.entries()) {
    json rows = json::array();
    for (const auto& d : e.documented) rows.push_back({{"source", d.source}, {"row", d.row}, {"text", d.text}});
    entries.push_back({{"id", e.id}, {"reason", e.reason}, {"seed", e.seed}, {"code", e.code}, {"code_alt", e.code_alt},
                       {"enhanced", e.enhanced}, {"pattern", e.pattern}, {"priority", e.priority},
                       {"stage", e.stage}, {"class", e.klass}, {"predictable", e.predictable},
                       {"probes", e.probes}, {"condition", e.condition}, {"explanation", e.explanation},
                       {"fix", e.fix}, {"documented", rows}});
  }
  std::size_t seed = 0;
  for (const auto& e : c.entries()) seed += e.seed ? 1 : 0;
  return {{"schema", schema_version}, {"command", "catalog"}, {"entries", entries},
          {"counts", {{"entries", c.entries().size()}, {"seed_entries", seed}, {"documented_rows", c.documented_rows()}}}};
}

std::string catalog_text(const Catalog& c, const RenderOptions& o) {
  Paint paint{o.color};
  std::string out;
  std::size_t seed = 0;
  for (const auto& e : c.entries()) {
    if (e.seed) ++seed;
  }
  out += fmt::format("{} documented bounces ({} article rows) and {} stock receiver texts\n\n", seed,
                     c.documented_rows(), c.entries().size() - seed);
  for (const auto& e : c.entries()) {
    const std::string code = e.code != 0 ? std::to_string(e.code) : "---";
    out += fmt::format("{} {:<7} {:<4} {:<8} {:<10} {:<24} {}\n", code, e.enhanced.empty() ? "-" : e.enhanced,
                       e.temporary() ? "temp" : "perm", e.stage, e.predictable, e.reason, paint("1", e.id));
    for (const auto& d : e.documented) out += fmt::format("      {} {}: {}\n", d.source, d.row, d.text);
    if (!e.seed && !e.example.empty()) out += fmt::format("      stock: {}\n", e.example);
    if (o.verbose) {
      out += fmt::format("      means: {}\n      fix:   {}\n", e.explanation, e.fix);
    }
  }
  return out;
}


}  // namespace bp::report

#include "render.hpp"

#include "json_writer.hpp"
#include "text.hpp"

#include <fmt/format.h>

#include <functional>
#include <map>

namespace bp::report {

using nlohmann::json;
using probes::Finding;
using probes::Severity;

namespace {

struct Paint {
  bool on;
  std::string operator()(const char* code, const std::string& s) const {
    return on ? fmt::format("\033[{}m{}\033[0m", code, s) : s;
  }
};

std::string mark(const Finding& f, const Paint& paint) {
  if (!f.checked) return paint("35", "?");
  switch (f.severity) {
    case Severity::ok: return paint("32", "✓");
    case Severity::info: return paint("36", "i");
    case Severity::warning: return paint("33", "!");
    case Severity::error: return paint("31;1", "✗");
  }
  return " ";
}

// Writers for what a batch prints per domain. Keys go in sorted order, as
// nlohmann::json (std::map objects) prints them elsewhere.

void write_evidence(JsonWriter& w, const std::vector<probes::Evidence>& ev) {
  w.begin_array();
  for (const auto& e : ev) w.begin_object().field("answer", e.answer).field("query", e.query).end_object();
  w.end_array();
}

json evidence_json(const std::vector<probes::Evidence>& ev) {
  std::string s;
  JsonWriter w(s);
  write_evidence(w, ev);
  return json::parse(s);
}

void write_host(JsonWriter& w, const probes::HostLookup& h) {
  w.begin_object();
  if (h.a_failure) w.field("a_failure", resolver::to_string(h.a_failure->kind));
  if (h.aaaa_failure) w.field("aaaa_failure", resolver::to_string(h.aaaa_failure->kind));
  w.key("addresses").begin_array();
  for (const auto& a : h.addresses) {
    w.begin_object().field("address", a.address).field("class", a.slug).field("global", a.global);
    if (!a.prefix.empty()) w.field("prefix", a.prefix);
    if (a.overridden) w.field("treated_as_routable", true);
    w.end_object();
  }
  w.end_array();
  if (!h.cname_chain.empty()) w.field("cname_chain", h.cname_chain);
  w.field("host", h.host.empty() ? std::string_view(".") : std::string_view(h.host));
  if (h.ip_literal) w.field("ip_literal", true);
  w.field("preference", h.preference);
  w.end_object();
}

void write_mx(JsonWriter& w, const probes::MxReport& mx) {
  w.begin_object();
  if (!mx.cname_chain.empty()) w.field("cname_chain", mx.cname_chain);
  if (mx.failure) {
    w.key("failure").begin_object().field("detail", mx.failure->detail).field("kind", resolver::to_string(mx.failure->kind)).end_object();
  }
  w.key("hosts").begin_array();
  for (const auto& t : mx.targets) write_host(w, t);
  w.end_array();
  w.field("status", probes::to_string(mx.status));
  w.end_object();
}

json query_log_json(const resolver::QueryLog& log) {
  json a = json::array();
  for (const auto& e : log.entries()) {
    json j = {{"name", e.name}, {"type", resolver::to_string(e.type)}, {"attempt", e.attempt},
              {"outcome", e.outcome}, {"elapsed_ms", static_cast<double>(static_cast<long>(e.elapsed_ms * 100)) / 100}};
    if (!e.detail.empty()) j["detail"] = e.detail;
    if (!e.answers.empty()) j["answers"] = e.answers;
    if (!e.cname_chain.empty()) j["cname_chain"] = e.cname_chain;
    a.push_back(j);
  }
  return a;
}

json run_json(const RunInfo& run, bool verbose) {
  json j = {{"resolvers", run.servers}, {"elapsed_ms", static_cast<long>(run.elapsed_ms)}};
  if (run.log != nullptr) {
    j["queries"] = {{"sent", run.log->sent()}, {"cache_hits", run.log->cache_hits()}};
    if (verbose) j["queries"]["log"] = query_log_json(*run.log);
  }
  return j;
}

std::string tally_line(const Tally& t) {
  return fmt::format("{} error{}, {} warning{}, {} not checked, {} info, {} ok", t.error, t.error == 1 ? "" : "s",
                     t.warning, t.warning == 1 ? "" : "s", t.not_checked, t.info, t.ok);
}

void write_tally(JsonWriter& w, const Tally& t) {
  w.begin_object().field("error", t.error).field("info", t.info).field("not_checked", t.not_checked).field("ok", t.ok);
  w.field("warning", t.warning).end_object();
}

json tally_json(const Tally& t) {
  std::string s;
  JsonWriter w(s);
  write_tally(w, t);
  return json::parse(s);
}

void findings_text(std::string& out, const std::vector<Finding>& findings, const RenderOptions& o, const Paint& paint,
                   const std::string& indent) {
  // Group by probe, keeping the order in which probes first appear.
  std::vector<std::string> order;
  for (const auto& f : findings) {
    if (std::find(order.begin(), order.end(), f.probe) == order.end()) order.push_back(f.probe);
  }
  for (const auto& probe : order) {
    out += fmt::format("{}{}\n", indent, paint("1", probe));
    for (const auto& f : findings) {
      if (f.probe != probe) continue;
      // Summaries and evidence quote records from the network: no control byte reaches the terminal.
      out += fmt::format("{}  {} {}  [{}]\n", indent, mark(f, paint), probes::escaped(f.summary), f.code);
      if (!f.fix.empty() && (f.severity >= Severity::warning || !f.checked)) {
        out += fmt::format("{}      fix: {}\n", indent, probes::escaped(f.fix));
      }
      if (o.verbose) {
        if (!f.reference.empty()) out += fmt::format("{}      see: {}\n", indent, f.reference);
        for (const auto& e : f.evidence) {
          out += fmt::format("{}      · {} → {}\n", indent, probes::escaped(e.query), probes::escaped(e.answer));
        }
      }
    }
  }
}

}  // namespace

void Tally::add(const Finding& f) {
  if (!f.checked) {
    ++not_checked;
    return;
  }
  switch (f.severity) {
    case Severity::ok: ++ok; break;
    case Severity::info: ++info; break;
    case Severity::warning: ++warning; break;
    case Severity::error: ++error; break;
  }
}

Severity Tally::worst() const {
  if (error > 0) return Severity::error;
  if (warning > 0 || not_checked > 0) return Severity::warning;
  if (info > 0) return Severity::info;
  return Severity::ok;
}

namespace {

void write_finding(JsonWriter& w, const Finding& f) {
  w.begin_object().field("checked", f.checked).field("code", f.code);
  if (!f.detail.empty()) w.field("detail", f.detail);
  w.key("evidence");
  write_evidence(w, f.evidence);
  if (!f.fix.empty()) w.field("fix", f.fix);
  w.field("probe", f.probe);
  if (!f.reference.empty()) w.field("reference", f.reference);
  // "not_checked" for what could not be checked, as the summary counts it.
  w.field("severity", f.checked ? probes::to_string(f.severity) : std::string_view("not_checked"));
  w.field("subject", f.subject).field("summary", f.summary);
  w.end_object();
}

}  // namespace

json finding_json(const Finding& f) {
  std::string s;
  JsonWriter w(s);
  write_finding(w, f);
  return json::parse(s);
}

namespace {

json tls_json(const smtp::TlsInfo& t) {
  json j = {{"ok", t.ok}, {"protocol", t.protocol}, {"cipher", t.cipher}, {"dane", smtp::to_string(t.dane)}};
  if (!t.error.empty()) j["error"] = t.error;
  if (!t.dane_detail.empty()) j["dane_detail"] = t.dane_detail;
  if (t.cert) {
    const auto& c = *t.cert;
    j["certificate"] = {{"subject", c.subject},       {"issuer", c.issuer},           {"names", c.names},
                        {"not_before", c.not_before}, {"not_after", c.not_after},     {"days_left", c.days_left},
                        {"expired", c.expired},       {"trusted", c.chain_trusted},   {"chain_errors", c.chain_errors},
                        {"name_matches", c.name_matches}, {"key", c.key}};
  }
  return j;
}

json reply_json(const smtp::Reply& r) { return {{"code", r.code}, {"enhanced", r.enhanced}, {"text", r.text()}}; }

std::string explanation_of(const PredictedBounce& b) {
  return b.entry ? b.entry->explanation : "The receiver's own text; no catalog entry matches it, so read it literally.";
}

std::string transcript_text(const smtp::Session& s, const std::string& indent) {
  std::string out = fmt::format("{}{} [{}]:{} from {}\n", indent, probes::escaped(s.host), s.address, s.port,
                                s.source.empty() ? "-" : s.source);
  for (const auto& t : s.transcript) {
    const char* who = t.direction == 'C' ? "C:" : t.direction == 'S' ? "S:" : "* ";
    out += fmt::format("{}  {:>6.0f} ms {} {}\n", indent, t.at_ms, who, probes::shown(t.text, 200));
  }
  return out;
}

}  // namespace

json smtp_json(const probes::SmtpReport& r, bool verbose) {
  json sessions = json::array();
  for (const auto& s : r.sessions) {
    json ex = json::array();
    for (const auto& x : s.exchanges) {
      json e = {{"stage", x.stage}, {"sent", x.sent}};
      if (!x.role.empty()) e["role"] = x.role;
      if (x.reply) e["reply"] = reply_json(*x.reply);
      if (x.error) e["error"] = {{"kind", smtp::to_string(x.error->kind)}, {"detail", x.error->detail}};
      ex.push_back(e);
    }
    json j = {{"host", s.host},           {"address", s.address},       {"port", s.port},
              {"source", s.source},       {"connected", s.connected},   {"connect_ms", s.connect_ms},
              {"banner_ms", s.banner_ms}, {"total_ms", s.total_ms},     {"esmtp", s.esmtp},
              {"ehlo_name", s.ehlo_name}, {"extensions", s.extensions}, {"starttls_offered", s.starttls_offered},
              {"exchanges", ex}};
    if (s.error) j["error"] = {{"kind", smtp::to_string(s.error->kind)}, {"stage", s.error_stage}, {"detail", s.error->detail}};
    if (s.tls) j["tls"] = tls_json(*s.tls);
    if (verbose) {
      json t = json::array();
      for (const auto& line : s.transcript) t.push_back({{"ms", line.at_ms}, {"dir", std::string(1, line.direction)}, {"text", line.text}});
      j["transcript"] = t;
    }
    sessions.push_back(j);
  }
  return {{"attempted", r.attempted}, {"final_session", r.final_session}, {"sessions", sessions},
          {"confirmed_names", r.confirmed_names}, {"data_sent", false}};
}

namespace {

void write_dmarc_fields(JsonWriter& w, const probes::dmarc::DmarcDiscovery& d);

/// One domain's result as a JSON object; `jsonl` adds the line's own schema and command.
void write_domain(JsonWriter& w, const DomainResult& r, bool verbose, bool jsonl, Tally& t) {
  for (const auto& f : r.findings) t.add(f);
  w.begin_object();
  if (jsonl) w.field("command", "check");
  if (r.compare) {
    w.key("compare").begin_object().key("added").begin_array();
    for (const auto& f : r.compare->added) write_finding(w, f);
    w.end_array().key("removed").begin_array();
    for (const auto& f : r.compare->removed) write_finding(w, f);
    w.end_array().end_object();
  }
  w.key("dmarc").begin_object();
  write_dmarc_fields(w, r.dmarc);
  w.end_object();
  w.key("dnsbl").begin_object().key("results").begin_array();
  for (const auto& x : r.dnsbl.results) {
    w.begin_object().field("code", x.verdict.code).field("list", x.list_id).field("reason", x.verdict.reason);
    w.field("state", probes::dnsbl::to_string(x.verdict.state)).field("target", x.target).end_object();
  }
  w.end_array().field("skipped", r.dnsbl_skipped).end_object();
  w.field("domain", r.domain);
  w.key("findings").begin_array();
  for (const auto& f : r.findings) write_finding(w, f);
  w.end_array();
  w.key("mx");
  write_mx(w, r.mx);
  if (jsonl) w.field("schema", schema_version);
  if (r.smtp) w.key("smtp").raw(smtp_json(*r.smtp, verbose).dump(-1, ' ', false, json::error_handler_t::replace));
  w.key("spf").begin_object().field("authorized", r.spf.authorized).field("checked", r.spf.checked);
  w.field("has_record", r.spf.has_record).field("lookups", r.spf.lookups).field("not_flattened", r.spf.unflattened);
  w.field("record", r.spf.record).field("void_lookups", r.spf.void_lookups).end_object();
  w.key("summary");
  write_tally(w, t);
  w.field("worst", probes::to_string(t.worst()));
  w.end_object();
}

json rejected_json(const RejectedInput& e) {
  json j = {{"input", e.input}, {"error", e.error}};
  if (e.line > 0) j["input_line"] = e.line;
  return j;
}

/// XML 1.0 text: markup escaped, control characters XML forbids as U+FFFD, and
/// bytes that are not UTF-8 as U+FFFD, so that the document always parses.
std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const auto n = probes::utf8_sequence(s, i);
      if (n > 0) {
        out.append(s, i, n);
        i += n;
      } else {
        out += "\xef\xbf\xbd";
        ++i;
      }
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += "\xef\xbf\xbd";
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out;
}

std::string dumped(const json& j, int indent = -1) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

}  // namespace

CheckWriter::CheckWriter(std::string format, RenderOptions options, Severity fail_on, std::function<void(std::string_view)> out)
    : format_(std::move(format)), options_(options), fail_on_(fail_on), out_(std::move(out)) {
  if (format_ == "json") domains_ = json::array();
}

CheckWriter::~CheckWriter() = default;

void CheckWriter::add(const DomainResult& r) {
  ++domains_seen_;
  Tally t;
  if (format_ == "jsonl" || format_ == "json") {
    line_.clear();
    JsonWriter w(line_);
    write_domain(w, r, options_.verbose, format_ == "jsonl", t);
    if (format_ == "jsonl") {
      line_ += '\n';
      out_(line_);
    } else {
      domains_.push_back(json::parse(line_));
    }
  } else if (format_ == "junit") {
    std::string cases;
    int fails = 0, skipped = 0;
    for (const auto& f : r.findings) {
      t.add(f);
      // A domain's own record that could not be checked fails (docs/exit-codes.md);
      // anything else unchecked is a skipped test, with the reason.
      const bool failed = f.checked ? f.severity >= fail_on_ : (!options_.allow_unchecked && probes::own_record(f));
      const bool skip = !f.checked && !failed;
      fails += failed ? 1 : 0;
      skipped += skip ? 1 : 0;
      cases += fmt::format("    <testcase classname=\"{}.{}\" name=\"{} {}\">", xml_escape(r.domain), xml_escape(f.probe),
                           xml_escape(f.code), xml_escape(f.subject));
      if (failed) {
        cases += fmt::format("<failure type=\"{}\" message=\"{}\">{}</failure>", f.checked ? probes::to_string(f.severity) : "not-checked",
                             xml_escape(f.summary), xml_escape(f.fix));
      } else if (skip) {
        cases += fmt::format("<skipped message=\"{}\"/>", xml_escape(f.summary));
      } else {
        cases += fmt::format("<system-out>{}</system-out>", xml_escape(f.summary));
      }
      cases += "</testcase>\n";
    }
    junit_tests_ += static_cast<int>(r.findings.size());
    junit_failures_ += fails;
    junit_skipped_ += skipped;
    junit_suites_ += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\">\n{}  </testsuite>\n",
                                 xml_escape(r.domain), r.findings.size(), fails, skipped, r.elapsed_ms / 1000.0, cases);
  } else {
    Paint paint{options_.color};
    std::string out = fmt::format("{}\n", paint("1;4", r.domain));
    for (const auto& f : r.findings) t.add(f);
    findings_text(out, r.findings, options_, paint, "  ");
    if (r.compare) {
      const auto n = r.compare->added.size() + r.compare->removed.size();
      out += fmt::format("  {}\n", paint("1", n == 0 ? "no change against live DNS" : "changes against live DNS"));
      for (const auto& [sign, list] : {std::pair{"+", &r.compare->added}, std::pair{"-", &r.compare->removed}}) {
        for (const auto& f : *list) {
          out += fmt::format("    {} {} {}  [{}]\n", sign, mark(f, paint), probes::escaped(f.summary), f.code);
        }
      }
    }
    if (options_.verbose && r.smtp) {
      for (const auto& s : r.smtp->sessions) out += transcript_text(s, "  ");
    }
    out += "\n";
    out_(out);
  }
  total_.ok += t.ok;
  total_.info += t.info;
  total_.warning += t.warning;
  total_.error += t.error;
  total_.not_checked += t.not_checked;
}

void CheckWriter::reject(const RejectedInput& e) {
  ++rejected_;
  if (format_ == "jsonl") {
    json j = rejected_json(e);
    j["schema"] = schema_version;
    j["command"] = "check";
    out_(dumped(j) + "\n");
  } else if (format_ == "json") {
    errors_.push_back(rejected_json(e));
  } else if (format_ == "junit") {
    junit_tests_ += 1;
    junit_errors_ += 1;
    junit_suites_ += fmt::format("  <testsuite name=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0\">\n    <testcase classname=\"input\" "
                                 "name=\"line {}\"><error message=\"{}\"/></testcase>\n  </testsuite>\n",
                                 xml_escape(e.input), e.line, xml_escape(e.error));
  } else {
    out_(e.line > 0 ? fmt::format("line {}: {}\n\n", e.line, e.error) : fmt::format("{}\n\n", e.error));
  }
}

void CheckWriter::finish(const RunInfo& run) {
  if (format_ == "json") {
    json doc = {{"schema", schema_version}, {"command", "check"}, {"domains", std::move(domains_)},
                {"summary", tally_json(total_)}, {"run", run_json(run, options_.verbose)}};
    if (rejected_ > 0) doc["errors"] = std::move(errors_);
    out_(dumped(doc, 2) + "\n");
  } else if (format_ == "junit") {
    out_(fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"bounceprobe check\" tests=\"{}\" "
                     "failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n{}</testsuites>\n",
                     junit_tests_, junit_failures_, junit_errors_, junit_skipped_, run.elapsed_ms / 1000.0, junit_suites_));
  } else if (format_ != "jsonl") {
    std::string servers;
    for (const auto& s : run.servers) servers += (servers.empty() ? "" : ", ") + s;
    std::string out = fmt::format("{} domain{}: {}\n", domains_seen_, domains_seen_ == 1 ? "" : "s", tally_line(total_));
    if (rejected_ > 0) out += fmt::format("{} input line{} not checked (not a domain)\n", rejected_, rejected_ == 1 ? "" : "s");
    if (run.log != nullptr) {
      out += fmt::format("{} DNS queries ({} answered from cache) to {} in {:.0f} ms\n", run.log->sent(),
                         run.log->cache_hits(), servers, run.elapsed_ms);
    }
    out_(out);
  }
}

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

namespace {

void write_dmarc_fields(JsonWriter& w, const probes::dmarc::DmarcDiscovery& d) {
  w.field("checked", d.checked);
  if (!d.failure.empty()) w.field("failure", d.failure);
  w.field("found_at", d.found_at).field("org_domain", d.org_domain).field("policy", d.policy);
  w.field("policy_tag", d.policy_tag);
  if (d.record) w.field("record", d.record->text).field("rua", d.record->rua).field("ruf", d.record->ruf);
  w.field("rule", d.rule);
  if (d.record) {
    w.key("tags").begin_object();
    for (const auto& [k, t] : d.record->tags) {
      w.key(k).begin_object().field("explicit", t.explicit_).field("value", t.value).end_object();
    }
    w.end_object();
  }
}

}  // namespace

json dmarc_json(const probes::dmarc::DmarcDiscovery& d) {
  std::string s;
  JsonWriter w(s);
  w.begin_object();
  write_dmarc_fields(w, d);
  w.end_object();
  return json::parse(s);
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
    json j = {{"target", x.target}, {"list", x.list_id}, {"name", x.list_name}, {"zone", x.zone}, {"query", x.query},
              {"state", probes::dnsbl::to_string(x.verdict.state)}, {"code", x.verdict.code},
              {"sublist", x.verdict.sublist}, {"meaning", x.verdict.meaning}, {"reason", x.verdict.reason},
              {"txt", x.txt}, {"removal", x.removal}};
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

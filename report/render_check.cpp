// check's output: one domain at a time, as text, JSON Lines, JSON or JUnit XML.
#include "render.hpp"

#include "json_writer.hpp"
#include "render_parts.hpp"
#include "text.hpp"

#include <fmt/format.h>

#include <functional>

namespace bp::report {

using nlohmann::json;
using probes::Finding;
using probes::Severity;
using namespace parts;

namespace {

/// The MTA-STS policy fetch: where from, what came back, the policy read from it.
void write_mta_sts(JsonWriter& w, const probes::transport::PolicyFetch& p) {
  const auto& f = p.fetch;
  w.key("mta_sts").begin_object().field("address", f.address);
  if (!f.error.empty()) w.field("error", f.error);
  w.field("id", p.id);
  if (p.policy) {
    w.key("policy").begin_object();
    if (p.policy->max_age) w.field("max_age", static_cast<std::int64_t>(*p.policy->max_age));
    w.field("mode", p.policy->mode).field("mx", p.policy->mx).field("problems", p.policy->problems);
    w.field("version", p.policy->version).end_object();
  }
  if (f.response) {
    w.key("response").begin_object().field("body_cut", f.response->body_cut).field("content_type", f.response->content_type);
    w.field("location", f.response->location).field("status", f.response->status).end_object();
  }
  if (f.tls) w.field("tls_ok", smtp::certificate_acceptable(*f.tls));
  w.field("url", f.url).end_object();
}

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
  if (r.delegation) {
    w.key("delegation").begin_object().field("apex", r.delegation->apex).field("ns", r.delegation->ns).key("servers").begin_array();
    for (const auto& s : r.delegation->servers) {
      w.begin_object().field("address", s.address).field("asked", s.asked).field("authoritative", s.authoritative);
      w.field("host", s.host).field("outcome", s.outcome);
      if (s.serial) w.field("serial", static_cast<std::int64_t>(*s.serial));
      w.end_object();
    }
    w.end_array().end_object();
  }
  if (r.dkim_keys) {
    w.key("dkim_keys").begin_array();
    for (const auto& k : *r.dkim_keys) {
      w.begin_object().field("found", k.found).field("name", k.name).field("result", k.result).field("selector", k.selector).end_object();
    }
    w.end_array();
  }
  w.key("dmarc").begin_object();
  write_dmarc_fields(w, r.dmarc);
  w.end_object();
  w.key("dnsbl").begin_object().key("results").begin_array();
  for (const auto& x : r.dnsbl.results) {
    w.begin_object().field("code", x.verdict.code).field("list", x.list_id()).field("reason", x.verdict.reason);
    w.field("state", probes::dnsbl::to_string(x.verdict.state)).field("target", x.target).end_object();
  }
  w.end_array().field("skipped", r.dnsbl_skipped).end_object();
  if (r.dnssec) {
    w.key("dnssec").begin_object().field("apex", r.dnssec->apex).field("bogus", r.dnssec->bogus).field("ds", r.dnssec->ds);
    w.field("keys", r.dnssec->keys).field("signed", r.dnssec->signed_zone).field("validated", r.dnssec->validated).end_object();
  }
  w.field("domain", r.domain);
  w.key("findings").begin_array();
  for (const auto& f : r.findings) write_finding(w, f);
  w.end_array();
  if (r.mta_sts) write_mta_sts(w, *r.mta_sts);
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
      i += probes::append_utf8_or_replacement(out, s, i);
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

}  // namespace bp::report

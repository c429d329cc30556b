#include "render.hpp"

#include "json_writer.hpp"
#include "render_parts.hpp"
#include "text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace bp::report {

using nlohmann::json;
using probes::Finding;
using probes::Severity;
using namespace parts;

namespace parts {

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

namespace {
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

}  // namespace

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

}  // namespace parts

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

namespace parts {

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

}  // namespace parts

json finding_json(const Finding& f) {
  std::string s;
  JsonWriter w(s);
  write_finding(w, f);
  return json::parse(s);
}

namespace parts {

namespace {
json tls_json(const smtp::TlsInfo& t) {
  // "ok" is the verdict (a sender that authenticates the server would accept it);
  // "handshake" only says the TLS handshake completed.
  json j = {{"ok", smtp::certificate_acceptable(t)}, {"handshake", t.ok}, {"protocol", t.protocol}, {"cipher", t.cipher},
            {"dane", smtp::to_string(t.dane)}};
  if (t.dane != smtp::DaneOutcome::not_published) j["dane_validated"] = t.dane_authenticated;
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

}  // namespace

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

}  // namespace parts

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


namespace parts {

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

}  // namespace parts

json dmarc_json(const probes::dmarc::DmarcDiscovery& d) {
  std::string s;
  JsonWriter w(s);
  w.begin_object();
  write_dmarc_fields(w, d);
  w.end_object();
  return json::parse(s);
}

}  // namespace bp::report

// Output of `explain`: one answer as text or JSON, and one line per answer for batches.
#include "render.hpp"
#include "text.hpp"

#include <fmt/format.h>

namespace bp::report {

using nlohmann::json;

namespace {

json code_or_null(int code) { return code != 0 ? json(code) : json(nullptr); }
json enhanced_or_null(const std::string& e) { return e.empty() ? json(nullptr) : json(e); }

std::string codes_text(int code, const std::string& enhanced) {
  std::string s = code != 0 ? std::to_string(code) : "";
  if (!enhanced.empty()) s += (s.empty() ? "" : " ") + enhanced;
  return s;
}

/// The explanation and fix of the answer: the documented entry's when one matched, else the reason's.
std::pair<std::string, std::string> meaning(const ExplainResult& r, const Reasons& reasons) {
  if (!r.matches.empty()) return {r.matches.front().entry->explanation, r.matches.front().entry->fix};
  if (const auto* info = reasons.find(r.reason)) return {info->explanation, info->fix};
  return {"", ""};
}

}  // namespace

json explain_json(const ExplainResult& r, const Reasons& reasons) {
  json matches = json::array();
  for (const auto& m : r.matches) {
    json rows = json::array();
    for (const auto& d : m.entry->documented) rows.push_back({{"source", d.source}, {"row", d.row}, {"text", d.text}});
    matches.push_back({{"catalog_id", m.entry->id}, {"reason", m.entry->reason}, {"code", code_or_null(m.code)},
                       {"enhanced", enhanced_or_null(m.enhanced)},
                       {"documented_code", code_or_null(m.entry->code)}, {"documented_enhanced", enhanced_or_null(m.entry->enhanced)},
                       {"codes_agree", m.codes_agree}, {"class_agrees", m.class_agrees}, {"stage", m.entry->stage},
                       {"class", m.entry->klass}, {"predictable", m.entry->predictable}, {"matched", m.matched_text},
                       {"explanation", m.entry->explanation}, {"condition", m.entry->condition},
                       {"fix", m.entry->fix}, {"facts", m.facts}, {"documented", rows}, {"seed", m.entry->seed}});
  }
  json replies = json::array();
  for (const auto& x : r.replies) {
    replies.push_back({{"code", code_or_null(x.code)}, {"enhanced", enhanced_or_null(x.enhanced)}, {"text", x.text},
                       {"reason", x.classification.reason}, {"confidence", to_string(x.classification.confidence)}});
  }
  json nearest = json::array();
  for (const auto* e : r.nearest) {
    nearest.push_back({{"catalog_id", e->id}, {"reason", e->reason}, {"documented_code", code_or_null(e->code)},
                       {"documented_enhanced", enhanced_or_null(e->enhanced)}});
  }
  const auto [explanation, fix] = meaning(r, reasons);
  const auto* info = reasons.find(r.reason);
  json j = {{"schema", schema_version},
            {"command", "explain"},
            {"reason", r.reason},
            {"reason_title", info != nullptr ? info->title : ""},
            {"confidence", to_string(r.confidence)},
            {"basis", r.basis},
            {"code", code_or_null(r.code)},
            {"enhanced", enhanced_or_null(r.enhanced)},
            {"reply", r.reply},
            {"explanation", explanation},
            {"fix", fix},
            {"facts", r.facts},
            {"replies", replies},
            {"matches", matches},
            {"nearest", nearest}};
  if (!r.matches.empty() && !r.matches.front().class_agrees) {
    j["class_disagrees"] = true;
  }
  if (r.truncated) j["truncated"] = true;
  return j;
}

std::string explain_text(const ExplainResult& r, const Reasons& reasons, const RenderOptions& o) {
  struct Paint {
    bool on;
    std::string operator()(const char* code, const std::string& s) const {
      return on ? fmt::format("\033[{}m{}\033[0m", code, s) : s;
    }
  } paint{o.color};
  std::string out;
  const auto* info = reasons.find(r.reason);
  out += fmt::format("{} {}{}  (decided by: {})\n", paint("1", "Reason:"), r.reason,
                     info != nullptr ? " — " + info->title : "", to_string(r.confidence));
  const auto codes = codes_text(r.code, r.enhanced);
  if (!codes.empty() || !r.reply.empty()) {
    out += fmt::format("  reply:   {}{}{}\n", codes, codes.empty() || r.reply.empty() ? "" : " ", probes::escaped(r.reply));
  }
  if (r.matches.empty()) {
    out += fmt::format("  basis:   {}\n", r.basis);
    const auto [explanation, fix] = meaning(r, reasons);
    out += fmt::format("  means:   {}\n", explanation);
    out += fmt::format("  fix:     {}\n", fix);
  }
  if (!r.facts.empty()) {
    std::string facts;
    for (const auto& [k, v] : r.facts) facts += (facts.empty() ? "" : ", ") + k + "=" + probes::escaped(v);
    out += fmt::format("  facts:   {}\n", facts);
  }
  if (r.matches.empty()) {
    out += "  catalog: no documented bounce matches this text";
    if (!r.nearest.empty()) {
      std::string near;
      for (const auto* e : r.nearest) near += (near.empty() ? "" : ", ") + e->id + " (" + codes_text(e->code, e->enhanced) + ")";
      out += fmt::format("; nearest of the same reason: {}", near);
    }
    out += "\n";
    if (o.verbose && r.replies.size() > 1) {
      out += "  replies found:\n";
      for (const auto& x : r.replies) {
        out += fmt::format("    {} {} → {} ({})\n", codes_text(x.code, x.enhanced), probes::shown(x.text, 120), x.classification.reason,
                           to_string(x.classification.confidence));
      }
    }
    return out;
  }
  int n = 0;
  for (const auto& m : r.matches) {
    ++n;
    if (n == 1) {
      out += fmt::format("\n{} {}\n", paint("1", "Documented bounce:"), m.entry->id);
    } else if (n == 2) {
      out += "\nAlso matches:\n";
    }
    if (n > 1) {
      out += fmt::format("  - {} (documented {})\n", m.entry->id, codes_text(m.entry->code, m.entry->enhanced));
      continue;
    }
    out += fmt::format("  matched: {}\n", m.matched_text);
    out += fmt::format("  stage:   {}   {}\n", m.entry->stage == "none" ? "sending MTA" : m.entry->stage, m.entry->klass);
    if (!m.class_agrees) {
      out += fmt::format("  note:    the receiver answered {} (a {} failure) where the documented bounce is {} {}: "
                         "the same wording, a different class\n",
                         codes_text(m.code, m.enhanced), m.code / 100 == 4 || m.enhanced.rfind('4', 0) == 0 ? "temporary" : "permanent",
                         m.entry->klass, codes_text(m.entry->code, m.entry->enhanced));
    } else if (!m.codes_agree) {
      out += fmt::format("  note:    the receiver's codes ({}) differ from the documented ones ({})\n", codes_text(m.code, m.enhanced),
                         codes_text(m.entry->code, m.entry->enhanced));
    }
    out += fmt::format("  means:   {}\n", m.entry->explanation);
    if (!m.entry->condition.empty()) out += fmt::format("  why:     {}\n", m.entry->condition);
    out += fmt::format("  fix:     {}\n", m.entry->fix);
    std::string rows;
    for (const auto& d : m.entry->documented) rows += (rows.empty() ? "" : ", ") + d.source + " " + d.row;
    out += fmt::format("  source:  {}\n", rows.empty() ? "stock Postfix text, not in the provider articles" : rows);
    if (o.verbose && !m.entry->postfix.empty()) out += fmt::format("  postfix: {}\n", m.entry->postfix);
  }
  return out;
}

json message_json(const BounceMessage& m, const std::vector<MessageAnswer>& answers, const Reasons& reasons) {
  json list = json::array();
  for (const auto& a : answers) {
    auto j = explain_json(a.result, reasons);
    j.erase("schema");
    j.erase("command");
    if (a.recipient != nullptr) {
      j["recipient"] = a.recipient->final_recipient;
      j["action"] = a.recipient->action;
      j["status"] = a.recipient->status;
      j["remote_mta"] = a.recipient->remote_mta;
      j["diagnostic_code"] = a.recipient->diagnostic;
    }
    if (a.confirmation) j["confirm"] = confirmation_json(*a.confirmation);
    list.push_back(std::move(j));
  }
  json j = {{"schema", schema_version},
            {"command", "explain"},
            {"message", {{"kind", m.kind}, {"subject", m.subject}, {"from", m.from}, {"reporting_mta", m.reporting_mta},
                         {"original_sender", m.original_sender}, {"original_from", m.original_from},
                         {"recipients", m.recipients.size()}}},
            {"answers", list}};
  // The first answer is also the top-level one, so scripts that read one bounce keep working.
  if (!list.empty()) {
    for (const char* k : {"reason", "confidence", "code", "enhanced", "matches"}) j[k] = list[0][k];
  }
  if (m.truncated) j["truncated"] = true;
  return j;
}

std::string message_text(const BounceMessage& m, const std::vector<MessageAnswer>& answers, const Reasons& reasons,
                         const RenderOptions& o) {
  std::string out;
  out += fmt::format("Bounce message ({}{}){}{}\n", m.kind == "dsn" ? "delivery status notification" : m.kind == "feedback" ? "abuse report" : "no DSN part",
                     m.reporting_mta.empty() ? "" : " from " + probes::escaped(m.reporting_mta),
                     m.subject.empty() ? "" : ": " + probes::escaped(m.subject),
                     m.original_sender.empty() ? "" : fmt::format(" (returned message from <{}>)", probes::escaped(m.original_sender)));
  for (const auto& a : answers) {
    out += "\n";
    if (a.recipient != nullptr) {
      const auto& rc = *a.recipient;
      out += fmt::format("{}: {}{}{}\n", rc.final_recipient.empty() ? "(recipient not named)" : probes::escaped(rc.final_recipient),
                         rc.action.empty() ? "no action" : probes::escaped(rc.action),
                         rc.status.empty() ? "" : ", status " + probes::escaped(rc.status),
                         rc.remote_mta.empty() ? "" : ", remote " + probes::escaped(rc.remote_mta));
    }
    out += explain_text(a.result, reasons, o);
    if (a.confirmation) out += confirmation_text(*a.confirmation);
  }
  if (m.truncated) out += "\n(the message was cut at 64 MiB)\n";
  return out;
}

}  // namespace bp::report

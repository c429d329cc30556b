#include "observed.hpp"
#include "classify.hpp"

#include "explain.hpp"

#include <fmt/format.h>

namespace bp::report {

std::string ObservedReply::line() const {
  return fmt::format("{} {}{}", code, enhanced.empty() ? "" : enhanced + " ", text);
}

std::vector<ObservedReply> observe(const Catalog& catalog, const probes::SmtpReport& smtp) {
  std::vector<ObservedReply> out;
  for (std::size_t i = 0; i < smtp.sessions.size(); ++i) {
    const auto& s = smtp.sessions[i];
    const bool final_session = static_cast<int>(i) == smtp.final_session;
    for (const auto& x : s.exchanges) {
      if (!x.reply || x.reply->positive()) continue;
      if (x.stage != "banner" && x.stage != "mail" && x.stage != "rcpt") continue;
      ObservedReply o;
      o.host = s.host;
      o.address = s.address;
      o.source = s.source;
      o.stage = x.stage;
      o.role = x.role;
      o.command = x.sent;
      o.code = x.reply->code;
      o.enhanced = x.reply->enhanced;
      o.text = x.reply->text();
      o.final_session = final_session;
      auto m = explain(catalog, o.line());
      if (!m.matches.empty()) o.entry = m.matches.front().entry;
      out.push_back(std::move(o));
    }
  }
  return out;
}

bool counts_for(const ObservedReply& o, const std::string& ip) { return !o.judges_client() || (!ip.empty() && o.source == ip); }

std::vector<probes::Finding> observed_findings(const std::vector<ObservedReply>& observed) {
  std::vector<probes::Finding> out;
  for (const auto& o : observed) {
    // Refusals the probe asked for (the made-up and the foreign recipient): the
    // smtp probe reports those as catch-all and open-relay findings.
    if (o.role == "random" || o.role == "relay") continue;
    const auto severity = o.code >= 500 ? probes::Severity::error : probes::Severity::warning;
    auto f = probes::make_finding("smtp", "smtp.refused", severity, o.host,
                                  fmt::format("{} {} → {}", o.host, o.command.empty() ? "greeting" : o.command, o.line()));
    if (o.entry != nullptr) {
      f.code = "smtp.bounce." + o.entry->id;
      f.detail = o.entry->explanation;
      f.fix = o.entry->fix;
      f.reference = "catalog: " + o.entry->id;
    } else {
      const auto c = Reasons::builtin().classify(o.code, o.enhanced, o.text);
      f.detail = fmt::format("No catalog entry matches this reply; its text is the receiver's own. Reason: {} ({}).", c.reason,
                             c.basis);
    }
    if (o.judges_client()) {
      f.detail += fmt::format(" This answer depends on the connecting address: it was given to {} (this machine).", o.source);
    }
    f.evidence.push_back({fmt::format("{} [{}] from {}", o.host, o.address, o.source), o.command.empty() ? "(connect)" : o.command});
    f.evidence.push_back({"reply", o.line()});
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace bp::report

#include "finding.hpp"

#include <algorithm>

namespace bp::probes {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::ok: return "ok";
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "info";
}

Finding make_finding(std::string probe, std::string code, Severity severity, std::string subject, std::string summary) {
  Finding f;
  f.probe = std::move(probe);
  f.code = std::move(code);
  f.severity = severity;
  f.subject = std::move(subject);
  f.summary = std::move(summary);
  return f;
}

bool parse_severity(std::string_view s, Severity* out) {
  for (auto v : {Severity::ok, Severity::info, Severity::warning, Severity::error}) {
    if (to_string(v) == s) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool own_record(const Finding& f) {
  static constexpr std::string_view own[] = {"mx", "address", "sender", "spf", "dmarc", "zone"};
  return std::find(std::begin(own), std::end(own), f.probe) != std::end(own);
}

}  // namespace bp::probes

#include "finding.hpp"

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

bool parse_severity(std::string_view s, Severity* out) {
  for (auto v : {Severity::ok, Severity::info, Severity::warning, Severity::error}) {
    if (to_string(v) == s) {
      *out = v;
      return true;
    }
  }
  return false;
}

}  // namespace bp::probes

#include "query_log.hpp"

#include <fmt/format.h>

namespace bp::resolver {

std::size_t QueryLog::answered() const {
  std::size_t n = 0;
  for (const auto& e : entries_) {
    if (e.outcome != "timeout" && e.outcome != "connection_refused" && e.outcome != "no_server" &&
        e.outcome != "cancelled" && e.outcome != "bad_name") {
      ++n;
    }
  }
  return n;
}

std::string answer_text(const Lookup& result) {
  std::string out;
  const auto& cnames = result.ok() ? result->cname_chain : result.error().cname_chain;
  for (const auto& c : cnames) out += fmt::format("CNAME {} -> ", c);
  if (!result.ok()) return out + result.error().detail;
  std::string data;
  for (const auto& r : result->records) data += (data.empty() ? "" : ", ") + r.rdata_text();
  return out + data;
}

}  // namespace bp::resolver

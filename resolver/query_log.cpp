#include "query_log.hpp"

#include <fmt/format.h>

namespace bp::resolver {

void QueryLog::add(QueryRecord r) {
  ++sent_;
  const auto& o = r.outcome;
  if (o == "cancelled") {
    ++cancelled_;
  } else if (o != "timeout" && o != "connection_refused" && o != "no_server" && o != "bad_name") {
    ++answered_;
  } else if (first_failure_.empty()) {
    first_failure_ = o + ": " + r.detail;
  }
  if (keep_) entries_.push_back(std::move(r));
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

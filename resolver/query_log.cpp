#include "query_log.hpp"

#include <fmt/format.h>

namespace bp::resolver {

void QueryLog::tally(std::string_view outcome, std::string_view detail) {
  ++sent_;
  if (outcome == "cancelled") {
    ++cancelled_;
  } else if (outcome != "timeout" && outcome != "connection_refused" && outcome != "no_server" && outcome != "bad_name") {
    ++answered_;
  } else if (first_failure_.empty()) {
    first_failure_ = fmt::format("{}: {}", outcome, detail);
  }
}

void QueryLog::add(QueryRecord r) {
  tally(r.outcome, r.detail);
  if (keep_) entries_.push_back(std::move(r));
}

void QueryLog::count(const Failure* failure) {
  if (failure == nullptr) {
    tally("answer", {});
  } else {
    tally(to_string(failure->kind), failure->detail);
  }
}

std::string answer_text(const Lookup& result) {
  std::string out;
  const auto& cnames = result.ok() ? result->cname_chain : result.error().cname_chain;
  for (const auto& c : cnames) out += fmt::format("CNAME {} -> ", c);
  const auto& file = result.ok() ? result->zone_file : result.error().zone_file;
  const std::string source = file.empty() ? "" : fmt::format(" [zone file {}]", file);
  if (!result.ok()) return out + result.error().detail + source;
  std::string data;
  for (const auto& r : result->records) data += (data.empty() ? "" : ", ") + r.rdata_text();
  return out + data + source;
}

}  // namespace bp::resolver

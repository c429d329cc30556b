/*++
 * NAME
 *	query_log 3h
 * SUMMARY
 *	evidence: every question asked and what came back
 * DESCRIPTION
 *	One entry per attempt sent to the network, plus a count of answers served
 *	from the per-run cache. Findings quote entries as evidence; the JSON
 *	renderer prints the whole log with --verbose.
 *--*/
#pragma once

#include "dns_types.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace bp::resolver {

struct QueryRecord {
  std::string name;
  RrType type{RrType::a};
  int attempt{1};
  std::string outcome;                ///< "answer", or a DnsFailure slug
  std::string detail;                 ///< failure detail, empty on answer
  std::vector<std::string> cname_chain;
  std::vector<std::string> answers;   ///< rdata in presentation form
  double elapsed_ms{0};
};

class QueryLog {
 public:
  void add(QueryRecord r) { entries_.push_back(std::move(r)); }
  void count_cache_hit() { ++cache_hits_; }
  const std::vector<QueryRecord>& entries() const { return entries_; }
  std::size_t cache_hits() const { return cache_hits_; }
  /// \return how many attempts got any DNS reply (as opposed to a timeout or no route).
  std::size_t answered() const;

 private:
  std::vector<QueryRecord> entries_;
  std::size_t cache_hits_{0};
};

/// \return the answer of a lookup for evidence: "CNAME x -> rdata, rdata" or the failure's detail.
std::string answer_text(const Lookup& result);

}  // namespace bp::resolver

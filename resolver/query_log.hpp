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
#include <string_view>
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

/// Counts every attempt; keeps the records themselves only when asked to
/// (evidence with -v), so that a batch of 100,000 domains does not grow with them.
class QueryLog {
 public:
  explicit QueryLog(bool keep = true) : keep_(keep) {}
  void add(QueryRecord r);
  /// Counts an attempt without building its record (when records are not kept):
  /// an answer (nullptr) or the failure.
  void count(const Failure* failure);
  void count_cache_hit() { ++cache_hits_; }
  /// \return the records kept (every attempt when keep is on, else none).
  const std::vector<QueryRecord>& entries() const { return entries_; }
  bool keeps() const { return keep_; }
  std::size_t sent() const { return sent_; }
  std::size_t cache_hits() const { return cache_hits_; }
  /// \return how many attempts got any DNS reply (as opposed to a timeout or no route).
  std::size_t answered() const { return answered_; }
  /// \return how many attempts were cancelled because no one waited for them any more.
  std::size_t cancelled() const { return cancelled_; }
  /// \return the first attempt that got no reply, as "outcome: detail" ("" if none).
  const std::string& first_failure() const { return first_failure_; }

 private:
  void tally(std::string_view outcome, std::string_view detail);

  bool keep_;
  std::vector<QueryRecord> entries_;
  std::size_t sent_{0}, answered_{0}, cancelled_{0}, cache_hits_{0};
  std::string first_failure_;
};

/// \return the answer of a lookup for evidence: "CNAME x -> rdata, rdata" or the failure's detail.
std::string answer_text(const Lookup& result);

}  // namespace bp::resolver

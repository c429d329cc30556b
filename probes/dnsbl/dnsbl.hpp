/*++
 * NAME
 *	dnsbl 3h
 * SUMMARY
 *	DNS blocklist queries, with each list's return codes as data
 * DESCRIPTION
 *	Lists (lists.toml, compiled in; more with --zone) carry their zone, kind
 *	(IP or domain list), the codes that mean "listed" and the codes that are
 *	about the query itself (a public resolver refused, over quota,
 *	registration needed). classify() turns one answer into listed, clean or
 *	not checked, never a guess: an error code, an answer outside 127/8 (a
 *	resolver rewriting NXDOMAIN) or a zone that does not list its RFC 5782
 *	test entry is "not checked" with the reason. check_dnsbl() tests each
 *	zone's test entries, then queries every target on every list at once
 *	(the resolver bounds the queries in flight), and fetches TXT reasons
 *	for listings.
 * SEE ALSO
 *	RFC 5782 sections 2 and 5; Spamhaus news 788 (127.255.255.x).
 *--*/
#pragma once

#include <address.hpp>
#include <finding.hpp>
#include <limits.hpp>
#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bp::probes::dnsbl {

struct Code {
  Cidr prefix;
  std::string sublist;
  std::string meaning;
};

struct DnsList {
  std::string id, name, zone, kind{"ip"}, removal, note;
  bool public_zone{true};
  std::vector<Code> codes, errors;
};

/// A run's lists, shared: each result refers to its list instead of copying its strings.
using Lists = std::shared_ptr<const std::vector<DnsList>>;

/// \return the built-in lists; throws std::runtime_error on malformed data.
const std::vector<DnsList>& builtin_lists();
/// \return lists parsed from TOML text.
std::vector<DnsList> load_lists(std::string_view toml_text, const std::string& origin);
/// \return a user-given zone ("zone" or "zone:domain") as a list with the conventional 127.0.0.0/8 codes.
DnsList custom_zone(const std::string& spec);

/// \return the lists with Spamhaus zones moved to the Data Query Service for `key`
/// (<key>.zen.dq.spamhaus.net); throws std::runtime_error for a key that is not one DNS label.
std::vector<DnsList> with_spamhaus_key(std::vector<DnsList> lists, const std::string& key);

/// Queries in flight at once on one zone (a list operator's servers see no more than this).
inline constexpr std::size_t per_zone_inflight = 32;

/// \return the name to ask for `target` on `list` (reversed octets, nibbles, or the domain), "" if the kind does not fit.
std::string query_name(const DnsList& list, const std::string& target);

enum class State { listed, clean, not_checked };
std::string_view to_string(State s);

struct Verdict {
  State state{State::not_checked};
  std::string code;     ///< the A answer(s)
  std::string sublist;  ///< SBL, XBL, PBL, ...
  std::string meaning;
  std::string reason;   ///< why not checked, or "unknown code"
  bool unknown_code{false};
};

/// Pure: what an A lookup on a list means.
Verdict classify(const DnsList& list, const resolver::Lookup& answer);

struct Result {
  std::string target;
  const DnsList* list{nullptr};  ///< the list asked, kept alive by the report's `lists`
  std::string query;
  Verdict verdict;
  std::string txt;

  const std::string& list_id() const { return list->id; }
  const std::string& list_name() const { return list->name; }
  const std::string& zone() const { return list->zone; }
  const std::string& removal() const { return list->removal; }
};

struct DnsblReport {
  std::vector<Result> results;
  std::vector<Finding> findings;
  Lists lists;  ///< the lists the results refer to
};

/// Whether a zone can be read through the run's resolver, from its RFC 5782 test entries.
struct Health {
  bool usable{true};
  std::string why;
  bool settled{true};  ///< false when a test entry could not be looked up (a timeout): judged again later
};

/// The zones' health for one run and one set of lists: each zone is judged
/// once, when its test entries have answered, and read from here after that,
/// rather than from the resolver's cache for every target of a batch.
struct ZoneHealth {
  std::vector<std::optional<Health>> by_list;  ///< by index in the lists
};

/// Starts each list's RFC 5782 test queries without waiting: a run calls it once,
/// first, so that the zone tests are answered by the time the first targets are known.
void prefetch_zone_tests(resolver::Resolver& r, const std::vector<DnsList>& lists);

/// Queries every distinct target on every list that fits it; targets past
/// `max_targets` are not queried and a dnsbl.targets-capped finding says how
/// many (targets the DNS chose are bounded; ones a user typed need not be).
/// `clean_findings` false: a clean result gets no finding of its own (check sums
/// them up in one line from the results), which spares a finding per target and
/// list on every domain of a batch. `zone_health` (if any) keeps the zones' health
/// for later calls with the same lists and resolver. `r` and `zone_health` must
/// outlive the coroutine.
asio::awaitable<DnsblReport> check_dnsbl(resolver::Resolver& r, std::vector<std::string> targets, Lists lists,
                                         std::size_t max_targets = limits::dnsbl_targets, bool clean_findings = true,
                                         ZoneHealth* zone_health = nullptr);

}  // namespace bp::probes::dnsbl

/*++
 * NAME
 *	resolver 3h
 * SUMMARY
 *	asynchronous DNS lookups for probes, with a per-run cache
 * DESCRIPTION
 *	co_await resolver.lookup(name, RrType::mx) returns a Lookup: the records
 *	at the end of the CNAME chain, or a typed failure. One question is sent
 *	once per run: concurrent askers of the same (name, type) share the first
 *	asker's answer. A timeout is retried up to `tries` times; every attempt
 *	is logged as evidence. When a reply ends in a CNAME whose target it does
 *	not answer for (an authoritative server for another zone), the chain is
 *	followed here, up to 8 links, so callers always see the whole chain.
 *	Knows nothing about mail.
 * DIAGNOSTICS
 *	bad_name for names that break DNS limits (no query is sent); the
 *	constructor throws std::runtime_error on a start-up failure.
 * SEE ALSO
 *	ares_glue(3h), wire(3h), query_log(3h).
 *--*/
#pragma once

#include "ares_glue.hpp"
#include "dns_types.hpp"
#include "query_log.hpp"
#include "zone_file.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace bp::resolver {

struct ResolverOptions {
  std::vector<std::string> servers;  ///< "IP[:PORT]"; empty = /etc/resolv.conf
  std::chrono::milliseconds timeout{2000};
  int tries{2};
  /// Queries in flight at once, over all sockets. c-ares 1.18 sends a channel's
  /// queries on one socket per server, and past ~250 on one socket a server's
  /// receive buffer overflows and answers are lost.
  int max_inflight{128};
  /// Sockets (c-ares channels) the queries are spread over, round robin. More
  /// sockets let a multi-threaded server use its workers, at some CPU cost here
  /// (more wake-ups, fewer replies read per wake-up): bench/README.md.
  int sockets{1};
  /// Keep every attempt's record for evidence (-v); the counts are always kept.
  bool keep_log{true};
  /// Answers cached for the run, about this many at most: the cache has two
  /// generations of half this size each, and an answer asked for again moves
  /// to the young one, so shared records (a provider's SPF include) stay.
  /// Small on purpose: a generation of 2,048 answers outlives the questions of
  /// the 32 domains a batch has in flight (a full check asks about 30), and
  /// a batch that reuses recently freed memory runs in the processor's caches:
  /// 13 % less CPU per domain than with 20,000 (bench/README.md).
  std::size_t cache_limit{4096};
  /// The whole run's deadline, counted from construction (0 = none): every
  /// pending query is then cancelled and later ones fail at once.
  std::chrono::milliseconds run_deadline{0};
  /// Zones answered from files instead of DNS (--zone-file), or none.
  std::shared_ptr<const ZoneOverlay> overlay;
};

/// \return an empty string if `spec` is a valid IP[:PORT] / [IPv6]:PORT, else the reason.
std::string server_spec_problem(const std::string& spec);

/// A handle on one run's DNS client. Copies share the channel, cache and log;
/// a copy made by with_deadline() also stops waiting at its own deadline, so
/// one target of a batch cannot hold the run past its budget.
///
/// A resolver that gives no reply at all to any query within timeout x tries
/// of the first one is declared mute: every pending query is cancelled and
/// later ones fail at once, so a dead resolver costs timeout x tries, not
/// that per dependent lookup.
class Resolver {
 public:
  using Clock = std::chrono::steady_clock;

  Resolver(asio::any_io_executor ex, ResolverOptions options);
  ~Resolver();
  Resolver(const Resolver&) = default;
  Resolver& operator=(const Resolver&) = default;

  /// \return a handle on the same run whose lookups give up at `deadline`
  /// (a timeout failure saying so); the query itself goes on for the others.
  Resolver with_deadline(Clock::time_point deadline) const;

  /// \return the executor the resolver runs on (probes start their own I/O there).
  asio::any_io_executor executor() const;

  /// \return the answer or failure for (name, type); cached for the run.
  asio::awaitable<Lookup> lookup(std::string name, RrType type);

  /// Asks with CD=1 (RFC 4035 section 3.2.2): a validating resolver answers
  /// without validating. A name that fails (SERVFAIL) but answers this way has
  /// signatures that do not validate. One question: no CNAME is followed.
  asio::awaitable<Lookup> lookup_unchecked(std::string name, RrType type);

  struct Question {
    std::string name;
    RrType type;
  };
  /// \return lookup()'s answer to each question, in order. Every question is
  /// asked at once and the caller waits for the lot, without a coroutine per
  /// question: what a probe that needs several answers together should use.
  asio::awaitable<std::vector<Lookup>> lookup_all(std::vector<Question> questions);

  /// \return the cached answer for (name, type) once it is complete, else nullptr
  /// (a question not asked yet, or still out). Counts as a cache hit.
  const Lookup* peek(const std::string& name, RrType type) const;

  /// Starts lookup(name, type) without waiting; a later lookup of the same question shares it.
  void prefetch(std::string name, RrType type);

  const QueryLog& log() const;
  std::vector<std::string> servers() const;
  const ResolverOptions& options() const;

  /// \return why every lookup now fails at once ("" while the resolver is usable):
  /// the run deadline passed, or the resolver never answered.
  const std::string& stopped() const;

  /// Ends the run's timers (deadline, mute watchdog) and cancels queries no one
  /// waits for any more (a target's deadline passed while they were out), so
  /// that nothing keeps the event loop alive: call when the run's work is done.
  void finish();

  /// \return true once the resolver was found mute (not for a passed deadline):
  /// a caller may skip work that cannot succeed and end the run at once.
  bool mute() const;

  struct Core;
  struct TargetClock;

 private:
  std::shared_ptr<Core> core_;
  std::shared_ptr<TargetClock> clock_;  ///< this handle's deadline, if any
};

}  // namespace bp::resolver

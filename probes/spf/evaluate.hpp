/*++
 * NAME
 *	spf/evaluate 3h
 * SUMMARY
 *	RFC 7208 check_host() on the asynchronous resolver
 * DESCRIPTION
 *	check_host() evaluates the SPF policy of the sender's domain (or of the
 *	HELO name for the null sender) for a client address, exactly as
 *	RFC 7208 section 4 describes: record selection, left-to-right matching,
 *	include and redirect, the 10 DNS-term limit, the 10-name limits of mx
 *	and ptr, the 2 void-lookup limit, temperror versus permerror, exp=.
 *	Semantics stay strictly sequential, but when a record arrives the DNS
 *	data its terms will need is requested at once and in parallel, so three
 *	independent includes cost one round trip, not three. Those early
 *	requests are not counted: the lookup counts are the RFC's.
 * DIAGNOSTICS
 *	Every outcome comes with a one-line reason and a trace of the terms
 *	that were evaluated.
 *--*/
#pragma once

#include "record.hpp"

#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <string>
#include <vector>

namespace bp::probes::spf {

enum class SpfResult { none, neutral, pass, fail, softfail, temperror, permerror };
std::string_view to_string(SpfResult r);

struct SpfQuery {
  std::string ip;
  std::string sender;  ///< MAIL FROM; empty or "<>" for the null sender (the HELO identity is checked)
  std::string helo;
  std::string receiver{"unknown"};  ///< %{r}
};

struct TraceStep {
  int depth{0};
  std::string domain;
  std::string term;
  std::string outcome;  ///< "match", "no match", "void", "temperror", "permerror", "record", ...
  std::string detail;
};

struct SpfOutcome {
  SpfResult result{SpfResult::none};
  std::string reason;
  std::string explanation;  ///< what exp= yields; empty when there is none
  std::string domain;       ///< the domain checked
  std::string record;       ///< its SPF record, if any
  std::string decisive_domain;
  std::string decisive_term;
  int lookups{0};
  int void_lookups{0};
  std::vector<TraceStep> trace;
};

/// Runs check_host() for the query. `r` must outlive the coroutine.
asio::awaitable<SpfOutcome> check_host(resolver::Resolver& r, SpfQuery q);

}  // namespace bp::probes::spf

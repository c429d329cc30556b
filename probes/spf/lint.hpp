/*++
 * NAME
 *	spf/lint 3h
 * SUMMARY
 *	what is wrong with a domain's SPF policy, without a client address
 * DESCRIPTION
 *	lint_spf() fetches the domain's record and every record it includes or
 *	redirects to (siblings in parallel, loops and depth bounded), then
 *	reports: no record, several records, syntax errors with their column,
 *	more than 10 DNS-querying terms after following includes (with the cost
 *	of each include chain), void lookups and the term that caused each,
 *	+all and ?all, no terminal all or redirect, ptr, includes of domains
 *	with no record, records over 450 bytes. It also flattens the address
 *	ranges the policy authorizes (ip4/ip6 terms, a and mx of literal names).
 *	A DNS failure is "could not check", never "no record".
 * SEE ALSO
 *	RFC 7208 sections 3.4, 4.5, 4.6.4, 5.5, 6.1.
 *--*/
#pragma once

#include "record.hpp"

#include <finding.hpp>
#include <mx.hpp>
#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <string>
#include <vector>

namespace bp::probes::spf {

struct SpfLint {
  std::string domain;
  std::string record;        ///< the top-level record, "" when none
  bool has_record{false};
  bool checked{true};        ///< false when the TXT lookup failed
  int lookups{0};            ///< DNS-querying terms over the whole tree
  int void_lookups{0};
  std::vector<std::string> authorized;  ///< flattened address ranges
  std::vector<std::string> unflattened;  ///< terms whose ranges depend on the client (macros, exists, ptr)
  bool authorizes_senders{false};  ///< some pass path other than "-all"
  std::vector<Finding> findings;
};

/// Lints the SPF policy of `domain`. `r` must outlive the coroutine.
asio::awaitable<SpfLint> lint_spf(resolver::Resolver& r, std::string domain);

/// \return findings that need both views: a null MX on a domain whose SPF authorizes senders.
std::vector<Finding> spf_mx_findings(const SpfLint& spf, const MxReport& mx);

}  // namespace bp::probes::spf

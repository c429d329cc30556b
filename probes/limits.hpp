/*++
 * NAME
 *	limits 3h
 * SUMMARY
 *	bounds on the work remote data can make a probe do
 * DESCRIPTION
 *	A DNS answer decides how many further questions a probe asks: MX hosts,
 *	their addresses, SPF terms, DMARC report destinations. A hostile or broken
 *	zone must not turn one domain into thousands of queries, so each count has
 *	a bound here. Work past a bound is not done; the probe says so in a
 *	finding that names the bound. docs/limits.md lists them with their sources.
 * SEE ALSO
 *	RFC 7208 section 4.6.4 (SPF lookup limits), Postfix smtp_mx_address_limit.
 *--*/
#pragma once

#include <cstddef>

namespace bp::probes::limits {

/// Distinct MX hosts whose addresses are looked up, most preferred first. A
/// sender tries far fewer (Postfix: smtp_mx_address_limit = 5 addresses).
inline constexpr std::size_t mx_hosts = 10;

/// Addresses kept per host, A and AAAA together.
inline constexpr std::size_t addresses_per_host = 10;

/// Distinct names and addresses queried on the blocklists per domain (each on every list).
inline constexpr std::size_t dnsbl_targets = 20;

/// a, mx and exists terms of one SPF tree whose names the lint resolves: the
/// RFC 7208 section 4.6.4 limit of 10 DNS-querying terms. The rest are reported.
inline constexpr int spf_lint_terms = 10;

/// Hosts of one SPF mx term that are resolved (RFC 7208 section 4.6.4: more is permerror).
inline constexpr std::size_t spf_mx_hosts = 10;

/// External DMARC report destinations checked for authorization (RFC 7489 section 7.1), all at once.
inline constexpr std::size_t dmarc_report_destinations = 10;

/// MIME parts of a message walked for attachments and test strings (message.cpp).
inline constexpr int message_parts = 1000;

/// MIME nesting followed (message.cpp); deeper parts are not looked into.
inline constexpr int message_depth = 50;

/// Member names listed per zip attachment (message.cpp); archives inside are named, not opened.
inline constexpr std::size_t archive_members = 1000;

/// Decoded octets of one zip attachment held to list it; a larger one is not opened.
inline constexpr std::size_t archive_octets = 64u << 20;

}  // namespace bp::probes::limits

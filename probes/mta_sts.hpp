/*++
 * NAME
 *	mta_sts 3h
 * SUMMARY
 *	the DNS side of SMTP transport security: MTA-STS and TLS-RPT records
 * DESCRIPTION
 *	check_transport_records() looks up _mta-sts.<domain> (RFC 8461 section
 *	3.1) and _smtp._tls.<domain> (RFC 8460 section 3) at once; the pure
 *	mta_sts_findings() and tls_rpt_findings() judge what came back: one
 *	record of the right version, its tags, an MTA-STS id of 1 to 32
 *	alphanumerics, TLS-RPT rua= destinations that are mailto: or https:.
 *	The MTA-STS policy itself (fetched over HTTPS from mta-sts.<domain>) is
 *	not fetched yet: the finding says so.
 * SEE ALSO
 *	RFC 8461, RFC 8460.
 *--*/
#pragma once

#include "finding.hpp"

#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <string>
#include <vector>

namespace bp::probes::transport {

/// Findings for the TXT answer at _mta-sts.<domain>.
std::vector<Finding> mta_sts_findings(const std::string& domain, const resolver::Lookup& txt);

/// Findings for the TXT answer at _smtp._tls.<domain>.
std::vector<Finding> tls_rpt_findings(const std::string& domain, const resolver::Lookup& txt);

/// Both records of `domain`, looked up at once.
asio::awaitable<std::vector<Finding>> check_transport_records(resolver::Resolver& r, std::string domain);

}  // namespace bp::probes::transport

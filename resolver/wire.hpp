/*++
 * NAME
 *	wire 3h
 * SUMMARY
 *	bounded parser for DNS replies
 * DESCRIPTION
 *	parse_reply() turns the raw bytes of one reply into a Lookup: the header
 *	flags, the rcode mapped one to one onto DnsFailure, the CNAME chain from
 *	the asked name, and the records of the asked type at its end. NOERROR with
 *	only a CNAME in the answer is NODATA here (c-ares 1.18 calls it success).
 *	Every read is bounds-checked; anything unexpected rejects the whole reply
 *	as bad_response, with the reason.
 * DIAGNOSTICS
 *	bad_response: truncated packet, question mismatch, QR not set, record
 *	data that overruns its RDLENGTH, a CNAME loop.
 * SEE ALSO
 *	RFC 1035 sections 4.1 and 3.3, RFC 2181 section 10.1, RFC 2308 section 2.2.
 *--*/
#pragma once

#include "dns_types.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace bp::resolver {

/// \return the answer for (qname, qtype), or the failure the reply means.
Lookup parse_reply(std::span<const std::uint8_t> reply, std::string_view qname, RrType qtype);

}  // namespace bp::resolver

/*++
 * NAME
 *	rdns 3h
 * SUMMARY
 *	forward-confirmed reverse DNS of an address
 * DESCRIPTION
 *	confirmed_name() looks up the PTR names of an address (at most 10) and
 *	returns the first whose A or AAAA records include the address again, the
 *	name Postfix prints for a client ("name[ip]"), or "" when there is none
 *	(Postfix prints "unknown").
 * SEE ALSO
 *	Postfix smtpd_peer.c; RFC 1912 section 2.1.
 *--*/
#pragma once

#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <string>

namespace bp::probes {

/// \return the forward-confirmed reverse name of `ip`, or "". `r` must outlive the coroutine.
asio::awaitable<std::string> confirmed_name(resolver::Resolver& r, std::string ip);

}  // namespace bp::probes

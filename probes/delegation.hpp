/*++
 * NAME
 *	delegation 3h
 * SUMMARY
 *	the domain's name servers: do they answer, with authority, the same zone?
 * DESCRIPTION
 *	check_delegation() gathers the evidence: the domain's NS and SOA records
 *	through the run's resolver, each name server's addresses, then each
 *	address asked directly for the SOA (its own DNS client, one query,
 *	timeout x tries). The pure delegation_findings() judges it: a single name
 *	server, a name server that is an alias or has no address, an address no
 *	resolver on the internet can reach, a server that does not answer, one
 *	that answers without authority or refuses (a lame delegation), servers
 *	that disagree on the SOA serial, and SOA timers that defeat their purpose.
 *	A name that is not a zone apex (NODATA for NS) has no delegation of its
 *	own: one info finding. Under --zone-file the servers are not asked: they
 *	serve the live zone, not the change.
 * BUGS
 *	The delegation at the parent (the parent's NS set and glue, DS) is not
 *	compared with the zone's own NS set.
 * SEE ALSO
 *	RFC 1034 section 4.1, RFC 2181 section 10.3, RFC 2182 section 5,
 *	RFC 1912 section 2.2, RFC 2308 section 5.
 *--*/
#pragma once

#include "address.hpp"
#include "finding.hpp"

#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bp::probes::delegation {

/// One name server's address and what it answered when asked directly for the SOA.
struct ServerAnswer {
  std::string host;
  AddressClass address;
  bool asked{false};  ///< false: not asked (not routable, or a zone file stands for the zone)
  resolver::Lookup soa;
};

/// One name server host and its address lookups.
struct NameServer {
  std::string host;
  resolver::Lookup a, aaaa;
};

struct Gathered {
  std::string domain;
  resolver::Lookup ns, soa;
  std::vector<NameServer> hosts;
  std::size_t hosts_not_looked_up{0};
  std::vector<ServerAnswer> servers;
  bool from_zone_file{false};
};

/// At most this many name server hosts, and addresses over all of them, are looked up and asked.
inline constexpr std::size_t max_hosts = 8;
inline constexpr std::size_t max_servers = 16;

/// Pure: the findings for the gathered evidence.
std::vector<Finding> delegation_findings(const Gathered& g);

/// What each name server said, for the report's JSON.
struct ServerFact {
  std::string host, address;
  bool asked{false};
  std::string outcome;  ///< "answer", "refused", "timeout", ... ("" when not asked)
  bool authoritative{false};
  std::optional<std::uint32_t> serial;
};

struct Facts {
  bool apex{false};              ///< the name has NS records of its own
  std::vector<std::string> ns;   ///< the NS names
  std::vector<ServerFact> servers;
};

/// Pure: the facts of the gathered evidence.
Facts delegation_facts(const Gathered& g);

struct Report {
  std::vector<Finding> findings;
  Facts facts;
};

/// Gathers the evidence for `domain` (`r` must outlive the coroutine) and judges it.
asio::awaitable<Report> check_delegation(resolver::Resolver& r, std::string domain, AddressPolicy policy);

}  // namespace bp::probes::delegation

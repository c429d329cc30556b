/*++
 * NAME
 *	dnssec 3h
 * SUMMARY
 *	is the domain signed, secured from its parent, and validated here?
 * DESCRIPTION
 *	check_dnssec() asks the run's resolver for the zone's DNSKEY and DS and
 *	reads the AD flag of the answers (RFC 4035 section 3.2.3; the queries set
 *	AD, RFC 6840 section 5.7). The pure dnssec_findings() judges them: a zone
 *	without DNSKEY is unsigned; one with DNSKEY but no DS at its parent is an
 *	island that validators treat as unsigned; a signed zone whose answers
 *	carry no AD flag was not validated by this resolver (it does not
 *	validate, or validation failed), which is why DANE is then judged as
 *	senders judge it: ignored. Only a zone apex is judged (the name has an
 *	SOA record of its own). When SOA or DNSKEY ends in SERVFAIL, both are
 *	asked again with CD=1 (RFC 4035 section 3.2.2): a resolver that then
 *	answers validates, and the zone fails validation (bogus), so every
 *	lookup in it fails for validating senders.
 * BUGS
 *	The DS records are not matched against the DNSKEYs, nor the signatures
 *	checked here: that is the validating resolver's work, seen through AD.
 * SEE ALSO
 *	RFC 4033, RFC 4034, RFC 4035, RFC 7672 section 2.2.
 *--*/
#pragma once

#include "finding.hpp"

#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace bp::probes::dnssec {

struct Gathered {
  std::string domain;
  resolver::Lookup soa, dnskey, ds;
  /// Asked again with CD=1 when SOA or DNSKEY ended in SERVFAIL: answers here
  /// mean the resolver validates and the zone fails validation (bogus).
  std::optional<resolver::Lookup> soa_unchecked, dnskey_unchecked;
};

/// What was found, for the report's JSON.
struct Facts {
  bool apex{false};       ///< the name has an SOA of its own (only an apex is judged)
  bool signed_zone{false};  ///< DNSKEY records
  bool ds{false};         ///< DS records at the parent
  bool validated{false};  ///< both answers carried AD
  bool bogus{false};      ///< SERVFAIL that answers with CD=1
  std::vector<std::string> keys;  ///< "257 13" (flags, algorithm) of each DNSKEY
};

/// Pure: the facts of the gathered answers.
Facts dnssec_facts(const Gathered& g);

struct Report {
  std::vector<Finding> findings;
  Facts facts;
};

/// Pure: the findings for the gathered answers.
std::vector<Finding> dnssec_findings(const Gathered& g);

/// Gathers the answers for `domain` (`r` must outlive the coroutine) and judges them.
asio::awaitable<Report> check_dnssec(resolver::Resolver& r, std::string domain);

}  // namespace bp::probes::dnssec

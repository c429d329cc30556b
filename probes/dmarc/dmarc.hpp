/*++
 * NAME
 *	dmarc 3h
 * SUMMARY
 *	DMARC policy discovery, record parsing and alignment
 * DESCRIPTION
 *	parse_dmarc() reads a "v=DMARC1" record and reports every tag with its
 *	value and whether it was written or is the default (RFC 7489 section
 *	6.3, plus DMARCbis's np, psd and t). discover_dmarc() finds the policy
 *	for a domain both ways receivers do today: RFC 7489 (the domain, then
 *	its organizational domain from the Public Suffix List, libpsl) and
 *	DMARCbis (a walk up the DNS tree), and says which rule found it. It
 *	also checks that external report destinations authorize the domain
 *	(<domain>._report._dmarc.<destination>). evaluate_dmarc() decides pass
 *	or fail from SPF and DKIM results and the alignment modes.
 * DIAGNOSTICS
 *	A DNS failure is "could not check" (temperror), never "no record".
 * SEE ALSO
 *	RFC 7489 sections 3.1, 6.3, 6.6.3, 7.1; draft-ietf-dmarc-dmarcbis (RFC 9989) tree walk.
 *--*/
#pragma once

#include <finding.hpp>
#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bp::probes::dmarc {

struct Tag {
  std::string value;
  bool explicit_{false};
};

struct DmarcRecord {
  std::string text;
  std::map<std::string, Tag> tags;  ///< every known tag, explicit or default
  std::vector<std::string> unknown_tags;
  std::vector<std::string> rua, ruf;  ///< URIs

  const std::string& get(const std::string& k) const { return tags.at(k).value; }
};

struct DmarcParse {
  std::optional<DmarcRecord> record;
  std::vector<std::string> errors;    ///< make the record invalid
  std::vector<std::string> warnings;  ///< tolerated
};

/// \return the record with every tag, or the errors that make it invalid.
DmarcParse parse_dmarc(std::string_view text);

/// \return the organizational domain of `domain` per the Public Suffix List.
std::string organizational_domain(const std::string& domain);

struct DmarcDiscovery {
  std::string domain;
  bool checked{true};                ///< false when a lookup failed
  std::string failure;               ///< why, when not checked
  std::optional<DmarcRecord> record;
  std::string found_at;              ///< the _dmarc name that held it
  std::string rule;                  ///< "domain", "rfc7489-organizational-domain", "dmarcbis-tree-walk"
  std::string org_domain;            ///< per the PSL
  std::string policy;                ///< p, sp or np as it applies to `domain`
  std::string policy_tag;            ///< which tag gave it
  std::vector<Finding> findings;
  std::vector<Evidence> evidence;
};

/// Discovers and checks the DMARC policy that applies to `domain`. `r` must outlive the coroutine.
/// `domain_exists` selects np for a non-existent subdomain (DMARCbis).
asio::awaitable<DmarcDiscovery> discover_dmarc(resolver::Resolver& r, std::string domain, bool domain_exists = true);

/// \return true when `a` and `b` are aligned: equal (strict) or sharing an organizational domain (relaxed).
bool aligned(const std::string& a, const std::string& b, bool strict);

}  // namespace bp::probes::dmarc

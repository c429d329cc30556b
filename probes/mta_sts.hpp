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
 *
 *	With a valid record, check_transport() also fetches the policy the
 *	record announces, as a sender would (RFC 8461 section 3.3): the
 *	addresses of mta-sts.<domain> through the run's resolver, then
 *	https_get.hpp's bounded GET of /.well-known/mta-sts.txt. The pure
 *	parse_policy() reads it (RFC 8461 section 3.2: LF or CRLF lines,
 *	version, mode, max_age, mx patterns) and policy_findings() judges the
 *	fetch, the policy, every MX host against the mx: patterns (section 4.1:
 *	a wildcard stands for one leftmost label) and, when the dialogue ran,
 *	each MX host's certificate as an MTA-STS sender needs it (section 4.2).
 * SEE ALSO
 *	RFC 8461, RFC 8460, https_get.hpp.
 *--*/
#pragma once

#include "finding.hpp"
#include "https_get.hpp"
#include "mx.hpp"
#include "smtp.hpp"

#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp::probes::transport {

/// Findings for the TXT answer at _mta-sts.<domain>; `id` gets the record's id when it is valid.
std::vector<Finding> mta_sts_findings(const std::string& domain, const resolver::Lookup& txt, std::string* id = nullptr);

/// Findings for the TXT answer at _smtp._tls.<domain>.
std::vector<Finding> tls_rpt_findings(const std::string& domain, const resolver::Lookup& txt);

/// An MTA-STS policy as RFC 8461 section 3.2 writes it.
struct Policy {
  std::string version;              ///< "STSv1"
  std::string mode;                 ///< "enforce", "testing" or "none"
  std::optional<long> max_age;      ///< seconds
  std::vector<std::string> mx;      ///< patterns, lower case
  std::vector<std::string> problems;  ///< what makes senders reject it, one line each
};

/// Reads a policy body. Lines end in LF or CRLF; unknown fields are ignored.
Policy parse_policy(std::string_view text);

/// \return true when `host` matches the mx: `pattern` (RFC 8461 section 4.1).
bool mx_matches(std::string_view pattern, std::string_view host);

/// What was fetched for a valid _mta-sts record.
struct PolicyFetch {
  std::string id;    ///< the record's id
  std::string host;  ///< mta-sts.<domain>
  std::vector<std::string> skipped;  ///< addresses not connected to, with why
  std::optional<resolver::Failure> address_failure;  ///< the A/AAAA lookups failed (not NXDOMAIN)
  https::Fetch fetch;
  std::optional<Policy> policy;  ///< read from a 200 response within the size bound
};

class PolicyMemory;

struct TransportOptions {
  bool fetch_policy{true};  ///< false: the records only (--no-mta-sts-fetch)
  PolicyMemory* memory{nullptr};  ///< --mta-sts-state: compared with, then updated
  std::string ca_file;      ///< trust these CAs for the policy host instead of the system's
  AddressPolicy addresses;  ///< non-global addresses of the policy host are not connected to
  https::Limits limits;
};

struct TransportReport {
  std::vector<Finding> findings;     ///< the records'
  std::optional<PolicyFetch> policy;  ///< present when a valid record led to a fetch
  bool fetch_skipped{false};          ///< a valid record, but fetching was turned off
};

/// Both records of `domain`, looked up at once, and the policy the MTA-STS record announces.
asio::awaitable<TransportReport> check_transport(resolver::Resolver& r, std::string domain, TransportOptions options);

/// What a sender remembers of a policy it fetched: the record's id and the policy's content.
struct SeenPolicy {
  std::string id;
  std::string digest;   ///< SHA-256 of the policy's canonical form (policy_digest)
  std::string summary;  ///< "mode enforce, max_age 604800, mx mx1.example.com"
  std::string seen_at;  ///< when, ISO 8601 UTC
};

/// SHA-256 (hex) of a policy's fields in a canonical form: line ends, spacing and
/// the order of mx: lines do not change it; any value does.
std::string policy_digest(const Policy& p);

/// "mode enforce, max_age 604800, mx mx1.example.com *.example.net"
std::string policy_summary(const Policy& p);

/// Policies remembered between runs (check --mta-sts-state FILE), as a sender's
/// cache would hold them: one JSON object, domain -> SeenPolicy.
class PolicyMemory {
 public:
  /// Reads `path`; a file that does not exist is an empty memory. Throws
  /// std::runtime_error (one line) for a file that is not such an object.
  static PolicyMemory load(const std::string& path);
  /// Writes the memory to `path` (a new file renamed over the old one).
  void save(const std::string& path) const;
  std::optional<SeenPolicy> recall(const std::string& domain) const;
  void remember(const std::string& domain, SeenPolicy p);

 private:
  std::map<std::string, SeenPolicy> seen_;
};

/// Pure: the policy served now against the one remembered. A changed policy
/// under the same id is a warning: senders that cached it do not fetch it again
/// until max_age passes (RFC 8461 section 3.3).
std::vector<Finding> id_findings(const std::string& domain, const std::optional<SeenPolicy>& before, const SeenPolicy& now);

/// Findings for a fetched policy: the fetch, the policy's syntax, each MX host
/// against the mx: patterns, and (with `smtp`) each host's certificate.
std::vector<Finding> policy_findings(const std::string& domain, const PolicyFetch& p, const MxReport& mx, const SmtpReport* smtp);

}  // namespace bp::probes::transport

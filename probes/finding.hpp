/*++
 * NAME
 *	finding 3h
 * SUMMARY
 *	the vocabulary probes hand to the report
 * DESCRIPTION
 *	A Finding is one checked fact: a stable dotted code ("mx.null-mx"), a
 *	severity, a one-line summary, the evidence (the queries and answers the
 *	probe saw) and, where one exists, the fix. A check that could not be made
 *	(timeout, SERVFAIL, refused) is a finding with checked = false, never an
 *	absence.
 *--*/
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bp::probes {

enum class Severity { ok, info, warning, error };

/// \return "ok", "info", "warning" or "error".
std::string_view to_string(Severity s);
/// \return the severity for a slug, or false when the slug is unknown.
bool parse_severity(std::string_view s, Severity* out);

struct Evidence {
  std::string query;   ///< "example.com MX"
  std::string answer;  ///< "10 mx1.example.com." or "nxdomain (no such domain)"
};

struct Finding {
  std::string probe;    ///< "mx", "address", "sender"
  std::string code;     ///< stable slug, "mx.target-cname"
  Severity severity{Severity::info};
  std::string subject;  ///< what it is about: a domain, host or address
  std::string summary;  ///< one line
  std::string detail;   ///< optional longer text
  std::string reference;  ///< RFC section or registry
  std::string fix;
  bool checked{true};   ///< false: could not be checked (the summary says why)
  std::vector<Evidence> evidence;
};

/// \return true for a finding about the domain's own DNS records (MX, the hosts'
/// addresses, SPF, DMARC, zone files): what its owner publishes, which a run that
/// could not check them must not pass (docs/exit-codes.md).
bool own_record(const Finding& f);

/// \return a checked finding with the given identity and summary; the caller fills in the rest.
Finding make_finding(std::string probe, std::string code, Severity severity, std::string subject, std::string summary);

}  // namespace bp::probes

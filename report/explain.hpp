/*++
 * NAME
 *	explain 3h
 * SUMMARY
 *	match a pasted bounce to the catalog
 * DESCRIPTION
 *	explain() accepts whatever a user pastes: a bare reply, a multi-line
 *	SMTP reply, or a whole non-delivery report with the lines a mail client
 *	or the sending MTA adds ("host X[ip] said:", "(in reply to RCPT TO
 *	command)", "Diagnostic-Code: smtp;", quoting markers, wrapped lines).
 *	It cuts the text into candidate replies at every reply code or enhanced
 *	code, tests every catalog pattern on every candidate, and ranks the
 *	matches: codes that agree with the entry first, then the entry's
 *	priority, then the length of the matched text. It also pulls out the
 *	facts a fix needs: address, IP, host, blocklist zone and code.
 * DIAGNOSTICS
 *	Input past max_input_bytes is cut there; non-printable bytes become spaces.
 *--*/
#pragma once

#include "catalog.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bp::report {

constexpr std::size_t max_input_bytes = 256 * 1024;

struct ExplainMatch {
  const CatalogEntry* entry{nullptr};
  int code{0};               ///< the code seen in the paste, else the entry's
  std::string enhanced;      ///< likewise
  bool codes_agree{true};    ///< false when the paste's code differs from the entry's
  std::string matched_text;  ///< the part of the paste the pattern matched
  std::map<std::string, std::string> facts;
};

struct ExplainResult {
  std::vector<ExplainMatch> matches;  ///< best first, one per entry
  bool truncated{false};
  std::string normalized;  ///< the paste as matched (unfolded, wrappers removed)
};

/// \return every catalog entry the text matches, best first.
ExplainResult explain(const Catalog& catalog, std::string_view pasted);

}  // namespace bp::report

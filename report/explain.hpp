/*++
 * NAME
 *	explain 3h
 * SUMMARY
 *	what a pasted bounce means: its reason, and its catalog entry when it is a documented one
 * DESCRIPTION
 *	explain() accepts whatever a user pastes: a bare reply, a multi-line
 *	SMTP reply, or a whole non-delivery report with the lines a mail client
 *	or the sending MTA adds ("host X[ip] said:", "(in reply to RCPT TO
 *	command)", "Diagnostic-Code: smtp;", "SMTP error from remote mail server
 *	after RCPT TO:", "Remote Server returned '...'", quoting markers,
 *	wrapped lines). The copy of the returned message that many reports carry
 *	is cut off first: its headers are the sender's, not the receiver's.
 *	It cuts the text into replies at every reply code or enhanced code,
 *	tests every catalog pattern on every reply, and ranks the matches:
 *	codes that agree with the entry first, then the entry's priority, then
 *	the length of the matched text. Independently, every reply is given a
 *	reason class (classify.hpp); the strongest decision is the answer's
 *	reason unless a catalog entry matched. The codes reported are always
 *	the ones in the paste, never an entry's.
 * DIAGNOSTICS
 *	Input past max_input_bytes is cut there; non-printable bytes become spaces.
 *--*/
#pragma once

#include "catalog.hpp"
#include "classify.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bp::report {

constexpr std::size_t max_input_bytes = 256 * 1024;

struct ExplainMatch {
  const CatalogEntry* entry{nullptr};
  int code{0};               ///< the reply code in the paste (0: none there)
  std::string enhanced;      ///< the enhanced code in the paste ("": none there)
  bool codes_agree{true};    ///< false when the paste's codes differ from the entry's
  bool class_agrees{true};   ///< false when a pasted 4xx meets a permanent entry, or a 5xx a temporary one
  std::string matched_text;  ///< the part of the paste the pattern matched
  std::map<std::string, std::string> facts;
};

/// One reply found in the paste, with its own reason.
struct ReplySeen {
  int code{0};
  std::string enhanced;
  std::string text;
  Classification classification;
};

struct ExplainResult {
  std::vector<ExplainMatch> matches;  ///< documented entries, best first, one per entry
  std::string reason{"other"};        ///< the reason class of the answer
  Confidence confidence{Confidence::guess};
  std::string basis;                  ///< what decided the reason
  int code{0};                        ///< the receiver's codes, as pasted, of the reply that decided
  std::string enhanced;
  std::string reply;                  ///< that reply's text
  std::vector<ReplySeen> replies;     ///< every reply with a code found in the paste, in order
  std::vector<const CatalogEntry*> nearest;  ///< without a match: entries of the same reason, closest codes first
  std::map<std::string, std::string> facts;  ///< recipient, sender, ip, domain, list ... found in the paste
  bool truncated{false};
  std::string normalized;  ///< the paste as matched (unfolded, wrappers and returned message removed)
};

/// \return the reason of the text and every catalog entry it matches, best first.
ExplainResult explain(const Catalog& catalog, std::string_view pasted, const Reasons& reasons = Reasons::builtin());

}  // namespace bp::report

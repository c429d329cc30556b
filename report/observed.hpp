/*++
 * NAME
 *	observed 3h
 * SUMMARY
 *	the bounces a dialogue actually got, matched to the catalog
 * DESCRIPTION
 *	observe() takes every refusal in an SMTP probe's sessions (a greeting
 *	other than 220, a 4xx/5xx to MAIL or RCPT) and finds its catalog entry
 *	the way `explain` does for a pasted bounce. Each observation keeps the
 *	host, the address it came from and the command that drew it.
 *
 *	An answer that depends on the connecting address (the entry says
 *	judges_client: blocklists, client blocks, SPF, rate limits) only shows
 *	what this machine gets; counts_for() tells whether it also stands for a
 *	given sending IP.
 *--*/
#pragma once

#include "catalog.hpp"

#include <finding.hpp>
#include <smtp.hpp>

#include <string>
#include <vector>

namespace bp::report {

struct ObservedReply {
  std::string host, address;  ///< the mail host and the address talked to
  std::string source;         ///< the local address the dialogue came from
  std::string stage;          ///< "banner", "mail", "rcpt"
  std::string role;           ///< for rcpt: "recipient", "postmaster", "random", "relay"
  std::string command;        ///< what was sent ("" for the greeting)
  int code{0};
  std::string enhanced;
  std::string text;
  bool final_session{false};  ///< from the session whose answers count
  const CatalogEntry* entry{nullptr};

  /// \return "550 5.1.1 text".
  std::string line() const;
  /// \return true when the answer depends on who connects.
  bool judges_client() const { return entry != nullptr && entry->judges_client; }
};

/// \return every refusal the probe's sessions met, classified.
std::vector<ObservedReply> observe(const Catalog& catalog, const probes::SmtpReport& smtp);

/// \return true when an observed answer also stands for mail sent from `ip`.
bool counts_for(const ObservedReply& o, const std::string& ip);

/// \return findings for the refusals (expected ones, like the made-up recipient's, are ok).
std::vector<probes::Finding> observed_findings(const std::vector<ObservedReply>& observed);

}  // namespace bp::report

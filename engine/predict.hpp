/*++
 * NAME
 *	predict 3h
 * SUMMARY
 *	the predict run: what to ask about one mail, the asking, the findings
 * DESCRIPTION
 *	plan_predict() decides, without the network, what a prediction needs:
 *	the sender and recipient domains, the SPF identity (MAIL FROM's domain, or
 *	HELO for the null sender, RFC 7208 section 2.4), the blocklist targets
 *	(each client address, and the sender domain on domain lists) and the
 *	dialogue's script. gather() asks it all at once; the dialogue follows the
 *	recipient's MX answer. run_predict() fills a PredictInput from the
 *	evidence for the predictor; predict_findings() lists what the report shows.
 *--*/
#pragma once

#include <catalog.hpp>
#include <dmarc/dmarc.hpp>
#include <dnsbl/dnsbl.hpp>
#include <mx.hpp>
#include <predictor.hpp>
#include <resolver.hpp>
#include <scanners.hpp>
#include <smtp.hpp>
#include <spf/evaluate.hpp>

#include <asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bp::engine {

/// The DNS and SMTP evidence about one mail (predict's, and explain --probe's).
struct Evidence {
  std::optional<probes::MxReport> sender_mx;
  std::optional<probes::MxReport> recipient_mx;
  std::optional<probes::spf::SpfOutcome> spf;
  std::optional<probes::dmarc::DmarcDiscovery> dmarc;
  std::optional<probes::dnsbl::DnsblReport> dnsbl;
  std::map<std::string, std::string> client_names;
  std::optional<probes::SmtpReport> smtp;
};

/// What to ask. Empty domains and an absent SPF query or dialogue are skipped.
struct Questions {
  std::string sender_domain;
  std::string from_domain;  ///< the message's From: domain, when a message is given (DMARC is asked for it)
  std::string recipient_domain;
  std::optional<probes::spf::SpfQuery> spf;
  std::vector<std::string> blocklist_targets;
  std::vector<std::string> client_ips;  ///< forward-confirmed reverse names are looked up for these
  probes::dnsbl::Lists lists;
  probes::AddressPolicy policy;
  std::optional<probes::SmtpOptions> smtp;
};

/// The sender's MX, the recipient's MX, SPF, DMARC, blocklists and client names at
/// once; then the dialogue with the recipient's MX. `r`, `blr`, `gate` must outlive it.
asio::awaitable<Evidence> gather(resolver::Resolver& r, resolver::Resolver& blr, probes::SmtpGate& gate, Questions q);

/// The content scanners to ask about --message (absent: not asked).
struct ScanPlan {
  std::optional<probes::scan::Endpoint> spamd, clamd;
  std::chrono::milliseconds timeout{30000};  ///< each exchange, whole
};

/// A prediction's input as far as the command line gives it: addresses checked.
struct PredictPlan {
  report::PredictInput input;
  Questions questions;
  ScanPlan scans;
};

/// Pure: from --from, --to, --ip and the HELO name, what to ask. `smtp` is the dialogue's
/// settings (its script is filled in here), absent with --no-smtp.
PredictPlan plan_predict(const std::string& from, const std::string& to, const std::vector<std::string>& ips,
                         const std::string& helo, probes::dnsbl::Lists lists, probes::AddressPolicy policy,
                         std::optional<probes::SmtpOptions> smtp, bool relay_test, const std::string& relay_to);

/// Asks the plan's questions and fills its input with the evidence. `r`, `blr`, `gate`,
/// `catalog` must outlive it.
asio::awaitable<report::PredictInput> run_predict(resolver::Resolver& r, resolver::Resolver& blr, probes::SmtpGate& gate,
                                                  const report::Catalog& catalog, PredictPlan plan);

/// \return the findings a prediction's report shows: addresses, both domains' MX, the dialogue.
std::vector<probes::Finding> predict_findings(const report::PredictInput& in);

}  // namespace bp::engine

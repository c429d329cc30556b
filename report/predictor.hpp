/*++
 * NAME
 *	predictor 3h
 * SUMMARY
 *	which documented bounce a receiver would send, from the evidence
 * DESCRIPTION
 *	predict() walks a receiver profile over the probes' results the way
 *	Postfix walks a restriction list: checks in order, the first reject
 *	decides, a "defer if permitted" (a failed lookup) counts only when
 *	nothing after it rejects. Every check that fires becomes a bounce with
 *	its catalog entry, the reply text with the real addresses filled in, the
 *	evidence and the fix; the first one is the reply the sender would see.
 *	A pure function: it asks nothing and prints nothing.
 * SEE ALSO
 *	Postfix smtpd_check.c reject_unknown_mailhost(); profile(3h); catalog(3h).
 *--*/
#pragma once

#include "catalog.hpp"
#include "observed.hpp"
#include "profile.hpp"

#include <finding.hpp>
#include <mx.hpp>
#include <sender.hpp>
#include <spf/evaluate.hpp>
#include <dmarc/dmarc.hpp>
#include <dnsbl/dnsbl.hpp>

#include <dkim.hpp>
#include <message.hpp>
#include <scanners.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bp::report {

struct PredictInput {
  std::string sender;     ///< as given to --from ("" or "<>" = null sender)
  std::string recipient;  ///< as given to --to
  std::vector<std::string> ips;
  std::string helo;
  probes::AddressCheck sender_check;
  probes::AddressCheck recipient_check;
  std::optional<probes::MxReport> sender_mx;     ///< absent when the sender has no domain to look up
  std::optional<probes::MxReport> recipient_mx;
  std::optional<probes::spf::SpfOutcome> spf;  ///< check_host() for the first --ip, when one was given
  std::optional<probes::dmarc::DmarcDiscovery> dmarc;  ///< the policy of the From: domain (taken as the sender's)
  std::vector<std::string> dkim_pass;  ///< domains the message carries a valid DKIM signature for
  std::optional<probes::dnsbl::DnsblReport> dnsbl;  ///< blocklist results for the --ip addresses
  std::map<std::string, std::string> client_names;  ///< --ip -> forward-confirmed reverse name, when it has one
  std::vector<ObservedReply> observed;  ///< refusals the SMTP dialogue met
  std::string rcpt_accepted;            ///< "host [address]" when the dialogue's RCPT for the recipient got 2xx
  std::optional<probes::SmtpReport> smtp;  ///< the dialogue with the recipient's MX, when it ran
  std::optional<probes::MessageFacts> message;  ///< --message: what the receiver sees at the end of DATA
  std::vector<probes::dkim::SignatureResult> dkim;  ///< the message's DKIM signatures, verified
  std::uint64_t declared_size{0};               ///< --size: SIZE= at MAIL FROM (0 = not declared)
  std::optional<probes::scan::ScanResult> spam_scan;   ///< --spamd: what spamd said of the message
  std::optional<probes::scan::ScanResult> virus_scan;  ///< --clamd: what clamd said of the message
};

struct PredictedBounce {
  const CatalogEntry* entry{nullptr};
  std::string restriction;  ///< the profile check that produced it
  int code{0};
  std::string enhanced;
  std::string text;  ///< the reply as the receiver would print it
  std::string stage;
  bool temporary{false};
  bool defer_if_permit{false};
  std::string reason;  ///< one line: why this check fires
  std::vector<probes::Evidence> evidence;
};

struct Prediction {
  std::string verdict;  ///< accept | bounce | defer | unknown
  std::vector<PredictedBounce> bounces;  ///< the first is the one the sender sees
  std::vector<std::string> not_checked;  ///< checks that could not be evaluated, with why
  std::vector<std::string> passed;       ///< checks evaluated and passed
  std::vector<ObservedReply> observed_elsewhere;  ///< answers that depend on the connecting address, given to this machine, not --ip
};

/// \return the prediction for the input under `profile`.
Prediction predict(const Profile& profile, const PredictInput& in);

/// \return the reply template with {sender}, {recipient}, {sender_domain}, {recipient_domain}, {rr_type} filled in.
std::string fill_reply(const std::string& tmpl, const std::map<std::string, std::string>& values);

}  // namespace bp::report

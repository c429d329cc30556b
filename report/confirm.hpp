/*++
 * NAME
 *	confirm 3h
 * SUMMARY
 *	does the cause of a bounce still hold now? (explain --probe)
 * DESCRIPTION
 *	confirm_targets() takes the recipient, the sender and the client
 *	address from the explained bounce, or from --to/--from/--ip, which win.
 *	Each reason names the probe that can confirm it (reasons.toml,
 *	"confirm"): the recipient domain's MX, the sender domain, SPF and
 *	DMARC, the blocklists, reverse DNS, or an SMTP RCPT. The gathering is
 *	the caller's; confirm() is the pure judgement over what was gathered:
 *	holds, does-not-hold, or not-checked with the reason (a failed lookup
 *	is never read as "the cause is gone").
 *--*/
#pragma once

#include "classify.hpp"
#include "explain.hpp"
#include "observed.hpp"

#include <dmarc/dmarc.hpp>
#include <dnsbl/dnsbl.hpp>
#include <mx.hpp>
#include <spf/evaluate.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace bp::report {

struct ConfirmTargets {
  std::string recipient, recipient_domain;
  std::string sender, sender_domain;  ///< sender_domain may come alone (a DMARC bounce names only the domain)
  std::string ip;
};

struct ConfirmEvidence {
  std::optional<probes::MxReport> recipient_mx;
  std::optional<probes::MxReport> sender_mx;
  std::vector<probes::Finding> sender_findings;
  std::optional<probes::spf::SpfOutcome> spf;
  std::optional<probes::dmarc::DmarcDiscovery> dmarc;
  std::optional<probes::dnsbl::DnsblReport> dnsbl;
  std::optional<std::string> rdns;  ///< the forward-confirmed name of the IP ("" = none)
  bool smtp_ran{false};
  std::vector<ObservedReply> observed;  ///< refusals of the dialogue with the recipient's MX
  std::string rcpt_accepted;            ///< "host [address]" when RCPT TO was accepted
  std::string smtp_failure;             ///< why no dialogue took place
};

struct Confirmation {
  std::string probe;                 ///< mx, sender, spf-dmarc, dnsbl, rdns, smtp, none
  std::string status;                ///< holds, does-not-hold, not-checked
  std::string detail;                ///< one line
  std::vector<std::string> evidence;
  ConfirmTargets targets;
};

/// \return what to probe: --to/--from/--ip when given, else what the bounce names.
ConfirmTargets confirm_targets(const ExplainResult& r, const std::string& to, const std::string& from, const std::string& ip);

/// \return whether the reason still holds, judged on the gathered evidence.
Confirmation confirm(const Reasons& reasons, const std::string& reason, const ConfirmTargets& t, const ConfirmEvidence& e);

nlohmann::json confirmation_json(const Confirmation& c);
std::string confirmation_text(const Confirmation& c);

}  // namespace bp::report

/*++
 * NAME
 *	sender 3h
 * SUMMARY
 *	mail address syntax and whether a sender domain exists for mail
 * DESCRIPTION
 *	parse_mail_address() reads an RFC 5321 Mailbox (with or without angle
 *	brackets, "<>" for the null sender): dot-string or quoted local part,
 *	domain or address literal, length limits, and an IDN domain converted to
 *	its A-label with libidn2 (IDNA2008). check_address() turns that into
 *	findings, including "not fully qualified" exactly as Postfix's
 *	reject_non_fqdn_sender decides it. sender_domain_state() reads an MX
 *	report the way Postfix's reject_unknown_sender_domain does: an MX, A or
 *	AAAA record makes the domain exist; a null MX is its own answer; a lookup
 *	failure is "retry", never "not found".
 * SEE ALSO
 *	RFC 5321 sections 4.1.2, 4.1.3, 4.5.3.1; RFC 6531; RFC 5890; RFC 7505 section 4.2.
 *--*/
#pragma once

#include "finding.hpp"
#include "mx.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp::probes {

struct MailAddress {
  std::string text;          ///< as given, without angle brackets
  std::string local;
  std::string domain;        ///< as given (may be a U-label)
  std::string ascii_domain;  ///< lower case A-label form used for DNS
  bool null_sender{false};   ///< "<>"
  bool domain_literal{false};
  bool idn{false};
  bool utf8_local{false};
};

struct AddressCheck {
  std::optional<MailAddress> address;  ///< set when the syntax is usable
  bool fqdn{false};                    ///< the domain is a fully qualified host name (or a literal)
  std::string problem;                 ///< syntax problem, empty when none
  std::vector<Finding> findings;
};

/// \return the lower-case A-label form of a domain (IDNs converted with libidn2),
/// or nullopt with the reason in `problem`.
std::optional<std::string> domain_to_ascii(std::string_view domain, std::string* problem);

/// \return the parsed address, or the syntax problem in `problem`.
std::optional<MailAddress> parse_mail_address(std::string_view text, std::string* problem);

/// \return the syntax findings for `text` used as `role` ("sender" or "recipient").
AddressCheck check_address(std::string_view text, const std::string& role);

enum class DomainMailState { exists, null_mx, not_found, lookup_failed };
std::string_view to_string(DomainMailState s);

/// \return what a receiver checking the sender domain (MX, then A/AAAA) would conclude.
DomainMailState sender_domain_state(const MxReport& mx);

/// \return findings about `mx.domain` used as a sender domain (existence, null MX, private MX).
std::vector<Finding> sender_domain_findings(const MxReport& mx, const std::string& sender);

/// \return the RFC 1918 addresses a check_sender_mx_access lookup would see for this domain
/// (MX hosts' addresses, or the domain's own with no MX; none for a null MX).
std::vector<std::pair<std::string, AddressClass>> sender_mx_addresses(const MxReport& mx);

}  // namespace bp::probes

/*++
 * NAME
 *	domain_name 3h
 * SUMMARY
 *	domain-name checks and normalisation
 * DESCRIPTION
 *	Names travel as lower-case strings without the trailing dot. These
 *	functions decide whether a string can be asked about at all (DNS limits)
 *	and whether it is a host name (LDH rule), which mail needs.
 * SEE ALSO
 *	RFC 1035 section 2.3.4 (255/63 octet limits), RFC 1123 section 2.1 (LDH),
 *	RFC 3696 section 2 (all-numeric TLDs).
 *--*/
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bp::resolver {

/// \return the name in lower case with one trailing dot removed.
std::string normalize_name(std::string_view name);

/// normalize_name() in place: a name the caller gives up costs no copy.
void normalize_in_place(std::string& name);

/// \return true when normalize_name(name) == name.
bool is_normalized(std::string_view name);

/// \return an empty string when `name` fits the DNS limits (wire length <= 255,
/// labels 1..63 octets, no empty label), else the reason.
std::string dns_name_problem(std::string_view name);

/// \return an empty string when `name` is a syntactically valid host name
/// (letters, digits, hyphens, no hyphen at a label edge, top label not all numeric), else the reason.
std::string hostname_problem(std::string_view name);

/// An IP address in network byte order; IPv4 occupies the first four bytes.
struct IpBytes {
  std::array<std::uint8_t, 16> bytes{};
  bool v6{false};
};

/// Parses a textual IPv4 (dotted quad) or IPv6 address, the whole string and
/// nothing else: a string with an embedded NUL or longer than any address is
/// refused rather than cut at the NUL as inet_pton() would see it.
/// \return true and fills `out` on success.
bool parse_ip(std::string_view s, IpBytes* out);

/// \return true when the name, taken whole, is an IPv4 or IPv6 address literal.
bool looks_like_ip_literal(std::string_view name);

/// \return the address as reversed DNS labels ("79.113.0.203", or 32 nibbles for IPv6),
/// as PTR names and DNSBL queries use them (RFC 1035 3.5, RFC 3596 2.5); "" for a non-address.
std::string reversed_address_labels(std::string_view ip);

/// \return the PTR name of an address: reversed labels under in-addr.arpa or ip6.arpa; "" for a non-address.
std::string reverse_name(std::string_view ip);

/// \return true when a and b name the same domain (case-insensitive, trailing dot ignored).
bool same_name(std::string_view a, std::string_view b);

}  // namespace bp::resolver

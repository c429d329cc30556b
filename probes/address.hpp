/*++
 * NAME
 *	address 3h
 * SUMMARY
 *	classify IP addresses against the IANA special-purpose registries
 * DESCRIPTION
 *	classify() answers "what kind of address is this": global unicast, or
 *	one of the special-purpose blocks (RFC 1918 private-use, loopback,
 *	link-local, shared CGNAT, documentation, benchmarking, multicast,
 *	reserved, unspecified, ULA, 6to4, NAT64, ...). IPv4-mapped IPv6 addresses
 *	are classified by the IPv4 address they carry. An AddressPolicy may name
 *	prefixes to treat as routable (a lab built on documentation ranges).
 * DIAGNOSTICS
 *	classify() returns nullopt for a string that is not an IP address.
 * SEE ALSO
 *	address_registry.inc, RFC 6890, RFC 8190.
 *--*/
#pragma once

#include "finding.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp::probes {

struct Cidr {
  std::array<std::uint8_t, 16> bytes{};
  int length{0};
  bool v6{false};
  std::string text;

  /// \return the prefix for "10.0.0.0/8", "2001:db8::/32" or a bare address, nullopt if malformed.
  static std::optional<Cidr> parse(std::string_view s);
  /// \return true when the address (same family) lies inside the prefix.
  bool contains(const std::array<std::uint8_t, 16>& addr, bool addr_v6) const;
};

struct AddressClass {
  std::string address;     ///< as given, normalised
  std::string slug;        ///< "global", "rfc1918", "documentation", ...
  std::string name;        ///< human name of the block
  std::string prefix;      ///< the registry block, "" for global
  std::string reference;   ///< RFC
  bool global{true};       ///< may appear as a public mail server's address
  bool overridden{false};  ///< treated as routable by policy
  bool v6{false};
};

struct AddressPolicy {
  std::vector<Cidr> routable;  ///< prefixes to treat as globally routable
};

/// \return the class of `ip`, or nullopt when it is not an IP address.
std::optional<AddressClass> classify(std::string_view ip, const AddressPolicy& policy = {});

/// \return a finding for a non-global address seen in `context` ("MX host mx1.example.com"), or nullopt for a global one.
std::optional<Finding> address_finding(const AddressClass& c, const std::string& host, const std::string& context);

}  // namespace bp::probes

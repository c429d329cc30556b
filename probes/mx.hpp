/*++
 * NAME
 *	mx 3h
 * SUMMARY
 *	where mail for a domain goes: MX, null MX, implicit MX, and the targets
 * DESCRIPTION
 *	probe_mx() looks up the domain's MX set (RFC 5321 section 5.1) and
 *	resolves every target's A and AAAA in parallel. It reports a null MX
 *	(RFC 7505), the implicit MX on the domain's own addresses when there is
 *	no MX, a domain that does not exist, targets that are aliases (RFC 2181
 *	section 10.3), IP literals, or do not resolve, and classifies every
 *	address found. Interpretation is the pure function interpret_mx(); the
 *	coroutine only gathers its input.
 * DIAGNOSTICS
 *	A lookup that fails (timeout, SERVFAIL, REFUSED) gives status
 *	lookup_failed and a finding with checked = false, never "no MX".
 *--*/
#pragma once

#include "address.hpp"
#include "finding.hpp"

#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace bp::probes {

enum class MxStatus {
  has_mx,            ///< at least one usable MX target
  no_usable_target,  ///< MX records exist but none leads to a routable address
  implicit_mx,       ///< no MX; the domain's own A/AAAA serve (RFC 5321 5.1)
  null_mx,           ///< "MX 0 ." only (RFC 7505)
  null_mx_mixed,     ///< null MX next to other MX records (RFC 7505 section 3 violation)
  no_mail_host,      ///< the domain exists but has no MX, A or AAAA
  domain_not_found,  ///< NXDOMAIN
  lookup_failed,     ///< could not be checked
};

std::string_view to_string(MxStatus s);

struct HostLookup {
  std::string host;
  std::uint16_t preference{0};
  bool ip_literal{false};
  std::vector<std::string> cname_chain;
  std::vector<AddressClass> addresses;             ///< at most limits::addresses_per_host
  std::size_t addresses_not_kept{0};              ///< addresses past that bound
  std::optional<resolver::Failure> a_failure;     ///< why A gave nothing
  std::optional<resolver::Failure> aaaa_failure;  ///< why AAAA gave nothing
  std::vector<Evidence> evidence;

  /// \return true when both lookups ended in NXDOMAIN/NODATA (nothing to connect to).
  bool unresolvable() const;
  /// \return true when a lookup failed temporarily and no address was found.
  bool lookup_failed() const;
  /// \return true when at least one address may be used from the internet.
  bool has_global_address() const;
};

struct MxReport {
  std::string domain;
  MxStatus status{MxStatus::lookup_failed};
  std::vector<HostLookup> targets;           ///< MX targets by preference, or the domain itself for implicit MX
  std::size_t hosts_not_looked_up{0};        ///< distinct MX hosts past limits::mx_hosts
  std::optional<resolver::Failure> failure;  ///< the MX lookup's failure, if any
  std::vector<std::string> cname_chain;      ///< when the domain itself is an alias
  std::vector<Evidence> evidence;
  std::vector<Finding> findings;
};

/// Resolves A and AAAA for `host` in parallel. `r` must outlive the coroutine.
asio::awaitable<HostLookup> lookup_host(resolver::Resolver& r, std::string host, AddressPolicy policy);

/// Runs the whole MX probe for `domain`. `r` must outlive the coroutine.
asio::awaitable<MxReport> probe_mx(resolver::Resolver& r, std::string domain, AddressPolicy policy);

/// Pure: turns the MX lookup and the target lookups into status and findings.
void interpret_mx(MxReport& report);

}  // namespace bp::probes

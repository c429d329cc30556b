/*++
 * NAME
 *	zone_file 3h
 * SUMMARY
 *	answers from zone files, for DNS changes before they are published
 * DESCRIPTION
 *	ZoneOverlay reads RFC 1035 master files with Knot DNS's zone scanner
 *	(libzscanner): $ORIGIN, $TTL, relative names, multi-string TXT,
 *	parenthesised records, every type the scanner knows. $INCLUDE is refused:
 *	a file under review must not pull in others. The zone's origin is the
 *	owner of its SOA record, or the ORIGIN of a "ORIGIN=FILE" argument.
 *
 *	reply() answers a question for a name at or below an origin as an
 *	authoritative server would: the records, a CNAME (followed while its
 *	target stays in the files), NODATA for an existing name or empty
 *	non-terminal, a wildcard at the closest encloser (RFC 4592), NXDOMAIN
 *	otherwise. Names at or below a delegation (NS below the apex) are left to
 *	the resolver. The reply is DNS wire format, so that it is read by the
 *	same parser as a reply from the network.
 * DIAGNOSTICS
 *	load() throws ZoneFileError with "FILE:LINE: what" for a syntax error,
 *	an $INCLUDE, a file with no SOA and no origin given, or two files for the
 *	same origin.
 * SEE ALSO
 *	RFC 1035 section 5, RFC 2308, RFC 4592, RFC 6672 (DNAME is not followed).
 *--*/
#pragma once

#include "dns_types.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace bp::resolver {

struct ZoneFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ZoneOverlay {
 public:
  /// Reads every file ("FILE" or "ORIGIN=FILE"); throws ZoneFileError.
  static std::shared_ptr<const ZoneOverlay> load(const std::vector<std::string>& specs);

  /// \return the origin (normalized) of the zone that holds `name`, or nullptr when
  /// no file covers it (outside every origin, or below a delegation).
  const std::string* covering(const std::string& name) const;

  /// \return the wire-format reply for (name, type) when a file covers `name`.
  std::optional<std::vector<std::uint8_t>> reply(const std::string& name, RrType type) const;

  /// \return the file a zone came from.
  const std::string& file_of(const std::string& origin) const;

  /// \return every origin, normalized.
  std::vector<std::string> origins() const;

  std::size_t record_count() const { return records_; }

  struct RrSet {
    std::uint32_t ttl{0};
    std::vector<std::string> rdata;  ///< wire format, uncompressed
  };
  struct Node {
    std::map<std::uint16_t, RrSet> sets;  ///< by type; empty for an empty non-terminal
  };
  struct Zone {
    std::string origin;
    std::string file;
    std::unordered_map<std::string, Node> nodes;  ///< by normalized owner
  };

 private:
  const Zone* zone_for(const std::string& name) const;

  std::vector<Zone> zones_;
  std::size_t records_{0};
};

}  // namespace bp::resolver

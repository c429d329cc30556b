#include "dns_types.hpp"

#include <fmt/format.h>

namespace bp::resolver {

std::string to_string(RrType t) {
  switch (t) {
    case RrType::a: return "A";
    case RrType::ns: return "NS";
    case RrType::cname: return "CNAME";
    case RrType::soa: return "SOA";
    case RrType::ptr: return "PTR";
    case RrType::mx: return "MX";
    case RrType::txt: return "TXT";
    case RrType::aaaa: return "AAAA";
    case RrType::tlsa: return "TLSA";
    case RrType::spf: return "SPF";
    case RrType::ds: return "DS";
    case RrType::dnskey: return "DNSKEY";
  }
  return fmt::format("TYPE{}", static_cast<unsigned>(t));
}

std::string_view to_string(DnsFailure f) {
  switch (f) {
    case DnsFailure::nxdomain: return "nxdomain";
    case DnsFailure::nodata: return "nodata";
    case DnsFailure::servfail: return "servfail";
    case DnsFailure::refused: return "refused";
    case DnsFailure::formerr: return "formerr";
    case DnsFailure::notimp: return "notimp";
    case DnsFailure::timeout: return "timeout";
    case DnsFailure::connection_refused: return "connection_refused";
    case DnsFailure::bad_response: return "bad_response";
    case DnsFailure::no_server: return "no_server";
    case DnsFailure::cancelled: return "cancelled";
    case DnsFailure::bad_name: return "bad_name";
  }
  return "unknown";
}

namespace {
/// Prints TXT data the way zone files do, with non-printable bytes escaped.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c > 0x7e) {
      out += fmt::format("\\{:03d}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}
}  // namespace

std::string Record::rdata_text() const {
  switch (type) {
    case RrType::a:
    case RrType::aaaa: return address;
    case RrType::mx: return fmt::format("{} {}", preference, target.empty() ? "." : target + ".");
    case RrType::cname:
    case RrType::ptr:
    case RrType::ns: return target + ".";
    case RrType::txt:
    case RrType::spf: {
      std::string out;
      for (const auto& s : strings) {
        if (!out.empty()) out += ' ';
        out += quote(s);
      }
      return out;
    }
    case RrType::soa:
      return fmt::format("{}. {}. {} {} {} {} {}", target, rname, serial, refresh, retry, expire, minimum);
    case RrType::dnskey: return fmt::format("{} 3 {} ({} key bytes)", key_flags_or_tag, algorithm, data.size());
    case RrType::ds: {
      std::string hex;
      for (char ch : data) hex += fmt::format("{:02x}", static_cast<unsigned char>(ch));
      return fmt::format("{} {} {} {}", key_flags_or_tag, algorithm, digest_type, hex);
    }
    case RrType::tlsa: {
      std::string hex;
      for (char ch : data) hex += fmt::format("{:02x}", static_cast<unsigned char>(ch));
      return fmt::format("{} {} {} {}", usage, selector, matching, hex);
    }
    default: return "(data not shown)";
  }
}

}  // namespace bp::resolver

#include "address.hpp"

#include <domain_name.hpp>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>

namespace bp::probes {

namespace {

struct RegistryRow {
  const char* prefix;
  const char* slug;
  const char* name;
  const char* reference;
  bool global;
};

constexpr RegistryRow registry_rows[] = {
#include "address_registry.inc"
};

struct Block {
  Cidr cidr;
  const RegistryRow* row;
};

const std::vector<Block>& registry() {
  static const std::vector<Block> blocks = [] {
    std::vector<Block> out;
    for (const auto& row : registry_rows) {
      auto c = Cidr::parse(row.prefix);
      if (!c) throw std::logic_error(fmt::format("bad registry prefix {}", row.prefix));
      out.push_back({*c, &row});
    }
    return out;
  }();
  return blocks;
}

bool parse_ip(std::string_view s, std::array<std::uint8_t, 16>* out, bool* v6) {
  resolver::IpBytes ip;
  if (!resolver::parse_ip(s, &ip)) return false;
  *out = ip.bytes;
  *v6 = ip.v6;
  return true;
}

std::string to_text(const std::array<std::uint8_t, 16>& a, bool v6) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, a.data(), buf, sizeof buf);
  return buf;
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view s) {
  Cidr c;
  auto slash = s.find('/');
  auto addr = s.substr(0, slash);
  if (!parse_ip(addr, &c.bytes, &c.v6)) return std::nullopt;
  const int max = c.v6 ? 128 : 32;
  c.length = max;
  if (slash != std::string_view::npos) {
    auto len = s.substr(slash + 1);
    int v = -1;
    auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), v);
    if (ec != std::errc{} || p != len.data() + len.size() || v < 0 || v > max) return std::nullopt;
    c.length = v;
  }
  c.text = fmt::format("{}/{}", to_text(c.bytes, c.v6), c.length);
  return c;
}

bool Cidr::contains(const std::array<std::uint8_t, 16>& addr, bool addr_v6) const {
  if (addr_v6 != v6) return false;
  int bits = length;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    const int mask_bits = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - mask_bits));
    if ((addr[i] & mask) != (bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<AddressClass> classify(std::string_view ip, const AddressPolicy& policy) {
  std::array<std::uint8_t, 16> a{};
  bool v6 = false;
  if (!parse_ip(ip, &a, &v6)) return std::nullopt;
  AddressClass out;
  out.address = to_text(a, v6);
  out.v6 = v6;
  // IPv4-mapped (::ffff:0:0/96): judge the IPv4 address it carries (RFC 4291 2.5.5.2).
  static const auto mapped = *Cidr::parse("::ffff:0:0/96");
  if (v6 && mapped.contains(a, true)) {
    std::array<std::uint8_t, 16> v4{};
    std::copy(a.begin() + 12, a.end(), v4.begin());
    auto inner = classify(to_text(v4, false), policy);
    inner->address = out.address;
    inner->v6 = true;
    if (inner->slug == "global") inner->name = "IPv4-mapped global address";
    return inner;
  }
  const Block* best = nullptr;
  for (const auto& b : registry()) {
    if (b.cidr.contains(a, v6) && (best == nullptr || b.cidr.length > best->cidr.length)) best = &b;
  }
  if (best != nullptr) {
    out.slug = best->row->slug;
    out.name = best->row->name;
    out.prefix = best->cidr.text;
    out.reference = best->row->reference;
    out.global = best->row->global;
  } else if (v6 && (a[0] & 0xe0) != 0x20) {
    // Outside 2000::/3, the only block IANA allocates for global unicast.
    out.slug = "unallocated";
    out.name = "outside the global unicast range 2000::/3";
    out.reference = "IANA IPv6 address space";
    out.global = false;
  } else {
    out.slug = "global";
    out.name = "global unicast";
  }
  if (!out.global) {
    for (const auto& r : policy.routable) {
      if (r.contains(a, v6)) {
        out.overridden = true;
        out.global = true;
        break;
      }
    }
  }
  return out;
}

std::optional<Finding> address_finding(const AddressClass& c, const std::string& host, const std::string& context) {
  if (c.slug == "global" || c.slug == "anycast-service" || c.slug == "as112" || c.slug == "amt") return std::nullopt;
  if (c.overridden) return std::nullopt;  // the user declared it routable (a lab); the JSON still marks it
  auto f = make_finding("address", "address." + c.slug, Severity::warning, c.address, fmt::format("{} {} resolves to {}, in {} ({}): not reachable from the internet", context, host,
                          c.address, c.prefix, c.name));
  f.reference = c.reference;
  f.fix = fmt::format("publish the public address of {} in DNS; keep internal addresses in an internal view", host);
  return f;
}

}  // namespace bp::probes

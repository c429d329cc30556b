#include "zone_file.hpp"

#include "domain_name.hpp"

#include <fmt/format.h>
extern "C" {
#include <libzscanner/error.h>
#include <libzscanner/scanner.h>
}
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

namespace bp::resolver {

namespace {

constexpr std::uint16_t type_soa = 6, type_ns = 2, type_cname = 5;
constexpr int max_cname_links = 8;

/// \return a wire-format (uncompressed) name in normalized presentation form ("" is never returned: "." for the root).
std::string wire_to_text(const std::uint8_t* w, std::size_t max) {
  std::string out;
  std::size_t i = 0;
  while (i < max && w[i] != 0) {
    const std::size_t len = w[i++];
    if (i + len > max) break;
    if (!out.empty()) out += '.';
    for (std::size_t k = 0; k < len; ++k) {
      const auto c = static_cast<unsigned char>(w[i + k]);
      if (c == '.' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c <= 0x20 || c >= 0x7f) {
        out += fmt::format("\\{:03d}", c);
      } else {
        out += static_cast<char>(std::tolower(c));
      }
    }
    i += len;
  }
  return out.empty() ? "." : out;
}

/// \return `name` (normalized presentation form) in wire format.
std::string text_to_wire(const std::string& name) {
  std::string out;
  if (name == "." || name.empty()) return std::string(1, '\0');
  std::string label;
  auto flush = [&] {
    out += static_cast<char>(label.size());
    out += label;
    label.clear();
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '\\' && i + 1 < name.size()) {
      if (i + 3 < name.size() && std::isdigit(static_cast<unsigned char>(name[i + 1])) != 0) {
        label += static_cast<char>(std::stoi(name.substr(i + 1, 3)));
        i += 3;
      } else {
        label += name[++i];
      }
    } else if (c == '.') {
      flush();
    } else {
      label += c;
    }
  }
  flush();
  out += '\0';
  return out;
}

/// \return the parent of a normalized name ("" past the last label).
std::string parent_of(const std::string& name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\') {
      ++i;
    } else if (name[i] == '.') {
      return name.substr(i + 1);
    }
  }
  return {};
}

bool at_or_below(const std::string& name, const std::string& origin) {
  if (name == origin) return true;
  return name.size() > origin.size() && name.compare(name.size() - origin.size(), origin.size(), origin) == 0 &&
         name[name.size() - origin.size() - 1] == '.';
}

void put16(std::string& p, std::uint16_t v) {
  p += static_cast<char>(v >> 8);
  p += static_cast<char>(v & 0xff);
}

void put32(std::string& p, std::uint32_t v) {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p, static_cast<std::uint16_t>(v & 0xffff));
}

struct Scanner {
  Scanner() : s(std::make_unique<zs_scanner_t>()) {}
  ~Scanner() {
    if (initialised) zs_deinit(s.get());
  }
  std::unique_ptr<zs_scanner_t> s;
  bool initialised{false};
};

/// \return the column of the scanner's position on its current line (1-based).
std::size_t column_of(const zs_scanner_t& s) {
  const char* start = s.input.start;
  const char* cur = s.input.current;
  if (start == nullptr || cur == nullptr || cur < start) return 1;
  if (s.input.end != nullptr && cur > s.input.end) cur = s.input.end;
  const char* line = cur;
  // The scanner stops after the newline that ended the bad line: step back over it.
  if (line > start && line[-1] == '\n') --line;
  while (line > start && line[-1] != '\n') --line;
  return static_cast<std::size_t>(cur - line) + 1;
}

ZoneOverlay::Zone read_zone(const std::string& spec, std::size_t* records) {
  std::string origin;
  std::string file = spec;
  struct stat st {};
  if (::stat(spec.c_str(), &st) != 0) {
    // "ORIGIN=FILE": the origin for a file without a SOA record or $ORIGIN.
    if (const auto eq = spec.find('='); eq != std::string::npos && eq > 0) {
      origin = normalize_name(spec.substr(0, eq));
      file = spec.substr(eq + 1);
      if (auto problem = dns_name_problem(origin); !problem.empty()) {
        throw ZoneFileError(fmt::format("--zone-file {}: origin '{}': {}", spec, origin, problem));
      }
    }
    if (::stat(file.c_str(), &st) != 0) throw ZoneFileError(fmt::format("--zone-file {}: {}", file, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) throw ZoneFileError(fmt::format("--zone-file {}: is a directory", file));
  if (!S_ISREG(st.st_mode)) throw ZoneFileError(fmt::format("--zone-file {}: is not a regular file", file));

  Scanner sc;
  zs_scanner_t* s = sc.s.get();
  if (zs_init(s, origin.empty() ? "." : (origin + ".").c_str(), 1 /* IN */, 3600) != 0) {
    throw ZoneFileError(fmt::format("--zone-file {}: {}", file, zs_strerror(s->error.code)));
  }
  sc.initialised = true;
  if (zs_set_input_file(s, file.c_str()) != 0) {
    throw ZoneFileError(fmt::format("--zone-file {}: {}", file, zs_strerror(s->error.code)));
  }
  ZoneOverlay::Zone zone;
  zone.file = file;
  zone.origin = origin;
  struct Pending {
    std::string owner;
    std::uint16_t type;
    std::uint32_t ttl;
    std::string rdata;
  };
  std::vector<Pending> rows;
  for (;;) {
    if (zs_parse_record(s) != 0 && s->state != ZS_STATE_ERROR) {
      throw ZoneFileError(fmt::format("{}: {}", file, zs_strerror(s->error.code)));
    }
    if (s->state == ZS_STATE_DATA) {
      std::string owner = wire_to_text(s->r_owner, s->r_owner_length);
      if (s->r_type == type_soa && zone.origin.empty()) zone.origin = owner;
      rows.push_back({std::move(owner), s->r_type, s->r_ttl,
                      std::string(reinterpret_cast<const char*>(s->r_data), s->r_data_length)});
    } else if (s->state == ZS_STATE_ERROR) {
      throw ZoneFileError(fmt::format("{}:{}:{}: {}", file, s->line_counter, column_of(*s), zs_strerror(s->error.code)));
    } else if (s->state == ZS_STATE_INCLUDE) {
      throw ZoneFileError(fmt::format("{}:{}: $INCLUDE is not followed: give each file with its own --zone-file", file,
                                      s->line_counter));
    } else {
      break;  // EOF or stop
    }
  }
  if (zone.origin.empty() || zone.origin == ".") {
    throw ZoneFileError(fmt::format("{}: no SOA record says which zone this is: write ORIGIN={}", file, file));
  }
  for (auto& r : rows) {
    if (!at_or_below(r.owner, zone.origin)) {
      throw ZoneFileError(fmt::format("{}: {} is outside the zone's origin {}", file, r.owner, zone.origin));
    }
    auto& node = zone.nodes[r.owner];
    auto& set = node.sets[r.type];
    set.ttl = set.rdata.empty() ? r.ttl : std::min(set.ttl, r.ttl);
    if (std::find(set.rdata.begin(), set.rdata.end(), r.rdata) == set.rdata.end()) set.rdata.push_back(std::move(r.rdata));
    ++*records;
    // Empty non-terminals between the owner and the origin exist too (RFC 4592 section 2.2.2).
    for (std::string up = parent_of(r.owner); !up.empty() && at_or_below(up, zone.origin) && up != zone.origin;
         up = parent_of(up)) {
      zone.nodes.try_emplace(up);
    }
  }
  zone.nodes.try_emplace(zone.origin);
  return zone;
}

}  // namespace

std::shared_ptr<const ZoneOverlay> ZoneOverlay::load(const std::vector<std::string>& specs) {
  auto overlay = std::make_shared<ZoneOverlay>();
  for (const auto& spec : specs) {
    auto zone = read_zone(spec, &overlay->records_);
    for (const auto& z : overlay->zones_) {
      if (z.origin == zone.origin) {
        throw ZoneFileError(fmt::format("{} and {} are both the zone {}", z.file, zone.file, zone.origin));
      }
    }
    overlay->zones_.push_back(std::move(zone));
  }
  // The deepest origin first, so that a child zone's file wins over its parent's.
  std::sort(overlay->zones_.begin(), overlay->zones_.end(),
            [](const Zone& a, const Zone& b) { return a.origin.size() > b.origin.size(); });
  return overlay;
}

const ZoneOverlay::Zone* ZoneOverlay::zone_for(const std::string& name) const {
  for (const auto& z : zones_) {
    if (!at_or_below(name, z.origin)) continue;
    // Below a delegation (NS other than at the apex) the child zone answers, not this file.
    for (std::string up = name; !up.empty() && up != z.origin; up = parent_of(up)) {
      auto it = z.nodes.find(up);
      if (it != z.nodes.end() && it->second.sets.count(type_ns) != 0) return nullptr;
    }
    return &z;
  }
  return nullptr;
}

const std::string* ZoneOverlay::covering(const std::string& name) const {
  const Zone* z = zone_for(name);
  return z != nullptr ? &z->origin : nullptr;
}

const std::string& ZoneOverlay::file_of(const std::string& origin) const {
  static const std::string none;
  for (const auto& z : zones_) {
    if (z.origin == origin) return z.file;
  }
  return none;
}

std::vector<std::string> ZoneOverlay::origins() const {
  std::vector<std::string> out;
  for (const auto& z : zones_) out.push_back(z.origin);
  return out;
}

std::optional<std::vector<std::uint8_t>> ZoneOverlay::reply(const std::string& qname, RrType qtype) const {
  const Zone* zone = zone_for(qname);
  if (zone == nullptr) return std::nullopt;
  const auto type = static_cast<std::uint16_t>(qtype);
  std::string answers;
  std::uint16_t count = 0;
  int rcode = 0;
  auto add = [&](const std::string& owner, std::uint16_t t, const RrSet& set) {
    for (const auto& rd : set.rdata) {
      answers += text_to_wire(owner);
      put16(answers, t);
      put16(answers, 1);
      put32(answers, set.ttl);
      put16(answers, static_cast<std::uint16_t>(rd.size()));
      answers += rd;
      ++count;
    }
  };
  std::string name = qname;
  for (int link = 0; link <= max_cname_links; ++link) {
    const Node* node = nullptr;
    if (auto it = zone->nodes.find(name); it != zone->nodes.end()) {
      node = &it->second;
    } else {
      // The closest encloser's wildcard (RFC 4592 section 3.3.1).
      for (std::string up = parent_of(name); !up.empty() && at_or_below(up, zone->origin); up = parent_of(up)) {
        if (zone->nodes.count(up) == 0) continue;
        if (auto w = zone->nodes.find("*." + up); w != zone->nodes.end()) node = &w->second;
        break;
      }
    }
    if (node == nullptr) {
      rcode = 3;  // NXDOMAIN: of the last name of a chain (RFC 6604)
      break;
    }
    if (auto it = node->sets.find(type); it != node->sets.end()) {
      add(name, type, it->second);
      break;
    }
    auto cn = node->sets.find(type_cname);
    if (cn == node->sets.end() || type == type_cname || cn->second.rdata.empty()) break;  // NODATA
    add(name, type_cname, cn->second);
    const auto& rd = cn->second.rdata.front();
    const std::string target = wire_to_text(reinterpret_cast<const std::uint8_t*>(rd.data()), rd.size());
    const Zone* next = zone_for(target);
    if (next == nullptr) break;  // the target is elsewhere: the resolver follows it
    zone = next;
    name = target;
  }
  std::string p;
  put16(p, 0);                                           // ID
  put16(p, static_cast<std::uint16_t>(0x8580 | rcode));  // QR AA RD RA, rcode
  put16(p, 1);
  put16(p, count);
  put16(p, 0);
  put16(p, 0);
  p += text_to_wire(qname);
  put16(p, type);
  put16(p, 1);
  p += answers;
  return std::vector<std::uint8_t>(p.begin(), p.end());
}

}  // namespace bp::resolver

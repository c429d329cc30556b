#include "domain_name.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace bp::resolver {

namespace {
// DNS compares names in ASCII case only (RFC 4343 section 3), whatever the locale.
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_ldh(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-'; }
}  // namespace

std::string normalize_name(std::string_view name) {
  std::string out(name);
  normalize_in_place(out);
  return out;
}

void normalize_in_place(std::string& name) {
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  std::transform(name.begin(), name.end(), name.begin(), lower);
}

bool is_normalized(std::string_view name) {
  if (name.size() > 1 && name.back() == '.') return false;
  return std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

std::string dns_name_problem(std::string_view name) {
  if (name.empty()) return "empty name";
  // Names are handed to C libraries (c-ares, libidn2) as C strings: a NUL would
  // silently cut the name there and a different name would be asked about.
  if (name.find('\0') != std::string_view::npos) return "name contains a NUL byte";
  if (name == ".") return {};
  if (name.back() == '.') name.remove_suffix(1);
  // Wire form is one length octet per label plus the root octet (RFC 1035 2.3.4).
  if (name.size() + 2 > 255) return "name longer than 253 characters";
  std::size_t start = 0;
  while (start <= name.size()) {
    auto dot = name.find('.', start);
    auto end = dot == std::string_view::npos ? name.size() : dot;
    auto len = end - start;
    if (len == 0) return "empty label";
    if (len > 63) return "label longer than 63 characters";
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return {};
}

std::string hostname_problem(std::string_view name) {
  if (auto p = dns_name_problem(name); !p.empty()) return p;
  if (name == ".") return "the root is not a host name";
  if (name.back() == '.') name.remove_suffix(1);
  std::size_t start = 0;
  std::string_view last;
  while (true) {
    auto dot = name.find('.', start);
    auto label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    for (char c : label) {
      if (!is_ldh(c)) return "character '" + std::string(1, c) + "' is not allowed in a host name";
    }
    if (label.front() == '-' || label.back() == '-') return "label '" + std::string(label) + "' begins or ends with a hyphen";
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (std::all_of(last.begin(), last.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    return "top-level label is all numeric";
  }
  return {};
}

bool parse_ip(std::string_view s, IpBytes* out) {
  // INET6_ADDRSTRLEN counts the NUL; the longest textual IPv6 address is 45 characters.
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN || s.find('\0') != std::string_view::npos) return false;
  char text[INET6_ADDRSTRLEN] = {};
  std::copy(s.begin(), s.end(), text);
  out->bytes.fill(0);
  if (inet_pton(AF_INET, text, out->bytes.data()) == 1) {
    out->v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text, out->bytes.data()) == 1) {
    out->v6 = true;
    return true;
  }
  return false;
}

bool looks_like_ip_literal(std::string_view name) {
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  IpBytes ip;
  return parse_ip(name, &ip);
}

std::string reversed_address_labels(std::string_view ip) {
  IpBytes a;
  if (!parse_ip(ip, &a)) return {};
  std::string out;
  if (!a.v6) {
    for (std::size_t i = 4; i-- > 0;) out += std::to_string(a.bytes[i]) + (i > 0 ? "." : "");
    return out;
  }
  static const char hex[] = "0123456789abcdef";
  for (std::size_t i = 16; i-- > 0;) {
    out += hex[a.bytes[i] & 0xf];
    out += '.';
    out += hex[a.bytes[i] >> 4];
    if (i > 0) out += '.';
  }
  return out;
}

std::string reverse_name(std::string_view ip) {
  auto labels = reversed_address_labels(ip);
  if (labels.empty()) return {};
  return labels + (labels.size() > 15 ? ".ip6.arpa" : ".in-addr.arpa");
}

bool same_name(std::string_view a, std::string_view b) { return normalize_name(a) == normalize_name(b); }

}  // namespace bp::resolver

#include "text.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace bp::probes {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim_ws(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t* code_point) {
  const auto b0 = static_cast<std::uint8_t>(s[i]);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
    cp = b0 & 0x1fu;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    cp = b0 & 0x0fu;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    cp = b0 & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<std::uint8_t>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3fu);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  if (code_point != nullptr) *code_point = cp;
  return n;
}

std::size_t append_utf8_or_replacement(std::string& out, std::string_view s, std::size_t i) {
  if (const auto n = utf8_sequence(s, i); n > 0) {
    out.append(s.data() + i, n);
    return n;
  }
  out += "\xef\xbf\xbd";  // U+FFFD
  return 1;
}

namespace {

/// \return the length of the well-formed, printable UTF-8 sequence at s[i] (2..4), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  std::uint32_t cp = 0;
  const auto n = utf8_sequence(s, i, &cp);
  if (n == 0) return 0;
  // C1 controls are not shown as they are.
  if (cp >= 0x80 && cp <= 0x9f) return 0;
  // Bidirectional overrides and isolates can reorder what a terminal shows.
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return 0;
  return n;
}

}  // namespace

std::string escaped(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (const auto n = c >= 0x80 ? utf8_length(s, i) : 0; n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  return out;
}

std::string shown(std::string_view s, std::size_t max) {
  std::string e = escaped(s);
  if (e.size() <= max) return e;
  // Cut on a character boundary: never inside a UTF-8 sequence or an escape.
  std::size_t cut = max;
  while (cut > 0 && (static_cast<std::uint8_t>(e[cut]) & 0xc0) == 0x80) --cut;
  const auto esc = e.rfind('\\', cut);
  if (esc != std::string::npos && cut - esc < 4) cut = esc;
  return fmt::format("{}... ({} bytes)", e.substr(0, cut), s.size());
}

}  // namespace bp::probes

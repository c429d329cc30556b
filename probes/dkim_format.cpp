// DKIM text: tag lists, header and body canonicalisation (RFC 6376 sections 3.2 and 3.4), base64.
#include "dkim.hpp"
#include "dkim_detail.hpp"

#include "text.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace bp::probes::dkim {

namespace detail {

namespace {
bool wsp(char c) { return c == ' ' || c == '\t'; }
}  // namespace

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && (wsp(s[a]) || s[a] == '\r' || s[a] == '\n')) ++a;
  while (b > a && (wsp(s[b - 1]) || s[b - 1] == '\r' || s[b - 1] == '\n')) --b;
  return std::string(s.substr(a, b - a));
}

std::string strip_ws(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!wsp(c) && c != '\r' && c != '\n') out += c;
  }
  return out;
}

std::optional<std::string> base64_decode(const std::string& in) {
  const std::string s = strip_ws(in);
  if (s.empty() || s.size() % 4 != 0) return std::nullopt;
  std::string out(s.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                                static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(n);
  if (s.size() >= 1 && s[s.size() - 1] == '=') --len;
  if (s.size() >= 2 && s[s.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

}  // namespace detail

using detail::lower;
using detail::trim;
using detail::wsp;

std::optional<std::map<std::string, std::string>> parse_tag_list(const std::string& text, std::string* error) {
  std::map<std::string, std::string> tags;
  std::size_t i = 0;
  while (i <= text.size()) {
    auto semi = text.find(';', i);
    const std::string spec = text.substr(i, semi == std::string::npos ? std::string::npos : semi - i);
    const std::string trimmed = trim(spec);
    if (!trimmed.empty()) {
      const auto eq = trimmed.find('=');
      if (eq == std::string::npos) {
        *error = fmt::format("'{}' is not tag=value", shown(trimmed, 40));
        return std::nullopt;
      }
      std::string name = trim(trimmed.substr(0, eq));
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
          })) {
        *error = fmt::format("'{}' is not a tag name", shown(name, 40));
        return std::nullopt;
      }
      if (tags.count(name)) {
        *error = fmt::format("tag {}= appears twice", name);
        return std::nullopt;
      }
      tags[name] = trim(trimmed.substr(eq + 1));
    }
    if (semi == std::string::npos) break;
    i = semi + 1;
  }
  return tags;
}

std::string canonical_header(const std::string& field, bool relaxed) {
  if (!relaxed) return field;
  const auto colon = field.find(':');
  std::string name = lower(trim(field.substr(0, colon)));
  std::string value;
  bool space = false;
  for (std::size_t i = colon == std::string::npos ? field.size() : colon + 1; i < field.size(); ++i) {
    const char c = field[i];
    if (c == '\r' || c == '\n') continue;  // unfold
    if (wsp(c)) {
      space = true;
      continue;
    }
    if (space && !value.empty()) value += ' ';
    space = false;
    value += c;
  }
  return name + ":" + value;
}

void BodyCanon::line(std::string_view l, std::string& out) {
  std::string canon;
  if (relaxed_) {
    bool space = false;
    for (char c : l) {
      if (wsp(c)) {
        space = true;
        continue;
      }
      if (space) canon += ' ';
      space = false;
      canon += c;
    }
  } else {
    canon.assign(l);
  }
  if (canon.empty()) {
    ++empty_lines_;  // kept back: empty lines at the end of the body are not hashed
    return;
  }
  for (; empty_lines_ > 0; --empty_lines_) out += "\r\n";
  out += canon;
  out += "\r\n";
  any_ = true;
}

void BodyCanon::feed(std::string_view raw, std::string& out) {
  std::size_t i = 0;
  while (i < raw.size()) {
    const auto nl = raw.find('\n', i);
    if (nl == std::string_view::npos) {
      partial_.append(raw.substr(i));
      return;
    }
    partial_.append(raw.substr(i, nl - i));
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    line(partial_, out);
    partial_.clear();
    i = nl + 1;
  }
}

void BodyCanon::finish(std::string& out) {
  if (!partial_.empty()) {
    line(partial_, out);  // a last line without CRLF gets one
    partial_.clear();
  }
  // An empty body is one CRLF in simple canonicalisation, nothing in relaxed (section 3.4.3, 3.4.4).
  if (!any_ && !relaxed_) out += "\r\n";
  empty_lines_ = 0;
}

}  // namespace bp::probes::dkim

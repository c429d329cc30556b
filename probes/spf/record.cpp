#include "record.hpp"

#include <domain_name.hpp>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bp::probes::spf {

namespace {

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}
bool is_macro_letter(char c, bool explanation) {
  const char l = lower(c);
  if (l == 'c' || l == 'r' || l == 't') return explanation;
  return l == 's' || l == 'l' || l == 'o' || l == 'd' || l == 'i' || l == 'p' || l == 'h' || l == 'v';
}
bool is_delimiter(char c) { return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '='; }

/// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view l) {
  if (l.empty()) return false;
  if (std::all_of(l.begin(), l.end(), is_alnum)) return std::any_of(l.begin(), l.end(), is_alpha);
  if (!is_alnum(l.front()) || !is_alnum(l.back())) return false;
  return std::all_of(l.begin(), l.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

/// Parses "/N" with no leading zero and N <= max; advances `pos`.
bool parse_cidr(std::string_view s, std::size_t& pos, int max, int* out) {
  if (pos >= s.size() || s[pos] != '/') return false;
  std::size_t start = ++pos;
  while (pos < s.size() && is_digit(s[pos])) ++pos;
  auto digits = s.substr(start, pos - start);
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return false;
  // RFC 7208 4.6.1 / 5.6: a length past the family's maximum makes the record a
  // permerror. A number too large for an int must not wrap into a small prefix.
  int v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || end != digits.data() + digits.size() || v < 0 || v > max) return false;
  *out = v;
  return true;
}

/// dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
std::string parse_dual_cidr(std::string_view s, Term& t) {
  std::size_t pos = 0;
  if (s.empty()) return {};
  if (s.substr(0, 2) != "//") {
    if (!parse_cidr(s, pos, 32, &t.cidr4)) return fmt::format("bad IPv4 prefix length '{}'", s);
  }
  if (pos < s.size()) {
    if (s.substr(pos, 2) != "//") return fmt::format("bad prefix length '{}'", s);
    ++pos;
    if (!parse_cidr(s, pos, 128, &t.cidr6)) return fmt::format("bad IPv6 prefix length '{}'", s);
  }
  if (pos != s.size()) return fmt::format("unexpected '{}' after the prefix length", s.substr(pos));
  return {};
}

std::string parse_mechanism(std::string_view tok, Term& t) {
  std::size_t i = 0;
  if (tok[0] == '+' || tok[0] == '-' || tok[0] == '~' || tok[0] == '?') {
    t.qualifier = tok[0];
    ++i;
  }
  std::size_t end = i;
  while (end < tok.size() && tok[end] != ':' && tok[end] != '/') ++end;
  const std::string name = lowered(tok.substr(i, end - i));
  std::string_view rest = tok.substr(end);
  struct Known {
    const char* name;
    Mechanism m;
  };
  static const Known known[] = {{"all", Mechanism::all}, {"include", Mechanism::include}, {"a", Mechanism::a},
                                {"mx", Mechanism::mx},   {"ptr", Mechanism::ptr},         {"ip4", Mechanism::ip4},
                                {"ip6", Mechanism::ip6}, {"exists", Mechanism::exists}};
  auto it = std::find_if(std::begin(known), std::end(known), [&](const Known& k) { return name == k.name; });
  if (it == std::end(known)) return fmt::format("unknown mechanism '{}'", name);
  t.mechanism = it->m;
  auto domain_arg = [&](bool required, bool cidr) -> std::string {
    std::string_view spec, cidrs;
    if (!rest.empty() && rest.front() == ':') {
      spec = rest.substr(1);
      // A domain-spec may itself hold '/' and ':' (macro-literal); only a trailing
      // "/digits" and "//digits" form the dual-cidr-length.
      if (cidr) {
        auto digits_after = [](std::string_view v, std::size_t at) {
          return at + 1 < v.size() && std::all_of(v.begin() + static_cast<long>(at) + 1, v.end(), is_digit);
        };
        std::size_t cut = spec.size();
        auto last = spec.rfind('/');
        if (last != std::string_view::npos && digits_after(spec, last)) {
          cut = last;
          if (last > 0 && spec[last - 1] == '/') {
            cut = last - 1;
            auto prev = spec.rfind('/', cut == 0 ? 0 : cut - 1);
            if (prev != std::string_view::npos && prev + 1 < cut &&
                std::all_of(spec.begin() + static_cast<long>(prev) + 1, spec.begin() + static_cast<long>(cut), is_digit)) {
              cut = prev;
            }
          }
        }
        cidrs = spec.substr(cut);
        spec = spec.substr(0, cut);
      }
      if (spec.empty()) return "empty domain after ':'";
    } else if (!rest.empty() && rest.front() == '/' && cidr) {
      cidrs = rest;
    } else if (!rest.empty()) {
      return fmt::format("unexpected '{}'", rest);
    }
    if (required && spec.empty()) return fmt::format("'{}' needs ':domain'", name);
    if (!spec.empty()) {
      if (auto p = macro_string_problem(spec, true, false); !p.empty()) return p;
      t.domain_spec = std::string(spec);
    }
    return cidr ? parse_dual_cidr(cidrs, t) : std::string{};
  };
  switch (t.mechanism) {
    case Mechanism::all: return rest.empty() ? std::string{} : fmt::format("'all' takes no argument, got '{}'", rest);
    case Mechanism::include:
    case Mechanism::exists: return domain_arg(true, false);
    case Mechanism::a:
    case Mechanism::mx: return domain_arg(false, true);
    case Mechanism::ptr: return domain_arg(false, false);
    case Mechanism::ip4:
    case Mechanism::ip6: {
      if (rest.empty() || rest.front() != ':') return fmt::format("'{}' needs ':address'", name);
      auto body = rest.substr(1);
      auto slash = body.find('/');
      t.network = std::string(body.substr(0, slash));
      const bool v6 = t.mechanism == Mechanism::ip6;
      resolver::IpBytes ip;
      if (!resolver::parse_ip(t.network, &ip) || ip.v6 != v6) {
        return fmt::format("'{}' is not an {} address", t.network, v6 ? "IPv6" : "IPv4");
      }
      if (slash != std::string_view::npos) {
        std::size_t pos = slash;
        if (!parse_cidr(body, pos, v6 ? 128 : 32, v6 ? &t.cidr6 : &t.cidr4) || pos != body.size()) {
          return fmt::format("bad prefix length '{}'", body.substr(slash));
        }
      }
      return {};
    }
  }
  return {};
}

}  // namespace

std::string_view to_string(Mechanism m) {
  switch (m) {
    case Mechanism::all: return "all";
    case Mechanism::include: return "include";
    case Mechanism::a: return "a";
    case Mechanism::mx: return "mx";
    case Mechanism::ptr: return "ptr";
    case Mechanism::ip4: return "ip4";
    case Mechanism::ip6: return "ip6";
    case Mechanism::exists: return "exists";
  }
  return "?";
}

bool Term::counts_lookup() const {
  if (modifier) return name == "redirect";
  return mechanism == Mechanism::include || mechanism == Mechanism::a || mechanism == Mechanism::mx ||
         mechanism == Mechanism::ptr || mechanism == Mechanism::exists;
}

bool is_spf_record(std::string_view txt) {
  return txt.size() >= 6 && lowered(txt.substr(0, 6)) == "v=spf1" && (txt.size() == 6 || txt[6] == ' ');
}

std::string macro_string_problem(std::string_view s, bool domain, bool explanation) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '%') {
      if (i + 1 >= s.size()) return "'%' at the end of a macro string";
      const char n = s[i + 1];
      if (n == '%' || n == '_' || n == '-') {
        ++i;
        continue;
      }
      if (n != '{') return fmt::format("'%{}' is not a macro (write %% for a percent sign)", n);
      auto close = s.find('}', i);
      if (close == std::string_view::npos) return "unterminated macro '%{'";
      auto body = s.substr(i + 2, close - i - 2);
      if (body.empty() || !is_macro_letter(body[0], explanation)) {
        return fmt::format("unknown macro letter in '%{{{}}}'", body);
      }
      std::size_t j = 1;
      std::size_t digits = 0;
      while (j < body.size() && is_digit(body[j])) {
        ++j;
        ++digits;
      }
      if (digits > 0 && std::all_of(body.begin() + 1, body.begin() + 1 + static_cast<long>(digits), [](char d) { return d == '0'; })) {
        return fmt::format("zero label count in '%{{{}}}'", body);
      }
      if (j < body.size() && lower(body[j]) == 'r') ++j;
      while (j < body.size() && is_delimiter(body[j])) ++j;
      if (j != body.size()) return fmt::format("bad transformer in '%{{{}}}'", body);
      i = close;
      continue;
    }
    if (c == ' ' && explanation) continue;
    if (c < 0x21 || c > 0x7e) return fmt::format("character 0x{:02x} is not allowed here", c);
  }
  if (!domain) return {};
  // domain-end = ( "." toplabel [ "." ] ) / macro-expand
  std::string_view d = s;
  if (d.size() >= 2 && (d.back() == '}' || (d[d.size() - 2] == '%' && (d.back() == '%' || d.back() == '_' || d.back() == '-')))) {
    return {};
  }
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  auto dot = d.rfind('.');
  if (dot == std::string_view::npos) return fmt::format("'{}' is not a domain name (no dot)", s);
  if (!is_toplabel(d.substr(dot + 1))) return fmt::format("'{}' does not end in a valid top-level label", s);
  return {};
}

Result<Record, ParseError> parse_record(std::string_view txt) {
  if (!is_spf_record(txt)) return ParseError{1, std::string(txt.substr(0, 12)), "record does not begin with 'v=spf1'"};
  Record rec;
  rec.text = std::string(txt);
  std::size_t pos = 6;
  while (pos < txt.size()) {
    if (txt[pos] == ' ') {
      ++pos;
      continue;
    }
    auto end = txt.find(' ', pos);
    if (end == std::string_view::npos) end = txt.size();
    auto tok = txt.substr(pos, end - pos);
    Term t;
    t.text = std::string(tok);
    t.column = pos + 1;
    auto fail = [&](std::string why) { return ParseError{t.column, t.text, std::move(why)}; };
    for (char ch : tok) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x21 || c > 0x7e) return fail(fmt::format("character 0x{:02x} is not allowed in a term", c));
    }
    // modifier = name "=" macro-string; name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
    auto eq = tok.find('=');
    auto sep = tok.find_first_of(":/");
    if (eq != std::string_view::npos && (sep == std::string_view::npos || eq < sep) && eq > 0 && is_alpha(tok[0]) &&
        std::all_of(tok.begin(), tok.begin() + static_cast<long>(eq),
                    [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; })) {
      t.modifier = true;
      t.name = lowered(tok.substr(0, eq));
      t.domain_spec = std::string(tok.substr(eq + 1));
      const bool known = t.name == "redirect" || t.name == "exp";
      if (auto p = macro_string_problem(t.domain_spec, known, false); !p.empty()) return fail(p);
      if (known && t.domain_spec.empty()) return fail(fmt::format("'{}=' needs a domain", t.name));
      if (t.name == "redirect") {
        if (rec.redirect) return fail("a second 'redirect=' (section 6)");
        rec.redirect = t;
      } else if (t.name == "exp") {
        if (rec.exp) return fail("a second 'exp=' (section 6)");
        rec.exp = t;
      }
      rec.terms.push_back(std::move(t));
    } else {
      if (auto why = parse_mechanism(tok, t); !why.empty()) return fail(why);
      rec.terms.push_back(std::move(t));
    }
    pos = end;
  }
  return rec;
}

namespace {

std::string url_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_alnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += ch;
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string macro_value(char letter, const MacroContext& ctx) {
  switch (lower(letter)) {
    case 's': return ctx.sender;
    case 'l': return ctx.local;
    case 'o': return ctx.sender_domain;
    case 'd': return ctx.domain;
    case 'h': return ctx.helo;
    case 'p': return ctx.validated.empty() ? "unknown" : ctx.validated;
    case 'v': return ctx.ipv6 ? "ip6" : "in-addr";
    case 'r': return ctx.receiver;
    case 't': return std::to_string(ctx.timestamp);
    case 'c': return ctx.ip;
    case 'i': {
      if (!ctx.ipv6) return ctx.ip;
      resolver::IpBytes ip;
      if (!resolver::parse_ip(ctx.ip, &ip)) return ctx.ip;
      std::string out;
      for (unsigned char x : ip.bytes) {
        out += fmt::format("{:X}.{:X}.", x >> 4, x & 0xf);  // as in the RFC 7208 section 7.4 example
      }
      out.pop_back();
      return out;
    }
    default: return {};
  }
}

}  // namespace

Result<std::string, MacroError> expand_macros(std::string_view s, const MacroContext& ctx, bool domain,
                                               bool explanation) {
  if (auto p = macro_string_problem(s, domain, explanation); !p.empty()) return MacroError{p};
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const char n = s[i + 1];
    if (n == '%') out += '%';
    else if (n == '_') out += ' ';
    else if (n == '-') out += "%20";
    if (n != '{') {
      ++i;
      continue;
    }
    auto close = s.find('}', i);
    auto body = s.substr(i + 2, close - i - 2);
    i = close;
    const char letter = body[0];
    std::size_t j = 1;
    std::size_t keep = 0;
    while (j < body.size() && is_digit(body[j])) keep = keep * 10 + static_cast<std::size_t>(body[j++] - '0');
    bool reverse = false;
    if (j < body.size() && lower(body[j]) == 'r') {
      reverse = true;
      ++j;
    }
    const std::string delims = j < body.size() ? std::string(body.substr(j)) : std::string(1, '.');
    // Split on any delimiter, reverse and keep the rightmost parts, join with dots (section 7.3).
    const std::string value = macro_value(letter, ctx);
    std::vector<std::string> parts;
    std::string cur;
    for (char c : value) {
      if (delims.find(c) != std::string::npos) {
        parts.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    parts.push_back(cur);
    if (reverse) std::reverse(parts.begin(), parts.end());
    if (keep > 0 && keep < parts.size()) parts.erase(parts.begin(), parts.end() - static_cast<long>(keep));
    std::string joined;
    for (std::size_t k = 0; k < parts.size(); ++k) {
      if (k > 0) joined += '.';
      joined += parts[k];
    }
    out += std::isupper(static_cast<unsigned char>(letter)) != 0 ? url_escape(joined) : joined;
  }
  if (domain) {
    // Section 7.3: cut labels from the left until the name fits in 253 octets.
    while (out.size() > 253) {
      auto dot = out.find('.');
      if (dot == std::string::npos) return MacroError{"expanded domain longer than 253 octets"};
      out.erase(0, dot + 1);
    }
  }
  return out;
}

}  // namespace bp::probes::spf

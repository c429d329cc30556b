#include "sender.hpp"
#include "text.hpp"

#include <domain_name.hpp>

#include <fmt/format.h>
#include <idn2.h>

#include <cstring>

namespace bp::probes {

namespace {

bool is_atext(unsigned char c) {
  return std::isalnum(c) != 0 || std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr || c >= 0x80;
}

/// RFC 5321 4.1.2 Dot-string / Quoted-string (RFC 6531 allows UTF-8 in both).
std::string local_part_problem(std::string_view l) {
  if (l.empty()) return "empty local part";
  if (l.size() > 64) return fmt::format("local part is {} octets; the limit is 64 (RFC 5321 section 4.5.3.1.1)", l.size());
  if (l.front() == '"') {
    if (l.size() < 2 || l.back() != '"') return "unterminated quoted local part";
    for (std::size_t i = 1; i + 1 < l.size(); ++i) {
      auto c = static_cast<unsigned char>(l[i]);
      if (c == '\\') {
        if (i + 2 >= l.size()) return "backslash at the end of the quoted local part";
        ++i;
        continue;
      }
      if (c == '"' || c < 32 || c == 127) return "invalid character in quoted local part";
    }
    return {};
  }
  if (l.front() == '.' || l.back() == '.') return "local part begins or ends with a dot";
  if (l.find("..") != std::string_view::npos) return "local part has two dots in a row";
  for (char ch : l) {
    auto c = static_cast<unsigned char>(ch);
    if (c != '.' && !is_atext(c)) return fmt::format("character '{}' is not allowed in an unquoted local part", shown(std::string_view(&ch, 1)));
  }
  return {};
}

bool has_non_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

Finding make(std::string code, Severity sev, std::string subject, std::string summary) {
  return make_finding("sender", std::move(code), sev, std::move(subject), std::move(summary));
}

}  // namespace

std::optional<std::string> domain_to_ascii(std::string_view domain, std::string* problem) {
  std::string in(domain);
  std::string ascii = in;
  // libidn2 takes C strings: a NUL would cut the name short.
  if (in.find('\0') != std::string::npos) {
    *problem = "the domain contains a NUL byte";
    return std::nullopt;
  }
  if (has_non_ascii(in)) {
    char* out = nullptr;
    int rc = idn2_to_ascii_8z(in.c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
      *problem = fmt::format("'{}' is not a valid internationalised domain name: {}", shown(in), idn2_strerror(rc));
      return std::nullopt;
    }
    ascii = out;
    idn2_free(out);
  } else if (resolver::normalize_name(ascii).find("xn--") != std::string::npos) {
    char* out = nullptr;
    int rc = idn2_to_unicode_8z8z(ascii.c_str(), &out, 0);
    if (rc != IDN2_OK) {
      *problem = fmt::format("'{}' has an invalid A-label: {}", shown(in), idn2_strerror(rc));
      return std::nullopt;
    }
    idn2_free(out);
  }
  ascii = resolver::normalize_name(ascii);
  if (auto p = resolver::dns_name_problem(ascii); !p.empty()) {
    *problem = fmt::format("'{}': {}", shown(in), p);
    return std::nullopt;
  }
  return ascii;
}

std::optional<MailAddress> parse_mail_address(std::string_view text, std::string* problem) {
  MailAddress a;
  std::string_view s = text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  a.text = std::string(s);
  if (s.empty()) {
    a.null_sender = true;
    return a;
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) {
      *problem = "address contains a control character";
      return std::nullopt;
    }
  }
  if (s.size() > 254) {
    *problem = fmt::format("address is {} octets; a path holds at most 256 with its brackets (RFC 5321 section 4.5.3.1.3)", s.size());
    return std::nullopt;
  }
  auto at = s.rfind('@');
  if (at == std::string_view::npos) {
    // Postfix treats a bare name as an unqualified address; keep it so the
    // fully-qualified check can report it.
    if (auto p = local_part_problem(s); !p.empty()) {
      *problem = p;
      return std::nullopt;
    }
    a.local = std::string(s);
    return a;
  }
  a.local = std::string(s.substr(0, at));
  a.domain = std::string(s.substr(at + 1));
  if (auto p = local_part_problem(a.local); !p.empty()) {
    *problem = p;
    return std::nullopt;
  }
  a.utf8_local = has_non_ascii(a.local);
  if (a.domain.empty()) {
    *problem = "empty domain after '@'";
    return std::nullopt;
  }
  if (a.domain.front() == '[') {
    if (a.domain.back() != ']') {
      *problem = "unterminated address literal";
      return std::nullopt;
    }
    std::string inner = a.domain.substr(1, a.domain.size() - 2);
    if (inner.rfind("IPv6:", 0) == 0) inner = inner.substr(5);
    if (!resolver::looks_like_ip_literal(inner)) {
      *problem = fmt::format("address literal {} is not an IP address", a.domain);
      return std::nullopt;
    }
    a.domain_literal = true;
    a.ascii_domain = a.domain;
    return a;
  }
  auto ascii = domain_to_ascii(a.domain, problem);
  if (!ascii) return std::nullopt;
  a.idn = has_non_ascii(a.domain) || ascii->find("xn--") != std::string::npos;
  a.ascii_domain = *ascii;
  return a;
}

AddressCheck check_address(std::string_view text, const std::string& role) {
  AddressCheck out;
  std::string problem;
  const std::string quoted = shown(text, 320);  // an address is at most 254 octets: only hostile input is cut
  auto a = parse_mail_address(text, &problem);
  if (!a) {
    out.problem = problem;
    auto f = make(role + ".syntax", Severity::error, quoted, fmt::format("{} address '{}' is malformed: {}", role, quoted, problem));
    f.reference = "RFC 5321 section 4.1.2";
    f.fix = fmt::format("use a {} address of the form local-part@domain.example", role);
    out.findings.push_back(std::move(f));
    return out;
  }
  out.address = a;
  if (a->null_sender) {
    out.fqdn = true;
    out.findings.push_back(make(role + ".null", Severity::info, "<>",
                                "null reverse-path <>: the message is a bounce or notification; domain checks do not apply"));
    return out;
  }
  if (a->domain_literal) {
    out.fqdn = true;
    auto f = make(role + ".address-literal", Severity::warning, quoted,
                  fmt::format("{} domain is an address literal {}; many receivers refuse such addresses", role, a->domain));
    f.reference = "RFC 5321 section 4.1.3";
    out.findings.push_back(std::move(f));
    return out;
  }
  // Postfix reject_non_fqdn_*: the domain must be present, a valid host name, and contain a dot.
  std::string why;
  if (a->domain.empty()) {
    why = "it has no domain part";
  } else if (auto hp = resolver::hostname_problem(a->ascii_domain); !hp.empty()) {
    why = fmt::format("the domain '{}' is not a valid host name ({})", a->domain, hp);
  } else if (a->ascii_domain.find('.') == std::string::npos) {
    why = fmt::format("the domain '{}' has no dot", a->domain);
  }
  if (!why.empty()) {
    auto f = make(role + ".not-fqdn", Severity::error, quoted,
                  fmt::format("{} address '{}' is not fully qualified: {}", role, quoted, why));
    f.reference = "RFC 5321 section 2.3.5";
    f.fix = "configure the sending program to use a real, fully qualified domain (e.g. Postfix myorigin)";
    out.findings.push_back(std::move(f));
    return out;
  }
  out.fqdn = true;
  if (a->idn) {
    out.findings.push_back(make(role + ".idn", Severity::info, quoted,
                                fmt::format("{} domain '{}' is internationalised; DNS name {}", role, a->domain, a->ascii_domain)));
  }
  if (a->utf8_local) {
    auto f = make(role + ".utf8-local-part", Severity::warning, quoted,
                  fmt::format("{} local part '{}' is not ASCII: it needs SMTPUTF8 at every hop", role, a->local));
    f.reference = "RFC 6531";
    out.findings.push_back(std::move(f));
  }
  return out;
}

std::string_view to_string(DomainMailState s) {
  switch (s) {
    case DomainMailState::exists: return "exists";
    case DomainMailState::null_mx: return "null_mx";
    case DomainMailState::not_found: return "not_found";
    case DomainMailState::lookup_failed: return "lookup_failed";
  }
  return "unknown";
}

DomainMailState sender_domain_state(const MxReport& mx) {
  if (mx.failure) {
    switch (mx.failure->kind) {
      case resolver::DnsFailure::nxdomain: return DomainMailState::not_found;
      case resolver::DnsFailure::nodata: {
        if (mx.targets.empty()) return DomainMailState::lookup_failed;
        const auto& self = mx.targets.front();
        if (!self.addresses.empty()) return DomainMailState::exists;
        return self.unresolvable() ? DomainMailState::not_found : DomainMailState::lookup_failed;
      }
      default: return DomainMailState::lookup_failed;
    }
  }
  // Postfix treats any MX whose exchange is "." as a null MX (dns_lookup.c).
  for (const auto& t : mx.targets) {
    if (t.host.empty()) return DomainMailState::null_mx;
  }
  return DomainMailState::exists;
}

std::vector<std::pair<std::string, AddressClass>> sender_mx_addresses(const MxReport& mx) {
  std::vector<std::pair<std::string, AddressClass>> out;
  if (sender_domain_state(mx) == DomainMailState::null_mx) return out;
  if (mx.failure && mx.failure->kind != resolver::DnsFailure::nodata) return out;
  for (const auto& t : mx.targets) {
    for (const auto& a : t.addresses) out.emplace_back(t.host, a);
  }
  return out;
}

std::vector<Finding> sender_domain_findings(const MxReport& mx, const std::string& sender) {
  std::vector<Finding> out;
  const auto& d = mx.domain;
  const std::string who = sender.empty() ? d : sender;
  switch (sender_domain_state(mx)) {
    case DomainMailState::not_found: {
      auto f = make("sender.domain-not-found", Severity::error, d,
                    fmt::format("{} has no MX, A or AAAA record: receivers answer mail from {} with 450 4.1.8 Domain not found", d, who));
      f.fix = fmt::format("publish MX (or A/AAAA) records for {}", d);
      f.evidence = mx.evidence;
      out.push_back(std::move(f));
      break;
    }
    case DomainMailState::null_mx: {
      auto f = make("sender.domain-null-mx", Severity::warning, d,
                    fmt::format("{} publishes a null MX, so receivers may refuse mail from {} (550 5.7.27)", d, who));
      f.reference = "RFC 7505 section 4.2";
      f.fix = fmt::format("send from a domain that accepts mail, or replace the null MX of {} with real MX records", d);
      f.evidence = mx.evidence;
      out.push_back(std::move(f));
      break;
    }
    case DomainMailState::lookup_failed: {
      auto f = make("sender.domain-lookup-failed", Severity::warning, d,
                    fmt::format("could not check whether {} exists; a receiver whose lookup fails the same way "
                                "defers mail from {} (450 4.1.8)",
                                d, who));
      f.checked = false;
      f.evidence = mx.evidence;
      out.push_back(std::move(f));
      break;
    }
    case DomainMailState::exists: break;
  }
  for (const auto& [host, a] : sender_mx_addresses(mx)) {
    if (a.slug != "rfc1918" || a.overridden) continue;
    auto f = make("sender.mx-rfc1918", Severity::error, host,
                  fmt::format("mail server {} of {} is in an RFC 1918 private network ({}); receivers that check "
                              "sender MX hosts reject mail from {} (554 5.7.1 ACL mx_access)",
                              host, d, a.address, who));
    f.reference = "RFC 1918";
    f.fix = fmt::format("point the MX records of {} at hosts with public addresses", d);
    f.evidence = mx.evidence;
    for (const auto& t : mx.targets) {
      if (t.host == host) f.evidence.insert(f.evidence.end(), t.evidence.begin(), t.evidence.end());
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace bp::probes

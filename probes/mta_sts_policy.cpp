// The MTA-STS policy: fetched as a sender fetches it, read, and judged against
// the domain's MX hosts and their certificates (mta_sts.hpp).
#include "address.hpp"
#include "mta_sts.hpp"
#include "text.hpp"

#include <async.hpp>
#include <domain_name.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace bp::probes::transport {

namespace {

constexpr const char* policy_path = "/.well-known/mta-sts.txt";
constexpr long max_age_limit = 31557600;  // RFC 8461 section 3.2: about one year

/// A host name an mx: pattern may carry after an optional "*.": letters, digits, hyphens, dots.
bool plausible_name(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.find("..") != std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'; });
}

}  // namespace

Policy parse_policy(std::string_view text) {
  Policy p;
  int versions = 0, modes = 0, ages = 0;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    line = trim_ws(line);
    if (line.empty()) continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      p.problems.push_back(fmt::format("line {} ('{}') is not \"key: value\"", line_no, shown(std::string(line), 40)));
      continue;
    }
    const auto key = std::string(trim_ws(line.substr(0, colon)));
    const auto value = std::string(trim_ws(line.substr(colon + 1)));
    if (key == "version") {
      if (versions++ == 0) p.version = value;
    } else if (key == "mode") {
      if (modes++ == 0) p.mode = value;
    } else if (key == "max_age") {
      if (ages++ > 0) continue;
      long n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || value.size() > 10 || ec != std::errc{} || end != value.data() + value.size() || n < 0) {
        p.problems.push_back(fmt::format("max_age '{}' is not a number of seconds", shown(value, 20)));
      } else if (n > max_age_limit) {
        p.problems.push_back(fmt::format("max_age {} is over the limit of {} seconds", n, max_age_limit));
      } else {
        p.max_age = n;
      }
    } else if (key == "mx") {
      const auto pattern = resolver::normalize_name(value);
      const auto name = pattern.rfind("*.", 0) == 0 ? std::string_view(pattern).substr(2) : std::string_view(pattern);
      if (!plausible_name(name)) {
        p.problems.push_back(fmt::format("mx '{}' is not a host name or *.name pattern", shown(value, 60)));
      } else {
        p.mx.push_back(pattern);
      }
    } else if (key.empty() || key.find_first_of(" \t") != std::string::npos) {
      p.problems.push_back(fmt::format("line {} ('{}') has no field name", line_no, shown(std::string(line), 40)));
    }  // other fields are extensions, ignored (section 3.2)
  }
  if (versions == 0) {
    p.problems.insert(p.problems.begin(), "no version field");
  } else if (p.version != "STSv1") {
    p.problems.insert(p.problems.begin(), fmt::format("version is '{}', not STSv1", shown(p.version, 20)));
  }
  if (modes == 0) {
    p.problems.push_back("no mode field");
  } else if (p.mode != "enforce" && p.mode != "testing" && p.mode != "none") {
    p.problems.push_back(fmt::format("mode '{}' is none of enforce, testing, none", shown(p.mode, 20)));
  }
  if (ages == 0) p.problems.push_back("no max_age field");
  if (p.mx.empty() && p.mode != "none") p.problems.push_back("no mx field: no MX host is allowed");
  for (auto [name, n] : {std::pair{"version", versions}, std::pair{"mode", modes}, std::pair{"max_age", ages}}) {
    if (n > 1) p.problems.push_back(fmt::format("{} appears {} times", name, n));
  }
  return p;
}

bool mx_matches(std::string_view pattern, std::string_view host) {
  const auto p = resolver::normalize_name(pattern);
  const auto h = resolver::normalize_name(host);
  if (p.rfind("*.", 0) != 0) return p == h;
  // "*.example.com" stands for exactly one label in front of example.com (section 4.1).
  const auto rest = std::string_view(p).substr(1);  // ".example.com"
  if (h.size() <= rest.size() || h.compare(h.size() - rest.size(), rest.size(), rest) != 0) return false;
  const auto label = std::string_view(h).substr(0, h.size() - rest.size());
  return !label.empty() && label.find('.') == std::string_view::npos;
}

asio::awaitable<TransportReport> check_transport(resolver::Resolver& r, std::string domain, TransportOptions options) {
  std::vector<resolver::Resolver::Question> ops;
  ops.push_back({"_mta-sts." + domain, resolver::RrType::txt});
  ops.push_back({"_smtp._tls." + domain, resolver::RrType::txt});
  auto answers = co_await r.lookup_all(std::move(ops));
  TransportReport rep;
  std::string id;
  rep.findings = mta_sts_findings(domain, answers[0], &id);
  for (auto& f : tls_rpt_findings(domain, answers[1])) rep.findings.push_back(std::move(f));
  if (id.empty()) co_return rep;
  if (!options.fetch_policy) {
    rep.fetch_skipped = true;
    co_return rep;
  }
  PolicyFetch p;
  p.id = id;
  p.host = "mta-sts." + domain;
  std::vector<resolver::Resolver::Question> hosts;
  hosts.push_back({p.host, resolver::RrType::a});
  hosts.push_back({p.host, resolver::RrType::aaaa});
  auto addr = co_await r.lookup_all(std::move(hosts));
  std::vector<std::string> addresses;
  for (const auto& a : addr) {
    if (!a.ok()) {
      if (!resolver::is_negative(a.error().kind) && !p.address_failure) p.address_failure = a.error();
      continue;
    }
    for (const auto& rec : a->records) {
      if (rec.address.empty()) continue;
      const auto c = classify(rec.address, options.addresses);
      if (c && !c->global) {
        p.skipped.push_back(fmt::format("{} ({})", rec.address, c->name));
      } else {
        addresses.push_back(rec.address);
      }
    }
  }
  if (!addresses.empty() || (p.skipped.empty() && !p.address_failure)) {
    p.fetch = co_await https::get(r.executor(), p.host, addresses, policy_path, options.ca_file, options.limits);
    const auto& resp = p.fetch.response;
    if (resp && resp->status == 200 && !resp->body_cut) p.policy = parse_policy(resp->body);
  }
  rep.policy = std::move(p);
  co_return rep;
}

namespace {

Finding policy_finding(const char* code, Severity s, const std::string& domain, std::string summary, const PolicyFetch& p,
                       const char* reference, std::string fix = {}) {
  auto f = make_finding("mta-sts", code, s, domain, std::move(summary));
  f.reference = reference;
  f.fix = std::move(fix);
  if (!p.fetch.url.empty()) {
    std::string answer = p.fetch.response ? fmt::format("HTTP {} {}", p.fetch.response->status, p.fetch.response->reason)
                                          : p.fetch.error;
    if (!p.fetch.address.empty()) answer += fmt::format(" (from [{}] in {:.0f} ms)", p.fetch.address, p.fetch.ms);
    f.evidence.push_back({"GET " + p.fetch.url, answer});
  }
  return f;
}

}  // namespace

std::vector<Finding> policy_findings(const std::string& domain, const PolicyFetch& p, const MxReport& mx, const SmtpReport* smtp) {
  std::vector<Finding> out;
  const char* fetch_ref = "RFC 8461 section 3.3";
  const std::string url = fmt::format("https://{}{}", p.host, policy_path);
  const std::string lost = "senders that find the _mta-sts record but cannot use the policy deliver as if there were none";
  // Getting the policy: an address, a connection, an acceptable certificate, 200, text/plain, within bounds.
  if (p.fetch.url.empty()) {
    std::string why = p.address_failure ? fmt::format("the address lookup failed ({})", p.address_failure->detail)
                                        : fmt::format("its only addresses are not routable: {}", fmt::join(p.skipped, ", "));
    auto f = policy_finding("mta-sts.policy-unreachable", p.address_failure ? Severity::warning : Severity::error, domain,
                            fmt::format("{} was not fetched: {}", url, why), p, fetch_ref,
                            fmt::format("publish public A/AAAA records for {}", p.host));
    f.checked = !p.address_failure;
    out.push_back(std::move(f));
    return out;
  }
  const auto& fetch = p.fetch;
  if (!fetch.response) {
    if (fetch.tls && fetch.tls->ok && !smtp::certificate_acceptable(*fetch.tls)) {
      out.push_back(policy_finding("mta-sts.policy-certificate", Severity::error, domain,
                                   fmt::format("{}: the certificate {}; {}", p.host, smtp::certificate_problems(*fetch.tls), lost),
                                   p, fetch_ref,
                                   fmt::format("serve a certificate for {} from a public CA, with its full chain", p.host)));
      return out;
    }
    std::string why = fetch.error;
    for (const auto& t : fetch.tried) why += "; " + t;
    out.push_back(policy_finding("mta-sts.policy-unreachable", Severity::error, domain,
                                 fmt::format("{} could not be fetched: {}; {}", url, why, lost), p, fetch_ref,
                                 fmt::format("serve the policy over HTTPS (port 443) at {}", url)));
    return out;
  }
  const auto& resp = *fetch.response;
  if (resp.status != 200) {
    const bool redirect = resp.status >= 300 && resp.status < 400;
    out.push_back(policy_finding(
        "mta-sts.policy-http-status", Severity::error, domain,
        redirect ? fmt::format("{} answers {} {} (to {}): senders do not follow redirects; {}", url, resp.status, resp.reason,
                               shown(resp.location, 80), lost)
                 : fmt::format("{} answers {} {}, not 200; {}", url, resp.status, resp.reason, lost),
        p, fetch_ref, fmt::format("serve the policy itself at {} with status 200", url)));
    return out;
  }
  const auto media = ascii_lower(trim_ws(std::string_view(resp.content_type).substr(0, resp.content_type.find(';'))));
  if (media != "text/plain") {
    out.push_back(policy_finding("mta-sts.policy-content-type", Severity::error, domain,
                                 fmt::format("{} is served as '{}', not text/plain: senders that check the media type reject it",
                                             url, shown(resp.content_type, 60)),
                                 p, "RFC 8461 section 3.2", "serve mta-sts.txt with Content-Type: text/plain"));
  }
  if (resp.body_cut) {
    out.push_back(policy_finding("mta-sts.policy-too-large", Severity::error, domain,
                                 fmt::format("{} is larger than {} bytes: senders stop reading a policy that long; {}", url,
                                             resp.body.size(), lost),
                                 p, fetch_ref, "a policy is a few lines: serve only those"));
    return out;
  }
  const auto pol = p.policy ? *p.policy : parse_policy(resp.body);
  if (!pol.problems.empty()) {
    auto f = policy_finding("mta-sts.policy-syntax", Severity::error, domain,
                            fmt::format("{} is not a valid policy: {}; {}", url, fmt::join(pol.problems, "; "), lost), p,
                            "RFC 8461 section 3.2",
                            "write version: STSv1, mode: enforce|testing|none, max_age: <seconds>, and one mx: line per MX host");
    f.detail = shown(resp.body.substr(0, 400), 400);
    out.push_back(std::move(f));
    return out;
  }
  {
    auto f = policy_finding("mta-sts.policy-ok", Severity::ok, domain, fmt::format("policy id {}: {}", p.id, policy_summary(pol)), p,
                            "RFC 8461 section 3.2");
    if (pol.mode == "none") f.summary += " (mode none: senders withdraw the policy)";
    out.push_back(std::move(f));
  }
  if (pol.max_age && *pol.max_age < 86400 && pol.mode != "none") {
    out.push_back(policy_finding("mta-sts.max-age-short", Severity::warning, domain,
                                 fmt::format("max_age {} is under a day: senders fetch the policy again that often, and an attacker "
                                             "who blocks the fetch for longer strips it",
                                             *pol.max_age),
                                 p, "RFC 8461 section 3.2", "use a max_age of weeks (604800 or more) once the policy is settled"));
  }
  if (pol.mode == "none") return out;
  // Every MX host must match a pattern; in enforce mode a sender refuses the others (section 4.1).
  const bool enforce = pol.mode == "enforce";
  const Severity sev = enforce ? Severity::error : Severity::warning;
  const std::string consequence = enforce ? "senders that enforce the policy will not deliver to it"
                                          : "in testing mode senders deliver anyway and report the failure (TLS-RPT)";
  for (const auto& t : mx.targets) {
    if (t.ip_literal) continue;
    const bool covered = std::any_of(pol.mx.begin(), pol.mx.end(), [&](const std::string& m) { return mx_matches(m, t.host); });
    if (!covered) {
      out.push_back(policy_finding("mta-sts.mx-not-covered", sev, t.host,
                                   fmt::format("MX host {} matches none of the policy's mx: patterns ({}): {}", t.host,
                                               fmt::join(pol.mx, ", "), consequence),
                                   p, "RFC 8461 section 4.1", fmt::format("add \"mx: {}\" to the policy (and change the record's id)", t.host)));
    }
  }
  // Each MX host must offer STARTTLS with a certificate a sender can authenticate (section 4.2).
  if (smtp == nullptr || !smtp->attempted) {
    if (!mx.targets.empty()) {
      auto f = make_finding("mta-sts", "mta-sts.mx-tls-unchecked", Severity::info, domain,
                            "the MX hosts' certificates were not checked against the policy: no SMTP dialogue ran");
      f.checked = false;
      f.reference = "RFC 8461 section 4.2";
      out.push_back(std::move(f));
    }
    return out;
  }
  std::set<std::string> judged;
  for (const auto& s : smtp->sessions) {
    if (!s.connected || !s.esmtp || judged.count(s.host) > 0) continue;  // no EHLO answer: nothing to judge
    judged.insert(s.host);
    std::string problem;
    if (!s.starttls_offered) {
      problem = "offers no STARTTLS";
    } else if (!s.tls || !s.tls->ok) {
      problem = "did not complete STARTTLS" + (s.tls && !s.tls->error.empty() ? " (" + s.tls->error + ")" : std::string());
    } else if (!smtp::certificate_acceptable(*s.tls)) {
      problem = "presents a certificate that " + smtp::certificate_problems(*s.tls);
    }
    if (problem.empty()) continue;
    out.push_back(policy_finding("mta-sts.mx-tls", sev, s.host,
                                 fmt::format("MX host {} [{}] {}: {}", s.host, s.address, problem, consequence), p,
                                 "RFC 8461 section 4.2",
                                 "offer STARTTLS with a certificate for the MX host name from a public CA, with its full chain"));
  }
  return out;
}

}  // namespace bp::probes::transport

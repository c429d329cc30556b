#include "dmarc.hpp"

#include "../limits.hpp"

#include <async.hpp>
#include <domain_name.hpp>

#include <fmt/format.h>
#include <libpsl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace bp::probes::dmarc {

using resolver::Lookup;
using resolver::RrType;

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto p = s.find(sep, start);
    out.push_back(trim(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start)));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

bool is_policy(const std::string& v) { return v == "none" || v == "quarantine" || v == "reject"; }

Finding make(std::string code, Severity sev, std::string subject, std::string summary) {
  auto f = make_finding("dmarc", std::move(code), sev, std::move(subject), std::move(summary));
  f.reference = "RFC 7489";
  return f;
}

std::vector<std::string> dmarc_records(const Lookup& l) {
  std::vector<std::string> out;
  if (!l.ok()) return out;
  for (const auto& rec : l->records) {
    std::string joined;
    for (const auto& s : rec.strings) joined += s;
    auto t = trim(joined);
    if (t.rfind("v=DMARC1", 0) == 0 && (t.size() == 8 || t[8] == ';' || t[8] == ' ' || t[8] == '\t')) out.push_back(t);
  }
  return out;
}

bool is_failure(const Lookup& l) { return !l.ok() && !resolver::is_negative(l.error().kind); }

/// Looks up _dmarc.NAME TXT and records it as evidence (no capturing lambda coroutines: CP.51).
asio::awaitable<Lookup> ask(resolver::Resolver& r, std::string name, std::vector<Evidence>* evidence) {
  auto l = co_await r.lookup("_dmarc." + name, RrType::txt);
  evidence->push_back(Evidence{"_dmarc." + name + " TXT", resolver::answer_text(l)});
  co_return l;
}

}  // namespace

DmarcParse parse_dmarc(std::string_view text) {
  DmarcParse out;
  DmarcRecord rec;
  rec.text = std::string(text);
  auto parts = split(text, ';');
  if (parts.empty() || parts[0] != "v=DMARC1") {
    out.errors.push_back("the record must begin with the tag v=DMARC1");
    return out;
  }
  std::map<std::string, std::string> seen;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;  // a trailing ';' is allowed
    auto eq = parts[i].find('=');
    if (eq == std::string::npos) {
      out.warnings.push_back(fmt::format("'{}' is not a tag=value pair; ignored", parts[i]));
      continue;
    }
    auto k = lower(trim(std::string_view(parts[i]).substr(0, eq)));
    auto v = trim(std::string_view(parts[i]).substr(eq + 1));
    if (k == "v") {
      out.warnings.push_back("v= may appear only first; ignored");
      continue;
    }
    if (!seen.emplace(k, v).second) out.warnings.push_back(fmt::format("tag {} appears twice; the first is used", k));
  }
  static const std::set<std::string> known{"p", "sp", "np", "pct", "adkim", "aspf", "rua", "ruf", "fo", "rf", "ri", "psd", "t"};
  for (const auto& [k, v] : seen) {
    if (!known.count(k)) {
      rec.unknown_tags.push_back(k);
      out.warnings.push_back(fmt::format("unknown tag '{}' ignored", k));
    }
  }
  auto set = [&](const std::string& k, const std::string& deflt, auto valid, const char* what) {
    auto it = seen.find(k);
    if (it == seen.end()) {
      rec.tags[k] = Tag{deflt, false};
      return;
    }
    auto v = lower(it->second);
    if (valid(v)) {
      rec.tags[k] = Tag{v, true};
    } else {
      out.warnings.push_back(fmt::format("{}={} is not {}; the default {} applies", k, it->second, what, deflt));
      rec.tags[k] = Tag{deflt, false};
    }
  };
  // RFC 7489 6.6.3: no valid p, but a valid rua, means p=none.
  for (const char* uri_tag : {"rua", "ruf"}) {
    auto it = seen.find(uri_tag);
    if (it == seen.end()) continue;
    for (auto u : split(it->second, ',')) {
      if (u.empty()) continue;
      if (auto bang = u.rfind('!'); bang != std::string::npos && bang > 7) u = u.substr(0, bang);  // "!10m" size limit
      if (lower(u.substr(0, 7)) != "mailto:" || u.find('@') == std::string::npos) {
        out.warnings.push_back(fmt::format("{} URI '{}' is not a mailto: address; receivers ignore it", uri_tag, u));
        continue;
      }
      (std::string(uri_tag) == "rua" ? rec.rua : rec.ruf).push_back(u.substr(7));
    }
  }
  auto p = seen.find("p");
  if (p == seen.end() || !is_policy(lower(p->second))) {
    if (!rec.rua.empty()) {
      out.warnings.push_back(p == seen.end() ? "p= is missing; with a valid rua= receivers apply p=none (RFC 7489 6.6.3)"
                                             : fmt::format("p={} is not none, quarantine or reject; with a valid rua= receivers apply p=none", p->second));
      rec.tags["p"] = Tag{"none", false};
    } else {
      out.errors.push_back(p == seen.end() ? "p= is required" : fmt::format("p={} is not none, quarantine or reject", p->second));
      return out;
    }
  } else {
    rec.tags["p"] = Tag{lower(p->second), true};
  }
  set("sp", rec.tags["p"].value, is_policy, "a policy");
  set("np", rec.tags["sp"].value, is_policy, "a policy");
  set("pct", "100", [](const std::string& v) {
    int n = -1;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    return ec == std::errc{} && ptr == v.data() + v.size() && n >= 0 && n <= 100;
  }, "0 to 100");
  set("adkim", "r", [](const std::string& v) { return v == "r" || v == "s"; }, "r or s");
  set("aspf", "r", [](const std::string& v) { return v == "r" || v == "s"; }, "r or s");
  set("fo", "0", [](const std::string& v) {
    for (const auto& o : split(v, ':')) {
      if (o != "0" && o != "1" && o != "d" && o != "s") return false;
    }
    return true;
  }, "a list of 0, 1, d, s");
  set("rf", "afrf", [](const std::string& v) { return v == "afrf"; }, "afrf");
  set("ri", "86400", [](const std::string& v) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  }, "a number of seconds");
  set("psd", "u", [](const std::string& v) { return v == "y" || v == "n" || v == "u"; }, "y, n or u");
  set("t", "n", [](const std::string& v) { return v == "y" || v == "n"; }, "y or n");
  rec.tags["rua"] = Tag{seen.count("rua") ? seen["rua"] : "", seen.count("rua") > 0};
  rec.tags["ruf"] = Tag{seen.count("ruf") ? seen["ruf"] : "", seen.count("ruf") > 0};
  out.record = std::move(rec);
  return out;
}

std::string organizational_domain(const std::string& domain) {
  static const psl_ctx_t* psl = [] {
    const psl_ctx_t* p = psl_latest(nullptr);
    return p != nullptr ? p : psl_builtin();
  }();
  const std::string d = resolver::normalize_name(domain);
  if (psl == nullptr) return d;
  const char* reg = psl_registrable_domain(psl, d.c_str());
  return reg != nullptr ? std::string(reg) : d;
}

bool aligned(const std::string& a, const std::string& b, bool strict) {
  const auto x = resolver::normalize_name(a);
  const auto y = resolver::normalize_name(b);
  return strict ? x == y : organizational_domain(x) == organizational_domain(y);
}

asio::awaitable<DmarcDiscovery> discover_dmarc(resolver::Resolver& r, std::string domain, bool domain_exists) {
  DmarcDiscovery out;
  out.domain = resolver::normalize_name(domain);
  out.org_domain = organizational_domain(out.domain);
  std::string found_record;
  std::vector<std::string> candidates;
  // RFC 7489 6.6.3: the domain, then its organizational domain (PSL).
  candidates.push_back(out.domain);
  if (out.org_domain != out.domain) candidates.push_back(out.org_domain);
  for (const auto& c : candidates) {
    auto l = co_await ask(r, c, &out.evidence);
    if (is_failure(l)) {
      out.checked = false;
      out.failure = fmt::format("_dmarc.{} TXT: {}", c, l.error().detail);
      auto f = make("dmarc.lookup-failed", Severity::warning, out.domain,
                    fmt::format("could not check the DMARC policy of {}: {}", out.domain, out.failure));
      f.checked = false;
      f.evidence = out.evidence;
      out.findings.push_back(std::move(f));
      co_return out;
    }
    auto recs = dmarc_records(l);
    if (recs.size() > 1) {
      auto f = make("dmarc.multiple-records", Severity::error, c,
                    fmt::format("_dmarc.{} holds {} DMARC records; receivers then apply no DMARC policy at all", c, recs.size()));
      f.fix = "keep exactly one v=DMARC1 record";
      f.evidence = out.evidence;
      out.findings.push_back(std::move(f));
      co_return out;
    }
    if (recs.size() == 1) {
      found_record = recs.front();
      out.found_at = "_dmarc." + c;
      out.rule = c == out.domain ? "domain" : "rfc7489-organizational-domain";
      break;
    }
  }
  // DMARCbis: walk up the tree (at most 8 labels) and compare with the PSL answer.
  std::string walk_found;
  {
    auto labels = std::count(out.domain.begin(), out.domain.end(), '.') + 1;
    std::string name = out.domain;
    if (labels > 8) {
      while (labels > 7) {
        name = name.substr(name.find('.') + 1);
        --labels;
      }
    }
    for (int guard = 0; guard < 9 && !name.empty(); ++guard) {
      auto l = co_await r.lookup("_dmarc." + name, RrType::txt);
      if (dmarc_records(l).size() == 1) {
        walk_found = "_dmarc." + name;
        break;
      }
      auto dot = name.find('.');
      if (dot == std::string::npos) break;
      name = name.substr(dot + 1);
    }
  }
  if (found_record.empty()) {
    if (!walk_found.empty()) {
      auto l = co_await r.lookup(walk_found, RrType::txt);
      found_record = dmarc_records(l).front();
      out.found_at = walk_found;
      out.rule = "dmarcbis-tree-walk";
    } else {
      auto f = make("dmarc.none", Severity::warning, out.domain,
                    fmt::format("no DMARC policy covers {} (none at _dmarc.{}{}): receivers apply no policy to forged mail",
                                out.domain, out.domain, out.org_domain != out.domain ? " or _dmarc." + out.org_domain : ""));
      f.fix = fmt::format("publish a TXT record at _dmarc.{} such as \"v=DMARC1; p=none; rua=mailto:dmarc@{}\", then tighten p",
                          out.org_domain, out.org_domain);
      f.evidence = out.evidence;
      out.findings.push_back(std::move(f));
      co_return out;
    }
  } else if (!walk_found.empty() && walk_found != out.found_at) {
    out.findings.push_back(make("dmarc.discovery-differs", Severity::warning, out.domain,
                                fmt::format("RFC 7489 finds the policy at {} but the DMARCbis tree walk finds {}: receivers "
                                            "may apply different policies",
                                            out.found_at, walk_found)));
  }
  auto parsed = parse_dmarc(found_record);
  if (!parsed.record) {
    std::string why;
    for (const auto& e : parsed.errors) why += (why.empty() ? "" : "; ") + e;
    auto f = make("dmarc.syntax", Severity::error, out.domain, fmt::format("the DMARC record at {} is invalid: {}", out.found_at, why));
    f.detail = found_record;
    f.fix = "write it as \"v=DMARC1; p=none|quarantine|reject; ...\"";
    f.evidence = out.evidence;
    out.findings.push_back(std::move(f));
    co_return out;
  }
  out.record = parsed.record;
  for (const auto& w : parsed.warnings) {
    auto f = make("dmarc.tag-warning", Severity::warning, out.domain, fmt::format("{}: {}", out.found_at, w));
    out.findings.push_back(std::move(f));
  }
  const bool own = out.found_at == "_dmarc." + out.domain;
  out.policy_tag = own ? "p" : (!domain_exists && out.record->tags.at("np").explicit_ ? "np" : "sp");
  out.policy = out.record->get(out.policy_tag);
  if (!own) {
    out.findings.push_back(make("dmarc.inherited", Severity::info, out.domain,
                                fmt::format("{} has no record of its own; the policy at {} applies through {}= ({})", out.domain,
                                            out.found_at, out.policy_tag, out.rule)));
  }
  if (out.policy == "none") {
    auto f = make("dmarc.policy-none", Severity::info, out.domain,
                  fmt::format("{}=none: receivers only report; forged mail from {} is delivered", out.policy_tag, out.domain));
    f.fix = "once reports show every legitimate source aligned, move to p=quarantine, then p=reject";
    out.findings.push_back(std::move(f));
  }
  if (out.record->get("pct") != "100") {
    out.findings.push_back(make("dmarc.pct", Severity::info, out.domain,
                                fmt::format("pct={}: the policy applies to that share of failing mail (DMARCbis drops pct)",
                                            out.record->get("pct"))));
  }
  // External report destinations must authorize us (RFC 7489 section 7.1).
  const std::string owner = out.found_at.substr(7);
  std::set<std::string> dests;
  for (const auto& list : {out.record->rua, out.record->ruf}) {
    for (const auto& addr : list) dests.insert(resolver::normalize_name(addr.substr(addr.rfind('@') + 1)));
  }
  // External destinations are asked all at once, at most limits::dmarc_report_destinations of them.
  std::vector<std::string> external;
  std::size_t unchecked = 0;
  // The public suffix list is consulted only for names whose answer is not known already.
  const auto own_org = owner == out.domain ? out.org_domain : organizational_domain(owner);
  for (const auto& dest : dests) {
    if (dest == owner || dest == own_org || organizational_domain(dest) == own_org) continue;
    if (external.size() >= limits::dmarc_report_destinations) {
      ++unchecked;
      continue;
    }
    external.push_back(dest);
  }
  if (unchecked > 0) {
    out.findings.push_back(make("dmarc.too-many-destinations", Severity::warning, out.domain,
                                fmt::format("{} names more than {} external report destinations; the other {} were not "
                                            "checked for authorization",
                                            out.found_at, limits::dmarc_report_destinations, unchecked)));
  }
  std::vector<resolver::Resolver::Question> asks;
  for (const auto& dest : external) asks.push_back({owner + "._report._dmarc." + dest, RrType::txt});
  std::vector<resolver::Lookup> answers;
  if (!asks.empty()) answers = co_await r.lookup_all(std::move(asks));
  for (std::size_t k = 0; k < external.size(); ++k) {
    const auto& dest = external[k];
    const std::string q = owner + "._report._dmarc." + dest;
    const auto& l = answers[k];
    out.evidence.push_back(Evidence{q + " TXT", resolver::answer_text(l)});
    if (is_failure(l)) {
      auto f = make("dmarc.external-report-unchecked", Severity::warning, dest,
                    fmt::format("could not check whether {} accepts reports for {}: {}", dest, owner, l.error().detail));
      f.checked = false;
      out.findings.push_back(std::move(f));
    } else if (dmarc_records(l).empty()) {
      auto f = make("dmarc.external-report-unauthorized", Severity::warning, dest,
                    fmt::format("reports for {} go to {}, which does not authorize them ({} has no v=DMARC1 record): "
                                "receivers will not send them",
                                owner, dest, q));
      f.fix = fmt::format("ask {} to publish \"v=DMARC1\" at {}", dest, q);
      out.findings.push_back(std::move(f));
    }
  }
  if (out.record->rua.empty()) {
    out.findings.push_back(make("dmarc.no-rua", Severity::info, out.domain,
                                "no rua= address: you get no aggregate reports on who sends as this domain"));
  }
  auto f = make("dmarc.ok", Severity::ok, out.domain,
                fmt::format("{}: {} at {} ({}={}, adkim={}, aspf={})", out.domain, found_record, out.found_at, out.policy_tag,
                            out.policy, out.record->get("adkim"), out.record->get("aspf")));
  f.evidence = out.evidence;
  out.findings.push_back(std::move(f));
  co_return out;
}

}  // namespace bp::probes::dmarc

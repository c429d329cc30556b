#include "dnsbl.hpp"

#include "../data_file.hpp"

#include <async.hpp>
#include <domain_name.hpp>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

namespace bp::embedded {
extern const std::string_view dnsbl_lists_toml;
}

namespace bp::probes::dnsbl {

using resolver::Lookup;
using resolver::RrType;

namespace {

constexpr std::size_t max_txt = 500;  // as Postfix caps $rbl_reason

std::vector<Code> codes_of(const toml::table& t, std::string_view key, const std::string& where) {
  std::vector<Code> out;
  if (auto arr = t[key].as_array()) {
    for (const auto& n : *arr) {
      const auto* c = n.as_table();
      if (c == nullptr) throw std::runtime_error(where + ": codes must be tables");
      auto text = (*c)["code"].value_or(std::string{});
      auto prefix = Cidr::parse(text);
      if (!prefix) throw std::runtime_error(fmt::format("{}: '{}' is not an address or prefix", where, text));
      out.push_back({*prefix, (*c)["sublist"].value_or(std::string{}), (*c)["meaning"].value_or(std::string{})});
    }
  }
  return out;
}

const Code* match(const std::vector<Code>& codes, const std::array<std::uint8_t, 16>& a) {
  for (const auto& c : codes) {
    if (c.prefix.contains(a, false)) return &c;
  }
  return nullptr;
}

/// A sliding window over one zone's names: a few workers each take the next name as soon as
/// their previous answer is in, so at most per_zone_inflight queries are in flight.
struct Window {
  std::vector<std::string> names;
  std::vector<Lookup> answers;
  std::size_t next{0};
};

asio::awaitable<int> window_worker(resolver::Resolver& r, std::shared_ptr<Window> w) {
  while (w->next < w->names.size()) {
    const auto k = w->next++;
    w->answers[k] = co_await r.lookup(w->names[k], RrType::a);
  }
  co_return 0;
}

asio::awaitable<std::vector<Lookup>> ask_in_window(resolver::Resolver& r, std::vector<std::string> names) {
  auto w = std::make_shared<Window>();
  w->answers.resize(names.size());
  w->names = std::move(names);
  std::vector<asio::awaitable<int>> workers;
  for (std::size_t i = 0; i < std::min(per_zone_inflight, w->names.size()); ++i) workers.push_back(window_worker(r, w));
  co_await when_all(std::move(workers));
  co_return std::move(w->answers);
}

/// RFC 5782 section 5: an IP list lists 127.0.0.2 and not 127.0.0.1; a domain list lists TEST and not INVALID.
std::pair<std::string, std::string> test_names(const DnsList& list) {
  const bool ip = list.kind == "ip";
  return {(ip ? "2.0.0.127." : "test.") + list.zone, (ip ? "1.0.0.127." : "invalid.") + list.zone};
}

/// Pure: whether a list can be read through this resolver, from its two test answers.
Health health_of(const DnsList& list, const Lookup& listed, const Lookup& unlisted) {
  auto positive = classify(list, listed);
  auto negative = classify(list, unlisted);
  if (positive.state == State::not_checked && !positive.reason.empty() && !listed.ok() &&
      !resolver::is_negative(listed.error().kind)) {
    return Health{false, fmt::format("the zone's test entry could not be looked up: {}", listed.error().detail), false};
  }
  if (positive.state != State::listed) {
    return Health{false, positive.state == State::not_checked && !positive.reason.empty()
                             ? positive.reason
                             : fmt::format("{} does not list its RFC 5782 test entry: the zone is dead, or this resolver "
                                           "hides it (some public resolvers answer NXDOMAIN for blocklists)",
                                           list.zone)};
  }
  if (negative.state == State::listed) {
    return Health{false, fmt::format("{} lists 127.0.0.1, which no list may: it answers everything (a parked or hijacked zone)",
                                     list.zone)};
  }
  return Health{};
}

/// Whether a list can be read through this resolver (its test entries).
asio::awaitable<Health> test_zone(resolver::Resolver& r, DnsList list) {
  const auto [listed, unlisted] = test_names(list);
  std::vector<resolver::Resolver::Question> ops;
  ops.push_back({listed, RrType::a});
  ops.push_back({unlisted, RrType::a});
  auto res = co_await r.lookup_all(std::move(ops));
  co_return health_of(list, res[0], res[1]);
}

}  // namespace

std::string_view to_string(State s) {
  switch (s) {
    case State::listed: return "listed";
    case State::clean: return "clean";
    case State::not_checked: return "not_checked";
  }
  return "not_checked";
}

std::vector<DnsList> load_lists(std::string_view text, const std::string& origin) {
  const toml::table root = parse_toml(text, origin);
  std::vector<DnsList> out;
  if (auto arr = root["list"].as_array()) {
    for (const auto& n : *arr) {
      const auto* t = n.as_table();
      if (t == nullptr) continue;
      DnsList l;
      l.id = (*t)["id"].value_or(std::string{});
      const std::string where = fmt::format("{}: list '{}'", origin, l.id);
      l.name = (*t)["name"].value_or(l.id);
      l.zone = resolver::normalize_name((*t)["zone"].value_or(std::string{}));
      l.kind = (*t)["kind"].value_or(std::string("ip"));
      if (l.kind != "ip" && l.kind != "domain") throw std::runtime_error(where + ": kind must be ip or domain");
      l.removal = (*t)["removal"].value_or(std::string{});
      l.note = (*t)["note"].value_or(std::string{});
      l.public_zone = (*t)["public"].value_or(true);
      l.codes = codes_of(*t, "codes", where);
      l.errors = codes_of(*t, "errors", where);
      out.push_back(std::move(l));
    }
  }
  return out;
}

const std::vector<DnsList>& builtin_lists() {
  static const std::vector<DnsList> lists = load_lists(embedded::dnsbl_lists_toml, "lists.toml (built in)");
  return lists;
}

DnsList custom_zone(const std::string& spec) {
  DnsList l;
  auto colon = spec.find(':');
  l.zone = resolver::normalize_name(spec.substr(0, colon));
  l.kind = colon == std::string::npos ? "ip" : spec.substr(colon + 1);
  if (l.kind != "ip" && l.kind != "domain") throw std::runtime_error(fmt::format("--zone '{}': kind must be ip or domain", spec));
  if (auto why = resolver::dns_name_problem(l.zone); !why.empty() || l.zone.find('.') == std::string::npos) {
    throw std::runtime_error(fmt::format("--zone '{}' is not a zone name", spec));
  }
  l.id = "zone:" + l.zone;
  l.name = l.zone;
  l.removal = "see the list operator's site";
  // Convention (RFC 5782 section 2.1): any 127.0.0.0/8 answer other than an error is a listing.
  l.codes.push_back({*Cidr::parse("127.0.0.0/8"), "", "listed"});
  l.errors.push_back({*Cidr::parse("127.255.255.0/24"), "", "error answer about the query"});
  return l;
}

std::vector<DnsList> with_spamhaus_key(std::vector<DnsList> lists, const std::string& key) {
  const bool ok = !key.empty() && key.size() <= 63 &&
                  std::all_of(key.begin(), key.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
  if (!ok) throw std::runtime_error("the Spamhaus key must be one DNS label of letters and digits");
  for (auto& l : lists) {
    const std::string suffix = ".spamhaus.org";
    if (l.zone.size() > suffix.size() && l.zone.compare(l.zone.size() - suffix.size(), suffix.size(), suffix) == 0) {
      l.zone = fmt::format("{}.{}.dq.spamhaus.net", key, l.zone.substr(0, l.zone.size() - suffix.size()));
    }
  }
  return lists;
}

std::string query_name(const DnsList& list, const std::string& target) {
  const auto labels = resolver::reversed_address_labels(target);
  if (list.kind == "domain") return labels.empty() ? resolver::normalize_name(target) + "." + list.zone : std::string{};
  return labels.empty() ? std::string{} : labels + "." + list.zone;
}

Verdict classify(const DnsList& list, const Lookup& answer) {
  Verdict v;
  if (!answer.ok()) {
    if (resolver::is_negative(answer.error().kind)) {
      v.state = State::clean;
      return v;
    }
    v.reason = fmt::format("lookup failed: {}", answer.error().detail);
    return v;
  }
  std::vector<std::string> codes;
  const Code* listed = nullptr;
  for (const auto& rec : answer->records) {
    codes.push_back(rec.address);
    resolver::IpBytes a;
    if (!resolver::parse_ip(rec.address, &a) || a.v6 || a.bytes[0] != 127) {
      v.reason = fmt::format("answer {} is outside 127.0.0.0/8: the resolver rewrites NXDOMAIN (ad or search page), so "
                             "this list cannot be read through it",
                             rec.address);
      v.code = rec.address;
      return v;
    }
    if (const auto* e = match(list.errors, a.bytes)) {
      v.code = rec.address;
      v.reason = fmt::format("{} answered {}: {} (an answer about the query, not a listing)", list.name, rec.address, e->meaning);
      return v;
    }
    if (listed == nullptr) listed = match(list.codes, a.bytes);
  }
  for (const auto& c : codes) v.code += (v.code.empty() ? "" : ",") + c;
  v.state = State::listed;
  if (listed != nullptr) {
    v.sublist = listed->sublist;
    v.meaning = listed->meaning;
  } else {
    v.unknown_code = true;
    v.meaning = "unknown code";
    v.reason = fmt::format("{} is not a code {} documents", v.code, list.name);
  }
  return v;
}

void prefetch_zone_tests(resolver::Resolver& r, const std::vector<DnsList>& lists) {
  for (const auto& l : lists) {
    if (l.zone.empty()) continue;
    const auto [listed, unlisted] = test_names(l);
    r.prefetch(listed, RrType::a);
    r.prefetch(unlisted, RrType::a);
  }
}

asio::awaitable<DnsblReport> check_dnsbl(resolver::Resolver& r, std::vector<std::string> targets, Lists all_lists,
                                         std::size_t max_targets, bool clean_findings, ZoneHealth* zone_health) {
  DnsblReport rep;
  rep.lists = std::move(all_lists);
  const auto& lists = *rep.lists;
  {
    std::vector<std::string> distinct;
    std::size_t dropped = 0;
    for (auto& t : targets) {
      // A domain's targets are a few: a linear search beats a set here.
      if (std::find(distinct.begin(), distinct.end(), t) != distinct.end()) continue;
      if (distinct.size() >= max_targets) {
        ++dropped;
        continue;
      }
      distinct.push_back(std::move(t));
    }
    targets = std::move(distinct);
    if (dropped > 0) {
      rep.findings.push_back(make_finding(
          "dnsbl", "dnsbl.targets-capped", Severity::warning, targets.empty() ? std::string{} : targets.front(),
          fmt::format("{} more names or addresses were not checked on the blocklists: at most {} per domain are queried",
                      dropped, max_targets)));
    }
  }
  // Zone health first (all zones at once), then every (target, list) at once. The
  // tests are asked once per run: a zone judged earlier in the run (`zone_health`)
  // is not judged again, and an answered test is read from the cache without a
  // coroutine.
  std::vector<Health> judged(lists.size());
  std::vector<const Health*> by_list(lists.size(), nullptr);
  if (zone_health != nullptr) zone_health->by_list.resize(lists.size());
  std::vector<asio::awaitable<Health>> health_ops;
  std::vector<std::size_t> live;
  for (std::size_t i = 0; i < lists.size(); ++i) {
    if (lists[i].zone.empty()) continue;
    if (zone_health != nullptr && zone_health->by_list[i]) {
      by_list[i] = &*zone_health->by_list[i];
      continue;
    }
    const auto [listed, unlisted] = test_names(lists[i]);
    const Lookup* a = r.peek(listed, RrType::a);
    const Lookup* b = a != nullptr ? r.peek(unlisted, RrType::a) : nullptr;
    if (a != nullptr && b != nullptr) {
      judged[i] = health_of(lists[i], *a, *b);
      by_list[i] = &judged[i];
    } else {
      health_ops.push_back(test_zone(r, lists[i]));
      live.push_back(i);
    }
  }
  if (!health_ops.empty()) {
    auto health = co_await when_all(std::move(health_ops));
    for (std::size_t k = 0; k < live.size(); ++k) {
      judged[live[k]] = std::move(health[k]);
      by_list[live[k]] = &judged[live[k]];
    }
  }
  if (zone_health != nullptr) {
    for (std::size_t i = 0; i < lists.size(); ++i) {
      if (by_list[i] != nullptr && by_list[i]->settled && !zone_health->by_list[i]) zone_health->by_list[i] = *by_list[i];
    }
  }

  // One job per (target, list) to ask; a result is made for each, in place, and
  // refers to its list rather than copying the list's strings.
  struct Job {
    std::size_t result;  ///< index in rep.results
    std::size_t list;
  };
  std::vector<Job> jobs;
  std::vector<resolver::Resolver::Question> questions;
  rep.results.reserve(targets.size() * lists.size());
  for (auto& t : targets) {
    for (std::size_t i = 0; i < lists.size(); ++i) {
      const auto& l = lists[i];
      auto q = l.zone.empty() ? std::string{} : query_name(l, t);
      if (!l.zone.empty() && q.empty()) continue;  // an IP on a domain list or the reverse: not applicable
      Result res{t, &l, {}, {}, {}};
      if (l.zone.empty()) {
        res.verdict.reason = l.note.empty() ? "no public zone" : l.note;
      } else if (!by_list[i]->usable) {
        res.query = std::move(q);
        res.verdict.reason = by_list[i]->why;
      } else {
        jobs.push_back({rep.results.size(), i});
        res.query = q;
        questions.push_back({std::move(q), RrType::a});
      }
      rep.results.push_back(std::move(res));
    }
  }
  // Each zone gets at most per_zone_inflight queries at once; zones run side by side.
  std::vector<Lookup> answers;
  std::vector<std::size_t> per_list(lists.size());
  for (const auto& j : jobs) ++per_list[j.list];
  if (std::all_of(per_list.begin(), per_list.end(), [](std::size_t n) { return n <= per_zone_inflight; })) {
    // The usual case (a few addresses): every question at once.
    answers = co_await r.lookup_all(std::move(questions));
  } else {
    answers.resize(jobs.size());
    std::map<std::size_t, std::vector<std::size_t>> by_zone;
    for (std::size_t k = 0; k < jobs.size(); ++k) by_zone[jobs[k].list].push_back(k);
    std::vector<asio::awaitable<std::vector<Lookup>>> zones;
    std::vector<std::vector<std::size_t>> order;
    for (auto& [list, idx] : by_zone) {
      std::vector<std::string> names;
      for (auto k : idx) names.push_back(questions[k].name);
      zones.push_back(ask_in_window(r, std::move(names)));
      order.push_back(idx);
    }
    auto per_zone = co_await when_all(std::move(zones));
    for (std::size_t z = 0; z < order.size(); ++z) {
      for (std::size_t n = 0; n < order[z].size(); ++n) answers[order[z][n]] = std::move(per_zone[z][n]);
    }
  }
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    auto& res = rep.results[jobs[k].result];
    res.verdict = classify(*res.list, answers[k]);
    if (res.verdict.state == State::listed) {
      auto txt = co_await r.lookup(res.query, RrType::txt);
      if (txt.ok()) {
        for (const auto& rec : txt->records) {
          std::string s;
          for (const auto& part : rec.strings) s += part;
          res.txt += (res.txt.empty() ? "" : " / ") + s;
        }
        if (res.txt.size() > max_txt) res.txt = res.txt.substr(0, max_txt) + "...";
      }
    }
  }
  std::vector<bool> noted(lists.size());
  for (const auto& res : rep.results) {
    // A list with no public zone is one finding, not one per target.
    const auto list_index = static_cast<std::size_t>(res.list - lists.data());
    if (res.zone().empty()) {
      if (noted[list_index]) continue;
      noted[list_index] = true;
    }
    if (!clean_findings && res.verdict.state == State::clean) continue;
    Finding f;
    f.probe = "dnsbl";
    f.subject = res.target;
    f.evidence.push_back(Evidence{res.query.empty() ? res.list_name() : res.query + " A", res.verdict.code.empty() ? std::string(to_string(res.verdict.state)) : res.verdict.code});
    if (!res.txt.empty()) f.evidence.push_back(Evidence{res.query + " TXT", res.txt});
    switch (res.verdict.state) {
      case State::listed:
        f.code = res.verdict.unknown_code ? "dnsbl.listed-unknown-code" : "dnsbl.listed";
        f.severity = Severity::error;
        f.summary = fmt::format("{} is listed on {}{}: {} ({})", res.target, res.list_name(),
                                res.verdict.sublist.empty() || res.list_name().find(res.verdict.sublist) != std::string::npos
                                    ? ""
                                    : " " + res.verdict.sublist,
                                res.verdict.meaning, res.verdict.code);
        f.fix = fmt::format("fix the cause, then request removal: {}", res.removal());
        break;
      case State::clean:
        f.code = "dnsbl.clean";
        f.severity = Severity::ok;
        f.summary = fmt::format("{} is not listed on {}", res.target, res.list_name());
        break;
      case State::not_checked:
        if (res.zone().empty()) {
          // A fact about the list, not about the target: info, while the result itself stays not_checked.
          f.code = "dnsbl.no-public-zone";
          f.severity = Severity::info;
          f.summary = fmt::format("{}: not checked ({})", res.list_name(), res.verdict.reason);
          break;
        }
        f.code = "dnsbl.not-checked";
        f.severity = Severity::warning;
        f.checked = false;
        f.summary = res.zone().empty() ? fmt::format("{}: not checked ({})", res.list_name(), res.verdict.reason)
                                     : fmt::format("{} on {}: not checked ({})", res.target, res.list_name(), res.verdict.reason);
        if (res.verdict.reason.find("public or open resolver") != std::string::npos ||
            res.verdict.reason.find("excessive") != std::string::npos) {
          f.fix = "use your own recursive resolver for blocklists (--dnsbl-resolver) or a Spamhaus Data Query Service key";
        }
        break;
    }
    rep.findings.push_back(std::move(f));
  }
  co_return rep;
}

}  // namespace bp::probes::dnsbl

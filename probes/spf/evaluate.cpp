/*
 * check_host() in outline (RFC 7208 section 4):
 *   1. the identity: MAIL FROM's domain, or the HELO name for the null sender,
 *      with "postmaster" as the local part where there is none (4.3);
 *   2. an invalid domain gives none (4.3); the TXT lookup: NXDOMAIN or no
 *      record gives none, any other DNS error temperror (4.4);
 *   3. exactly one "v=spf1" record, else none or permerror (4.5); a syntax
 *      error anywhere is permerror before anything is evaluated (4.6);
 *   4. terms left to right; include, a, mx, ptr, exists and redirect count
 *      toward 10 (4.6.4), NXDOMAIN/NODATA answers to a, mx and exists toward
 *      a void limit of 2; the first match decides by its qualifier;
 *   5. no match: redirect= (its target must have a record), else neutral.
 * A DNS failure is temperror, never "no record".
 */
#include "evaluate.hpp"

#include <async.hpp>
#include <domain_name.hpp>

#include <arpa/inet.h>
#include <asio/co_spawn.hpp>
#include <asio/this_coro.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <set>

namespace bp::probes::spf {

using resolver::DnsFailure;
using resolver::Lookup;
using resolver::RrType;

std::string_view to_string(SpfResult r) {
  switch (r) {
    case SpfResult::none: return "none";
    case SpfResult::neutral: return "neutral";
    case SpfResult::pass: return "pass";
    case SpfResult::fail: return "fail";
    case SpfResult::softfail: return "softfail";
    case SpfResult::temperror: return "temperror";
    case SpfResult::permerror: return "permerror";
  }
  return "none";
}

namespace {

constexpr int max_dns_terms = 10;
constexpr int max_void = 2;
constexpr int max_mx_names = 10;
constexpr int max_ptr_names = 10;

struct Address {
  std::array<std::uint8_t, 16> bytes{};
  bool v6{false};
};

bool parse_address(const std::string& s, Address* a) {
  resolver::IpBytes ip;
  if (!resolver::parse_ip(s, &ip)) return false;
  a->bytes = ip.bytes;
  a->v6 = ip.v6;
  // An IPv4-mapped IPv6 client is evaluated as the IPv4 address it carries.
  static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (a->v6 && std::equal(mapped, mapped + 12, a->bytes.begin())) {
    std::array<std::uint8_t, 16> v4{};
    std::copy(a->bytes.begin() + 12, a->bytes.end(), v4.begin());
    a->bytes = v4;
    a->v6 = false;
  }
  return true;
}

bool in_prefix(const Address& ip, const Address& net, int len) {
  if (ip.v6 != net.v6) return false;
  for (std::size_t i = 0; len > 0; ++i, len -= 8) {
    const int bits = len >= 8 ? 8 : len;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != (net.bytes[i] & mask)) return false;
  }
  return true;
}

std::string address_text(const Address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return buf;
}

std::string reverse_name(const Address& a) { return resolver::reverse_name(address_text(a)); }

struct Eval {
  SpfResult result{SpfResult::none};
  std::string reason;
  std::string explanation;
};

enum class Match { yes, no, temperror, permerror };

struct State {
  resolver::Resolver& r;
  Address ip;
  MacroContext macros;
  int lookups{0};
  int voids{0};
  std::vector<TraceStep> trace;
  std::string decisive_domain, decisive_term;
  bool validated_done{false};
};

/// A DNS failure that makes the result temperror. A name that cannot exist (bad_name,
/// e.g. a label over 63 octets after macro expansion) is treated like NXDOMAIN.
bool is_error(const Lookup& l) {
  return !l.ok() && !resolver::is_negative(l.error().kind) && l.error().kind != DnsFailure::bad_name;
}

/// Starts the lookups a record's terms will need, all at once, so they travel in parallel.
void prefetch(State& st, const Record& rec, const MacroContext& ctx) {
  int n = 0;
  for (const auto& t : rec.terms) {
    if (!t.counts_lookup() || ++n > max_dns_terms) continue;
    // %{p} needs a PTR validation first; that term is fetched when it is evaluated.
    if (t.domain_spec.find("%{p") != std::string::npos || t.domain_spec.find("%{P") != std::string::npos) continue;
    auto target = t.domain_spec.empty() ? Result<std::string, MacroError>(ctx.domain) : expand_macros(t.domain_spec, ctx, true, false);
    if (!target.ok()) continue;
    RrType type = RrType::txt;
    if (!t.modifier) {
      switch (t.mechanism) {
        case Mechanism::a: type = st.ip.v6 ? RrType::aaaa : RrType::a; break;
        case Mechanism::mx: type = RrType::mx; break;
        case Mechanism::exists: type = RrType::a; break;
        case Mechanism::include: type = RrType::txt; break;
        default: continue;
      }
    }
    st.r.prefetch(*target, type);
  }
}

asio::awaitable<std::string> validated_name(State& st, std::string domain);
asio::awaitable<Eval> evaluate(State& st, std::string domain, int depth);

asio::awaitable<std::string> explanation_for(State& st, const Record& rec, MacroContext ctx) {
  if (!rec.exp) co_return std::string{};
  auto target = expand_macros(rec.exp->domain_spec, ctx, true, false);
  if (!target.ok()) co_return std::string{};
  auto txt = co_await st.r.lookup(*target, RrType::txt);
  if (!txt.ok() || txt->records.size() != 1) co_return std::string{};
  std::string text;
  for (const auto& s : txt->records[0].strings) text += s;
  if (text.find("%{p") != std::string::npos || text.find("%{P") != std::string::npos) {
    ctx.validated = co_await validated_name(st, ctx.domain);
  }
  auto expanded = expand_macros(text, ctx, false, true);
  co_return expanded.ok() ? *expanded : std::string{};
}

/// %{p}: a PTR name of the client that resolves back to it, preferring one under `domain`.
asio::awaitable<std::string> validated_name(State& st, std::string domain) {
  auto ptr = co_await st.r.lookup(reverse_name(st.ip), RrType::ptr);
  if (!ptr.ok()) co_return std::string("unknown");
  std::string any;
  int n = 0;
  for (const auto& rec : ptr->records) {
    if (++n > max_ptr_names) break;
    auto fwd = co_await st.r.lookup(rec.target, st.ip.v6 ? RrType::aaaa : RrType::a);
    if (!fwd.ok()) continue;
    for (const auto& a : fwd->records) {
      Address x;
      if (parse_address(a.address, &x) && x.bytes == st.ip.bytes) {
        if (rec.target == domain || (rec.target.size() > domain.size() &&
                                     rec.target.compare(rec.target.size() - domain.size() - 1, std::string::npos, "." + domain) == 0)) {
          co_return rec.target;
        }
        if (any.empty()) any = rec.target;
      }
    }
  }
  co_return any.empty() ? std::string("unknown") : any;
}

/// A lookup for a, mx or exists that gave no records: temperror for a DNS failure, otherwise a
/// void lookup (NXDOMAIN/NODATA) that is permerror past the limit of 2 (section 4.6.4).
Match failed_lookup(State& st, const Lookup& l, const std::string& target, RrType type, std::string* detail) {
  if (is_error(l)) {
    *detail = fmt::format("{} lookup of {} failed: {}", resolver::to_string(type), target, l.error().detail);
    return Match::temperror;
  }
  if (++st.voids > max_void) {
    *detail = fmt::format("more than {} void lookups ({} has no {} record)", max_void, target, resolver::to_string(type));
    return Match::permerror;
  }
  *detail = fmt::format("{} has no {} record (a void lookup)", target, resolver::to_string(type));
  return Match::no;
}

asio::awaitable<Match> match_addresses(State& st, std::string target, int cidr4, int cidr6, std::string* detail) {
  auto l = co_await st.r.lookup(target, st.ip.v6 ? RrType::aaaa : RrType::a);
  if (!l.ok()) co_return failed_lookup(st, l, target, st.ip.v6 ? RrType::aaaa : RrType::a, detail);
  for (const auto& rec : l->records) {
    Address a;
    if (parse_address(rec.address, &a) && in_prefix(st.ip, a, st.ip.v6 ? cidr6 : cidr4)) {
      *detail = fmt::format("{} has {}", target, rec.address);
      co_return Match::yes;
    }
  }
  *detail = fmt::format("no address of {} matches", target);
  co_return Match::no;
}

asio::awaitable<Match> match_address_ops(State& st, std::vector<std::string> hosts, int cidr4, int cidr6, std::string* detail) {
  std::vector<asio::awaitable<Lookup>> ops;
  for (auto& h : hosts) ops.push_back(st.r.lookup(h, st.ip.v6 ? RrType::aaaa : RrType::a));
  auto results = co_await when_all(std::move(ops));
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& l = results[i];
    if (is_error(l)) {
      *detail = fmt::format("address lookup of MX host {} failed: {}", hosts[i], l.error().detail);
      co_return Match::temperror;
    }
    if (!l.ok()) continue;
    for (const auto& rec : l->records) {
      Address a;
      if (parse_address(rec.address, &a) && in_prefix(st.ip, a, st.ip.v6 ? cidr6 : cidr4)) {
        *detail = fmt::format("MX host {} has {}", hosts[i], rec.address);
        co_return Match::yes;
      }
    }
  }
  *detail = "no MX host address matches";
  co_return Match::no;
}

asio::awaitable<Match> match_term(State& st, const Term& t, const MacroContext& ctx, int depth, std::string* detail) {
  std::string target = ctx.domain;
  if (!t.domain_spec.empty()) {
    MacroContext c = ctx;
    if (t.domain_spec.find("%{p") != std::string::npos || t.domain_spec.find("%{P") != std::string::npos) {
      c.validated = co_await validated_name(st, ctx.domain);
    }
    auto e = expand_macros(t.domain_spec, c, true, false);
    if (!e.ok()) {
      *detail = e.error().message;
      co_return Match::permerror;
    }
    target = resolver::normalize_name(*e);
  }
  switch (t.mechanism) {
    case Mechanism::all: *detail = "matches every address"; co_return Match::yes;
    case Mechanism::ip4:
    case Mechanism::ip6: {
      Address net;
      parse_address(t.network, &net);
      if (t.mechanism == Mechanism::ip6) net.v6 = true;  // an ip6 prefix never matches an IPv4 client
      const bool m = in_prefix(st.ip, net, t.mechanism == Mechanism::ip4 ? t.cidr4 : t.cidr6);
      *detail = fmt::format("{} {} {}", address_text(st.ip), m ? "is in" : "is not in", t.text.substr(t.text.find(':') + 1));
      co_return m ? Match::yes : Match::no;
    }
    case Mechanism::a: co_return co_await match_addresses(st, target, t.cidr4, t.cidr6, detail);
    case Mechanism::exists: {
      auto l = co_await st.r.lookup(target, RrType::a);
      if (!l.ok()) co_return failed_lookup(st, l, target, RrType::a, detail);
      *detail = fmt::format("{} exists", target);
      co_return Match::yes;
    }
    case Mechanism::mx: {
      auto l = co_await st.r.lookup(target, RrType::mx);
      if (!l.ok()) co_return failed_lookup(st, l, target, RrType::mx, detail);
      if (l->records.size() > max_mx_names) {
        *detail = fmt::format("{} has {} MX records; the limit is {} (section 4.6.4)", target, l->records.size(), max_mx_names);
        co_return Match::permerror;
      }
      std::vector<std::string> hosts;
      for (const auto& rec : l->records) {
        if (!rec.target.empty()) hosts.push_back(rec.target);
      }
      co_return co_await match_address_ops(st, hosts, t.cidr4, t.cidr6, detail);
    }
    case Mechanism::ptr: {
      // A DNS error here only makes the mechanism not match (section 5.5).
      auto ptr = co_await st.r.lookup(reverse_name(st.ip), RrType::ptr);
      if (!ptr.ok()) {
        *detail = fmt::format("no PTR for {}", address_text(st.ip));
        co_return Match::no;
      }
      std::vector<std::string> names;
      for (const auto& rec : ptr->records) {
        if (names.size() < max_ptr_names) names.push_back(rec.target);
      }
      std::vector<asio::awaitable<Lookup>> ops;
      for (auto& n : names) ops.push_back(st.r.lookup(n, st.ip.v6 ? RrType::aaaa : RrType::a));
      auto fwd = co_await when_all(std::move(ops));
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (!fwd[i].ok()) continue;
        const bool under = names[i] == target ||
                           (names[i].size() > target.size() &&
                            names[i].compare(names[i].size() - target.size() - 1, std::string::npos, "." + target) == 0);
        if (!under) continue;
        for (const auto& rec : fwd[i]->records) {
          Address a;
          if (parse_address(rec.address, &a) && a.bytes == st.ip.bytes) {
            *detail = fmt::format("{} is a validated name under {}", names[i], target);
            co_return Match::yes;
          }
        }
      }
      *detail = fmt::format("no validated PTR name under {}", target);
      co_return Match::no;
    }
    case Mechanism::include: {
      auto sub = co_await evaluate(st, target, depth + 1);
      switch (sub.result) {
        case SpfResult::pass: *detail = fmt::format("{} passes", target); co_return Match::yes;
        case SpfResult::fail:
        case SpfResult::softfail:
        case SpfResult::neutral: *detail = fmt::format("{} gives {}", target, to_string(sub.result)); co_return Match::no;
        case SpfResult::temperror: *detail = sub.reason; co_return Match::temperror;
        case SpfResult::none:
          *detail = fmt::format("included domain {} has no SPF record", target);
          co_return Match::permerror;
        case SpfResult::permerror: *detail = sub.reason; co_return Match::permerror;
      }
    }
  }
  co_return Match::no;
}

SpfResult from_qualifier(char q) {
  switch (q) {
    case '-': return SpfResult::fail;
    case '~': return SpfResult::softfail;
    case '?': return SpfResult::neutral;
    default: return SpfResult::pass;
  }
}

asio::awaitable<Eval> evaluate(State& st, std::string domain, int depth) {
  MacroContext ctx = st.macros;
  ctx.domain = domain;
  auto step = [&](std::string term, std::string outcome, std::string detail) {
    st.trace.push_back(TraceStep{depth, domain, std::move(term), std::move(outcome), std::move(detail)});
  };
  if (!resolver::dns_name_problem(domain).empty()) {
    co_return Eval{SpfResult::none, fmt::format("'{}' is not a valid domain", domain), {}};
  }
  auto txt = co_await st.r.lookup(domain, RrType::txt);
  if (!txt.ok()) {
    if (is_error(txt)) {
      step("(record)", "temperror", txt.error().detail);
      co_return Eval{SpfResult::temperror, fmt::format("TXT lookup of {} failed: {}", domain, txt.error().detail), {}};
    }
    step("(record)", "none", txt.error().detail);
    co_return Eval{SpfResult::none, fmt::format("{} has no SPF record ({})", domain, txt.error().detail), {}};
  }
  std::vector<std::string> spf;
  for (const auto& rec : txt->records) {
    std::string joined;
    for (const auto& s : rec.strings) joined += s;  // section 3.3: no separator
    if (is_spf_record(joined)) spf.push_back(joined);
  }
  if (spf.empty()) {
    step("(record)", "none", "no v=spf1 record among the TXT records");
    co_return Eval{SpfResult::none, fmt::format("{} has no SPF record", domain), {}};
  }
  if (spf.size() > 1) {
    step("(record)", "permerror", fmt::format("{} v=spf1 records", spf.size()));
    co_return Eval{SpfResult::permerror, fmt::format("{} publishes {} SPF records; exactly one is allowed", domain, spf.size()), {}};
  }
  auto parsed = parse_record(spf.front());
  if (!parsed.ok()) {
    const auto& e = parsed.error();
    step(e.term, "permerror", e.message);
    co_return Eval{SpfResult::permerror,
                   fmt::format("syntax error in the SPF record of {} at column {} ('{}'): {}", domain, e.column, e.term, e.message), {}};
  }
  const Record& rec = *parsed;
  step("(record)", "record", rec.text);
  prefetch(st, rec, ctx);

  for (const auto& t : rec.terms) {
    if (t.modifier) continue;
    if (t.counts_lookup() && ++st.lookups > max_dns_terms) {
      step(t.text, "permerror", "11th DNS-querying term");
      co_return Eval{SpfResult::permerror,
                     fmt::format("more than {} DNS-querying terms (include, a, mx, ptr, exists, redirect); the 11th is '{}' in {}",
                                 max_dns_terms, t.text, domain), {}};
    }
    std::string detail;
    auto m = co_await match_term(st, t, ctx, depth, &detail);
    switch (m) {
      case Match::no: step(t.text, "no match", detail); continue;
      case Match::temperror: step(t.text, "temperror", detail); co_return Eval{SpfResult::temperror, detail, {}};
      case Match::permerror: step(t.text, "permerror", detail); co_return Eval{SpfResult::permerror, detail, {}};
      case Match::yes: {
        step(t.text, "match", detail);
        Eval out{from_qualifier(t.qualifier), fmt::format("'{}' in the record of {} matched: {}", t.text, domain, detail), {}};
        st.decisive_domain = domain;
        st.decisive_term = t.text;
        if (out.result == SpfResult::fail) out.explanation = co_await explanation_for(st, rec, ctx);
        co_return out;
      }
    }
  }
  if (rec.redirect) {
    const auto& t = *rec.redirect;
    if (++st.lookups > max_dns_terms) {
      step(t.text, "permerror", "11th DNS-querying term");
      co_return Eval{SpfResult::permerror, fmt::format("more than {} DNS-querying terms; the 11th is '{}' in {}", max_dns_terms, t.text, domain), {}};
    }
    auto target = expand_macros(t.domain_spec, ctx, true, false);
    if (!target.ok()) co_return Eval{SpfResult::permerror, target.error().message, {}};
    step(t.text, "redirect", *target);
    auto sub = co_await evaluate(st, resolver::normalize_name(*target), depth + 1);
    if (sub.result == SpfResult::none) {
      co_return Eval{SpfResult::permerror, fmt::format("redirect target {} has no SPF record (section 6.1)", *target), {}};
    }
    co_return sub;
  }
  step("(end)", "neutral", "no mechanism matched and there is no redirect");
  co_return Eval{SpfResult::neutral, fmt::format("no term in the record of {} matched", domain), {}};
}

}  // namespace

asio::awaitable<SpfOutcome> check_host(resolver::Resolver& r, SpfQuery q) {
  SpfOutcome out;
  State st{r, {}, {}, 0, 0, {}, {}, {}, false};
  if (!parse_address(q.ip, &st.ip)) {
    out.result = SpfResult::permerror;
    out.reason = fmt::format("'{}' is not an IP address", q.ip);
    co_return out;
  }
  std::string sender = q.sender;
  if (sender.size() >= 2 && sender.front() == '<' && sender.back() == '>') sender = sender.substr(1, sender.size() - 2);
  // Section 2.4: the null sender is checked as postmaster@HELO.
  if (sender.empty()) sender = "postmaster@" + q.helo;
  auto at = sender.rfind('@');
  std::string local = at == std::string::npos ? "postmaster" : sender.substr(0, at);
  std::string domain = at == std::string::npos ? sender : sender.substr(at + 1);
  if (local.empty()) local = "postmaster";  // section 4.3
  st.macros.sender = local + "@" + domain;
  st.macros.local = local;
  st.macros.sender_domain = domain;
  st.macros.ip = address_text(st.ip);
  st.macros.ipv6 = st.ip.v6;
  st.macros.helo = q.helo;
  st.macros.receiver = q.receiver;
  st.macros.timestamp = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  out.domain = resolver::normalize_name(domain);

  // Section 4.3: a domain that is not a usable multi-label name gives none.
  if (auto why = resolver::dns_name_problem(out.domain); !why.empty() || out.domain.find('.') == std::string::npos ||
                                                          resolver::looks_like_ip_literal(domain)) {
    out.result = SpfResult::none;
    out.reason = fmt::format("'{}' is not a domain that can have an SPF record{}", domain, why.empty() ? "" : ": " + why);
    co_return out;
  }
  auto e = co_await evaluate(st, out.domain, 0);
  out.result = e.result;
  out.reason = e.reason;
  out.explanation = e.explanation;
  out.lookups = st.lookups;
  out.void_lookups = st.voids;
  out.decisive_domain = st.decisive_domain;
  out.decisive_term = st.decisive_term;
  out.trace = std::move(st.trace);
  for (const auto& s : out.trace) {
    if (s.depth == 0 && s.outcome == "record") out.record = s.detail;
  }
  co_return out;
}

}  // namespace bp::probes::spf

#include "delegation.hpp"

#include <async.hpp>
#include <domain_name.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

namespace bp::probes::delegation {

using resolver::DnsFailure;
using resolver::Lookup;
using resolver::RrType;

namespace {

Finding make(std::string code, Severity s, std::string subject, std::string summary, std::string reference,
             std::string fix = {}) {
  auto f = make_finding("delegation", std::move(code), s, std::move(subject), std::move(summary));
  f.reference = std::move(reference);
  f.fix = std::move(fix);
  return f;
}

std::string server_name(const ServerAnswer& s) { return fmt::format("{} ({})", s.host, s.address.address); }

/// Findings about the SOA's timers (RFC 1912 section 2.2, RFC 2308 section 5).
void soa_findings(const std::string& domain, const resolver::Record& soa, std::vector<Finding>& out) {
  const std::string q = domain + " SOA";
  const auto add = [&](std::string code, Severity s, std::string summary, std::string ref, std::string fix) {
    auto f = make(std::move(code), s, domain, std::move(summary), std::move(ref), std::move(fix));
    f.evidence.push_back({q, soa.rdata_text()});
    out.push_back(std::move(f));
  };
  if (soa.retry >= soa.refresh) {
    add("delegation.soa-retry", Severity::warning,
        fmt::format("{}: the SOA retry ({} s) is not shorter than the refresh ({} s): a secondary that misses a refresh "
                    "waits as long as if it had not",
                    domain, soa.retry, soa.refresh),
        "RFC 1912 section 2.2", "make retry a fraction of refresh (refresh 3600, retry 600, say)");
  }
  if (soa.expire <= soa.refresh + soa.retry) {
    add("delegation.soa-expire", Severity::warning,
        fmt::format("{}: the SOA expire ({} s) is not longer than refresh + retry ({} s): secondaries drop the zone "
                    "after one missed refresh, and the domain stops resolving when its primary is down",
                    domain, soa.expire, soa.refresh + soa.retry),
        "RFC 1912 section 2.2", "use an expire of two to four weeks (1209600 to 2419200)");
  }
  if (soa.minimum > 86400) {
    add("delegation.soa-negative-ttl", Severity::info,
        fmt::format("{}: the SOA minimum ({} s) makes resolvers cache \"no such name\" for over a day: a record "
                    "added later stays invisible that long",
                    domain, soa.minimum),
        "RFC 2308 section 5", "use one to three hours (3600 to 10800)");
  }
}

}  // namespace

std::vector<Finding> delegation_findings(const Gathered& g) {
  std::vector<Finding> out;
  const std::string& domain = g.domain;
  const std::string nsq = domain + " NS";
  if (!g.ns.ok()) {
    const auto& e = g.ns.error();
    if (e.kind == DnsFailure::nxdomain) return out;  // the MX probe says the domain does not exist
    if (e.kind == DnsFailure::nodata) {
      auto f = make("delegation.not-apex", Severity::info, domain,
                    fmt::format("{} has no NS records: it is a name inside its parent's zone, and that zone's name "
                                "servers answer for it",
                                domain),
                    "RFC 1034 section 4.2");
      f.evidence.push_back({nsq, resolver::answer_text(g.ns)});
      out.push_back(std::move(f));
      return out;
    }
    auto f = make("delegation.not-checked", Severity::warning, domain,
                  fmt::format("the name servers of {} could not be checked: {}", domain, e.detail), "RFC 1034 section 4.1");
    f.checked = false;
    f.evidence.push_back({nsq, resolver::answer_text(g.ns)});
    out.push_back(std::move(f));
    return out;
  }
  const std::string ns_text = resolver::answer_text(g.ns);
  const std::size_t host_count = g.hosts.size() + g.hosts_not_looked_up;
  if (host_count < 2) {
    auto f = make("delegation.single-ns", Severity::warning, domain,
                  fmt::format("{} has one name server: when it is down or unreachable, the domain does not resolve "
                              "and mail to it is deferred, then bounced",
                              domain),
                  "RFC 1034 section 4.1, RFC 2182 section 5", "add a second name server on another network");
    f.evidence.push_back({nsq, ns_text});
    out.push_back(std::move(f));
  }
  if (g.hosts_not_looked_up > 0) {
    out.push_back(make("delegation.too-many-ns", Severity::info, domain,
                       fmt::format("{} has {} name servers; only the first {} were checked", domain, host_count, max_hosts),
                       "RFC 2182 section 5"));
  }
  for (const auto& h : g.hosts) {
    const auto& chain = h.a.ok() ? h.a->cname_chain : h.a.error().cname_chain;
    if (!chain.empty()) {
      auto f = make("delegation.ns-alias", Severity::warning, h.host,
                    fmt::format("name server {} of {} is an alias (CNAME to {}): an NS record must name the server "
                                "itself, and some resolvers fail on it",
                                h.host, domain, chain.back()),
                    "RFC 2181 section 10.3", fmt::format("name {} in the NS record", chain.back()));
      f.evidence.push_back({h.host + " A", resolver::answer_text(h.a)});
      out.push_back(std::move(f));
    }
    const bool none = !h.a.ok() && !h.aaaa.ok();
    if (!none) continue;
    const bool negative = resolver::is_negative(h.a.error().kind) && resolver::is_negative(h.aaaa.error().kind);
    auto f = negative ? make("delegation.ns-no-address", Severity::error, h.host,
                             fmt::format("name server {} of {} has no address (no A, no AAAA): resolvers cannot ask it",
                                         h.host, domain),
                             "RFC 1034 section 4.1", "give the name server an address, or remove it from the NS set")
                      : make("delegation.ns-not-checked", Severity::warning, h.host,
                             fmt::format("the address of name server {} could not be looked up: {}", h.host,
                                         h.a.ok() ? h.aaaa.error().detail : h.a.error().detail),
                             "RFC 1034 section 4.1");
    f.checked = negative;
    f.evidence.push_back({h.host + " A", resolver::answer_text(h.a)});
    f.evidence.push_back({h.host + " AAAA", resolver::answer_text(h.aaaa)});
    out.push_back(std::move(f));
  }

  // Each address asked directly.
  std::map<std::uint32_t, std::vector<std::string>> serials;
  std::size_t answered = 0;
  std::vector<Finding> silent;
  for (const auto& s : g.servers) {
    if (!s.address.global) {
      auto f = make("delegation.ns-not-routable", Severity::error, s.host,
                    fmt::format("name server {} of {} is at {}, a {} address ({}): resolvers on the internet cannot reach it",
                                s.host, domain, s.address.address, s.address.name, s.address.prefix),
                    s.address.reference, "publish the name server's public address");
      out.push_back(std::move(f));
      continue;
    }
    if (!s.asked) continue;
    const std::string q = fmt::format("{} SOA @{}", domain, s.address.address);
    if (!s.soa.ok() && (s.soa.error().kind == DnsFailure::timeout || s.soa.error().kind == DnsFailure::connection_refused ||
                        s.soa.error().kind == DnsFailure::no_server || s.soa.error().kind == DnsFailure::cancelled)) {
      auto f = make("delegation.ns-no-answer", Severity::warning, s.host,
                    fmt::format("name server {} does not answer from here: {}", server_name(s), s.soa.error().detail),
                    "RFC 2182 section 5", "make the server answer on UDP and TCP port 53, or remove it from the NS set");
      f.evidence.push_back({q, resolver::answer_text(s.soa)});
      silent.push_back(std::move(f));
      continue;
    }
    const bool soa_found = s.soa.ok() && !s.soa->records.empty();
    if (!soa_found || !s.soa->authoritative) {
      const std::string why = !s.soa.ok()                ? s.soa.error().detail
                              : s.soa->records.empty()   ? "no SOA in its answer"
                                                         : "an answer without the authoritative (AA) flag";
      auto f = make("delegation.lame", Severity::error, s.host,
                    fmt::format("name server {} is named for {} but does not serve it ({}): a lame delegation, and "
                                "every resolver that asks it loses time or fails",
                                server_name(s), domain, why),
                    "RFC 1034 section 4.1, RFC 1912 section 2.8",
                    "load the zone on this server, or remove it from the NS set");
      f.evidence.push_back({q, resolver::answer_text(s.soa)});
      out.push_back(std::move(f));
      continue;
    }
    ++answered;
    serials[s.soa->records.front().serial].push_back(server_name(s));
  }
  // A server that does not answer while others do is a warning; none answering is an error.
  for (auto& f : silent) {
    if (answered == 0) f.severity = Severity::error;
    out.push_back(std::move(f));
  }
  if (serials.size() > 1) {
    std::string list;
    for (const auto& [serial, names] : serials) {
      list += fmt::format("{}{} from {}", list.empty() ? "" : "; ", serial, fmt::join(names, ", "));
    }
    out.push_back(make("delegation.serial-mismatch", Severity::warning, domain,
                       fmt::format("the name servers of {} serve different versions of the zone (SOA serials: {}): "
                                   "resolvers see one or the other at random",
                                   domain, list),
                       "RFC 1996, RFC 1912 section 2.2",
                       "make the secondaries transfer the zone (NOTIFY, or check that transfers are allowed)"));
  }
  if (g.soa.ok() && !g.soa->records.empty() && g.soa->records.front().type == RrType::soa) {
    soa_findings(domain, g.soa->records.front(), out);
  }
  const bool bad = std::any_of(out.begin(), out.end(), [](const Finding& f) { return f.severity >= Severity::warning; });
  if (!bad) {
    // The summary is the same whether the servers were asked or a zone file stands
    // for the zone (--compare matches findings by summary); the detail says which.
    auto f = make("delegation.ok", Severity::ok, domain, fmt::format("{} has {} name servers", domain, host_count),
                  "RFC 1034 section 4.1");
    f.detail = g.from_zone_file ? "from the zone file: the servers, which serve the live zone, were not asked"
               : serials.size() == 1
                   ? fmt::format("{} of their addresses answer with authority, all with SOA serial {}", answered,
                                 serials.begin()->first)
                   : std::string("no address of theirs could be asked");
    f.evidence.push_back({nsq, ns_text});
    out.push_back(std::move(f));
  }
  return out;
}

namespace {
/// \return the SOA answer of the server at `address`, asked directly.
asio::awaitable<Lookup> ask_server(asio::any_io_executor ex, std::chrono::milliseconds timeout, int tries,
                                   std::string address, bool v6, std::string domain) {
  resolver::ResolverOptions o;
  o.servers = {v6 ? "[" + address + "]:53" : address};
  o.timeout = timeout;
  o.tries = tries;
  o.keep_log = false;
  o.cache_limit = 16;
  resolver::Resolver server(ex, o);
  auto answer = co_await server.lookup(domain, RrType::soa);
  server.finish();
  co_return answer;
}
}  // namespace

Facts delegation_facts(const Gathered& g) {
  Facts f;
  if (g.ns.ok()) {
    for (const auto& rec : g.ns->records) {
      if (rec.type == RrType::ns) f.ns.push_back(rec.target);
    }
  }
  f.apex = !f.ns.empty();
  for (const auto& s : g.servers) {
    ServerFact x;
    x.host = s.host;
    x.address = s.address.address;
    x.asked = s.asked;
    if (s.asked) {
      x.outcome = s.soa.ok() ? "answer" : std::string(resolver::to_string(s.soa.error().kind));
      if (s.soa.ok()) {
        x.authoritative = s.soa->authoritative;
        for (const auto& rec : s.soa->records) {
          if (rec.type == RrType::soa) x.serial = rec.serial;
        }
      }
    }
    f.servers.push_back(std::move(x));
  }
  return f;
}

asio::awaitable<Report> check_delegation(resolver::Resolver& r, std::string domain, AddressPolicy policy) {
  Gathered g;
  g.domain = resolver::normalize_name(domain);
  {
    std::vector<resolver::Resolver::Question> q;
    q.push_back({g.domain, RrType::ns});
    q.push_back({g.domain, RrType::soa});
    auto answers = co_await r.lookup_all(std::move(q));
    g.ns = std::move(answers[0]);
    g.soa = std::move(answers[1]);
  }
  const auto& overlay = r.options().overlay;
  g.from_zone_file = overlay != nullptr && overlay->covering(g.domain) != nullptr;
  if (g.ns.ok()) {
    std::set<std::string> seen;
    for (const auto& rec : g.ns->records) {
      if (rec.target.empty() || !seen.insert(rec.target).second) continue;
      if (g.hosts.size() >= max_hosts) {
        ++g.hosts_not_looked_up;
        continue;
      }
      g.hosts.push_back({rec.target, {}, {}});
    }
    std::vector<resolver::Resolver::Question> q;
    for (const auto& h : g.hosts) {
      q.push_back({h.host, RrType::a});
      q.push_back({h.host, RrType::aaaa});
    }
    auto answers = co_await r.lookup_all(std::move(q));
    for (std::size_t i = 0; i < g.hosts.size(); ++i) {
      g.hosts[i].a = std::move(answers[2 * i]);
      g.hosts[i].aaaa = std::move(answers[2 * i + 1]);
    }
    std::vector<asio::awaitable<Lookup>> asks;
    std::vector<std::size_t> asked;
    for (const auto& h : g.hosts) {
      for (const Lookup* l : {&h.a, &h.aaaa}) {
        if (!l->ok()) continue;
        for (const auto& rec : (*l)->records) {
          if (g.servers.size() >= max_servers) break;
          auto c = classify(rec.address, policy);
          if (!c) continue;
          ServerAnswer s{h.host, *c, false, Lookup{}};
          if (c->global && !g.from_zone_file) {
            s.asked = true;
            asked.push_back(g.servers.size());
            asks.push_back(ask_server(r.executor(), r.options().timeout, r.options().tries, c->address, c->v6, g.domain));
          }
          g.servers.push_back(std::move(s));
        }
      }
    }
    if (!asks.empty()) {
      auto direct = co_await when_all(std::move(asks));
      for (std::size_t k = 0; k < asked.size(); ++k) g.servers[asked[k]].soa = std::move(direct[k]);
    }
  }
  co_return Report{delegation_findings(g), delegation_facts(g)};
}

}  // namespace bp::probes::delegation

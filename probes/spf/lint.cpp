#include "lint.hpp"

#include "../limits.hpp"

#include <async.hpp>
#include <domain_name.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace bp::probes::spf {

using resolver::DnsFailure;
using resolver::Lookup;
using resolver::RrType;

namespace {

constexpr int max_nodes = 40;
constexpr int max_depth = 10;

Finding make(std::string code, Severity sev, std::string subject, std::string summary) {
  auto f = make_finding("spf", std::move(code), sev, std::move(subject), std::move(summary));
  f.reference = "RFC 7208";
  return f;
}

struct Node {
  std::string domain;
  std::string via;  ///< "include:x" / "redirect=x" / "" for the top
  int depth{0};
  Lookup txt;
  std::vector<std::string> records;
  std::optional<Result<Record, ParseError>> parsed;
  std::vector<std::size_t> children;
  int own_lookups{0};
  int subtree_lookups{0};
};

struct Walk {
  resolver::Resolver& r;
  std::vector<Node> nodes;
  std::set<std::string> seen;
};

/// Fetches and parses the records of a level of the include/redirect tree at once.
asio::awaitable<void> walk(Walk& w, std::vector<std::size_t> level) {
  while (!level.empty()) {
    std::vector<resolver::Resolver::Question> ops;
    for (auto i : level) ops.push_back({w.nodes[i].domain, RrType::txt});
    auto results = co_await w.r.lookup_all(std::move(ops));
    std::vector<std::size_t> next;
    for (std::size_t k = 0; k < level.size(); ++k) {
      auto i = level[k];
      w.nodes[i].txt = std::move(results[k]);
      if (!w.nodes[i].txt.ok()) continue;
      for (const auto& rec : w.nodes[i].txt->records) {
        std::string joined;
        for (const auto& s : rec.strings) joined += s;
        if (is_spf_record(joined)) w.nodes[i].records.push_back(joined);
      }
      if (w.nodes[i].records.size() != 1) continue;
      w.nodes[i].parsed = parse_record(w.nodes[i].records.front());
      if (!w.nodes[i].parsed->ok()) continue;
      const auto& rec = w.nodes[i].parsed->value();
      for (const auto& t : rec.terms) {
        if (t.counts_lookup()) ++w.nodes[i].own_lookups;
        const bool follows = (!t.modifier && t.mechanism == Mechanism::include) || (t.modifier && t.name == "redirect");
        if (!follows || t.domain_spec.find('%') != std::string::npos) continue;
        const auto target = resolver::normalize_name(t.domain_spec);
        if (w.nodes[i].depth + 1 > max_depth || static_cast<int>(w.nodes.size()) >= max_nodes || !w.seen.insert(target).second) continue;
        Node child;
        child.domain = target;
        child.via = t.text;
        child.depth = w.nodes[i].depth + 1;
        w.nodes.push_back(std::move(child));
        w.nodes[i].children.push_back(w.nodes.size() - 1);
        next.push_back(w.nodes.size() - 1);
      }
    }
    level = std::move(next);
  }
}

int subtree(std::vector<Node>& nodes, std::size_t i) {
  int total = nodes[i].own_lookups;
  for (auto c : nodes[i].children) total += subtree(nodes, c);
  nodes[i].subtree_lookups = total;
  return total;
}

}  // namespace

asio::awaitable<SpfLint> lint_spf(resolver::Resolver& r, std::string domain) {
  SpfLint out;
  out.domain = resolver::normalize_name(domain);
  Walk w{r, {}, {}};
  w.seen.insert(out.domain);
  Node top;
  top.domain = out.domain;
  w.nodes.push_back(std::move(top));
  std::vector<std::size_t> first;
  first.push_back(0);
  co_await walk(w, std::move(first));
  auto& root = w.nodes[0];
  auto evidence = [&](const Node& n) {
    return Evidence{n.domain + " TXT", resolver::answer_text(n.txt)};
  };

  if (!root.txt.ok() && !resolver::is_negative(root.txt.error().kind)) {
    out.checked = false;
    auto f = make("spf.lookup-failed", Severity::warning, out.domain,
                  fmt::format("could not check the SPF record of {}: {} ({}); receivers get temperror", out.domain,
                              resolver::to_string(root.txt.error().kind), root.txt.error().detail));
    f.checked = false;
    f.evidence.push_back(evidence(root));
    out.findings.push_back(std::move(f));
    co_return out;
  }
  if (root.records.empty()) {
    auto f = make("spf.none", Severity::warning, out.domain,
                  fmt::format("{} publishes no SPF record: receivers cannot tell its servers from forgers (result none)", out.domain));
    f.fix = fmt::format("publish a TXT record at {} such as \"v=spf1 mx -all\" listing the servers that send its mail", out.domain);
    f.evidence.push_back(evidence(root));
    out.findings.push_back(std::move(f));
    co_return out;
  }
  out.has_record = true;
  out.record = root.records.front();
  if (root.records.size() > 1) {
    auto f = make("spf.multiple-records", Severity::error, out.domain,
                  fmt::format("{} publishes {} SPF records; receivers answer permerror (RFC 7208 section 4.5)", out.domain,
                              root.records.size()));
    f.fix = "merge them into one v=spf1 record";
    f.evidence.push_back(evidence(root));
    out.findings.push_back(std::move(f));
    co_return out;
  }
  subtree(w.nodes, 0);
  out.lookups = root.subtree_lookups;
  // The names of at most limits::spf_lint_terms a/mx/exists terms are resolved,
  // in tree order (RFC 7208 4.6.4 caps DNS-querying terms at 10); the rest are
  // counted and reported. Start those lookups at once; the checks below then
  // read them in order from the resolver's shared cache.
  std::set<const Term*> resolved_terms;
  int terms_not_resolved = 0;
  for (const auto& n : w.nodes) {
    if (!n.parsed || !n.parsed->ok()) continue;
    for (const auto& t : n.parsed->value().terms) {
      if (t.modifier || t.domain_spec.find('%') != std::string::npos) continue;
      if (t.mechanism != Mechanism::a && t.mechanism != Mechanism::mx && t.mechanism != Mechanism::exists) continue;
      if (static_cast<int>(resolved_terms.size()) >= limits::spf_lint_terms) {
        ++terms_not_resolved;
        continue;
      }
      resolved_terms.insert(&t);
      const auto target = t.domain_spec.empty() ? n.domain : resolver::normalize_name(t.domain_spec);
      if (t.mechanism == Mechanism::mx) r.prefetch(target, RrType::mx);
      if (t.mechanism == Mechanism::a || t.mechanism == Mechanism::exists) r.prefetch(target, RrType::a);
      if (t.mechanism == Mechanism::a) r.prefetch(target, RrType::aaaa);
    }
  }
  std::set<std::string> ranges;
  bool problem = false;
  for (auto& n : w.nodes) {
    if (!n.txt.ok() && !resolver::is_negative(n.txt.error().kind)) {
      auto f = make("spf.include-lookup-failed", Severity::warning, n.domain,
                    fmt::format("could not fetch the SPF record of {} ({}): {}", n.domain, n.via, n.txt.error().detail));
      f.checked = false;
      f.evidence.push_back(evidence(n));
      out.findings.push_back(std::move(f));
      continue;
    }
    if (&n != &root && n.records.empty()) {
      problem = true;
      auto f = make("spf.include-without-record", Severity::error, n.domain,
                    fmt::format("'{}' points at {}, which has no SPF record: receivers answer permerror", n.via, n.domain));
      f.fix = fmt::format("remove '{}' or correct the domain name", n.via);
      f.evidence.push_back(evidence(n));
      out.findings.push_back(std::move(f));
      continue;
    }
    if (n.records.size() > 1 && &n != &root) {
      problem = true;
      out.findings.push_back(make("spf.multiple-records", Severity::error, n.domain,
                                  fmt::format("{} (reached by '{}') publishes {} SPF records: permerror", n.domain, n.via, n.records.size())));
      continue;
    }
    if (!n.parsed) continue;
    if (!n.parsed->ok()) {
      problem = true;
      const auto& e = n.parsed->error();
      auto f = make("spf.syntax", Severity::error, n.domain,
                    fmt::format("syntax error in the SPF record of {} at column {}: '{}': {}", n.domain, e.column, e.term, e.message));
      f.detail = n.records.front();
      f.fix = "correct the term; receivers answer permerror for the whole record";
      f.evidence.push_back(evidence(n));
      out.findings.push_back(std::move(f));
      continue;
    }
    const auto& rec = n.parsed->value();
    if (rec.text.size() > 450) {
      out.findings.push_back(make("spf.record-too-long", Severity::warning, n.domain,
                                  fmt::format("the SPF record of {} is {} bytes; keep it under 450 so replies fit in UDP (section 3.4)",
                                              n.domain, rec.text.size())));
    }
    bool terminal = rec.redirect.has_value();
    for (const auto& t : rec.terms) {
      if (t.modifier) continue;
      switch (t.mechanism) {
        case Mechanism::all:
          terminal = true;
          if (&n == &root && (t.qualifier == '+' || t.qualifier == '?')) {
            auto f = make(t.qualifier == '+' ? "spf.pass-all" : "spf.neutral-all",
                          t.qualifier == '+' ? Severity::error : Severity::warning, n.domain,
                          t.qualifier == '+' ? fmt::format("'{}' in {} authorizes every host on the internet to send as it", t.text, n.domain)
                                             : fmt::format("'{}' in {} says nothing about other hosts: forged mail gets neutral", t.text, n.domain));
            f.fix = "end the record with -all (or ~all while you collect reports)";
            out.findings.push_back(std::move(f));
          }
          if (t.qualifier == '+') out.authorizes_senders = true;
          break;
        case Mechanism::ptr: {
          auto f = make("spf.ptr", Severity::warning, n.domain,
                        fmt::format("'{}' in {} uses ptr, which is slow and unreliable; RFC 7208 section 5.5 says do not use it", t.text, n.domain));
          f.fix = "replace ptr with ip4/ip6 or a terms for the sending hosts";
          out.findings.push_back(std::move(f));
          out.unflattened.push_back(t.text);
          if (t.qualifier == '+') out.authorizes_senders = true;
          break;
        }
        case Mechanism::ip4:
        case Mechanism::ip6:
          if (t.qualifier == '+') {
            out.authorizes_senders = true;
            ranges.insert(fmt::format("{}/{}", t.network, t.mechanism == Mechanism::ip4 ? t.cidr4 : t.cidr6));
          }
          break;
        case Mechanism::a:
        case Mechanism::mx:
        case Mechanism::exists: {
          if (t.qualifier == '+') out.authorizes_senders = true;
          if (t.domain_spec.find('%') != std::string::npos) {
            out.unflattened.push_back(t.text);
            break;
          }
          if (!resolved_terms.count(&t)) break;  // past the bound: counted above, reported below
          const auto target = t.domain_spec.empty() ? n.domain : resolver::normalize_name(t.domain_spec);
          if (t.mechanism == Mechanism::exists) {
            out.unflattened.push_back(t.text);
            auto l = co_await r.lookup(target, RrType::a);
            if (!l.ok() && resolver::is_negative(l.error().kind)) ++out.void_lookups;
            break;
          }
          std::vector<std::string> hosts;
          hosts.push_back(target);
          if (t.mechanism == Mechanism::mx) {
            auto m = co_await r.lookup(target, RrType::mx);
            hosts.clear();
            if (!m.ok()) {
              if (resolver::is_negative(m.error().kind)) {
                ++out.void_lookups;
                auto f = make("spf.void-lookup", Severity::warning, n.domain,
                              fmt::format("'{}' in {}: {} has no MX records (a void lookup)", t.text, n.domain, target));
                f.evidence.push_back(Evidence{target + " MX", resolver::answer_text(m)});
                out.findings.push_back(std::move(f));
              }
              break;
            }
            for (const auto& x : m->records) {
              if (!x.target.empty()) hosts.push_back(x.target);
            }
            if (hosts.size() > limits::spf_mx_hosts) {
              problem = true;
              out.findings.push_back(make("spf.mx-too-many-hosts", Severity::error, n.domain,
                                          fmt::format("'{}' in {}: {} has {} MX hosts; receivers look up at most {} and "
                                                      "answer permerror (RFC 7208 section 4.6.4); only the first {} were resolved",
                                                      t.text, n.domain, target, hosts.size(), limits::spf_mx_hosts,
                                                      limits::spf_mx_hosts)));
              hosts.resize(limits::spf_mx_hosts);
            }
          }
          // Every host's A and AAAA at once.
          std::vector<resolver::Resolver::Question> host_ops;
          for (const auto& h : hosts) {
            host_ops.push_back({h, RrType::a});
            host_ops.push_back({h, RrType::aaaa});
          }
          auto host_answers = co_await r.lookup_all(std::move(host_ops));
          for (std::size_t hi = 0; hi < hosts.size(); ++hi) {
            const auto& h = hosts[hi];
            const auto& a4 = host_answers[2 * hi];
            const auto& a6 = host_answers[2 * hi + 1];
            if (t.mechanism == Mechanism::a && !a4.ok() && !a6.ok() && resolver::is_negative(a4.error().kind)) {
              ++out.void_lookups;
              auto f = make("spf.void-lookup", Severity::warning, n.domain,
                            fmt::format("'{}' in {}: {} has no address (a void lookup)", t.text, n.domain, h));
              f.evidence.push_back(Evidence{h + " A", resolver::answer_text(a4)});
              out.findings.push_back(std::move(f));
            }
            if (t.qualifier != '+') continue;
            if (a4.ok()) for (const auto& x : a4->records) ranges.insert(fmt::format("{}/{}", x.address, t.cidr4));
            if (a6.ok()) for (const auto& x : a6->records) ranges.insert(fmt::format("{}/{}", x.address, t.cidr6));
          }
          break;
        }
        case Mechanism::include: break;
      }
    }
    if (&n == &root && !terminal) {
      auto f = make("spf.no-all", Severity::warning, n.domain,
                    fmt::format("the SPF record of {} ends without 'all' or 'redirect=': other hosts get neutral", n.domain));
      f.fix = "end the record with -all (or ~all)";
      out.findings.push_back(std::move(f));
    }
  }
  if (terms_not_resolved > 0) {
    out.findings.push_back(make("spf.terms-not-resolved", Severity::warning, out.domain,
                                fmt::format("{} a/mx/exists term(s) of the SPF policy of {} were not resolved: the lint "
                                            "resolves the first {} (the RFC 7208 limit of DNS-querying terms), so the "
                                            "authorized addresses listed are incomplete",
                                            terms_not_resolved, out.domain, limits::spf_lint_terms)));
  }
  if (out.void_lookups > 2) {
    problem = true;
    out.findings.push_back(make("spf.too-many-void-lookups", Severity::error, out.domain,
                                fmt::format("the SPF policy of {} makes {} void lookups; more than 2 is permerror (section 4.6.4)",
                                            out.domain, out.void_lookups)));
  }
  if (out.lookups > 10) {
    problem = true;
    std::string costs;
    for (auto c : root.children) {
      costs += fmt::format("{}'{}' costs {}", costs.empty() ? "" : ", ", w.nodes[c].via, w.nodes[c].subtree_lookups + 1);
    }
    auto f = make("spf.too-many-lookups", Severity::error, out.domain,
                  fmt::format("the SPF policy of {} needs {} DNS-querying terms after following includes; the limit is 10 "
                              "(section 4.6.4), so receivers answer permerror. {}",
                              out.domain, out.lookups, costs));
    f.fix = "remove includes you no longer use, or replace the costliest ones with ip4/ip6 ranges";
    out.findings.push_back(std::move(f));
  }
  out.authorized.assign(ranges.begin(), ranges.end());
  if (!problem) {
    auto f = make("spf.ok", Severity::ok, out.domain,
                  fmt::format("{}: {} ({} of 10 DNS-querying terms, {} address range{} authorized)", out.domain,
                              out.record.size() > 100 ? out.record.substr(0, 97) + "..." : out.record,
                              out.lookups, out.authorized.size(), out.authorized.size() == 1 ? "" : "s"));
    f.evidence.push_back(evidence(root));
    out.findings.push_back(std::move(f));
  }
  co_return out;
}

std::vector<Finding> spf_mx_findings(const SpfLint& spf, const MxReport& mx) {
  std::vector<Finding> out;
  if (mx.status == MxStatus::null_mx && spf.authorizes_senders) {
    auto f = make("spf.null-mx-sender", Severity::error, spf.domain,
                  fmt::format("{} publishes a null MX but its SPF record authorizes senders: its own outgoing mail will be "
                              "refused by receivers that check the sender domain (550 5.7.27 at Postfix)",
                              spf.domain));
    f.reference = "RFC 7505 section 4.2";
    f.fix = "if the domain sends mail, replace the null MX with real MX records; if it does not, publish \"v=spf1 -all\"";
    f.evidence = mx.evidence;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace bp::probes::spf

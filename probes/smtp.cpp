#include "smtp.hpp"

#include "rdns.hpp"

#include <async.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>

namespace bp::probes {

namespace {

using smtp::Session;

Finding smtp_finding(std::string code, Severity s, std::string subject, std::string summary) {
  return make_finding("smtp", std::move(code), s, std::move(subject), std::move(summary));
}

std::string where(const Session& s) { return fmt::format("{} [{}]", s.host, s.address); }

std::string reply_line(const smtp::Reply& r) {
  return fmt::format("{} {}{}", r.code, r.enhanced.empty() ? "" : r.enhanced + " ", r.text());
}

/// The transcript as evidence, one line each (bounded: a session has few steps).
std::vector<Evidence> transcript_evidence(const Session& s) {
  std::vector<Evidence> out;
  for (const auto& t : s.transcript) {
    if (out.size() >= 60) break;
    const char* who = t.direction == 'C' ? "C:" : t.direction == 'S' ? "S:" : "*";
    out.push_back({fmt::format("{:.0f} ms", t.at_ms), fmt::format("{} {}", who, t.text.substr(0, 300))});
  }
  return out;
}

/// Is this session the end of the walk? Only a final answer for the main recipient is.
bool is_final(const Session& s, const smtp::Plan& plan) {
  if (!s.connected || s.error) return false;
  const auto* b = s.banner();
  if (b == nullptr || b->code != 220) return false;
  const auto* mail = s.find("mail");
  if (mail == nullptr || !mail->reply) return false;
  if (mail->reply->transient()) return false;
  if (mail->reply->permanent()) return true;
  if (plan.recipients.empty()) return true;
  const auto* rcpt = s.find("rcpt", plan.recipients.front().role);
  return rcpt != nullptr && rcpt->reply && !rcpt->reply->transient();
}

bool same_family(const std::string& a, const std::string& b) {
  return (a.find(':') != std::string::npos) == (b.find(':') != std::string::npos);
}

void connection_findings(SmtpReport& rep, const SmtpOptions& o) {
  int connected = 0;
  std::vector<std::string> failures;
  for (const auto& s : rep.sessions) {
    if (s.connected) ++connected;
    else failures.push_back(fmt::format("{}: {}", where(s), s.error ? s.error->detail : "?"));
  }
  if (connected == 0 && !rep.sessions.empty()) {
    auto f = smtp_finding("smtp.unreachable", Severity::error, rep.domain,
                          fmt::format("port {} is unreachable on every mail host of {} ({} address{} tried)", o.plan.port,
                                      rep.domain, rep.sessions.size(), rep.sessions.size() == 1 ? "" : "es"));
    for (const auto& x : failures) f.detail += (f.detail.empty() ? "" : "; ") + x;
    f.fix = "Check that the mail hosts listen on port 25 and that no firewall drops it. If every domain shows this, "
            "outbound port 25 is probably blocked where bounceprobe runs (many cloud and home networks do): run it from "
            "the sending server, or pass --source-ip.";
    f.reference = "RFC 5321 section 5.1";
    rep.findings.push_back(std::move(f));
    return;
  }
  for (const auto& s : rep.sessions) {
    if (s.connected) continue;
    auto f = smtp_finding("smtp.connect-failed", Severity::warning, s.host,
                          fmt::format("{}: {}; senders fall back to the next address", where(s), s.error ? s.error->detail : "?"));
    f.evidence = transcript_evidence(s);
    rep.findings.push_back(std::move(f));
  }
}

void session_findings(SmtpReport& rep, const Session& s, const SmtpOptions& o) {
  if (!s.connected) return;
  const auto subject = s.host;
  // The greeting.
  if (const auto* b = s.banner()) {
    if (s.banner_ms > static_cast<double>(o.slow_banner.count())) {
      auto f = smtp_finding("smtp.banner-slow", Severity::warning, subject,
                            fmt::format("{} greeted after {:.1f} s (a tarpit or greeting delay: impatient senders give up)", where(s),
                                        s.banner_ms / 1000.0));
      f.reference = "RFC 5321 section 4.5.3.2.1 (senders wait 5 minutes)";
      rep.findings.push_back(std::move(f));
    }
    if (b->code == 421 || b->code == 452) {
      auto f = smtp_finding("smtp.connection-limit", Severity::warning, subject,
                            fmt::format("{} refused the session at connect: {}", where(s), reply_line(*b)));
      f.fix = "The receiver limits connections per client; senders retry later. Lower the sending MTA's concurrency for this destination.";
      f.evidence = transcript_evidence(s);
      rep.findings.push_back(std::move(f));
    } else if (b->code != 220) {
      auto f = smtp_finding("smtp.greeting-refused", Severity::error, subject,
                            fmt::format("{} refuses service at connect: {}", where(s), reply_line(*b)));
      f.evidence = transcript_evidence(s);
      rep.findings.push_back(std::move(f));
    }
  }
  // A session that broke.
  if (s.error && s.error_stage != "connect") {
    static const std::map<smtp::SessionErrorKind, std::string> codes = {
        {smtp::SessionErrorKind::timeout, "smtp.timeout"},      {smtp::SessionErrorKind::closed, "smtp.connection-closed"},
        {smtp::SessionErrorKind::protocol, "smtp.protocol-violation"}, {smtp::SessionErrorKind::tls, "smtp.tls-handshake-failed"},
        {smtp::SessionErrorKind::io, "smtp.io-error"},         {smtp::SessionErrorKind::refused, "smtp.io-error"},
        {smtp::SessionErrorKind::unreachable, "smtp.io-error"}, {smtp::SessionErrorKind::connect_timeout, "smtp.timeout"}};
    auto f = smtp_finding(codes.at(s.error->kind), Severity::error, subject,
                          fmt::format("{}: the session broke at {}: {}", where(s), s.error_stage, s.error->detail));
    if (s.error->kind == smtp::SessionErrorKind::tls) {
      f.fix = "Fix the server's TLS set-up (certificate, key, protocol versions). Opportunistic senders retry in plain text; "
              "senders that require TLS (MTA-STS, DANE) defer the mail.";
      f.reference = "RFC 3207";
    }
    f.evidence = transcript_evidence(s);
    rep.findings.push_back(std::move(f));
  }
  // Names: the greeting and EHLO names against the MX name.
  if (const auto* b = s.banner(); b != nullptr && b->code == 220) {
    const auto name = greeting_name(*b);
    if (!name.empty() && name != s.host) {
      rep.findings.push_back(smtp_finding("smtp.greeting-name", Severity::info, subject,
                                          fmt::format("{} greets as '{}', not as its MX name", where(s), name)));
    }
  }
  if (!s.ehlo_name.empty() && s.ehlo_name != s.host && s.banner() != nullptr && greeting_name(*s.banner()) != s.ehlo_name) {
    rep.findings.push_back(smtp_finding("smtp.ehlo-name", Severity::info, subject,
                                        fmt::format("{} answers EHLO as '{}', its greeting says otherwise", where(s), s.ehlo_name)));
  }
  // STARTTLS and the certificate.
  if (s.esmtp && !s.starttls_offered && !s.find("starttls")) {
    auto f = smtp_finding("smtp.no-starttls", Severity::warning, subject,
                          fmt::format("{} does not offer STARTTLS: mail to it crosses the network in clear text", where(s)));
    f.fix = "Enable STARTTLS on the receiving MTA (Postfix: smtpd_tls_security_level = may, with a certificate).";
    f.reference = "RFC 3207; RFC 8461 and RFC 7672 need it";
    rep.findings.push_back(std::move(f));
  }
  if (s.plaintext_after_starttls) {
    auto f = smtp_finding("smtp.starttls-injection", Severity::error, subject,
                          fmt::format("{} sent data after '220 ready to start TLS', before the handshake", where(s)));
    f.detail = "A server (or a middlebox) that does this may be open to STARTTLS command injection; bounceprobe discarded the bytes.";
    f.reference = "RFC 3207 section 5; CVE-2011-0411";
    rep.findings.push_back(std::move(f));
  }
  if (s.tls && s.tls->ok) {
    const auto& t = *s.tls;
    if (t.cert) {
      const auto& c = *t.cert;
      std::string names;
      for (const auto& n : c.names) names += (names.empty() ? "" : ", ") + n;
      if (smtp::certificate_acceptable(t)) {
        auto f = smtp_finding("smtp.tls", Severity::ok, subject,
                              fmt::format("{}: {} {}, certificate for {} valid until {} ({} days), {}", where(s), t.protocol, t.cipher,
                                          names, c.not_after, c.days_left, c.key));
        rep.findings.push_back(std::move(f));
        if (c.days_left < 14) {
          rep.findings.push_back(smtp_finding("smtp.cert-expiring", Severity::warning, subject,
                                              fmt::format("{}: the certificate expires in {} days ({})", where(s), c.days_left, c.not_after)));
        }
      } else {
        rep.findings.push_back(smtp_finding("smtp.tls", Severity::info, subject,
                                            fmt::format("{}: {} {}, {}", where(s), t.protocol, t.cipher, c.key)));
      }
      if (c.expired || c.not_yet_valid) {
        auto f = smtp_finding("smtp.cert-expired", Severity::error, subject,
                              fmt::format("{}: the certificate {} ({} to {})", where(s), c.expired ? "has expired" : "is not valid yet",
                                          c.not_before, c.not_after));
        f.fix = "Renew the certificate and reload the MTA. Senders that authenticate the server (MTA-STS, DANE-TA) defer mail until then.";
        rep.findings.push_back(std::move(f));
      }
      // An expired chain fails verification for that alone: smtp.cert-expired says it.
      const auto chain_errors = smtp::chain_errors_besides_validity(c);
      if (!c.chain_trusted && (!chain_errors.empty() || c.chain_errors.empty())) {
        auto f = smtp_finding("smtp.cert-untrusted", Severity::warning, subject,
                              fmt::format("{}: the certificate chain does not verify ({})", where(s), c.issuer));
        for (const auto& e : chain_errors) f.detail += (f.detail.empty() ? "" : "; ") + e;
        f.fix = "Serve the full chain from a public CA (leaf first, then intermediates). Opportunistic senders still deliver; "
                "MTA-STS senders do not.";
        rep.findings.push_back(std::move(f));
      }
      if (!c.name_matches) {
        auto f = smtp_finding("smtp.cert-name-mismatch", Severity::warning, subject,
                              fmt::format("{}: the certificate names {}, not the MX host {}", where(s), names.empty() ? "nothing" : names, s.host));
        f.fix = "Put the MX host name in the certificate's subjectAltName.";
        f.reference = "RFC 6125; RFC 8461 section 4.2";
        rep.findings.push_back(std::move(f));
      }
    }
    if (t.dane != smtp::DaneOutcome::not_published) {
      // Senders use TLSA records only from a DNSSEC-validated answer (RFC 7672 section 2.2):
      // a match in an answer that was not validated protects nothing, so it is no ✓.
      const bool secure = t.dane_authenticated;
      const bool matched = t.dane == smtp::DaneOutcome::matched;
      Severity sev = matched ? (secure ? Severity::ok : Severity::info) : (secure ? Severity::error : Severity::warning);
      auto f = smtp_finding(t.dane == smtp::DaneOutcome::matched ? "smtp.dane-match" : "smtp.dane-mismatch", sev, subject,
                            fmt::format("{}: DANE {}{}", where(s), t.dane_detail,
                                        secure ? "" : " (the TLSA answer was not DNSSEC-validated, so senders ignore it)"));
      f.reference = "RFC 7672 section 2.2";
      if (t.dane != smtp::DaneOutcome::matched) {
        f.fix = "Publish TLSA records that match the certificate now served (and the next one before a key change); "
                "DANE senders defer mail while none matches.";
      }
      rep.findings.push_back(std::move(f));
    }
  }
}

/// x.1.y: an addressing status, "user unknown" and its kin (RFC 3463 section 3.2).
bool addressing_status(const smtp::Reply& r) { return r.enhanced.size() > 2 && r.enhanced.compare(1, 3, ".1.") == 0; }

void recipient_findings(SmtpReport& rep, const Session& s) {
  const auto* pm = s.find("rcpt", "postmaster");
  const bool postmaster_ok = pm != nullptr && pm->reply && pm->reply->positive();
  for (const auto& x : s.exchanges) {
    if (x.stage != "rcpt" || !x.reply) continue;
    const auto& r = *x.reply;
    // Only a refusal of postmaster itself is about postmaster; relay denied is about the domain.
    if (x.role == "postmaster" && r.permanent() && addressing_status(r)) {
      auto f = smtp_finding("smtp.postmaster-rejected", Severity::warning, rep.domain,
                            fmt::format("{} refuses {}: {}", where(s), x.sent.substr(8), reply_line(r)));
      f.fix = "Accept mail for postmaster@ (RFC 5321 section 4.5.1 requires it); people report problems there.";
      f.reference = "RFC 5321 section 4.5.1";
      rep.findings.push_back(std::move(f));
    } else if (x.role == "random") {
      if (r.positive()) {
        auto f = smtp_finding("smtp.catch-all", Severity::info, rep.domain,
                              fmt::format("{} accepts a made-up recipient {}: it takes any local part, so an accepted RCPT "
                                          "does not prove a mailbox exists (and unknown users bounce later, as backscatter)",
                                          where(s), x.sent.substr(8)));
        rep.findings.push_back(std::move(f));
      } else if (r.permanent() && (postmaster_ok || addressing_status(r))) {
        rep.findings.push_back(smtp_finding("smtp.rejects-unknown", Severity::ok, rep.domain,
                                            fmt::format("{} rejects unknown recipients during the dialogue ({} {})", where(s), r.code,
                                                        r.enhanced)));
      }
    } else if (x.role == "relay") {
      if (r.positive()) {
        auto f = smtp_finding("smtp.open-relay", Severity::error, rep.domain,
                              fmt::format("{} accepts mail for a foreign domain ({}): it is an open relay", where(s), x.sent.substr(8)));
        f.fix = "Allow relaying only for your own networks and authenticated users (Postfix: smtpd_relay_restrictions = "
                "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination).";
        f.reference = "RFC 5321 section 3.6.2; RFC 2505";
        rep.findings.push_back(std::move(f));
      } else {
        rep.findings.push_back(smtp_finding("smtp.relay-denied", Severity::ok, rep.domain,
                                            fmt::format("{} refuses to relay for a foreign domain ({} {})", where(s), r.code, r.enhanced)));
      }
    }
  }
}

/// check (every address): which host a sender reaches first, and every other host that
/// answers the domain's recipient otherwise than it does. A backup MX that refuses what
/// the primary accepts bounces the mail that reaches it while the primary is busy or down.
void host_agreement_findings(SmtpReport& rep, const smtp::Plan& plan) {
  const Session* first = rep.final();
  if (first == nullptr || plan.recipients.empty()) return;
  rep.findings.push_back(smtp_finding("smtp.first-receiver", Severity::info, rep.domain,
                                      fmt::format("mail for {} goes first to {} (the first host in MX order that answers)",
                                                  rep.domain, where(*first))));
  const auto& rcpt = plan.recipients.front();
  const auto* accepted = first->find("rcpt", rcpt.role);
  if (accepted == nullptr || !accepted->reply || !accepted->reply->positive()) return;  // recipient_findings says why
  for (const auto& s : rep.sessions) {
    if (&s == first || !s.connected || s.address == first->address) continue;
    const auto* x = s.find("rcpt", rcpt.role);
    if (x == nullptr || !x->reply || x->reply->positive()) continue;
    const bool permanent = x->reply->permanent();
    auto f = smtp_finding("smtp.host-refuses-recipient", permanent ? Severity::error : Severity::warning, s.host,
                          fmt::format("{} refuses {} ({}) while {} accepts it: mail that reaches this host, when the first "
                                      "is busy or down, {}",
                                      where(s), rcpt.address, reply_line(*x->reply), where(*first),
                                      permanent ? "bounces" : "is deferred"));
    f.fix = "Configure every MX host to accept mail for the domain (a backup MX: list the domain in its relay "
            "domains and its recipients in its recipient table), or remove the host from the MX set.";
    f.reference = "RFC 5321 section 5.1";
    f.evidence = transcript_evidence(s);
    rep.findings.push_back(std::move(f));
  }
}

void rdns_findings(SmtpReport& rep) {
  for (const auto& s : rep.sessions) {
    if (!s.connected) continue;
    auto it = rep.confirmed_names.find(s.address);
    if (it == rep.confirmed_names.end()) continue;
    if (it->second.empty()) {
      auto f = smtp_finding("smtp.rdns", Severity::warning, s.host,
                            fmt::format("{}: the address has no reverse name that resolves back to it", where(s)));
      f.fix = "Ask whoever runs the address block for a PTR record naming the mail host, with a matching A/AAAA record.";
      f.reference = "RFC 1912 section 2.1";
      rep.findings.push_back(std::move(f));
    } else {
      rep.findings.push_back(smtp_finding("smtp.rdns", it->second == s.host ? Severity::ok : Severity::info, s.host,
                                          fmt::format("{}: reverse DNS names {} and confirms forward{}", where(s), it->second,
                                                      it->second == s.host ? "" : " (another name than the MX host)")));
    }
  }
}

/// Reverse DNS of every address at once.
asio::awaitable<std::map<std::string, std::string>> confirm_all(resolver::Resolver& r, std::vector<std::string> addresses) {
  std::vector<asio::awaitable<std::string>> ops;
  for (const auto& a : addresses) ops.push_back(confirmed_name(r, a));
  auto names = co_await when_all(std::move(ops));
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < addresses.size(); ++i) out[addresses[i]] = std::move(names[i]);
  co_return out;
}

/// One session, inside the run's bounds.
asio::awaitable<Session> gated_session(resolver::Resolver& r, SmtpGate& gate, std::string host, std::string address,
                                       smtp::Plan plan) {
  co_await gate.acquire(address);
  auto s = co_await smtp::run_session(r.executor(), std::move(host), address, std::move(plan));
  gate.release(address);
  co_return s;
}

asio::awaitable<std::pair<std::vector<smtp::TlsaRecord>, bool>> tlsa_for(resolver::Resolver& r, std::string host) {
  std::vector<smtp::TlsaRecord> out;
  auto res = co_await r.lookup("_25._tcp." + host, resolver::RrType::tlsa);
  if (!res) co_return std::make_pair(out, false);
  for (const auto& rec : res->records) out.push_back({rec.usage, rec.selector, rec.matching, rec.data});
  co_return std::make_pair(out, res->authenticated);
}

}  // namespace

asio::awaitable<void> SmtpGate::acquire(std::string address) {
  while (inflight_ >= parallel_ || busy_.count(address) > 0) {
    auto waiter = std::make_shared<asio::steady_timer>(ex_, asio::steady_timer::time_point::max());
    waiters_.push_back(waiter);
    co_await waiter->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  ++inflight_;
  busy_.insert(address);
}

void SmtpGate::release(const std::string& address) {
  --inflight_;
  busy_.erase(address);
  // Every waiter looks again: the one for this address, or any when a slot freed up.
  for (auto& w : waiters_) w->cancel();
  waiters_.clear();
}

std::string random_local_part() {
  unsigned char bytes[6];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes");
  std::string out = "bounceprobe-";
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

std::string greeting_name(const smtp::Reply& r) {
  if (r.lines.empty()) return {};
  auto first = r.lines.front();
  const auto end = first.find(' ');
  auto name = first.substr(0, end);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name.find('.') == std::string::npos ? std::string{} : name;
}

asio::awaitable<SmtpReport> probe_smtp(resolver::Resolver& r, SmtpGate& gate, MxReport mx, SmtpOptions o) {
  SmtpReport rep;
  rep.domain = mx.domain;
  const bool deliverable = mx.status == MxStatus::has_mx || mx.status == MxStatus::implicit_mx || mx.status == MxStatus::null_mx_mixed;
  if (mx.status == MxStatus::lookup_failed) {
    // The hosts are unknown, not absent: nothing can be said about them.
    auto f = smtp_finding("smtp.skipped", Severity::info, mx.domain,
                          fmt::format("no SMTP dialogue: the mail hosts of {} are unknown (its MX lookup failed)", mx.domain));
    f.checked = false;
    rep.findings.push_back(std::move(f));
    co_return rep;
  }
  if (!deliverable) {
    rep.findings.push_back(smtp_finding("smtp.skipped", Severity::info, mx.domain,
                                        fmt::format("no SMTP dialogue: {} has no mail host to talk to ({})", mx.domain, to_string(mx.status))));
    co_return rep;
  }
  rep.attempted = true;
  std::vector<std::string> skipped;
  int connections = 0;
  bool done = false;
  for (const auto& host : mx.targets) {
    if (done && !o.every_address) break;
    if (host.host.empty()) continue;  // the null MX next to real ones
    auto plan = o.plan;
    if (o.dane && !host.ip_literal) {
      auto [tlsa, secure] = co_await tlsa_for(r, host.host);
      plan.tls.tlsa = std::move(tlsa);
      plan.tls.tlsa_authenticated = secure;
    }
    for (const auto& a : host.addresses) {
      if (!a.global) {
        skipped.push_back(fmt::format("{} [{}] ({})", host.host, a.address, a.name));
        continue;
      }
      if (!plan.source.empty() && !same_family(plan.source, a.address)) {
        skipped.push_back(fmt::format("{} [{}] (the source address {} is of the other family)", host.host, a.address, plan.source));
        continue;
      }
      if (connections >= o.max_connections) {
        skipped.push_back(fmt::format("{} [{}] (connection cap of {} reached)", host.host, a.address, o.max_connections));
        continue;
      }
      ++connections;
      auto s = co_await gated_session(r, gate, host.host, a.address, plan);
      const bool tls_failed = s.error && s.error->kind == smtp::SessionErrorKind::tls;
      rep.sessions.push_back(std::move(s));
      if (tls_failed && connections < o.max_connections) {
        // What an opportunistic sender does next: the same host, without STARTTLS.
        auto plain = plan;
        plain.starttls = false;
        ++connections;
        rep.sessions.push_back(co_await gated_session(r, gate, host.host, a.address, std::move(plain)));
      }
      if (is_final(rep.sessions.back(), plan) && rep.final_session < 0) {
        rep.final_session = static_cast<int>(rep.sessions.size()) - 1;
        done = true;
        if (!o.every_address) break;
      }
    }
  }
  // Reverse DNS of every address we talked to.
  std::vector<std::string> addresses;
  for (const auto& s : rep.sessions) {
    if (s.connected && std::find(addresses.begin(), addresses.end(), s.address) == addresses.end()) addresses.push_back(s.address);
  }
  rep.confirmed_names = co_await confirm_all(r, addresses);

  connection_findings(rep, o);
  for (const auto& s : rep.sessions) session_findings(rep, s, o);
  if (const auto* f = rep.final()) recipient_findings(rep, *f);
  if (o.every_address) host_agreement_findings(rep, o.plan);
  rdns_findings(rep);
  if (!skipped.empty()) {
    auto f = smtp_finding("smtp.addresses-skipped", Severity::info, mx.domain,
                          fmt::format("{} mail host address(es) not contacted", skipped.size()));
    for (const auto& x : skipped) f.detail += (f.detail.empty() ? "" : "; ") + x;
    rep.findings.push_back(std::move(f));
  }
  // A retry of the same address repeats per-address findings: keep each once.
  std::vector<Finding> unique;
  for (auto& f : rep.findings) {
    const bool seen = std::any_of(unique.begin(), unique.end(), [&](const Finding& u) { return u.code == f.code && u.summary == f.summary; });
    if (!seen) unique.push_back(std::move(f));
  }
  rep.findings = std::move(unique);
  if (rep.sessions.empty() && skipped.empty()) {
    rep.findings.push_back(smtp_finding("smtp.skipped", Severity::info, mx.domain, "no address to connect to"));
  }
  // Who spoke: receivers judge the connecting address, not the user's sending server.
  std::vector<std::string> sources;
  for (const auto& s : rep.sessions) {
    if (!s.source.empty() && std::find(sources.begin(), sources.end(), s.source) == sources.end()) sources.push_back(s.source);
  }
  if (!sources.empty()) {
    std::string list;
    for (const auto& x : sources) list += (list.empty() ? "" : ", ") + x;
    auto f = smtp_finding("smtp.dialogue", Severity::info, mx.domain,
                          fmt::format("{} connection(s) from {}, stopped before DATA (nothing was sent); the receiver judged {}, "
                                      "not necessarily your sending server",
                                      rep.sessions.size(), list, sources.size() == 1 ? "that address" : "those addresses"));
    if (const auto* fin = rep.final()) f.evidence = transcript_evidence(*fin);
    rep.findings.push_back(std::move(f));
  }
  co_return rep;
}

}  // namespace bp::probes

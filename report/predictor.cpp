#include "predictor.hpp"

#include <text.hpp>

#include <address.hpp>

#include <fmt/format.h>
#include <re2/re2.h>

#include <set>

namespace bp::report {

namespace {

using probes::DomainMailState;
using probes::MxStatus;

struct Context {
  const PredictInput& in;
  std::map<std::string, std::string> values;
};

PredictedBounce bounce(const Context& ctx, const ProfileCheck& check, const CatalogEntry* e, std::string reason,
                       std::vector<probes::Evidence> evidence, std::map<std::string, std::string> extra = {}) {
  PredictedBounce b;
  b.entry = e;
  b.restriction = check.restriction;
  b.code = e->code;
  b.enhanced = e->enhanced;
  if (!check.enhanced.empty() && e == check.entry) b.enhanced = check.enhanced;
  auto values = ctx.values;
  for (auto& [k, v] : extra) values[k] = v;
  b.text = fill_reply(e->reply.empty() ? (e->documented.empty() ? e->example : e->documented.front().text) : e->reply,
                      values);
  b.stage = e->stage;
  b.temporary = e->temporary();
  b.reason = std::move(reason);
  b.evidence = std::move(evidence);
  return b;
}

bool sender_has_domain(const PredictInput& in) {
  return in.sender_check.address && !in.sender_check.address->null_sender && !in.sender_check.address->domain_literal &&
         in.sender_check.fqdn;
}

}  // namespace

std::string fill_reply(const std::string& tmpl, const std::map<std::string, std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '{') {
      auto close = tmpl.find('}', i);
      if (close != std::string::npos) {
        auto key = tmpl.substr(i + 1, close - i - 1);
        if (auto it = values.find(key); it != values.end()) {
          out += it->second;
          i = close;
          continue;
        }
      }
    }
    out += tmpl[i];
  }
  return out;
}

Prediction predict(const Profile& profile, const PredictInput& in) {
  Prediction p;
  Context ctx{in, {}};
  const auto& sa = in.sender_check.address;
  ctx.values["sender"] = sa ? sa->text : in.sender;
  ctx.values["recipient"] = in.recipient_check.address ? in.recipient_check.address->text : in.recipient;
  ctx.values["sender_domain"] = sa ? sa->domain : "";
  ctx.values["recipient_domain"] = in.recipient_check.address ? in.recipient_check.address->domain : "";

  std::vector<PredictedBounce> rejects, deferrals;
  std::optional<PredictedBounce> routing;  // the sending MTA's own failure, before any SMTP

  for (const auto& check : profile.checks) {
    const auto& r = check.restriction;
    if (r == "recipient_mail_host") {
      if (!in.recipient_mx) {
        p.not_checked.push_back(r + ": the recipient has no domain to look up");
        continue;
      }
      const auto& mx = *in.recipient_mx;
      const auto d = mx.domain;
      switch (mx.status) {
        case MxStatus::domain_not_found:
          routing = bounce(ctx, check, check.entry, fmt::format("{} does not exist (NXDOMAIN)", d), mx.evidence,
                           {{"rr_type", "MX"}, {"recipient_domain", d}});
          break;
        case MxStatus::no_mail_host: {
          auto ev = mx.evidence;
          for (const auto& t : mx.targets) ev.insert(ev.end(), t.evidence.begin(), t.evidence.end());
          routing = bounce(ctx, check, check.entry, fmt::format("{} has no MX, A or AAAA records", d), ev,
                           {{"rr_type", "A"}, {"recipient_domain", d}});
          break;
        }
        case MxStatus::null_mx:
        case MxStatus::null_mx_mixed:
          if (check.nullmx_entry) {
            routing = bounce(ctx, check, check.nullmx_entry, fmt::format("{} publishes a null MX (RFC 7505)", d),
                             mx.evidence, {{"recipient_domain", d}});
          }
          break;
        case MxStatus::lookup_failed:
          if (check.tempfail_entry && mx.failure) {
            routing = bounce(ctx, check, check.tempfail_entry,
                             fmt::format("the MX lookup for {} failed: {}", d, mx.failure->detail), mx.evidence,
                             {{"rr_type", "MX"}, {"recipient_domain", d}});
          } else {
            p.not_checked.push_back(fmt::format("{}: the addresses of {}'s mail hosts could not be resolved", r, d));
          }
          break;
        case MxStatus::no_usable_target: {
          // Every target is unresolvable or unroutable: name the first unresolvable host, as the sending MTA would.
          const probes::HostLookup* bad = nullptr;
          for (const auto& t : mx.targets) {
            if (t.unresolvable()) {
              bad = &t;
              break;
            }
          }
          if (bad != nullptr) {
            routing = bounce(ctx, check, check.entry, fmt::format("no MX host of {} has an address", d), bad->evidence,
                             {{"rr_type", "A"}, {"recipient_domain", bad->host}});
          } else {
            p.not_checked.push_back(fmt::format(
                "{}: the mail hosts of {} have only non-routable addresses; a sender would time out connecting", r, d));
          }
          break;
        }
        case MxStatus::has_mx:
        case MxStatus::implicit_mx: p.passed.push_back(fmt::format("{}: {} has a mail host", r, d)); break;
      }
      continue;
    }

    if (r == "reject_sender_syntax") {
      if (!sa) {
        rejects.push_back(bounce(ctx, check, check.entry, "the sender address is malformed: " + in.sender_check.problem, {}));
      } else {
        p.passed.push_back(r + ": the sender address parses");
      }
      continue;
    }
    if (!sa) continue;  // nothing after MAIL FROM happens for an unreadable sender

    if (r == "reject_non_fqdn_sender") {
      if (!in.sender_check.fqdn) {
        std::string why;
        for (const auto& f : in.sender_check.findings) {
          if (f.code == "sender.not-fqdn") why = f.summary;
        }
        rejects.push_back(bounce(ctx, check, check.entry, why, {}));
      } else {
        p.passed.push_back(r + ": the sender is fully qualified");
      }
      continue;
    }

    if (r == "reject_unknown_sender_domain") {
      if (!sender_has_domain(in)) continue;  // Postfix skips null senders, literals and unqualified names here
      if (!in.sender_mx) {
        p.not_checked.push_back(r + ": the sender domain was not looked up");
        continue;
      }
      const auto& mx = *in.sender_mx;
      auto ev = mx.evidence;
      for (const auto& t : mx.targets) ev.insert(ev.end(), t.evidence.begin(), t.evidence.end());
      switch (probes::sender_domain_state(mx)) {
        case DomainMailState::not_found:
          rejects.push_back(bounce(ctx, check, check.entry,
                                   fmt::format("{} has no MX, A or AAAA record{}", mx.domain,
                                               mx.status == MxStatus::domain_not_found ? " (NXDOMAIN)" : ""),
                                   ev));
          break;
        case DomainMailState::null_mx:
          if (check.nullmx_entry) {
            rejects.push_back(
                bounce(ctx, check, check.nullmx_entry, fmt::format("{} publishes a null MX (RFC 7505)", mx.domain), ev));
          }
          break;
        case DomainMailState::lookup_failed: {
          // Postfix: unknown_address_tempfail_action = defer_if_permit, same 450 4.1.8 text.
          auto b = bounce(ctx, check, check.entry,
                          fmt::format("the lookup of {} failed ({}); a receiver whose lookup fails the same way defers",
                                      mx.domain, mx.failure ? mx.failure->detail : "address lookups failed"),
                          ev);
          b.defer_if_permit = true;
          b.temporary = true;
          deferrals.push_back(std::move(b));
          break;
        }
        case DomainMailState::exists: p.passed.push_back(fmt::format("{}: {} exists for mail", r, mx.domain)); break;
      }
      continue;
    }

    if (r == "check_sender_access") {
      bool hit = false;
      for (const auto& rule : check.rules) {
        if (RE2::PartialMatch(sa->text, *rule.regex)) {
          rejects.push_back(bounce(ctx, check, rule.entry,
                                   fmt::format("{} matches /{}/ in {}", sa->text, rule.pattern, check.table), {}));
          hit = true;
          break;
        }
      }
      if (!hit) p.passed.push_back(fmt::format("{}: {} matches no rule in {}", r, sa->text, check.table));
      continue;
    }

    if (r == "message_size") {
      const auto mb = [](std::uint64_t n) { return fmt::format("{:.1f} MB", static_cast<double>(n) / 1e6); };
      if (check.declared) {
        // SIZE= at MAIL FROM (RFC 1870): refused before any recipient is named.
        if (in.declared_size == 0) continue;
        if (in.declared_size > check.limit) {
          rejects.insert(rejects.begin(), bounce(ctx, check, check.entry,
                                                 fmt::format("MAIL FROM declares SIZE={} ({}), over the limit of {} ({})",
                                                             in.declared_size, mb(in.declared_size), check.limit, mb(check.limit)),
                                                 {{"MAIL FROM SIZE=", std::to_string(in.declared_size)}}));
          rejects.front().stage = "mail";
        } else {
          p.passed.push_back(fmt::format("{}: SIZE={} is within {}", r, in.declared_size, check.limit));
        }
        continue;
      }
      if (!in.message) {
        p.not_checked.push_back(r + ": no --message, so the message's size was not measured");
        continue;
      }
      if (in.message->size > check.limit) {
        rejects.push_back(bounce(ctx, check, check.entry,
                                 fmt::format("the message is {} octets ({}), over the limit of {} ({})", in.message->size,
                                             mb(in.message->size), check.limit, mb(check.limit)),
                                 {{in.message->source, fmt::format("{} octets", in.message->size)}}));
      } else {
        p.passed.push_back(fmt::format("{}: {} octets is within {}", r, in.message->size, check.limit));
      }
      continue;
    }

    if (r == "reject_attachment" || r == "attachment_name_length") {
      if (!in.message) {
        p.not_checked.push_back(r + ": no --message, so its attachments were not seen");
        continue;
      }
      bool hit = false;
      for (const auto& a : in.message->attachments) {
        if (hit) break;
        if (r == "attachment_name_length") {
          // Characters, not octets: a UTF-8 sequence counts once.
          std::uint64_t chars = 0;
          for (const char c : a.filename) chars += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
          if (chars > check.limit) {
            rejects.push_back(bounce(ctx, check, check.entry,
                                     fmt::format("attachment name '{}' is {} characters long, over {}", probes::shown(a.filename),
                                                 chars, check.limit),
                                     {{"attachment", a.filename}}));
            hit = true;
          }
          continue;
        }
        // The attachment's own name, then (when the profile opens archives) each name inside it.
        std::vector<const std::string*> names{&a.filename};
        if (check.archives && a.archive) {
          for (const auto& m : a.members) names.push_back(&m);
          if (!a.archive_error.empty()) {
            p.not_checked.push_back(fmt::format("{}: the archive '{}' was not looked into: {}", r, probes::shown(a.filename),
                                                a.archive_error));
          } else if (a.members_capped) {
            p.not_checked.push_back(fmt::format("{}: only the first {} names inside '{}' were judged", r, a.members.size(),
                                                probes::shown(a.filename)));
          }
        }
        for (const auto* name : names) {
          if (hit) break;
          const auto slash = name->find_last_of('/');
          const auto base = slash == std::string::npos ? *name : name->substr(slash + 1);
          const auto dot = base.rfind('.');
          if (dot == std::string::npos) continue;
          std::string ext = base.substr(dot + 1);
          for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          for (const auto& rule : check.rules) {
            if (std::find(rule.extensions.begin(), rule.extensions.end(), ext) == rule.extensions.end()) continue;
            const std::string on = rule.source.empty() ? "the blocked list" : rule.source;
            rejects.push_back(bounce(
                ctx, check, rule.entry,
                name == &a.filename
                    ? fmt::format("attachment '{}' is a .{} file, on {}", probes::shown(a.filename), ext, on)
                    : fmt::format("attachment '{}' holds '{}', a .{} file, on {}", probes::shown(a.filename),
                                  probes::shown(*name), ext, on),
                {{"attachment", fmt::format("{} ({}){}", a.filename, a.content_type,
                                            name == &a.filename ? std::string() : " member " + *name)}}));
            hit = true;
            break;
          }
        }
      }
      if (!hit) {
        std::size_t members = 0;
        for (const auto& a : in.message->attachments) members += check.archives ? a.members.size() : 0;
        p.passed.push_back(members > 0 ? fmt::format("{}: {} attachment(s) and {} name(s) inside archives, none refused", r,
                                                     in.message->attachments.size(), members)
                                       : fmt::format("{}: {} attachment(s), none refused", r, in.message->attachments.size()));
      }
      continue;
    }

    if (r == "content_test_string") {
      if (!in.message) {
        p.not_checked.push_back(r + ": no --message, so its content was not seen");
        continue;
      }
      const bool gtube = check.test_string == "gtube";
      // A real scanner, when one was asked, answers for its kind of content.
      if (const auto& scan = gtube ? in.spam_scan : in.virus_scan) {
        using probes::scan::Verdict;
        std::string rules;
        for (const auto& x : scan->rules) rules += (rules.empty() ? "" : ",") + x;
        const std::string said = fmt::format("{}: {}{}", scan->scanner, scan->detail, rules.empty() ? "" : " (" + rules + ")");
        if (scan->verdict == Verdict::flagged) {
          rejects.push_back(bounce(ctx, check, check.entry,
                                   fmt::format("{} finds the message {}", scan->scanner, gtube ? "spam: " + scan->detail
                                                                                                : "infected: " + scan->detail),
                                   {{gtube ? "spamd" : "clamd", said}}));
        } else if (scan->verdict == Verdict::clean) {
          p.passed.push_back(fmt::format("{}: {}", r, said));
        } else {
          p.not_checked.push_back(fmt::format("{}: {} could not scan the message: {}", r, scan->scanner, scan->detail));
        }
        continue;
      }
      if (gtube ? in.message->gtube : in.message->eicar) {
        rejects.push_back(bounce(ctx, check, check.entry,
                                 fmt::format("the message carries the {} test string, which every {} recognises",
                                             gtube ? "GTUBE spam" : "EICAR anti-virus", gtube ? "spam filter" : "virus scanner"),
                                 {{"body", gtube ? "GTUBE" : "EICAR"}}));
      } else {
        p.passed.push_back(fmt::format("{}: no {} test string (no real {} was asked: {})", r, gtube ? "GTUBE" : "EICAR",
                                       gtube ? "spam filter" : "virus scanner", gtube ? "--spamd" : "--clamd"));
      }
      continue;
    }

    if (r == "reject_spf_fail") {
      if (!in.spf) {
        p.not_checked.push_back(r + ": no --ip given, so SPF was not evaluated");
        continue;
      }
      const auto& spf = *in.spf;
      using probes::spf::SpfResult;
      std::vector<probes::Evidence> ev;
      for (const auto& t : spf.trace) ev.push_back({fmt::format("{} {}", t.domain, t.term), t.outcome + (t.detail.empty() ? "" : ": " + t.detail)});
      switch (spf.result) {
        case SpfResult::fail:
          rejects.push_back(bounce(ctx, check, check.entry, fmt::format("SPF fail for {}: {}", in.ips.front(), spf.reason), ev));
          break;
        case SpfResult::temperror:
          p.not_checked.push_back(fmt::format("{}: SPF temperror for {} ({}); a receiver would defer", r, in.ips.front(), spf.reason));
          break;
        default:
          p.passed.push_back(fmt::format("{}: SPF {} for {} (the profile rejects only fail)", r,
                                         probes::spf::to_string(spf.result), in.ips.front()));
      }
      continue;
    }

    if (r == "reject_rbl_client") {
      if (!in.dnsbl) {
        p.not_checked.push_back(r + ": no --ip given, so no blocklist was queried");
        continue;
      }
      std::set<std::string> skipped;
      for (const auto& res : in.dnsbl->results) {
        if (res.verdict.state == probes::dnsbl::State::not_checked && skipped.insert(res.list_id()).second) {
          p.not_checked.push_back(fmt::format("{}: {} not checked ({})", r, res.list_name(), res.verdict.reason));
        }
      }
      bool hit = false;
      for (const auto& ip : in.ips) {
        for (const auto& rule : check.rules) {
          for (const auto& res : in.dnsbl->results) {
            if (res.target != ip || res.list_id() != rule.list || res.verdict.state != probes::dnsbl::State::listed) continue;
            if (!rule.sublist.empty() && rule.sublist != res.verdict.sublist) continue;
            const std::string first_code = res.verdict.code.substr(0, res.verdict.code.find(','));
            if (!rule.code.empty()) {
              auto prefix = probes::Cidr::parse(rule.code);
              auto answer = probes::Cidr::parse(first_code);
              if (!answer || !prefix->contains(answer->bytes, answer->v6)) continue;
            }
            std::vector<probes::Evidence> ev{{res.query + " A", res.verdict.code}};
            if (!res.txt.empty()) ev.push_back({res.query + " TXT", res.txt});
            const std::string code = res.list_id() == "provider-aggregate" ? first_code : "127.5.0.2";
            // Postfix names the client by its verified reverse name, or "unknown".
            const auto name = in.client_names.find(ip);
            auto b = bounce(ctx, check, rule.entry,
                            fmt::format("{} is listed on {} ({}{}){}", ip, res.list_name(), res.verdict.code,
                                        res.verdict.sublist.empty() ? "" : ": " + res.verdict.sublist,
                                        res.txt.empty() ? "" : "; the list says: " + res.txt),
                            ev,
                            {{"ip", ip}, {"list_code", code},
                             {"client_name", name == in.client_names.end() ? "unknown" : name->second}});
            rejects.push_back(std::move(b));
            hit = true;
            break;
          }
          if (hit) break;
        }
        if (hit) break;
      }
      if (!hit) p.passed.push_back(fmt::format("{}: {} on no list the profile rejects", r, in.ips.empty() ? "-" : in.ips.front()));
      continue;
    }

    if (r == "reject_dmarc") {
      // The From: header decides DMARC; without a message it is taken to be the envelope sender's domain.
      if (in.message && probes::from_domain(*in.message).empty()) {
        p.not_checked.push_back(r + ": the message has no single From: address with a domain (see the message findings)");
        continue;
      }
      if (!in.dmarc || (!in.message && (!sa || sa->null_sender))) {
        p.not_checked.push_back(r + ": no sender domain to take as the From: domain");
        continue;
      }
      const auto& d = *in.dmarc;
      if (!d.checked) {
        p.not_checked.push_back(fmt::format("{}: the DMARC policy could not be looked up ({})", r, d.failure));
        continue;
      }
      if (!d.record) {
        p.passed.push_back(fmt::format("{}: {} has no usable DMARC policy", r, d.domain));
        continue;
      }
      const auto& rec = *d.record;
      const bool spf_aligned = in.spf && in.spf->result == probes::spf::SpfResult::pass &&
                               probes::dmarc::aligned(in.spf->domain, d.domain, rec.get("aspf") == "s");
      bool dkim_aligned = false;
      for (const auto& k : in.dkim_pass) dkim_aligned = dkim_aligned || probes::dmarc::aligned(k, d.domain, rec.get("adkim") == "s");
      if (spf_aligned || dkim_aligned) {
        p.passed.push_back(fmt::format("{}: DMARC pass for {} ({} aligned)", r, d.domain, spf_aligned ? "SPF" : "DKIM"));
        continue;
      }
      if (!in.spf && in.dkim_pass.empty()) {
        p.not_checked.push_back(fmt::format("{}: DMARC for {} needs --ip (SPF) or --dkim-pass", r, d.domain));
        continue;
      }
      const bool enforced = d.policy == "reject" || (d.policy == "quarantine" && check.quarantine_as_reject);
      std::string why = fmt::format("DMARC fails for {}: SPF {}{}, no aligned DKIM pass{}; policy {}={} at {}", d.domain,
                                    in.spf ? std::string(probes::spf::to_string(in.spf->result)) : "not evaluated",
                                    in.spf && in.spf->result == probes::spf::SpfResult::pass ? " but not aligned" : "",
                                    in.dkim_pass.empty() ? " (no --dkim-pass)" : "", d.policy_tag, d.policy, d.found_at);
      if (!enforced) {
        p.passed.push_back(fmt::format("{}: {} (the profile rejects only p=reject{})", r, why,
                                       check.quarantine_as_reject ? " and quarantine" : ""));
        continue;
      }
      if (rec.get("pct") != "100") why += fmt::format("; pct={} applies it to that share of failing mail", rec.get("pct"));
      // The reply names the domain DMARC was judged for: the From: header's.
      rejects.push_back(bounce(ctx, check, check.entry, why, d.evidence, {{"sender_domain", d.domain}}));
      continue;
    }

    if (r == "check_sender_mx_access") {
      if (!sender_has_domain(in) || !in.sender_mx) continue;
      bool hit = false;
      // Like Postfix's cidr table: the first address that falls in a rule's prefix decides.
      for (const auto& [host, addr] : probes::sender_mx_addresses(*in.sender_mx)) {
        const auto ip = probes::Cidr::parse(addr.address);
        if (!ip) continue;
        for (const auto& rule : check.rules) {
          auto prefix = probes::Cidr::parse(rule.prefix);
          if (prefix && prefix->contains(ip->bytes, ip->v6)) {
            std::vector<probes::Evidence> ev = in.sender_mx->evidence;
            for (const auto& t : in.sender_mx->targets) {
              if (t.host == host || t.host == in.sender_mx->domain) ev.insert(ev.end(), t.evidence.begin(), t.evidence.end());
            }
            rejects.push_back(bounce(ctx, check, rule.entry,
                                     fmt::format("mail host {} of {} has address {} inside {} ({})", host,
                                                 in.sender_mx->domain, addr.address, rule.prefix, check.table),
                                     ev));
            hit = true;
            break;
          }
        }
        if (hit) break;
      }
      if (!hit) p.passed.push_back(fmt::format("{}: no mail host address of {} is in {}", r, in.sender_mx->domain, check.table));
      continue;
    }
  }

  // What the recipient's MX actually answered beats the prediction, where it
  // stands for the sender: always for answers about the envelope (unknown
  // user, relay denied, the recipient's own blocks), and for answers about the
  // connecting address only when the dialogue came from --ip.
  std::vector<PredictedBounce> observed;
  const std::string ip = in.ips.empty() ? std::string{} : in.ips.front();
  for (const auto& o : in.observed) {
    const bool counts_stage = o.stage == "banner" || o.stage == "mail" || (o.stage == "rcpt" && o.role == "recipient");
    if (!counts_stage) continue;
    if (!counts_for(o, ip)) {
      p.observed_elsewhere.push_back(o);
      continue;
    }
    PredictedBounce b;
    b.entry = o.entry;
    b.restriction = "observed";
    b.code = o.code;
    b.enhanced = o.enhanced;
    b.text = o.text;
    b.stage = o.stage == "banner" ? "connect" : o.stage;
    b.temporary = o.code < 500;
    b.reason = fmt::format("{} [{}] answered {} during the dialogue from {}", o.host, o.address,
                           o.command.empty() ? "the connection" : o.command, o.source);
    b.evidence.push_back({fmt::format("{} [{}] from {}", o.host, o.address, o.source), o.command.empty() ? "(connect)" : o.command});
    b.evidence.push_back({"reply", o.line()});
    observed.push_back(std::move(b));
  }
  if (observed.empty() && !in.rcpt_accepted.empty()) {
    p.passed.push_back(fmt::format("observed: {} accepted RCPT TO:<{}> (checks after DATA were not tested)", in.rcpt_accepted, in.recipient));
  }
  for (auto& b : observed) p.bounces.push_back(std::move(b));
  if (routing) p.bounces.push_back(std::move(*routing));
  for (auto& b : rejects) p.bounces.push_back(std::move(b));
  for (auto& b : deferrals) p.bounces.push_back(std::move(b));
  if (p.bounces.empty()) {
    p.verdict = "accept";
  } else {
    p.verdict = p.bounces.front().temporary ? "defer" : "bounce";
  }
  return p;
}

}  // namespace bp::report

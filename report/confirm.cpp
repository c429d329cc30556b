#include "confirm.hpp"

#include <fmt/format.h>

namespace bp::report {

namespace {

std::string domain_of(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? std::string{} : address.substr(at + 1);
}

Confirmation make(const std::string& probe, const ConfirmTargets& t) {
  Confirmation c;
  c.probe = probe;
  c.status = "not-checked";
  c.targets = t;
  return c;
}

void by_mx(Confirmation& c, const std::string& reason, const std::optional<probes::MxReport>& mx, const std::string& domain) {
  using probes::MxStatus;
  if (domain.empty() || !mx) {
    c.detail = "the bounce names no recipient domain: give --to";
    return;
  }
  c.evidence.push_back(fmt::format("MX of {}: {}", domain, probes::to_string(mx->status)));
  switch (mx->status) {
    case MxStatus::lookup_failed:
      c.detail = fmt::format("the MX lookup of {} failed{}", domain, mx->failure ? ": " + mx->failure->detail : "");
      // A failing lookup is itself the cause of a network bounce.
      if (reason == "network") c.status = "holds";
      return;
    case MxStatus::domain_not_found:
      c.status = reason == "recipient-domain-unknown" || reason == "network" || reason == "expired" ? "holds" : "does-not-hold";
      c.detail = fmt::format("{} does not exist (NXDOMAIN)", domain);
      return;
    case MxStatus::no_mail_host:
    case MxStatus::no_usable_target:
      c.status = reason == "not-accepting" ? "does-not-hold" : "holds";
      c.detail = fmt::format("{} has no usable mail host ({})", domain, probes::to_string(mx->status));
      return;
    case MxStatus::null_mx:
    case MxStatus::null_mx_mixed:
      c.status = reason == "not-accepting" || reason == "recipient-domain-unknown" ? "holds" : "does-not-hold";
      c.detail = fmt::format("{} publishes a null MX: it accepts no mail", domain);
      return;
    case MxStatus::has_mx:
    case MxStatus::implicit_mx:
      c.status = "does-not-hold";
      c.detail = fmt::format("{} has a usable mail host now ({})", domain, probes::to_string(mx->status));
      return;
  }
}

}  // namespace

ConfirmTargets confirm_targets(const ExplainResult& r, const std::string& to, const std::string& from, const std::string& ip) {
  ConfirmTargets t;
  auto fact = [&](const char* k) {
    auto it = r.facts.find(k);
    return it == r.facts.end() ? std::string{} : it->second;
  };
  t.recipient = !to.empty() ? to : fact("recipient");
  if (t.recipient.empty() && fact("sender").empty()) t.recipient = fact("address");
  t.recipient_domain = domain_of(t.recipient);
  t.sender = !from.empty() ? from : fact("sender");
  t.sender_domain = domain_of(t.sender);
  // A DMARC or null-MX bounce names the sender's domain only.
  if (t.sender_domain.empty() && (r.reason == "authentication" || r.reason == "sender-rejected")) t.sender_domain = fact("domain");
  t.ip = !ip.empty() ? ip : fact("ip");
  return t;
}

Confirmation confirm(const Reasons& reasons, const std::string& reason, const ConfirmTargets& t, const ConfirmEvidence& e) {
  const auto* info = reasons.find(reason);
  const std::string probe = info != nullptr ? info->confirm : "none";
  auto c = make(probe, t);
  if (probe == "none") {
    c.detail = fmt::format("no probe from outside can tell whether a '{}' cause still holds", reason);
    return c;
  }
  if (probe == "mx") {
    by_mx(c, reason, e.recipient_mx, t.recipient_domain);
    return c;
  }
  if (probe == "sender") {
    if (t.sender_domain.empty() || !e.sender_mx) {
      c.detail = "the bounce names no sender: give --from";
      return c;
    }
    c.evidence.push_back(fmt::format("MX of {}: {}", t.sender_domain, probes::to_string(e.sender_mx->status)));
    if (e.sender_mx->status == probes::MxStatus::lookup_failed) {
      c.detail = fmt::format("the lookup of {} failed", t.sender_domain);
      return c;
    }
    for (const auto& f : e.sender_findings) {
      if (f.severity == probes::Severity::error && f.checked) {
        c.status = "holds";
        c.detail = f.summary;
        return c;
      }
    }
    c.status = "does-not-hold";
    c.detail = fmt::format("{} resolves and has a usable mail host: receivers that check the sender domain accept it", t.sender_domain);
    return c;
  }
  if (probe == "spf-dmarc") {
    if (t.sender_domain.empty()) {
      c.detail = "the bounce names no sender domain: give --from";
      return c;
    }
    bool spf_fails = false, spf_known = false;
    if (e.spf) {
      const auto res = probes::spf::to_string(e.spf->result);
      c.evidence.push_back(fmt::format("SPF for {} from {}: {}", e.spf->domain, t.ip, res));
      spf_known = e.spf->result != probes::spf::SpfResult::temperror;
      spf_fails = e.spf->result == probes::spf::SpfResult::fail || e.spf->result == probes::spf::SpfResult::softfail ||
                  e.spf->result == probes::spf::SpfResult::permerror || e.spf->result == probes::spf::SpfResult::none;
    }
    std::string policy;
    if (e.dmarc) {
      if (!e.dmarc->checked) {
        c.evidence.push_back(fmt::format("DMARC of {}: not checked ({})", t.sender_domain, e.dmarc->failure));
      } else {
        policy = e.dmarc->record ? e.dmarc->policy : "none (no record)";
        c.evidence.push_back(fmt::format("DMARC policy for {}: {}", t.sender_domain, policy));
      }
    }
    if (!e.spf) {
      if (e.dmarc && e.dmarc->checked && (policy == "reject" || policy == "quarantine")) {
        c.detail = fmt::format("{} asks receivers to {} mail that fails DMARC; give --ip to check whether the sending address passes SPF",
                               t.sender_domain, policy);
      } else {
        c.detail = "give --ip (the sending server's address) to evaluate SPF";
      }
      return c;
    }
    if (!spf_known) {
      c.detail = "SPF could not be evaluated (temperror)";
      return c;
    }
    if (spf_fails) {
      c.status = "holds";
      c.detail = fmt::format("SPF {} for {} from {}{}", probes::spf::to_string(e.spf->result), t.sender_domain, t.ip,
                             policy.empty() ? "" : fmt::format("; DMARC policy {} (an aligned DKIM signature could still pass)", policy));
    } else {
      c.status = "does-not-hold";
      c.detail = fmt::format("SPF passes for {} from {} now", t.sender_domain, t.ip);
    }
    return c;
  }
  if (probe == "dnsbl") {
    if (t.ip.empty() && t.sender_domain.empty()) {
      c.detail = "the bounce names no client address: give --ip";
      return c;
    }
    if (!e.dnsbl) return c;
    int listed = 0, clean = 0, unchecked = 0;
    for (const auto& r : e.dnsbl->results) {
      switch (r.verdict.state) {
        case probes::dnsbl::State::listed:
          ++listed;
          c.evidence.push_back(fmt::format("{} listed on {} ({} {})", r.target, r.list_name(), r.verdict.code, r.verdict.meaning));
          break;
        case probes::dnsbl::State::clean: ++clean; break;
        case probes::dnsbl::State::not_checked: ++unchecked; break;
      }
    }
    if (listed > 0) {
      c.status = "holds";
      c.detail = fmt::format("listed on {} of {} blocklists checked", listed, listed + clean);
    } else if (clean > 0) {
      c.status = "does-not-hold";
      c.detail = fmt::format("on none of the {} blocklists that answered{}", clean,
                             unchecked > 0 ? fmt::format(" ({} could not be checked)", unchecked) : "");
    } else {
      c.detail = "no blocklist could be checked";
    }
    return c;
  }
  if (probe == "rdns") {
    if (t.ip.empty()) {
      c.detail = "the bounce names no client address: give --ip";
      return c;
    }
    if (!e.rdns) return c;
    if (e.rdns->empty()) {
      c.status = "holds";
      c.detail = fmt::format("{} has no forward-confirmed reverse DNS name", t.ip);
    } else {
      c.status = "does-not-hold";
      c.detail = fmt::format("{} has the forward-confirmed name {}", t.ip, *e.rdns);
    }
    return c;
  }
  // smtp: ask the recipient's MX about the recipient again.
  if (t.recipient.empty()) {
    c.detail = "the bounce names no recipient: give --to";
    return c;
  }
  if (!e.smtp_ran) {
    c.detail = e.smtp_failure.empty() ? "no SMTP dialogue took place" : e.smtp_failure;
    return c;
  }
  for (const auto& o : e.observed) {
    if (o.stage != "rcpt" || o.role != "recipient") continue;
    c.evidence.push_back(fmt::format("{} [{}] answered RCPT TO:<{}>: {}", o.host, o.address, t.recipient, o.line()));
    const auto now = reasons.classify(o.code, o.enhanced, o.text);
    const std::string now_reason = o.entry != nullptr ? o.entry->reason : now.reason;
    c.status = now_reason == reason ? "holds" : "does-not-hold";
    c.detail = now_reason == reason ? fmt::format("the recipient's mail host refuses <{}> the same way now", t.recipient)
                                    : fmt::format("the recipient's mail host refuses <{}> now, but for another reason: {}",
                                                  t.recipient, now_reason);
    return c;
  }
  if (!e.rcpt_accepted.empty()) {
    c.status = "does-not-hold";
    c.detail = fmt::format("{} accepts RCPT TO:<{}> now (nothing was sent: the dialogue stopped before DATA)", e.rcpt_accepted, t.recipient);
    return c;
  }
  c.detail = e.smtp_failure.empty() ? "the dialogue ended before RCPT TO" : e.smtp_failure;
  return c;
}

nlohmann::json confirmation_json(const Confirmation& c) {
  return {{"probe", c.probe}, {"status", c.status}, {"detail", c.detail}, {"evidence", c.evidence},
          {"targets", {{"recipient", c.targets.recipient}, {"sender", c.targets.sender}, {"sender_domain", c.targets.sender_domain},
                       {"ip", c.targets.ip}}}};
}

std::string confirmation_text(const Confirmation& c) {
  std::string out = fmt::format("\nConfirmed by probing ({}): {}\n  {}\n", c.probe, c.status, c.detail);
  for (const auto& e : c.evidence) out += fmt::format("    {}\n", e);
  return out;
}

}  // namespace bp::report

// bounceprobe explain: what a pasted bounce, a bounce message or a batch of them means.
#include "exit_codes.hpp"
#include "run_support.hpp"

#include <predict.hpp>

#include <bounce_message.hpp>
#include <data_file.hpp>
#include <classify.hpp>
#include <confirm.hpp>
#include <explain.hpp>
#include <sender.hpp>
#include <text.hpp>

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace bp::cli {

using probes::AddressPolicy;
using probes::Finding;
using probes::Severity;

namespace {

std::string read_all(std::FILE* in, std::size_t cap, bool& cut) {
  std::string text;
  std::string chunk(64 * 1024, '\0');
  cut = false;
  while (true) {
    auto n = std::fread(chunk.data(), 1, chunk.size(), in);
    if (n == 0) break;
    if (text.size() + n > cap) {
      text.append(chunk.data(), cap - text.size());
      cut = true;
      break;
    }
    text.append(chunk.data(), n);
  }
  return text;
}


/// Runs the probe that can confirm the explained reason, on the targets the bounce (or --to/--from/--ip) names.
report::Confirmation confirm_by_probing(const CommonOptions& o, const ExplainOptions& x, const report::ExplainResult& r) {
  const auto& reasons = report::Reasons::builtin();
  if (!x.ip.empty() && !probes::classify(x.ip)) throw UsageError(fmt::format("--ip '{}' is not an IP address", probes::shown(x.ip)));
  auto t = report::confirm_targets(r, x.to, x.from, x.ip);
  if (!t.ip.empty() && !probes::classify(t.ip)) t.ip.clear();
  const auto* info = reasons.find(r.reason);
  const std::string probe = info != nullptr ? info->confirm : "none";
  report::ConfirmEvidence e;
  if (probe == "none") return report::confirm(reasons, r.reason, t, e);
  const bool wants_recipient_mx = (probe == "mx" || probe == "smtp") && !t.recipient_domain.empty();
  const bool wants_sender = (probe == "sender" || probe == "spf-dmarc") && !t.sender_domain.empty();
  std::optional<probes::spf::SpfQuery> spf;
  if (probe == "spf-dmarc" && !t.ip.empty() && !t.sender_domain.empty()) {
    spf = probes::spf::SpfQuery{t.ip, t.sender.empty() ? "postmaster@" + t.sender_domain : t.sender, o.helo, "unknown"};
  }
  std::vector<std::string> ips;
  if ((probe == "dnsbl" || probe == "rdns") && !t.ip.empty()) ips.push_back(t.ip);
  if (probe == "dnsbl" && !t.sender_domain.empty()) ips.push_back(t.sender_domain);
  auto lists = probe == "dnsbl" ? dnsbl_lists(o) : std::make_shared<const std::vector<probes::dnsbl::DnsList>>();
  std::optional<probes::SmtpOptions> smtp;
  if (probe == "smtp" && !t.recipient.empty()) {
    smtp = smtp_options(o, "");
    if (smtp) {
      smtp->plan.sender = x.from;
      smtp->plan.recipients = {{t.recipient, "recipient"}};
    } else {
      e.smtp_failure = "the SMTP dialogue is off (--no-smtp)";
    }
  }
  if (!wants_recipient_mx && !wants_sender && ips.empty() && !smtp) return report::confirm(reasons, r.reason, t, e);
  DnsRun dns(o, 1, !o.no_smtp);
  probes::SmtpGate gate(dns.resolver().executor(), o.smtp_parallel);
  engine::Questions q;
  q.sender_domain = wants_sender ? t.sender_domain : "";
  q.recipient_domain = wants_recipient_mx ? t.recipient_domain : "";
  q.spf = spf;
  q.blocklist_targets = ips;
  q.client_ips = ips;
  q.lists = lists;
  q.policy = address_policy(o);
  q.smtp = smtp;
  auto g = dns.run(engine::gather(dns.resolver(), dns.dnsbl_resolver(), gate, std::move(q)));
  e.recipient_mx = std::move(g.recipient_mx);
  e.sender_mx = std::move(g.sender_mx);
  if (e.sender_mx) e.sender_findings = probes::sender_domain_findings(*e.sender_mx, t.sender.empty() ? "postmaster@" + t.sender_domain : t.sender);
  e.spf = std::move(g.spf);
  e.dmarc = std::move(g.dmarc);
  if (probe == "dnsbl") e.dnsbl = std::move(g.dnsbl);
  if (probe == "rdns" && !t.ip.empty()) {
    auto it = g.client_names.find(t.ip);
    e.rdns = it == g.client_names.end() ? std::string{} : it->second;
  }
  if (g.smtp) {
    std::optional<report::Catalog> holder;
    e.smtp_ran = true;
    e.observed = report::observe(catalog_for(o, holder), *g.smtp);
    if (const auto* fin = g.smtp->final()) {
      if (const auto* rc = fin->find("rcpt", "recipient"); rc != nullptr && rc->reply && rc->reply->positive()) {
        e.rcpt_accepted = fmt::format("{} [{}]", fin->host, fin->address);
      }
    }
    if (e.observed.empty() && e.rcpt_accepted.empty() && !g.smtp->findings.empty()) e.smtp_failure = g.smtp->findings.front().summary;
  } else if (smtp && e.recipient_mx) {
    e.smtp_failure = fmt::format("no mail host of {} to talk to ({})", t.recipient_domain, probes::to_string(e.recipient_mx->status));
  }
  return report::confirm(reasons, r.reason, t, e);
}

}  // namespace

int run_explain(const CommonOptions& o, const ExplainOptions& x) {
  const bool batch = !x.input.empty();
  if (!batch && o.format == "jsonl") throw UsageError("--format jsonl is for batches: explain --input FILE|- --format jsonl");
  if (o.format == "junit") throw UsageError("explain has no junit output");
  if (batch && (!x.message.empty() || !x.text.empty())) throw UsageError("--input takes the bounces from a file: no text or --message with it");
  if (batch && x.probe) throw UsageError("--probe confirms one bounce; it does not run on a batch");
  std::optional<report::Catalog> catalog_holder;
  const auto& catalog = catalog_for(o, catalog_holder);
  const auto& reasons = report::Reasons::builtin();

  if (batch) {
    std::FILE* in = open_input(x.input, "--input");
    std::string line, out;
    bool cut = false;
    long n = 0;
    while (probes::read_line(in, line, report::max_input_bytes, cut)) {
      ++n;
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      auto res = report::explain(catalog, line, reasons);
      if (o.format == "text") {
        out = fmt::format("{}: {} ({}){}{}\n", n, res.reason, report::to_string(res.confidence),
                          res.code != 0 ? " " + std::to_string(res.code) : "", res.enhanced.empty() ? "" : " " + res.enhanced);
        if (!res.matches.empty()) out.insert(out.size() - 1, " " + res.matches.front().entry->id);
      } else {
        auto j = report::explain_json(res, reasons);
        j["input_line"] = n;
        if (cut) j["truncated"] = true;
        out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      }
      emit(out);
    }
    const bool failed = std::ferror(in) != 0;
    if (in != stdin) std::fclose(in);
    if (failed) throw RunError(fmt::format("cannot read --input '{}'", probes::shown(x.input)));
    return exit_ok;
  }

  if (!x.message.empty()) {
    if (!x.text.empty()) throw UsageError("give the bounce either as text or with --message, not both");
    std::FILE* in = open_input(x.message, "--message");
    bool cut = false;
    auto raw = read_all(in, report::max_message_bytes, cut);
    const bool failed = std::ferror(in) != 0;
    if (in != stdin) std::fclose(in);
    if (failed) throw RunError(fmt::format("cannot read --message '{}'", probes::shown(x.message)));
    if (raw.find_first_not_of(" \t\r\n") == std::string::npos) throw UsageError("--message: the message is empty");
    auto msg = report::parse_bounce_message(raw);
    msg.truncated = msg.truncated || cut;
    std::vector<report::MessageAnswer> answers;
    for (const auto& r : msg.recipients) {
      if (r.action == "delivered" || r.action == "relayed" || r.action == "expanded") continue;
      answers.push_back({&r, report::explain(catalog, report::recipient_text(msg, r), reasons), {}});
    }
    if (answers.empty()) {
      answers.push_back({nullptr, report::explain(catalog, msg.subject + "\n" + msg.human + "\n" + msg.report_text, reasons), {}});
    }
    for (auto& a : answers) {
      if (a.recipient != nullptr && !a.recipient->final_recipient.empty()) a.result.facts["recipient"] = a.recipient->final_recipient;
      if (!msg.original_sender.empty() && !a.result.facts.count("sender")) a.result.facts["sender"] = msg.original_sender;
      if (x.probe) a.confirmation = confirm_by_probing(o, x, a.result);
    }
    if (o.format == "json") {
      emit_json(report::message_json(msg, answers, reasons));
    } else {
      emit(report::message_text(msg, answers, reasons, render_options(o)));
    }
    const bool known = std::all_of(answers.begin(), answers.end(), [](const auto& a) { return a.result.reason != "other"; });
    return known ? exit_ok : exit_findings;
  }

  std::string text;
  if (x.text.empty() || (x.text.size() == 1 && x.text.front() == "-")) {
    if (isatty(fileno(stdin)) != 0) std::fprintf(stderr, "Paste the bounce, then press Ctrl-D.\n");
    bool cut = false;
    text = read_all(stdin, report::max_input_bytes + 1, cut);
  } else {
    for (const auto& a : x.text) text += (text.empty() ? "" : " ") + a;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw UsageError("explain needs the bounce text (argument or standard input)");
  auto res = report::explain(catalog, text, reasons);
  std::optional<report::Confirmation> confirmation;
  if (x.probe) confirmation = confirm_by_probing(o, x, res);
  if (o.format == "json") {
    auto j = report::explain_json(res, reasons);
    if (confirmation) j["confirm"] = report::confirmation_json(*confirmation);
    emit_json(j);
  } else {
    auto t = report::explain_text(res, reasons, render_options(o));
    if (confirmation) t += report::confirmation_text(*confirmation);
    emit(t);
  }
  return res.reason != "other" ? exit_ok : exit_findings;
}


}  // namespace bp::cli

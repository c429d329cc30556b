// bounceprobe: which SMTP bounce would this mail get, and why.
#include "commands.hpp"
#include "exit_codes.hpp"

#include <text.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <iostream>

namespace {

/// An error is one line: whatever it quotes is escaped, and the line is bounded.
constexpr std::size_t max_error = 600;

/// Seconds as a finite number within [lo, hi]: CLI::Range lets "nan" through.
CLI::Validator seconds_between(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& in) -> std::string {
        double v = 0;
        std::size_t used = 0;
        try {
          v = std::stod(in, &used);
        } catch (const std::exception&) {
          return "'" + in + "' is not a number of seconds";
        }
        if (used != in.size() || !std::isfinite(v) || v < lo || v > hi) {
          return fmt::format("'{}' is not a number of seconds from {} to {}", in, lo, hi);
        }
        return {};
      },
      fmt::format("SECONDS in [{} - {}]", lo, hi));
}

void add_common(CLI::App* cmd, bp::cli::CommonOptions& o, bool dns) {
  if (dns) {
    cmd->add_option("--resolver", o.resolvers, "DNS resolver IP[:PORT] or [IPv6]:PORT (repeatable); default /etc/resolv.conf")
        ->allow_extra_args(false);
    cmd->add_option("--timeout", o.timeout_ms, "milliseconds to wait for each DNS reply")->check(CLI::Range(50, 60000));
    cmd->add_option("--tries", o.tries, "attempts per query on timeout")->check(CLI::Range(1, 10));
    cmd->add_option("--dns-sockets", o.dns_sockets, "spread DNS queries over N sockets (a resolver with several workers)")
        ->check(CLI::Range(1, 16));
    cmd->add_option("--deadline", o.deadline_s,
                    "seconds of DNS work allowed per domain; what is pending then is reported as not checked "
                    "(default: timeout x tries x 5)")
        ->check(seconds_between(0.05, 3600.0));
    cmd->add_option("--run-deadline", o.run_deadline_s,
                    "seconds the whole run's DNS work may take (default: --deadline for one domain, none for several)")
        ->check(seconds_between(0.05, 86400.0));
    cmd->add_option("--zone-file", o.zone_files,
                    "answer for this zone from a zone file (RFC 1035 master format) instead of DNS: a change "
                    "before it is published; FILE, or ORIGIN=FILE for a file without SOA (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--routable", o.routable, "treat addresses in this CIDR as routable (labs; repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--dnsbl-resolver", o.dnsbl_resolvers,
                    "resolver for blocklist queries, IP[:PORT] (repeatable); default: the main resolver")
        ->allow_extra_args(false);
    cmd->add_option("--spamhaus-key", o.spamhaus_key, "Spamhaus Data Query Service key: query <key>.zen.dq.spamhaus.net");
    cmd->add_flag("--allow-unchecked", o.allow_unchecked,
                  "exit 0 even when the domain's own records (MX, addresses, SPF, DMARC) could not be checked");
    cmd->add_option("--fail-on", o.fail_on, "lowest severity that makes the exit code 1")
        ->check(CLI::IsMember({"ok", "info", "warning", "error"}));
  }
  cmd->add_option("--format", o.format, dns ? "output format (jsonl and junit: check only)" : "output format")
      ->check(CLI::IsMember({"text", "json", "jsonl", "junit"}));
  cmd->add_flag("--json", o.json, "same as --format json");
  cmd->add_flag("-v,--verbose", o.verbose, "show evidence: every query and answer");
  cmd->add_option("--color", o.color, "colour output")->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--catalog", o.catalog_file, "use this bounce catalog (TOML) instead of the built-in one");
}

void add_smtp(CLI::App* cmd, bp::cli::CommonOptions& o, bool check) {
  cmd->add_flag("--no-smtp", o.no_smtp, "DNS only: no SMTP dialogue with the mail hosts");
  if (check) cmd->add_option("--from", o.smtp_from, "MAIL FROM for the dialogue; default <> (the null sender)");
  cmd->add_option("--helo", o.helo, "EHLO/HELO name (also SPF's HELO identity); default: this machine's host name");
  cmd->add_option("--source-ip", o.source_ip, "connect from this address of this machine (receivers judge it)");
  cmd->add_option("--ca-file", o.ca_file, "verify server certificates against these CAs (PEM) instead of the system's");
  cmd->add_option("--smtp-timeout", o.smtp_timeout_ms, "milliseconds to wait for the greeting and for each reply")
      ->check(CLI::Range(100, 600000));
  cmd->add_option("--connect-timeout", o.connect_timeout_ms, "milliseconds to wait for a TCP connection")
      ->check(CLI::Range(100, 120000));
  cmd->add_flag("--relay-test", o.relay_test, "also ask to relay to a foreign recipient (open-relay test)");
  cmd->add_option("--relay-to", o.relay_to, "the foreign recipient of --relay-test");
  cmd->add_option("--smtp-port", o.smtp_port, "port of the mail hosts (25; other ports for labs)")->check(CLI::Range(1, 65535));
  cmd->add_option("--max-connections", o.max_connections, "SMTP connections per domain, fallbacks included")
      ->check(CLI::Range(1, 20));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bounceprobe: tells which SMTP bounce your mail would get, and why, before a message is lost"};
  app.set_version_flag("--version", "bounceprobe 0.1.0");
  app.require_subcommand(1);
  bp::cli::CommonOptions o;

  std::vector<std::string> domains;
  auto* check = app.add_subcommand("check", "examine mail domains: MX, null MX, addresses, sender-domain use");
  check->add_option("domain", domains, "domains to check (or --input)");
  check->add_option("--input", o.input, "domains one per line from FILE or - (standard input); # comments and blank lines skipped");
  check->add_flag("--unordered", o.unordered, "write each domain's result as soon as it is done, not in input order");
  check->add_flag("-q,--quiet", o.quiet, "no progress line on standard error");
  check->add_option("--zone", o.zones, "also query this blocklist zone (ZONE or ZONE:domain; repeatable)")
      ->allow_extra_args(false);
  add_common(check, o, true);
  check->add_flag("--compare", o.compare, "with --zone-file: also check against live DNS and list what the files add and remove");
  add_smtp(check, o, true);

  std::string from, to;
  std::vector<std::string> ips;
  auto* predict = app.add_subcommand("predict", "predict the bounce mail from --from to --to would get");
  predict->add_option("--from", from, "envelope sender (MAIL FROM); <> for the null sender")->required();
  predict->add_option("--to", to, "recipient address (RCPT TO)")->required();
  predict->add_option("--ip", ips, "sending IP address (repeatable)")
        ->allow_extra_args(false);
  std::vector<std::string> dkim_pass;
  predict->add_option("--dkim-pass", dkim_pass, "the message carries a valid DKIM signature for this domain (repeatable)")
        ->allow_extra_args(false);
  predict->add_option("--profile", o.profile_file, "receiver profile (TOML) instead of the built-in one");
  predict->add_option("--zone", o.zones, "also query this blocklist zone (ZONE or ZONE:domain; repeatable)")
        ->allow_extra_args(false);
  add_common(predict, o, true);
  add_smtp(predict, o, false);

  bp::cli::ExplainOptions ex;
  auto* explain = app.add_subcommand("explain", "what a bounce means: its reason, the documented bounce it is, the fix");
  explain->add_option("text", ex.text, "the bounce text; '-' or nothing reads standard input");
  explain->add_option("--message", ex.message, "a whole bounce message as received (DSN or plain text); - reads standard input");
  explain->add_option("--input", ex.input, "one bounce text per line (FILE or -); use with --format jsonl");
  explain->add_flag("--probe", ex.probe, "confirm the cause now: run the probe that can tell whether it still holds");
  explain->add_option("--to", ex.to, "--probe: the recipient (else the one the bounce names)");
  explain->add_option("--from", ex.from, "--probe: the envelope sender (else the one the bounce names)");
  explain->add_option("--ip", ex.ip, "--probe: the sending server's address (else the one the bounce names)");
  add_common(explain, o, true);
  add_smtp(explain, o, false);

  std::string spf_ip, spf_sender, spf_helo;
  auto* spf = app.add_subcommand("spf", "evaluate SPF (RFC 7208 check_host) for a sending IP and sender");
  spf->add_option("--ip", spf_ip, "the sending IP address")->required()
        ->allow_extra_args(false);
  spf->add_option("--sender", spf_sender, "MAIL FROM address; empty or <> for the null sender")->required();
  spf->add_option("--helo", spf_helo, "HELO/EHLO name (checked for the null sender, and %{h})");
  add_common(spf, o, true);

  std::string dmarc_domain;
  auto* dmarc = app.add_subcommand("dmarc", "discover and check the DMARC policy of a domain (RFC 7489 and DMARCbis)");
  dmarc->add_option("domain", dmarc_domain, "the domain")->required();
  add_common(dmarc, o, true);

  std::vector<std::string> dnsbl_targets;
  auto* dnsbl = app.add_subcommand("dnsbl", "look IPs and domains up on DNS blocklists, with each list's code meanings");
  dnsbl->add_option("target", dnsbl_targets, "IP addresses and domains")->required();
  dnsbl->add_option("--zone", o.zones, "also query this zone (ZONE or ZONE:domain; repeatable)")
        ->allow_extra_args(false);
  add_common(dnsbl, o, true);

  auto* catalog = app.add_subcommand("catalog", "list the documented bounces");
  add_common(catalog, o, false);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "bounceprobe: error: {} (see bounceprobe --help)\n", bp::probes::shown(e.what(), max_error));
    return bp::cli::exit_usage;
  }
  if (o.json) o.format = "json";

  int rc = bp::cli::exit_ok;
  try {
    if (*check) rc = bp::cli::run_check(o, domains);
    else if (*predict) rc = bp::cli::run_predict(o, from, to, ips, dkim_pass);
    else if (*explain) rc = bp::cli::run_explain(o, ex);
    else if (*catalog) rc = bp::cli::run_catalog(o);
    else if (*dnsbl) rc = bp::cli::run_dnsbl(o, dnsbl_targets);
    else if (*dmarc) rc = bp::cli::run_dmarc(o, dmarc_domain);
    else if (*spf) rc = bp::cli::run_spf(o, spf_ip, spf_sender, spf_helo);
  } catch (const bp::cli::UsageError& e) {
    fmt::print(stderr, "bounceprobe: error: {}\n", bp::probes::shown(e.what(), max_error));
    return bp::cli::exit_usage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bounceprobe: error: {}\n", bp::probes::shown(e.what(), max_error));
    return bp::cli::exit_cannot_run;
  }
  // A failed write to stdout (full disk, closed pipe) is an error, not a success.
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    std::fprintf(stderr, "bounceprobe: error: cannot write the output\n");
    return bp::cli::exit_cannot_run;
  }
  return rc;
}

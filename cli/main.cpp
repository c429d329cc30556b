// bounceprobe: which SMTP bounce would this mail get, and why.
#include "commands.hpp"
#include "exit_codes.hpp"

#include <text.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <iostream>
#include <vector>

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
  cmd->add_option("--max-connections", o.max_connections,
                  "SMTP connections per domain, fallbacks included (default: 8 for check, which talks to every MX "
                  "address; 4 for predict and explain, which walk the MX set as a sender does)")
      ->check(CLI::Range(1, 20))
      ->default_str("");  // 0 stands for "the command's default", which the text gives
}

/// \return the edit distance between a and b (for "did you mean").
std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// -o FILE: standard output goes to a temporary file beside FILE, renamed over
/// it once the run has written everything, so that a reader never sees half a report.
class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      throw bp::cli::UsageError(fmt::format("-o {}: not a regular file", bp::probes::shown(path_)));
    }
    tmp_ = path_ + ".XXXXXX";
    const int fd = mkstemp(tmp_.data());
    if (fd < 0) throw bp::cli::UsageError(fmt::format("-o {}: {}", bp::probes::shown(path_), std::strerror(errno)));
    std::fflush(stdout);
    if (dup2(fd, STDOUT_FILENO) < 0) {
      ::close(fd);
      ::unlink(tmp_.c_str());
      throw bp::cli::UsageError(fmt::format("-o {}: {}", bp::probes::shown(path_), std::strerror(errno)));
    }
    ::close(fd);
    fchmod(STDOUT_FILENO, 0644);
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile() {
    if (!tmp_.empty()) ::unlink(tmp_.c_str());  // not committed: no file, not half of one
  }
  /// Publishes the output under its name; \return false (errno set) when that fails.
  bool commit() {
    if (tmp_.empty()) return true;
    if (std::fflush(stdout) != 0 || fsync(STDOUT_FILENO) != 0 || ::rename(tmp_.c_str(), path_.c_str()) != 0) return false;
    tmp_.clear();
    return true;
  }

 private:
  std::string path_, tmp_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bounceprobe: tells which SMTP bounce your mail would get, and why, before a message is lost"};
  app.set_version_flag("--version", "bounceprobe 0.1.0");
  app.require_subcommand(1);
  // Every option's default is shown in --help; subcommands inherit this.
  app.option_defaults()->always_capture_default();
  // Flags a pipeline repeats can live in a TOML file, one [command] table each;
  // the command line wins over it.
  app.set_config("--config", ".bounceprobe.toml",
                 "read options from this TOML file ([check], [predict], ... tables; default ./.bounceprobe.toml if present)");
  app.footer(R"(Examples:
  bounceprobe check example.com                     the go-live check of a mail domain
  bounceprobe check --zone-file example.com.zone --compare --format junit -o report.xml example.com
                                                    a DNS change before it is published, for CI
  bounceprobe predict --from a@example.org --to b@example.com --ip 192.0.2.1
  bounceprobe explain "550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org"

Exit codes (docs/exit-codes.md):
  0  nothing at or above --fail-on; predict: accept
  1  findings at or above --fail-on, or the domain's own records could not be checked
     (unless --allow-unchecked); predict: bounce or defer
  2  usage: bad command line, bad input line, missing or invalid file
  3  could not run: no DNS reply at all, start-up failure
)");
  bp::cli::CommonOptions o;
  std::string output;

  std::vector<std::string> domains;
  auto* check = app.add_subcommand("check", "examine mail domains: MX, null MX, addresses, sender-domain use");
  check->add_option("domain", domains, "domains to check (or --input)");
  check->add_option("--input", o.input, "domains one per line from FILE or - (standard input); # comments and blank lines skipped");
  check->add_flag("--unordered", o.unordered, "write each domain's result as soon as it is done, not in input order");
  check->add_flag("-q,--quiet", o.quiet, "no progress line on standard error");
  check->add_option("--zone", o.zones, "also query this blocklist zone (ZONE or ZONE:domain; repeatable)")
      ->allow_extra_args(false);
  add_common(check, o, true);
  check->add_option("--dkim-selector", o.dkim_selectors,
                    "check the DKIM key of this selector (repeatable); default: try the common ones "
                    "(default, selector1, selector2, google, k1)")
      ->allow_extra_args(false);
  check->add_flag("--no-dkim", o.no_dkim, "no DKIM key lookups (a batch that only needs MX, SPF, DMARC and blocklists)");
  check->add_flag("--no-delegation", o.no_delegation, "no name server checks (NS, each server's SOA, asked directly)");
  check->add_flag("--no-dnssec", o.no_dnssec, "no DNSSEC checks (DNSKEY, DS, and whether the resolver validated them)");
  check->add_flag("--no-mta-sts-fetch", o.no_mta_sts_fetch,
                  "do not fetch the MTA-STS policy over HTTPS (https://mta-sts.DOMAIN/.well-known/mta-sts.txt)");
  check->add_option("--mta-sts-state", o.mta_sts_state,
                    "remember each MTA-STS policy in FILE (JSON), as a sender's cache does; a policy that changed since "
                    "the last run without a new id is a warning")
      ->type_name("FILE");
  check->add_flag("--compare", o.compare, "with --zone-file: also check against live DNS and list what the files add and remove");
  add_smtp(check, o, true);
  check->add_option("-o,--output", output, "write the report to FILE (atomically: complete or not at all)");
  check->footer("Examples:\n  bounceprobe check example.com example.org\n"
                "  bounceprobe check --no-smtp --format jsonl --input domains.txt\n"
                "  bounceprobe check --zone-file example.com.zone --compare example.com");

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
  bp::cli::MessageOptions msg;
  predict->add_option("--message", msg.message,
                      "the message (.eml, or - for standard input): its size, attachments, From: header and content are "
                      "judged as a receiver would at the end of DATA");
  predict->add_option("--size", msg.size, "the SIZE= the sender declares at MAIL FROM, in octets (RFC 1870)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 50));
  predict->add_option("--spamd", msg.spamd, "ask SpamAssassin's spamd at SOCKET or HOST[:PORT] (default port 783) about --message")
      ->type_name("SOCKET|HOST:PORT");
  predict->add_option("--clamd", msg.clamd, "ask ClamAV's clamd at SOCKET or HOST[:PORT] (default port 3310) about --message")
      ->type_name("SOCKET|HOST:PORT");
  predict->add_option("--zone", o.zones, "also query this blocklist zone (ZONE or ZONE:domain; repeatable)")
        ->allow_extra_args(false);
  add_common(predict, o, true);
  add_smtp(predict, o, false);
  predict->add_option("-o,--output", output, "write the report to FILE (atomically: complete or not at all)");
  predict->footer("Example:\n  bounceprobe predict --from news@example.org --to user@example.com --ip 192.0.2.1\n"
                  "Exit code: 0 accept, 1 bounce or defer.");

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
  explain->footer("Examples:\n  bounceprobe explain \"550 5.1.1 <user@example.com>: Recipient address rejected: User unknown\"\n"
                  "  bounceprobe explain --message bounce.eml --probe");

  std::string spf_ip, spf_sender, spf_helo;
  auto* spf = app.add_subcommand("spf", "evaluate SPF (RFC 7208 check_host) for a sending IP and sender");
  spf->add_option("--ip", spf_ip, "the sending IP address")->required()
        ->allow_extra_args(false);
  spf->add_option("--sender", spf_sender, "MAIL FROM address; empty or <> for the null sender")->required();
  spf->add_option("--helo", spf_helo, "HELO/EHLO name (checked for the null sender, and %{h})");
  add_common(spf, o, true);
  spf->footer("Example:\n  bounceprobe spf --ip 192.0.2.1 --sender news@example.org\nExit code: 0 pass, 1 any other result.");

  std::string dmarc_domain;
  auto* dmarc = app.add_subcommand("dmarc", "discover and check the DMARC policy of a domain (RFC 7489 and DMARCbis)");
  dmarc->add_option("domain", dmarc_domain, "the domain")->required();
  add_common(dmarc, o, true);
  dmarc->footer("Example:\n  bounceprobe dmarc example.org");

  std::vector<std::string> dnsbl_targets;
  auto* dnsbl = app.add_subcommand("dnsbl", "look IPs and domains up on DNS blocklists, with each list's code meanings");
  dnsbl->add_option("target", dnsbl_targets, "IP addresses and domains")->required();
  dnsbl->add_option("--zone", o.zones, "also query this zone (ZONE or ZONE:domain; repeatable)")
        ->allow_extra_args(false);
  add_common(dnsbl, o, true);
  dnsbl->footer("Example:\n  bounceprobe dnsbl 192.0.2.1 example.org --zone bl.example.net");

  auto* catalog = app.add_subcommand("catalog", "list the documented bounces");
  add_common(catalog, o, false);
  catalog->footer("Example:\n  bounceprobe catalog --json");

  // An unknown command is named as such, with the nearest one (CLI11 would only say
  // that a subcommand is required).
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    std::string nearest;
    std::size_t best = 3;  // suggest only what is close
    bool known = false;
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      if (sub->get_name() == word) known = true;
      if (const auto d = distance(word, sub->get_name()); d < best) {
        best = d;
        nearest = sub->get_name();
      }
    }
    if (!known) {
      fmt::print(stderr, "bounceprobe: error: unknown command '{}'{} (see bounceprobe --help)\n", bp::probes::shown(word),
                 nearest.empty() ? "" : fmt::format("; did you mean '{}'?", nearest));
      return bp::cli::exit_usage;
    }
  }

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
  const CLI::App* active = app.get_subcommands().front();
  if (o.json && active->count("--format") > 0 && o.format != "json") {
    fmt::print(stderr, "bounceprobe: error: --json and --format {} contradict each other: give one\n", o.format);
    return bp::cli::exit_usage;
  }
  if (o.json) o.format = "json";

  int rc = bp::cli::exit_ok;
  std::optional<OutputFile> out_file;
  try {
    out_file.emplace(output);
    if (*check) rc = bp::cli::run_check(o, domains);
    else if (*predict) rc = bp::cli::run_predict(o, from, to, ips, dkim_pass, msg);
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
  if (out_file && !out_file->commit()) {
    fmt::print(stderr, "bounceprobe: error: -o {}: {}\n", bp::probes::shown(output), std::strerror(errno));
    return bp::cli::exit_cannot_run;
  }
  return rc;
}

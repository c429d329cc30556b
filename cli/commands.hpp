/*++
 * NAME
 *	commands 3h
 * SUMMARY
 *	the bounceprobe subcommands
 * DESCRIPTION
 *	Each command gathers evidence through the probes on one event loop,
 *	hands it to the report module and prints. The return value is the exit
 *	code (exit_codes.hpp). Usage errors throw UsageError; start-up failures
 *	(no resolver, unreadable catalog) throw std::runtime_error.
 *--*/
#pragma once

#include <finding.hpp>

#include <stdexcept>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bp::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct RunError : std::runtime_error {  ///< the probe could not run (exit 3)
  using std::runtime_error::runtime_error;
};

struct CommonOptions {
  std::vector<std::string> resolvers;
  int timeout_ms{2000};
  int tries{2};
  int dns_sockets{1};        ///< sockets the queries are spread over
  double deadline_s{0};      ///< per target; 0 = timeout x tries x depth_factor
  double run_deadline_s{0};  ///< whole run; 0 = the target deadline for one target, none for a batch
  std::string format{"text"};
  bool json{false};
  bool verbose{false};
  std::string fail_on{"error"};
  bool allow_unchecked{false};  ///< own records that could not be checked do not fail the run
  std::string color{"auto"};
  std::vector<std::string> routable;
  std::vector<std::string> zone_files;  ///< --zone-file FILE|ORIGIN=FILE: answers for those zones from the files
  bool compare{false};                  ///< check: also run against live DNS and list what the files change
  std::vector<std::string> dkim_selectors;  ///< check: DKIM selectors whose keys are checked
  bool no_dkim{false};                      ///< check: no DKIM key lookups
  bool no_delegation{false};                ///< check: no name server checks
  bool no_dnssec{false};                    ///< check: no DNSKEY/DS lookups
  bool no_mta_sts_fetch{false};             ///< check: the _mta-sts record only, no HTTPS fetch of the policy
  std::optional<std::string> mta_sts_state; ///< check: policies remembered between runs (JSON file)
  std::string catalog_file;
  std::string profile_file;
  std::vector<std::string> dnsbl_resolvers;  ///< resolvers for blocklist queries (Spamhaus refuses public ones)
  std::vector<std::string> zones;            ///< extra blocklist zones, "zone" or "zone:domain"
  std::string spamhaus_key;                  ///< Spamhaus Data Query Service key
  // The SMTP dialogue (check and predict).
  bool no_smtp{false};
  std::string smtp_from;        ///< check: MAIL FROM ("" = the null sender)
  std::string helo;             ///< EHLO name; default: this machine's host name
  std::string source_ip;        ///< connect from this local address
  std::string ca_file;          ///< trust these CAs instead of the system store
  int smtp_timeout_ms{30000};   ///< greeting and each command
  int connect_timeout_ms{10000};
  bool relay_test{false};
  std::string relay_to{"bounceprobe-relay-test@example.net"};
  int smtp_port{25};
  int max_connections{0};       ///< per domain; 0: the command's default (smtp_options)
  int smtp_parallel{4};         ///< per run
  // check batches
  std::string input;            ///< --input FILE|-: one domain per line
  bool unordered{false};        ///< results in completion order
  bool quiet{false};            ///< no progress line
};

/// The dependency depth a target's DNS work is budgeted for: MX, then its hosts'
/// addresses, then their blocklist entries, with room for SPF include levels.
/// At the defaults (2 s x 2 tries) it gives 20 s, the overall SPF timeout RFC 7208
/// section 4.6.4 recommends.
inline constexpr int depth_factor = 5;

/// \return the per-target DNS deadline: --deadline, or timeout x tries x depth_factor.
std::chrono::milliseconds target_deadline(const CommonOptions& o);

int run_check(const CommonOptions& o, const std::vector<std::string>& domains);
struct MessageOptions {
  std::string message;        ///< predict --message FILE|-
  std::uint64_t size{0};      ///< predict --size BYTES: SIZE= at MAIL FROM
  std::optional<std::string> spamd;  ///< predict --spamd SOCKET|HOST[:PORT]: ask SpamAssassin's spamd (given empty: an error)
  std::optional<std::string> clamd;  ///< predict --clamd SOCKET|HOST[:PORT]: ask ClamAV's clamd
};
int run_predict(const CommonOptions& o, const std::string& from, const std::string& to,
                const std::vector<std::string>& ips, const std::vector<std::string>& dkim_pass, const MessageOptions& m);
int run_dmarc(const CommonOptions& o, const std::string& domain);
int run_dnsbl(const CommonOptions& o, const std::vector<std::string>& targets);
struct ExplainOptions {
  std::vector<std::string> text;  ///< the bounce as arguments; empty or "-" reads standard input
  std::string message;            ///< --message FILE|-: a whole bounce message (DSN or plain)
  std::string input;              ///< --input FILE|-: one bounce text per line
  bool probe{false};              ///< --probe: confirm the cause now
  std::string to, from, ip;       ///< override what the bounce says (for --probe)
};
int run_explain(const CommonOptions& o, const ExplainOptions& x);
int run_catalog(const CommonOptions& o);
int run_spf(const CommonOptions& o, const std::string& ip, const std::string& sender, const std::string& helo);

}  // namespace bp::cli

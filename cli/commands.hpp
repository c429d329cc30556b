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
  std::string format{"text"};
  bool json{false};
  bool verbose{false};
  std::string fail_on{"error"};
  std::string color{"auto"};
  std::vector<std::string> routable;
  std::string catalog_file;
  std::string profile_file;
  std::vector<std::string> dnsbl_resolvers;  ///< resolvers for blocklist queries (Spamhaus refuses public ones)
  std::vector<std::string> zones;            ///< extra blocklist zones, "zone" or "zone:domain"
  std::string spamhaus_key;                  ///< Spamhaus Data Query Service key
};

int run_check(const CommonOptions& o, const std::vector<std::string>& domains);
int run_predict(const CommonOptions& o, const std::string& from, const std::string& to,
                const std::vector<std::string>& ips, const std::string& helo, const std::vector<std::string>& dkim_pass);
int run_dmarc(const CommonOptions& o, const std::string& domain);
int run_dnsbl(const CommonOptions& o, const std::vector<std::string>& targets);
int run_explain(const CommonOptions& o, const std::vector<std::string>& text);
int run_catalog(const CommonOptions& o);
int run_spf(const CommonOptions& o, const std::string& ip, const std::string& sender, const std::string& helo);

}  // namespace bp::cli

/*++
 * NAME
 *	render 3h
 * SUMMARY
 *	text and JSON output for every command
 * DESCRIPTION
 *	Renderers turn results into output and never query anything. Text is
 *	grouped by probe with a severity mark per line, colour only when asked
 *	(the CLI asks when stdout is a terminal and NO_COLOR is unset), and
 *	evidence only with --verbose. JSON is one object with a "schema" field.
 *--*/
#pragma once

#include "bounce_message.hpp"
#include "confirm.hpp"
#include "explain.hpp"
#include "predictor.hpp"

#include <finding.hpp>
#include <mx.hpp>
#include <query_log.hpp>
#include <spf/evaluate.hpp>
#include <spf/lint.hpp>
#include <dmarc/dmarc.hpp>
#include <dnsbl/dnsbl.hpp>
#include <delegation.hpp>
#include <dkim.hpp>
#include <dnssec.hpp>
#include <mta_sts.hpp>
#include <smtp.hpp>

#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace bp::report {

inline constexpr const char* schema_version = "bounceprobe/1";

struct RenderOptions {
  bool verbose{false};
  bool color{false};
  bool allow_unchecked{false};  ///< JUnit: unchecked own records are skipped, not failed
};

/// What zone files change against live DNS (check --compare).
struct Comparison {
  std::vector<probes::Finding> added;    ///< with the files, not live
  std::vector<probes::Finding> removed;  ///< live, not with the files
};

struct DomainResult {
  std::string domain;
  probes::MxReport mx;
  probes::spf::SpfLint spf;
  probes::dmarc::DmarcDiscovery dmarc;
  probes::dnsbl::DnsblReport dnsbl;
  std::vector<std::string> dnsbl_skipped;  ///< SPF ranges too wide to query address by address
  std::optional<probes::SmtpReport> smtp;  ///< absent with --no-smtp
  std::optional<probes::transport::PolicyFetch> mta_sts;  ///< the policy fetch a valid _mta-sts record led to
  std::optional<std::vector<probes::dkim::KeyFact>> dkim_keys;  ///< absent with --no-dkim
  std::optional<probes::delegation::Facts> delegation;          ///< absent with --no-delegation
  std::optional<probes::dnssec::Facts> dnssec;                  ///< absent with --no-dnssec
  /// Every finding of the check: those of spf, dmarc and dnsbl are moved here
  /// (their reports keep their facts, not their findings).
  std::vector<probes::Finding> findings;
  std::optional<Comparison> compare;       ///< with --compare
  double elapsed_ms{0};                    ///< how long the domain's check took
};

/// \return the SMTP probe's sessions (the transcript only when verbose).
nlohmann::json smtp_json(const probes::SmtpReport& r, bool verbose);

struct RunInfo {
  std::vector<std::string> servers;
  const resolver::QueryLog* log{nullptr};
  double elapsed_ms{0};
};

struct Tally {
  int ok{0}, info{0}, warning{0}, error{0}, not_checked{0};
  void add(const probes::Finding& f);
  /// \return the highest severity seen.
  probes::Severity worst() const;
};

nlohmann::json finding_json(const probes::Finding& f);
/// A batch line or argument that is not a domain: reported, and the batch goes on.
struct RejectedInput {
  std::size_t line{0};  ///< 1-based line of --input; 0 for a command-line argument
  std::string input;
  std::string error;
};

/// Renders check results one domain at a time, as they complete. text and jsonl
/// are written at once (a result can then be freed); json and junit are one
/// document each, written by finish(). jsonl: one object per domain per line,
/// each with "schema", for log pipelines. junit: a test suite per domain, a test
/// case per finding; errors (and, with fail_on at or below warning, warnings and
/// unchecked findings) are failures, rejected input lines are errors.
class CheckWriter {
 public:
  CheckWriter(std::string format, RenderOptions options, probes::Severity fail_on,
              std::function<void(std::string_view)> out);
  ~CheckWriter();
  void add(const DomainResult& r);
  void reject(const RejectedInput& e);
  /// Writes the summary (text) or the whole document (json, junit).
  void finish(const RunInfo& run);
  const Tally& total() const { return total_; }
  std::size_t domains() const { return domains_seen_; }

 private:
  std::string format_;
  RenderOptions options_;
  probes::Severity fail_on_;
  std::function<void(std::string_view)> out_;
  Tally total_;
  std::size_t domains_seen_{0}, rejected_{0};
  nlohmann::json domains_, errors_ = nlohmann::json::array();
  std::string junit_suites_;
  std::string line_;  ///< one JSON line, reused
  int junit_tests_{0}, junit_failures_{0}, junit_errors_{0}, junit_skipped_{0};
};

nlohmann::json predict_json(const PredictInput& in, const Prediction& p, const std::vector<probes::Finding>& findings,
                            const std::string& profile, const RunInfo& run, bool verbose);
std::string predict_text(const PredictInput& in, const Prediction& p, const std::vector<probes::Finding>& findings,
                         const std::string& profile, const RunInfo& run, const RenderOptions& o);

nlohmann::json explain_json(const ExplainResult& r, const Reasons& reasons = Reasons::builtin());
std::string explain_text(const ExplainResult& r, const Reasons& reasons, const RenderOptions& o);

/// One answer of `explain --message`: a failed recipient of a DSN (or the whole message when it has none).
struct MessageAnswer {
  const DsnRecipient* recipient{nullptr};
  ExplainResult result;
  std::optional<Confirmation> confirmation;
};
nlohmann::json message_json(const BounceMessage& m, const std::vector<MessageAnswer>& answers, const Reasons& reasons);
std::string message_text(const BounceMessage& m, const std::vector<MessageAnswer>& answers, const Reasons& reasons,
                         const RenderOptions& o);

nlohmann::json spf_json(const probes::spf::SpfQuery& q, const probes::spf::SpfOutcome& o, const RunInfo& run, bool verbose);
std::string spf_text(const probes::spf::SpfQuery& q, const probes::spf::SpfOutcome& o, const RunInfo& run,
                     const RenderOptions& opt);

nlohmann::json dmarc_json(const probes::dmarc::DmarcDiscovery& d);
nlohmann::json dmarc_command_json(const probes::dmarc::DmarcDiscovery& d, const RunInfo& run, bool verbose);
std::string dmarc_text(const probes::dmarc::DmarcDiscovery& d, const RunInfo& run, const RenderOptions& o);

nlohmann::json dnsbl_json(const probes::dnsbl::DnsblReport& r, const RunInfo& run, bool verbose);
std::string dnsbl_text(const probes::dnsbl::DnsblReport& r, const RunInfo& run, const RenderOptions& o);

nlohmann::json catalog_json(const Catalog& c);
std::string catalog_text(const Catalog& c, const RenderOptions& o);

}  // namespace bp::report

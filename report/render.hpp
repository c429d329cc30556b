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
#include <smtp.hpp>

#include <optional>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace bp::report {

inline constexpr const char* schema_version = "bounceprobe/1";

struct RenderOptions {
  bool verbose{false};
  bool color{false};
};

struct DomainResult {
  std::string domain;
  probes::MxReport mx;
  probes::spf::SpfLint spf;
  probes::dmarc::DmarcDiscovery dmarc;
  probes::dnsbl::DnsblReport dnsbl;
  std::vector<std::string> dnsbl_skipped;  ///< SPF ranges too wide to query address by address
  std::optional<probes::SmtpReport> smtp;  ///< absent with --no-smtp
  std::vector<probes::Finding> findings;
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
nlohmann::json check_json(const std::vector<DomainResult>& results, const RunInfo& run, bool verbose);
std::string check_text(const std::vector<DomainResult>& results, const RunInfo& run, const RenderOptions& o);
/// One JSON object per domain per line, each with "schema" (for streaming into log pipelines).
std::string check_jsonl(const std::vector<DomainResult>& results, const RunInfo& run, bool verbose);
/// JUnit XML: a test suite per domain, a test case per finding; errors (and, with
/// fail_on at or below warning, warnings and unchecked findings) are failures.
std::string check_junit(const std::vector<DomainResult>& results, const RunInfo& run, probes::Severity fail_on);

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

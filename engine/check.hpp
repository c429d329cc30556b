/*++
 * NAME
 *	check 3h
 * SUMMARY
 *	the check run: targets in, a bounded window in flight, results out in order
 * DESCRIPTION
 *	check_domain() is one domain's full check: MX, SPF and DMARC at once,
 *	then the blocklists and the SMTP dialogue, both needing only the MX
 *	answer; which findings a domain report keeps is decided here.
 *
 *	run_checks() pulls targets from a TargetSource (arguments, or lines of
 *	a file or standard input), keeps at most `window` domains in flight, and
 *	hands each result to the sink as soon as it may be written: in input
 *	order through a reorder buffer of at most `max_buffered` finished
 *	results, or in completion order when `unordered`. A target that is not
 *	a domain reaches the sink as a rejection and the batch goes on. Nothing
 *	is kept once the sink has it, so memory does not grow with the batch.
 * SEE ALSO
 *	docs/limits.md (deadlines and bounds).
 *--*/
#pragma once

#include <catalog.hpp>
#include <dnsbl/dnsbl.hpp>
#include <finding.hpp>
#include <render.hpp>
#include <resolver.hpp>
#include <smtp.hpp>

#include <asio/awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bp::engine {

struct CheckSettings {
  probes::AddressPolicy policy;
  probes::dnsbl::Lists lists;
  std::optional<probes::SmtpOptions> smtp;  ///< absent: DNS only
  bool relay_test{false};
  std::string relay_to;
  std::string smtp_from;                    ///< "" = the null sender
  std::chrono::milliseconds deadline{20000};  ///< each domain's DNS budget, from its start
  std::vector<std::string> dkim_selectors;    ///< DKIM keys to check; empty: the common selectors
  bool dkim{true};                            ///< false: no DKIM key lookups (--no-dkim)
  bool delegation{true};                      ///< false: no name server checks (--no-delegation)
  bool dnssec{true};                          ///< false: no DNSKEY/DS lookups (--no-dnssec)
  probes::transport::TransportOptions transport;  ///< the MTA-STS policy fetch (--no-mta-sts-fetch, --ca-file)
};

struct CheckContext {
  resolver::Resolver& r;    ///< the run's resolver (the dialogue's lookups use it)
  resolver::Resolver& blr;  ///< for blocklists
  probes::SmtpGate& gate;
  /// The catalog the dialogue's replies are matched against, read when first needed
  /// (a DNS-only batch never reads it).
  std::function<const report::Catalog&()> catalog;
  CheckSettings settings;
  /// --compare: the resolver without the zone files; each domain is also checked
  /// against it, and the result lists what the files add and remove.
  resolver::Resolver* live{nullptr};
  /// The blocklist zones' health, judged once per run (blr and settings.lists).
  std::shared_ptr<probes::dnsbl::ZoneHealth> zone_health{std::make_shared<probes::dnsbl::ZoneHealth>()};
};

/// One domain's whole check (and its comparison with live DNS when cx.live is set).
/// `cx` must outlive the coroutine.
asio::awaitable<report::DomainResult> check_domain(const CheckContext& cx, std::string domain);

/// \return what `changed` has that `before` has not (added) and the reverse (removed),
/// findings being the same when their code, subject, severity and summary are.
report::Comparison compare_findings(const std::vector<probes::Finding>& before, const std::vector<probes::Finding>& changed);

/// \return the domain in ASCII (IDNA), or nullopt with `error` saying what is wrong (its input quoted safely).
std::optional<std::string> parse_domain(const std::string& raw, std::string* error);

/// One item of a batch: a domain, or the reason it is not one.
struct Target {
  std::size_t line{0};  ///< 1-based line of the input; 0 for an argument
  std::string input;
  std::string domain;   ///< empty when rejected
  std::string error;
};

class TargetSource {
 public:
  virtual ~TargetSource() = default;
  /// \return the next target, or nullopt at the end.
  virtual std::optional<Target> next() = 0;
  /// \return how many targets there are in all, when known in advance.
  virtual std::optional<std::size_t> size() const { return std::nullopt; }
};

/// Targets from the command line.
class ArgumentTargets final : public TargetSource {
 public:
  explicit ArgumentTargets(std::vector<std::string> args) : args_(std::move(args)) {}
  std::optional<Target> next() override;
  std::optional<std::size_t> size() const override { return args_.size(); }

 private:
  std::vector<std::string> args_;
  std::size_t i_{0};
};

/// Targets one per line of a stream: blank lines and '#' comments skipped,
/// surrounding white space trimmed, a line over 1,024 bytes rejected (a
/// domain is at most 253).
class LineTargets final : public TargetSource {
 public:
  explicit LineTargets(std::FILE* in) : in_(in) {}
  std::optional<Target> next() override;

 private:
  std::FILE* in_;
  std::size_t line_{0};
};

/// Where results go, in the order they may be written.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void result(const Target& t, report::DomainResult&& r) = 0;
  virtual void rejected(const Target& t) = 0;
  /// The run is over: nothing more comes (a sink holding output for a moment writes it now).
  virtual void end() {}
};

struct RunOptions;

/// Ends a run early (Ctrl-C): interrupt() hands every finished result still held
/// for input order to the sink at once (in input order, past the gaps of
/// unfinished ones), and no new target is started.
class RunControl {
 public:
  void interrupt() {
    interrupted_ = true;
    if (release_) release_();
  }
  bool interrupted() const { return interrupted_; }

 private:
  friend asio::awaitable<std::size_t> run_checks(const CheckContext&, TargetSource&, ResultSink&, RunOptions);
  bool interrupted_{false};
  std::function<void()> release_;  ///< set by run_checks while it runs
};

struct RunOptions {
  std::size_t window{32};         ///< domains in flight
  std::size_t max_buffered{256};  ///< finished results held for input order
  bool unordered{false};          ///< write each result as it completes
  RunControl* control{nullptr};   ///< lets the caller interrupt the run
};

/// Checks every target of `source`; stops starting new ones once the resolver is mute.
/// \return how many targets were read.
asio::awaitable<std::size_t> run_checks(const CheckContext& cx, TargetSource& source, ResultSink& sink, RunOptions options);

/// The exit policy (docs/exit-codes.md): does any checked finding reach `threshold`,
/// or could one of the domain's own records not be checked? Blocklists and the
/// SMTP dialogue that could not be checked do not fail a run; with
/// `allow_unchecked`, nothing unchecked does.
bool fails(const std::vector<probes::Finding>& findings, probes::Severity threshold, bool allow_unchecked = false);

}  // namespace bp::engine

// bounceprobe check: parse the targets, run the check pipeline, stream the results.
#include "exit_codes.hpp"
#include "run_support.hpp"

#include <check.hpp>
#include <domain_name.hpp>
#include <sender.hpp>
#include <text.hpp>

#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>

namespace bp::cli {

namespace {

/// "checked 1200/10000 domains, 4100/s, about 2 s left" on standard error, at most four times a second.
class Progress {
 public:
  Progress(bool on, std::optional<std::size_t> total) : on_(on), total_(total), start_(std::chrono::steady_clock::now()) {}
  void tick() {
    ++done_;
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    const double rate = s > 0 ? static_cast<double>(done_) / s : 0;
    std::string line = total_ ? fmt::format("checked {}/{} domains, {:.0f}/s", done_, *total_, rate)
                              : fmt::format("checked {} domains, {:.0f}/s", done_, rate);
    if (total_ && rate > 0 && *total_ > done_) line += fmt::format(", about {:.0f} s left", static_cast<double>(*total_ - done_) / rate);
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    shown_ = true;
  }
  ~Progress() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool on_;
  std::optional<std::size_t> total_;
  std::chrono::steady_clock::time_point start_, last_{};
  std::size_t done_{0};
  bool shown_{false};
};

/// Writes each result through the writer as it arrives, decides the exit status as it goes.
/// Until the resolver has answered at least once, results are held back: if it never
/// answers, the run ends with exit 3 and one line, not with pages of "could not check".
class StreamSink final : public engine::ResultSink {
 public:
  StreamSink(report::CheckWriter& w, const resolver::Resolver& r, probes::Severity threshold, bool allow_unchecked,
             Progress& p)
      : writer_(w), resolver_(r), threshold_(threshold), allow_unchecked_(allow_unchecked), progress_(p),
        flush_timer_(r.executor()) {}
  void result(const engine::Target& t, report::DomainResult&& d) override {
    progress_.tick();
    failed_ = failed_ || engine::fails(d.findings, threshold_, allow_unchecked_);
    held_.push_back({t, std::move(d)});
    if (resolver_.log().answered() > 0) flush();
  }
  void rejected(const engine::Target& t) override {
    progress_.tick();
    ++rejected_;
    held_.push_back({t, std::nullopt});
    if (resolver_.log().answered() > 0) flush();
  }
  void end() override {
    flush_timer_.cancel();
    std::fflush(stdout);
    if (on_end_) on_end_();
  }
  /// Runs when the run is over (after the output is flushed).
  void on_end(std::function<void()> f) { on_end_ = std::move(f); }
  void flush() {
    for (auto& [t, d] : held_) {
      if (d) writer_.add(*d);
      else writer_.reject({t.line, probes::shown(t.input), t.error});
    }
    held_.clear();
    // Standard output is written within 20 ms of a result, not at each one:
    // a pipeline still sees results as they come, and a batch does not cost
    // a write per domain.
    if (!flush_armed_) {
      flush_armed_ = true;
      flush_timer_.expires_after(std::chrono::milliseconds(20));
      flush_timer_.async_wait([this](asio::error_code) {
        flush_armed_ = false;
        std::fflush(stdout);
      });
    }
  }
  bool failed() const { return failed_; }
  std::size_t rejected() const { return rejected_; }

 private:
  report::CheckWriter& writer_;
  const resolver::Resolver& resolver_;
  probes::Severity threshold_;
  bool allow_unchecked_;
  Progress& progress_;
  std::vector<std::pair<engine::Target, std::optional<report::DomainResult>>> held_;
  bool failed_{false};
  std::size_t rejected_{0};
  asio::steady_timer flush_timer_;
  bool flush_armed_{false};
  std::function<void()> on_end_;
};

}  // namespace

int run_check(const CommonOptions& o, const std::vector<std::string>& args) {
  if (args.empty() && o.input.empty()) throw UsageError("check needs domains: as arguments or with --input FILE|-");
  if (!args.empty() && !o.input.empty()) throw UsageError("give domains as arguments or with --input, not both");
  // One domain on the command line: a typo is a usage error, as for every other command.
  if (args.size() == 1) {
    std::string why;
    if (!engine::parse_domain(args.front(), &why)) throw UsageError(why);
  }
  // A --catalog file is read (and refused) at once; the built-in one only if a dialogue needs it.
  std::optional<report::Catalog> catalog_holder;
  if (!o.catalog_file.empty()) (void)catalog_for(o, catalog_holder);
  const auto catalog = [&]() -> const report::Catalog& {
    return catalog_holder ? *catalog_holder : report::Catalog::builtin();
  };
  if (!o.smtp_from.empty() && o.smtp_from != "<>") {
    auto c = probes::check_address(o.smtp_from, "sender");
    if (!c.address || !c.problem.empty()) throw UsageError(fmt::format("--from '{}' is not a usable address{}", probes::shown(o.smtp_from), c.problem.empty() ? "" : ": " + c.problem));
  }
  if (o.relay_test) {
    auto c = probes::check_address(o.relay_to, "recipient");
    if (!c.address || c.address->domain.empty()) throw UsageError(fmt::format("--relay-to '{}' is not a recipient address", probes::shown(o.relay_to)));
  }
  engine::CheckSettings settings{address_policy(o), dnsbl_lists(o), smtp_options(o, "", true), o.relay_test, o.relay_to,
                                 o.smtp_from == "<>" ? "" : o.smtp_from, target_deadline(o), o.dkim_selectors, !o.no_dkim,
                                 !o.no_delegation, !o.no_dnssec};
  // The policy fetch is bounded like a dialogue: --connect-timeout per address, --smtp-timeout in all.
  settings.transport.fetch_policy = !o.no_mta_sts_fetch;
  settings.transport.ca_file = o.ca_file;
  settings.transport.limits.connect = std::chrono::milliseconds(o.connect_timeout_ms);
  settings.transport.limits.total = std::chrono::milliseconds(o.smtp_timeout_ms);
  std::optional<probes::transport::PolicyMemory> memory;
  if (o.mta_sts_state) {
    if (o.no_mta_sts_fetch) throw UsageError("--mta-sts-state needs the policy fetched: drop --no-mta-sts-fetch");
    try {
      memory = probes::transport::PolicyMemory::load(*o.mta_sts_state);
    } catch (const std::runtime_error& e) {
      throw UsageError(e.what());
    }
    settings.transport.memory = &*memory;
  }
  if (o.no_dkim && !o.dkim_selectors.empty()) throw UsageError("--no-dkim and --dkim-selector contradict each other: give one");
  for (const auto& s : o.dkim_selectors) {
    // RFC 6376 section 3.1: labels of letters, digits and hyphens (underscores are tolerated, as verifiers do).
    const bool chars_ok = std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
    });
    const auto why = !chars_ok ? std::string("only letters, digits, '-', '_' and '.' may be used")
                               : resolver::dns_name_problem(s + "._domainkey.example");
    if (s.empty() || !why.empty()) {
      throw UsageError(fmt::format("--dkim-selector '{}' is not a selector: {}", probes::shown(s), s.empty() ? "empty" : why));
    }
  }

  std::unique_ptr<engine::TargetSource> source;
  std::FILE* in = nullptr;
  if (o.input.empty()) {
    source = std::make_unique<engine::ArgumentTargets>(args);
  } else {
    in = open_input(o.input, "--input");
    source = std::make_unique<engine::LineTargets>(in);
  }
  struct Closer {
    std::FILE* f;
    ~Closer() {
      if (f != nullptr && f != stdin) std::fclose(f);
    }
  } closer{in};

  probes::Severity threshold = probes::Severity::error;
  probes::parse_severity(o.fail_on, &threshold);
  // Results are written as they come, a block at a time (StreamSink::flush).
  std::setvbuf(stdout, nullptr, _IOFBF, 1 << 16);
  report::CheckWriter writer(o.format, render_options(o), threshold,
                             [](std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); });
  const auto total = source->size();
  // An input of unknown length is a batch: no run deadline, a progress line.
  const std::size_t targets = total.value_or(std::numeric_limits<std::size_t>::max());
  DnsRun dns(o, targets, !o.no_smtp);
  probes::SmtpGate gate(dns.resolver().executor(), o.smtp_parallel);
  engine::CheckContext cx{dns.resolver(), dns.dnsbl_resolver(), gate, catalog, std::move(settings), dns.live_resolver()};
  Progress progress(!o.quiet && isatty(fileno(stderr)) != 0 && targets > 1, total);
  StreamSink sink(writer, dns.resolver(), threshold, o.allow_unchecked, progress);
  engine::RunControl control;
  engine::RunOptions run;
  run.unordered = o.unordered;
  run.control = &control;
  // Ctrl-C (or SIGTERM): what is finished is written, the document closed, and the run ends at once.
  asio::signal_set signals(dns.resolver().executor(), SIGINT, SIGTERM);
  signals.async_wait([&](asio::error_code ec, int sig) {
    if (ec) return;
    control.interrupt();
    sink.flush();
    writer.finish(dns.info());
    std::fflush(stdout);
    std::fprintf(stderr, "bounceprobe: interrupted (signal %d): %zu finished results written\n", sig,
                 writer.domains());
    std::_Exit(exit_interrupted_base + sig);
  });
  sink.on_end([&] { signals.cancel(); });
  dns.run(engine::run_checks(cx, *source, sink, run));  // exit 3 here when the resolver never answered
  sink.flush();
  writer.finish(dns.info());
  if (memory) {
    try {
      memory->save(*o.mta_sts_state);
    } catch (const std::runtime_error& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "bounceprobe: error: %s\n", e.what());
      return exit_usage;
    }
  }
  if (sink.rejected() > 0) return exit_usage;
  return sink.failed() ? exit_findings : exit_ok;
}

}  // namespace bp::cli

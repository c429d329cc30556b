/*++
 * NAME
 *	run_support 3h
 * SUMMARY
 *	what every command of the CLI shares: options to settings, one DNS run, output
 * DESCRIPTION
 *	Internal to cli/. Turns the command line's CommonOptions into the settings
 *	of the resolver, the SMTP probe and the renderers; DnsRun owns one
 *	command's event loop and resolvers and decides exit 3 when the resolver
 *	never answered.
 *--*/
#pragma once

#include "commands.hpp"

#include <address.hpp>
#include <async.hpp>
#include <catalog.hpp>
#include <dmarc/dmarc.hpp>
#include <dnsbl/dnsbl.hpp>
#include <mx.hpp>
#include <render.hpp>
#include <resolver.hpp>
#include <smtp.hpp>
#include <spf/evaluate.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bp::cli {

/// Runs one top-level coroutine to completion on `ctx`, then `done`; rethrows what it threw.
template <typename T>
T run_loop(asio::io_context& ctx, asio::awaitable<T> op, const std::function<void()>& done = {}) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(ctx, std::move(op), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result = std::move(value);
    if (done) done();
  });
  ctx.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

bool use_color(const CommonOptions& o);
report::RenderOptions render_options(const CommonOptions& o);
probes::AddressPolicy address_policy(const CommonOptions& o);
std::chrono::milliseconds seconds_to_ms(double s);

/// \return the zone files of --zone-file, read once (nullptr without any); a bad file is a UsageError.
std::shared_ptr<const resolver::ZoneOverlay> zone_overlay(const CommonOptions& o);

/// `targets`: how many domains the run checks; one target's run without an SMTP
/// `dialogue` ends at its deadline. `overlay`: zones answered from files.
resolver::ResolverOptions resolver_options(const CommonOptions& o, std::size_t targets, bool dialogue,
                                           std::shared_ptr<const resolver::ZoneOverlay> overlay);

/// Asks the resolver one cheap question (". NS") next to the real work, so that a
/// domain whose every lookup times out is not mistaken for a dead resolver.
void start_reachability_probe(resolver::Resolver& r);

/// Exit 3 when not one query, the probe included, got a DNS reply: the resolver is unreachable or mute.
void require_reachable_resolver(const resolver::Resolver& r);

/// One command's DNS work: the event loop, the resolver with its reachability
/// probe, the timing, and the exit-3 check once the work is done.
class DnsRun {
 public:
  /// `targets`: how many domains the run checks (deadlines: see resolver_options).
  explicit DnsRun(const CommonOptions& o, std::size_t targets = 1, bool dialogue = false)
      : overlay_(zone_overlay(o)), r_(ctx_.get_executor(), resolver_options(o, targets, dialogue, overlay_)) {
    start_reachability_probe(r_);
    if (!o.dnsbl_resolvers.empty()) {
      CommonOptions bl = o;
      bl.resolvers = o.dnsbl_resolvers;
      dnsbl_.emplace(ctx_.get_executor(), resolver_options(bl, targets, dialogue, overlay_));
    }
    if (o.compare) {
      if (!overlay_) throw UsageError("--compare compares live DNS with --zone-file: give the zone file");
      live_.emplace(ctx_.get_executor(), resolver_options(o, targets, dialogue, nullptr));
    }
  }

  /// The resolver without the zone files (--compare), or nullptr.
  resolver::Resolver* live_resolver() { return live_ ? &*live_ : nullptr; }

  resolver::Resolver& resolver() { return r_; }
  /// The resolver for blocklist queries: --dnsbl-resolver, else the main one.
  resolver::Resolver& dnsbl_resolver() { return dnsbl_ ? *dnsbl_ : r_; }

  /// Runs `op` to completion; throws RunError when the resolver never answered.
  template <typename T>
  T run(asio::awaitable<T> op) {
    const auto start = std::chrono::steady_clock::now();
    // The deadline timers must not hold the loop once the work is done.
    T value = run_loop(ctx_, std::move(op), [this] {
      r_.finish();
      if (dnsbl_) dnsbl_->finish();
      if (live_) live_->finish();
    });
    ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    require_reachable_resolver(r_);
    return value;
  }

  /// \return what the report says about the run; `blocklists` reports the blocklist resolver.
  report::RunInfo info(bool blocklists = false) const {
    const auto& r = blocklists && dnsbl_ ? *dnsbl_ : r_;
    return {r.servers(), &r.log(), ms_};
  }

 private:
  asio::io_context ctx_;
  std::shared_ptr<const resolver::ZoneOverlay> overlay_;
  resolver::Resolver r_;
  std::optional<resolver::Resolver> dnsbl_;
  std::optional<resolver::Resolver> live_;
  double ms_{0};
};

const report::Catalog& catalog_for(const CommonOptions& o, std::optional<report::Catalog>& holder);
int exit_for(const std::vector<probes::Finding>& findings, const CommonOptions& o);

/// \return true when `ip` is an address of this machine (a socket can be bound to it).
bool is_local_address(const std::string& ip);

/// The dialogue's plan from the options: who we say we are, where we connect from, how long we wait.
/// `every_address`: check's dialogue with every MX host and address (8 connections
/// per domain unless --max-connections says otherwise), not a sender's walk (4).
std::optional<probes::SmtpOptions> smtp_options(const CommonOptions& o, std::string source, bool every_address = false);

/// \return the domain argument in its ASCII form; a usage error when it is not a usable domain.
std::string check_domain_arg(const std::string& raw);

/// jsonl and junit describe per-domain checks; the other commands print one object.
void require_single_object_format(const CommonOptions& o, const char* command);

/// Opens FILE or "-" (standard input); a missing file, a directory or a device is a usage error (exit 2).
std::FILE* open_input(const std::string& path, const char* what);

void emit(const std::string& text);
/// Bytes from the network need not be UTF-8: invalid sequences are replaced, never fatal.
void emit_json(const nlohmann::json& j);

probes::dnsbl::Lists dnsbl_lists(const CommonOptions& o);

}  // namespace bp::cli

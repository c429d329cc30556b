#include "run_support.hpp"

#include "exit_codes.hpp"

#include <check.hpp>

#include <domain_name.hpp>
#include <sender.hpp>
#include <text.hpp>

#include <asio/ip/host_name.hpp>
#include <asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <cstdlib>

namespace bp::cli {

using probes::AddressPolicy;
using probes::Finding;
using probes::Severity;

bool use_color(const CommonOptions& o) {
  if (o.color == "always") return true;
  if (o.color == "never") return false;
  const char* term = std::getenv("TERM");
  return isatty(fileno(stdout)) != 0 && std::getenv("NO_COLOR") == nullptr && (term == nullptr || std::string(term) != "dumb");
}

report::RenderOptions render_options(const CommonOptions& o) { return {o.verbose, use_color(o), o.allow_unchecked}; }

AddressPolicy address_policy(const CommonOptions& o) {
  AddressPolicy p;
  for (const auto& r : o.routable) {
    auto c = probes::Cidr::parse(r);
    if (!c) throw UsageError(fmt::format("--routable '{}' is not an address prefix (e.g. 192.0.2.0/24)", probes::shown(r)));
    p.routable.push_back(*c);
  }
  return p;
}

std::chrono::milliseconds seconds_to_ms(double s) { return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000.0)); }

/// `targets`: how many domains the run checks; one target's run ends at its deadline.
std::shared_ptr<const resolver::ZoneOverlay> zone_overlay(const CommonOptions& o) {
  if (o.zone_files.empty()) return nullptr;
  try {
    return resolver::ZoneOverlay::load(o.zone_files);
  } catch (const resolver::ZoneFileError& e) {
    throw UsageError(e.what());
  }
}

resolver::ResolverOptions resolver_options(const CommonOptions& o, std::size_t targets, bool dialogue,
                                           std::shared_ptr<const resolver::ZoneOverlay> overlay) {
  for (const auto& s : o.resolvers) {
    if (auto why = resolver::server_spec_problem(s); !why.empty()) {
      throw UsageError(fmt::format("--resolver '{}': {}", probes::shown(s), why));
    }
  }
  resolver::ResolverOptions r{o.resolvers, std::chrono::milliseconds(o.timeout_ms), o.tries};
  r.keep_log = o.verbose;
  r.sockets = o.dns_sockets;  // the query log is evidence for -v only; counts are always kept
  r.overlay = std::move(overlay);
  if (o.run_deadline_s > 0) {
    r.run_deadline = seconds_to_ms(o.run_deadline_s);
  } else if (targets <= 1 && !dialogue) {
    // With an SMTP dialogue the run also waits for it (its own timeouts bound it),
    // and the dialogue's DNS lookups (TLSA, reverse names) must not fail for lack of time.
    r.run_deadline = target_deadline(o);
  }
  return r;
}

/// Asks the resolver one cheap question (". NS") next to the real work, so that a
/// domain whose every lookup times out is not mistaken for a dead resolver.
void start_reachability_probe(resolver::Resolver& r) { r.prefetch(".", resolver::RrType::ns); }

/// Exit 3 when not one query, the probe included, got a DNS reply: the resolver is unreachable or mute.
void require_reachable_resolver(const resolver::Resolver& r) {
  const auto& log = r.log();
  // Queries cancelled because the work was done before they came back prove nothing.
  const bool asked = log.sent() > log.cancelled();
  if (!asked || log.answered() > 0) return;
  std::string servers;
  for (const auto& s : r.servers()) servers += (servers.empty() ? "" : ", ") + s;
  const std::string why = r.stopped().empty() ? log.first_failure() : r.stopped();
  throw RunError(fmt::format("no DNS reply from {} ({}); check --resolver or the network", servers, why));
}


const report::Catalog& catalog_for(const CommonOptions& o, std::optional<report::Catalog>& holder) {
  if (o.catalog_file.empty()) return report::Catalog::builtin();
  try {
    holder = report::Catalog::load_file(o.catalog_file);
  } catch (const std::exception& e) {
    throw UsageError(e.what());  // a file named on the command line: exit 2 (docs/exit-codes.md)
  }
  return *holder;
}

int exit_for(const std::vector<Finding>& findings, const CommonOptions& o) {
  Severity threshold = Severity::error;
  probes::parse_severity(o.fail_on, &threshold);
  return engine::fails(findings, threshold, o.allow_unchecked) ? exit_findings : exit_ok;
}

bool is_local_address(const std::string& ip) {
  asio::io_context ctx;
  std::error_code ec;
  const auto addr = asio::ip::make_address(ip, ec);
  if (ec) return false;
  asio::ip::tcp::socket sock(ctx);
  sock.open(addr.is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
  if (!ec) sock.bind(asio::ip::tcp::endpoint(addr, 0), ec);
  return !ec;
}

/// The dialogue's plan from the options: who we say we are, where we connect from, how long we wait.
std::optional<probes::SmtpOptions> smtp_options(const CommonOptions& o, std::string source, bool every_address) {
  if (o.no_smtp) return std::nullopt;
  probes::SmtpOptions s;
  s.every_address = every_address;
  s.max_connections = o.max_connections > 0 ? o.max_connections : every_address ? 8 : 4;
  auto& p = s.plan;
  if (!o.helo.empty()) {
    if (auto why = resolver::hostname_problem(o.helo); !why.empty()) {
      throw UsageError(fmt::format("--helo '{}' is not a host name: {}", probes::shown(o.helo), why));
    }
    p.helo = o.helo;
  } else {
    // This machine's name; a receiver may refuse one that is not fully qualified (--helo fixes that).
    p.helo = asio::ip::host_name();
    if (!resolver::hostname_problem(p.helo).empty()) p.helo = "localhost";
  }
  p.tls.ca_file = o.ca_file;
  if (!o.ca_file.empty() && access(o.ca_file.c_str(), R_OK) != 0) {
    throw UsageError(fmt::format("--ca-file '{}' cannot be read", probes::shown(o.ca_file)));
  }
  p.timeouts.connect = smtp::Millis(o.connect_timeout_ms);
  p.timeouts.banner = smtp::Millis(o.smtp_timeout_ms);
  p.timeouts.command = smtp::Millis(o.smtp_timeout_ms);
  p.timeouts.tls = smtp::Millis(o.smtp_timeout_ms);
  p.port = static_cast<std::uint16_t>(o.smtp_port);
  if (!o.source_ip.empty()) {
    if (!probes::classify(o.source_ip)) throw UsageError(fmt::format("--source-ip '{}' is not an IP address", probes::shown(o.source_ip)));
    if (!is_local_address(o.source_ip)) throw UsageError(fmt::format("--source-ip {} is not an address of this machine", o.source_ip));
    source = o.source_ip;
  }
  p.source = std::move(source);
  return s;
}

std::string check_domain_arg(const std::string& raw) {
  std::string why;
  auto domain = engine::parse_domain(raw, &why);
  if (!domain) throw UsageError(why);
  return *domain;
}


/// jsonl and junit describe per-domain checks; the other commands print one object.
void require_single_object_format(const CommonOptions& o, const char* command) {
  if (o.format == "jsonl" || o.format == "junit") {
    throw UsageError(fmt::format("--format {} is for check; {} prints text or json", o.format, command));
  }
}

void emit(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

/// Bytes from the network need not be UTF-8: invalid sequences are replaced, never fatal.
void emit_json(const nlohmann::json& j) { emit(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"); }


probes::dnsbl::Lists dnsbl_lists(const CommonOptions& o) {
  auto lists = probes::dnsbl::builtin_lists();
  if (!o.spamhaus_key.empty()) {
    try {
      lists = probes::dnsbl::with_spamhaus_key(std::move(lists), o.spamhaus_key);
    } catch (const std::runtime_error& e) {
      throw UsageError(std::string("--spamhaus-key: ") + e.what());
    }
  }
  for (const auto& z : o.zones) {
    try {
      lists.push_back(probes::dnsbl::custom_zone(z));
    } catch (const std::runtime_error& e) {
      throw UsageError(e.what());
    }
  }
  return std::make_shared<const std::vector<probes::dnsbl::DnsList>>(std::move(lists));
}

std::chrono::milliseconds target_deadline(const CommonOptions& o) {
  if (o.deadline_s > 0) return seconds_to_ms(o.deadline_s);
  return std::chrono::milliseconds(o.timeout_ms) * o.tries * depth_factor;
}

/// Opens FILE or "-" (standard input); a missing or unreadable file is a usage error (exit 2).
std::FILE* open_input(const std::string& path, const char* what) {
  if (path == "-") return stdin;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw UsageError(fmt::format("{} '{}': {}", what, probes::shown(path), std::strerror(errno)));
  struct stat st {};
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fclose(f);
    throw UsageError(fmt::format("{} '{}' is a directory", what, probes::shown(path)));
  }
  // Files and pipes (--input <(cmd)) are read; a device such as /dev/zero never ends.
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    std::fclose(f);
    throw UsageError(fmt::format("{} '{}' is a device, not a file", what, probes::shown(path)));
  }
  return f;
}

}  // namespace bp::cli

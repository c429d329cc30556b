#include "resolver.hpp"

#include "domain_name.hpp"
#include "wire.hpp"

#include <arpa/inet.h>
#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace bp::resolver {

struct Resolver::Entry {
  explicit Entry(asio::any_io_executor ex) : ready(ex) { ready.expires_at(asio::steady_timer::time_point::max()); }
  std::optional<Lookup> result;
  asio::steady_timer ready;  ///< cancelled when the result arrives; waiters sleep on it
};

std::string server_spec_problem(const std::string& spec) {
  std::string host = spec;
  std::string port;
  bool has_port = false;
  unsigned char buf[16];
  const auto colons = std::count(spec.begin(), spec.end(), ':');
  if (!spec.empty() && spec.front() == '[') {
    auto close = spec.find(']');
    if (close == std::string::npos) return "missing ']'";
    host = spec.substr(1, close - 1);
    if (close + 1 < spec.size()) {
      if (spec[close + 1] != ':') return "expected ':' after ']'";
      port = spec.substr(close + 2);
      has_port = true;
    }
    if (inet_pton(AF_INET6, host.c_str(), buf) != 1) return "not an IPv6 address";
  } else if (colons == 1) {
    auto colon = spec.find(':');
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
    has_port = true;
    if (inet_pton(AF_INET, host.c_str(), buf) != 1) return "not an IPv4 address";
  } else if (inet_pton(colons > 1 ? AF_INET6 : AF_INET, host.c_str(), buf) != 1) {
    return "not an IP address (write IP, IP:PORT or [IPv6]:PORT)";
  }
  if (has_port) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535) return "bad port";
  }
  return {};
}

Resolver::Resolver(asio::any_io_executor ex, ResolverOptions options)
    : ex_(ex),
      options_(std::move(options)), channel_(ex, ChannelOptions{options_.servers, options_.timeout}) {}

Resolver::~Resolver() = default;

asio::awaitable<Lookup> Resolver::lookup(std::string name, RrType type) {
  constexpr int max_links = 8;
  Lookup result = co_await cached(name, type);
  std::vector<std::string> chain;
  for (int link = 0; link < max_links; ++link) {
    // NODATA at the end of a chain the server did not finish: ask for the target ourselves.
    if (result.ok() || result.error().kind != DnsFailure::nodata || result.error().cname_chain.empty()) break;
    const auto& part = result.error().cname_chain;
    chain.insert(chain.end(), part.begin(), part.end());
    if (std::count(chain.begin(), chain.end(), part.back()) > 1) {
      co_return Failure{DnsFailure::bad_response, fmt::format("CNAME loop at {}", part.back()), -1, chain};
    }
    result = co_await cached(part.back(), type);
  }
  if (!chain.empty()) {
    auto& tail = result.ok() ? result->cname_chain : result.error().cname_chain;
    tail.insert(tail.begin(), chain.begin(), chain.end());
    if (result.ok()) result->qname = normalize_name(name);
  }
  co_return result;
}

asio::awaitable<Lookup> Resolver::cached(std::string name, RrType type) {
  name = normalize_name(name);
  auto key = std::make_pair(name, type);
  if (auto it = cache_.find(key); it != cache_.end()) {
    auto entry = it->second;
    log_.count_cache_hit();
    if (!entry->result) co_await entry->ready.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    co_return *entry->result;
  }
  auto entry = std::make_shared<Entry>(co_await asio::this_coro::executor);
  cache_.emplace(key, entry);
  entry->result = co_await resolve(name, type);
  entry->ready.cancel();
  co_return *entry->result;
}

void Resolver::prefetch(std::string name, RrType type) {
  asio::co_spawn(ex_, lookup(std::move(name), type), [](std::exception_ptr e, Lookup) {
    if (e) std::rethrow_exception(e);  // a bug, not an outcome: let it reach run()
  });
}

asio::awaitable<void> Resolver::acquire_slot() {
  while (inflight_ >= options_.max_inflight) {
    auto waiter = std::make_shared<asio::steady_timer>(ex_, asio::steady_timer::time_point::max());
    slot_waiters_.push_back(waiter);
    co_await waiter->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  ++inflight_;
}

void Resolver::release_slot() {
  --inflight_;
  if (!slot_waiters_.empty()) {
    slot_waiters_.front()->cancel();
    slot_waiters_.pop_front();
  }
}

asio::awaitable<Lookup> Resolver::resolve(std::string name, RrType type) {
  if (auto problem = dns_name_problem(name); !problem.empty()) {
    Failure f{DnsFailure::bad_name, fmt::format("'{}' cannot be looked up: {}", name, problem), -1, {}};
    log_.add(QueryRecord{name, type, 0, std::string(to_string(f.kind)), f.detail, {}, {}, 0});
    co_return f;
  }
  Lookup result;
  for (int attempt = 1; attempt <= options_.tries; ++attempt) {
    co_await acquire_slot();
    const auto start = std::chrono::steady_clock::now();
    RawReply raw = co_await channel_.async_query(name, static_cast<std::uint16_t>(type), asio::use_awaitable);
    release_slot();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    switch (classify_status(raw.status)) {
      case AresStatusClass::success: result = parse_reply(raw.packet, name, type); break;
      case AresStatusClass::timeout:
        result = Failure{DnsFailure::timeout,
                         fmt::format("no reply within {} ms (attempt {} of {})", options_.timeout.count(), attempt,
                                     options_.tries),
                         -1, {}};
        break;
      case AresStatusClass::connection_refused:
        result = Failure{DnsFailure::connection_refused, "resolver unreachable: " + raw.status_text, -1, {}};
        break;
      case AresStatusClass::cancelled: result = Failure{DnsFailure::cancelled, raw.status_text, -1, {}}; break;
      case AresStatusClass::bad_name: result = Failure{DnsFailure::bad_name, raw.status_text, -1, {}}; break;
      case AresStatusClass::no_server:
      case AresStatusClass::other: result = Failure{DnsFailure::no_server, raw.status_text, -1, {}}; break;
    }
    QueryRecord rec{name, type, attempt, "answer", {}, {}, {}, ms};
    if (result.ok()) {
      rec.cname_chain = result->cname_chain;
      for (const auto& r : result->records) rec.answers.push_back(r.rdata_text());
    } else {
      rec.outcome = std::string(to_string(result.error().kind));
      rec.detail = result.error().detail;
      rec.cname_chain = result.error().cname_chain;
    }
    log_.add(std::move(rec));
    if (result.ok() || result.error().kind != DnsFailure::timeout) break;
  }
  co_return result;
}

}  // namespace bp::resolver

#include "resolver.hpp"

#include "async.hpp"
#include "domain_name.hpp"
#include "wire.hpp"

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>
#include <arpa/inet.h>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <optional>
#include <string_view>

namespace bp::resolver {

namespace {
Failure late() { return Failure{DnsFailure::timeout, "the target's deadline passed before an answer came", -1, {}}; }

/// NODATA at the end of a chain the server did not finish: lookup() asks for the target itself.
bool unfinished_chain(const Lookup& l) {
  return !l.ok() && l.error().kind == DnsFailure::nodata && !l.error().cname_chain.empty();
}

/// One asker waiting for an answer: woken by the answer or by its target's
/// deadline, whichever comes first (then never again).
struct Waiter {
  explicit Waiter(std::unique_ptr<Resumable> r) : asker(std::move(r)) {}
  void fire() {
    if (fired) return;
    fired = true;
    asker->resume();
  }
  std::unique_ptr<Resumable> asker;
  bool fired{false};
};

/// One question of the run: its answer once it came, and who waits for it.
struct Entry {
  std::optional<Lookup> result;
  std::vector<std::shared_ptr<Waiter>> waiters;

  void complete(Lookup l) {
    result = std::move(l);
    auto w = std::move(waiters);
    waiters.clear();
    for (auto& x : w) x->fire();
  }
};

/// A cache key: a normalized name and a type, hashed once (a new question is
/// looked for in both generations of the cache, then inserted).
struct Key {
  Key(std::string n, RrType t, bool unchecked = false)
      : name(std::move(n)), type(t), checking_disabled(unchecked),
        hash(absl::HashOf(std::string_view(name), static_cast<std::uint16_t>(t), unchecked)) {}
  std::string name;
  RrType type;
  bool checking_disabled;  ///< asked with CD=1: the resolver's answer without its DNSSEC validation
  std::size_t hash;
  bool operator==(const Key& o) const {
    return hash == o.hash && type == o.type && checking_disabled == o.checking_disabled && name == o.name;
  }
};
struct KeyHash {
  std::size_t operator()(const Key& k) const noexcept { return k.hash; }
};
}  // namespace

/// What every handle of one run shares.
struct Resolver::Core : std::enable_shared_from_this<Resolver::Core> {
  Core(asio::any_io_executor e, ResolverOptions o)
      : ex(e), options(std::move(o)), log(options.keep_log), watchdog(e), run_timer(e) {
    for (int i = 0; i < std::max(1, options.sockets); ++i) {
      channels.push_back(std::make_unique<AresChannel>(e, ChannelOptions{options.servers, options.timeout}));
    }
  }

  asio::any_io_executor ex;
  ResolverOptions options;
  int inflight{0};
  struct Query;
  std::deque<std::unique_ptr<Query>> queued;  ///< waiting for a slot (max_inflight)
  /// Several channels, each with its own socket per server: a server's workers
  /// (Knot's UDP workers, by SO_REUSEPORT hashing of the source port) share the
  /// load, and no one socket holds so many queries that the server's receive
  /// buffer overflows and answers are lost.
  std::vector<std::unique_ptr<AresChannel>> channels;
  std::size_t next_channel{0};
  QueryLog log;
  using Cache = absl::flat_hash_map<Key, std::shared_ptr<Entry>, KeyHash>;
  Cache cache;      ///< the young generation
  Cache old_cache;  ///< the previous one: dropped when the young one fills
  bool sent_any{false};
  bool replied{false};       ///< any DNS reply at all arrived
  std::string stopped;       ///< why every lookup now fails at once
  asio::steady_timer watchdog;   ///< fires when the first query's budget passes with no reply
  asio::steady_timer run_timer;  ///< the run deadline
  bool mute{false};

  void stop(std::string why) {
    if (!stopped.empty()) return;
    stopped = std::move(why);
    watchdog.cancel();
    run_timer.cancel();
    for (auto& c : channels) c->cancel_all();
    drain();  // queued questions fail without being sent
  }

  void arm_run_deadline() {
    if (options.run_deadline.count() <= 0) return;
    run_timer.expires_after(options.run_deadline);
    run_timer.async_wait([self = weak_from_this()](asio::error_code ec) {
      auto core = self.lock();
      if (ec || !core) return;
      core->stop(fmt::format("the run deadline of {} ms passed", core->options.run_deadline.count()));
    });
  }

  void note_first_send() {
    if (sent_any) return;
    sent_any = true;
    const auto budget = options.timeout * options.tries;
    watchdog.expires_after(budget);
    watchdog.async_wait([self = weak_from_this(), budget](asio::error_code ec) {
      auto core = self.lock();
      if (ec || !core || core->replied) return;
      core->stop(fmt::format("no reply to any query within {} ms (timeout x tries): the resolver is not answering",
                             budget.count()));
      core->mute = true;
    });
  }

  void note_reply() {
    if (replied) return;
    replied = true;
    watchdog.cancel();
  }

  /// \return the cached result for (normalized name, type) when it is complete, else nullptr.
  const Lookup* ready(const Key& key);
  /// \return the run's entry for the question, asking it now if it is new.
  std::shared_ptr<Entry> entry_for(Key key);
  /// Answers a new question: at once (a bad name, a zone file) or through DNS.
  void ask(const std::shared_ptr<Entry>& entry, const std::string& name, RrType type, bool checking_disabled);
  /// Sends `q` when a slot is free, else queues it.
  void submit(std::unique_ptr<Query> q);
  /// Sends queued questions while slots are free (fails them once stopped).
  void drain();
  void drain_soon();
  bool drain_posted{false};
  void send(std::unique_ptr<Query> q);
  void on_reply(const Query& q, int status, const char* status_text, const unsigned char* packet, std::size_t len);
};

/// One attempt at one question, held by c-ares while it is out. It holds the
/// core weakly: c-ares answers what is still out when the core goes.
struct Resolver::Core::Query final : AresChannel::Reply {
  Query(std::weak_ptr<Core> c, std::shared_ptr<Entry> e, std::string n, RrType t, int a, bool cd)
      : core(std::move(c)), entry(std::move(e)), name(std::move(n)), type(t), attempt(a), checking_disabled(cd) {}
  void done(int status, const char* status_text, const unsigned char* packet, std::size_t len) override {
    if (auto c = core.lock()) c->on_reply(*this, status, status_text, packet, len);
  }
  std::weak_ptr<Core> core;
  std::shared_ptr<Entry> entry;
  std::string name;
  RrType type;
  int attempt;
  bool checking_disabled;
  std::chrono::steady_clock::time_point start;
};

/// One target's deadline: a single timer that ends the waits of every lookup
/// raced against it, instead of a timer per lookup.
struct Resolver::TargetClock {
  TargetClock(asio::any_io_executor ex, Clock::time_point t) : deadline(t), timer(std::move(ex), t) {}
  Clock::time_point deadline;
  asio::steady_timer timer;  ///< cancelled when the last handle on the target goes
  bool expired{false};
  std::vector<std::weak_ptr<Waiter>> waiting;
  std::size_t sweep_at{64};  ///< waits answered are dropped when the list reaches this

  static void arm(const std::shared_ptr<TargetClock>& clock) {
    clock->timer.async_wait([weak = std::weak_ptr<TargetClock>(clock)](asio::error_code ec) {
      auto c = weak.lock();
      if (ec || !c) return;
      c->expired = true;
      auto all = std::move(c->waiting);
      c->waiting.clear();
      for (auto& w : all) {
        if (auto x = w.lock()) x->fire();
      }
    });
  }

  void add(const std::shared_ptr<Waiter>& w) {
    if (waiting.size() >= sweep_at) {
      std::erase_if(waiting, [](const std::weak_ptr<Waiter>& x) {
        auto l = x.lock();
        return !l || l->fired;
      });
      sweep_at = std::max<std::size_t>(64, waiting.size() * 2);  // amortised: never a sweep per add
    }
    waiting.push_back(w);
  }
};

namespace {

/// \return an awaitable that completes once `entry` has its answer, or `clock` (if any) expired.
asio::awaitable<void> wait_for(const std::shared_ptr<Entry>& entry, Resolver::TargetClock* clock, const asio::any_io_executor& ex) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [entry, clock, ex](auto handler) {
        auto w = std::make_shared<Waiter>(Resumable::keep(std::move(handler), ex));
        if (entry->result || (clock != nullptr && clock->expired)) {
          w->fire();
          return;
        }
        entry->waiters.push_back(w);
        if (clock != nullptr) clock->add(w);
      },
      asio::use_awaitable);
}

}  // namespace

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
    : core_(std::make_shared<Core>(ex, std::move(options))) {
  core_->arm_run_deadline();
}

Resolver::~Resolver() = default;

Resolver Resolver::with_deadline(Clock::time_point deadline) const {
  Resolver view = *this;
  if (clock_ && clock_->deadline <= deadline) return view;
  view.clock_ = std::make_shared<TargetClock>(core_->ex, deadline);
  TargetClock::arm(view.clock_);
  return view;
}

asio::any_io_executor Resolver::executor() const { return core_->ex; }
const QueryLog& Resolver::log() const { return core_->log; }
std::vector<std::string> Resolver::servers() const { return core_->channels.front()->servers(); }
const ResolverOptions& Resolver::options() const { return core_->options; }
const std::string& Resolver::stopped() const { return core_->stopped; }
bool Resolver::mute() const { return core_->mute; }
void Resolver::finish() {
  core_->watchdog.cancel();
  core_->run_timer.cancel();
  // Questions still queued (their askers' deadlines passed) are not sent now:
  // a reply to them would only hold the event loop open.
  auto queued = std::move(core_->queued);
  core_->queued.clear();
  for (auto& q : queued) q->entry->complete(Failure{DnsFailure::cancelled, "not sent: the run is over", -1, {}});
  for (auto& c : core_->channels) c->cancel_all();
}

std::shared_ptr<Entry> Resolver::Core::entry_for(Key key) {
  if (cache.size() >= std::max<std::size_t>(1, options.cache_limit / 2) && cache.find(key) == cache.end()) {
    // Askers still waiting hold their entries; only the map's references go.
    old_cache = std::move(cache);
    cache.clear();
    cache.reserve(options.cache_limit / 2);  // no rehashing while the generation fills
  }
  // One probe of the young generation finds the question or makes its slot.
  auto [it, fresh] = cache.try_emplace(std::move(key));
  if (!fresh) {
    log.count_cache_hit();
    return it->second;
  }
  if (auto old = old_cache.find(it->first); old != old_cache.end()) {
    it->second = std::move(old->second);  // asked again: it moves to the young generation
    old_cache.erase(old);
    log.count_cache_hit();
    return it->second;
  }
  auto entry = it->second = std::make_shared<Entry>();
  // The question is asked once, for every asker; no asker's deadline stops it
  // (the answer may serve another target).
  ask(entry, it->first.name, it->first.type, it->first.checking_disabled);
  return entry;
}

const Lookup* Resolver::Core::ready(const Key& key) {
  auto it = cache.find(key);
  if (it == cache.end()) {
    it = old_cache.find(key);
    if (it == old_cache.end()) return nullptr;
  }
  const auto& r = it->second->result;
  // A chain the server did not finish is followed by lookup(), not answered here.
  if (!r || unfinished_chain(*r)) return nullptr;
  log.count_cache_hit();
  return &*r;
}

asio::awaitable<std::vector<Lookup>> Resolver::lookup_all(std::vector<Question> questions) {
  std::vector<std::shared_ptr<Entry>> entries;
  entries.reserve(questions.size());
  for (const auto& q : questions) entries.push_back(core_->entry_for(Key{normalize_name(q.name), q.type}));
  TargetClock* clock = clock_.get();
  std::vector<Lookup> out;
  out.reserve(questions.size());
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const auto& entry = entries[i];
    if (!entry->result && !(clock != nullptr && (clock->expired || Clock::now() >= clock->deadline))) {
      co_await wait_for(entry, clock, core_->ex);
    }
    if (!entry->result) {
      out.emplace_back(late());
    } else if (unfinished_chain(*entry->result)) {
      out.push_back(co_await lookup(std::move(questions[i].name), questions[i].type));
    } else {
      out.push_back(*entry->result);
    }
  }
  co_return out;
}

asio::awaitable<Lookup> Resolver::lookup(std::string name, RrType type) {
  constexpr int max_links = 8;
  TargetClock* clock = clock_.get();
  Key key{normalize_name(name), type};
  std::vector<std::string> chain;
  Lookup result;
  for (int link = 0;; ++link) {
    auto entry = core_->entry_for(std::move(key));
    // Answered already (provider records, the blocklist zones' tests) is answered
    // even after the deadline; a question still out is not waited for then.
    if (!entry->result && clock != nullptr && (clock->expired || Clock::now() >= clock->deadline)) co_return late();
    if (!entry->result) {
      // The question goes on after this handle's deadline: other targets may share it.
      co_await wait_for(entry, clock, core_->ex);
      if (!entry->result) co_return late();
    }
    result = *entry->result;
    if (!unfinished_chain(result) || link == max_links) break;
    const auto& part = result.error().cname_chain;
    chain.insert(chain.end(), part.begin(), part.end());
    if (std::count(chain.begin(), chain.end(), part.back()) > 1) {
      co_return Failure{DnsFailure::bad_response, fmt::format("CNAME loop at {}", part.back()), -1, chain};
    }
    key = Key{normalize_name(part.back()), type};
  }
  if (!chain.empty()) {
    auto& v = result.mut();
    auto& tail = v.ok() ? v->cname_chain : v.error().cname_chain;
    tail.insert(tail.begin(), chain.begin(), chain.end());
    if (v.ok()) v->qname = normalize_name(name);
  }
  co_return result;
}

const Lookup* Resolver::peek(const std::string& name, RrType type) const {
  return core_->ready(Key{normalize_name(name), type});
}

asio::awaitable<Lookup> Resolver::lookup_unchecked(std::string name, RrType type) {
  TargetClock* clock = clock_.get();
  auto entry = core_->entry_for(Key{normalize_name(name), type, true});
  if (!entry->result && clock != nullptr && (clock->expired || Clock::now() >= clock->deadline)) co_return late();
  if (!entry->result) co_await wait_for(entry, clock, core_->ex);
  if (!entry->result) co_return late();
  co_return *entry->result;
}

void Resolver::prefetch(std::string name, RrType type) { (void)core_->entry_for(Key{normalize_name(name), type}); }

void Resolver::Core::ask(const std::shared_ptr<Entry>& entry, const std::string& name, RrType type, bool checking_disabled) {
  if (auto problem = dns_name_problem(name); !problem.empty()) {
    Failure f{DnsFailure::bad_name, fmt::format("'{}' cannot be looked up: {}", name, problem), -1, {}};
    log.add(QueryRecord{name, type, 0, std::string(to_string(f.kind)), f.detail, {}, {}, 0});
    entry->complete(std::move(f));
    return;
  }
  if (options.overlay) {
    if (const std::string* origin = options.overlay->covering(name)) {
      const auto& file = options.overlay->file_of(*origin);
      Lookup answer = parse_reply(*options.overlay->reply(name, type), name, type);
      auto& v = answer.mut();
      (v.ok() ? v->zone_file : v.error().zone_file) = file;
      if (!v.ok() && v.error().detail.empty()) v.error().detail = std::string(to_string(v.error().kind));
      log.add(QueryRecord{name, type, 1, answer.ok() ? "answer" : std::string(to_string(answer.error().kind)),
                          "from zone file " + file, {}, {}, 0});
      entry->complete(std::move(answer));
      return;
    }
  }
  submit(std::make_unique<Query>(weak_from_this(), entry, name, type, 1, checking_disabled));
}

void Resolver::Core::submit(std::unique_ptr<Query> q) {
  queued.push_back(std::move(q));
  drain_soon();
}

// Questions asked while the loop runs one handler are sent together once the
// handlers queued before them have run, rather than one by one between other
// work: the server's workers wake once for a burst instead of for each datagram.
void Resolver::Core::drain_soon() {
  if (drain_posted) return;
  drain_posted = true;
  asio::post(ex, [weak = weak_from_this()] {
    if (auto c = weak.lock()) {
      c->drain_posted = false;
      c->drain();
    }
  });
}

void Resolver::Core::drain() {
  while (!queued.empty() && (inflight < options.max_inflight || !stopped.empty())) {
    auto q = std::move(queued.front());
    queued.pop_front();
    if (stopped.empty()) {
      send(std::move(q));
      continue;
    }
    Failure f{DnsFailure::timeout, "not sent: " + stopped, -1, {}};
    log.add(QueryRecord{q->name, q->type, q->attempt, std::string(to_string(f.kind)), f.detail, {}, {}, 0});
    q->entry->complete(std::move(f));
  }
}

void Resolver::Core::send(std::unique_ptr<Query> q) {
  ++inflight;
  note_first_send();
  q->start = std::chrono::steady_clock::now();
  // Round robin over the channels; a retry goes out on another socket.
  auto& channel = *channels[next_channel++ % channels.size()];
  const auto type = static_cast<std::uint16_t>(q->type);
  const std::string& name = q->name;
  const bool cd = q->checking_disabled;
  channel.send(name, type, std::move(q), cd);
}

void Resolver::Core::on_reply(const Query& q, int status, const char* status_text, const unsigned char* packet,
                              std::size_t len) {
  --inflight;
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - q.start).count();
  Lookup result;
  switch (classify_status(status)) {
    case AresStatusClass::success:
      note_reply();
      result = parse_reply(std::span<const std::uint8_t>(packet, len), q.name, q.type);
      break;
    case AresStatusClass::timeout:
      result = Failure{DnsFailure::timeout,
                       fmt::format("no reply within {} ms (attempt {} of {})", options.timeout.count(), q.attempt,
                                   options.tries),
                       -1, {}};
      break;
    case AresStatusClass::connection_refused:
      result = Failure{DnsFailure::connection_refused, std::string("resolver unreachable: ") + status_text, -1, {}};
      break;
    case AresStatusClass::cancelled:
      // Cancelled by stop(): a deadline passed or the resolver was found mute.
      result = stopped.empty() ? Lookup{Failure{DnsFailure::cancelled, status_text, -1, {}}}
                               : Lookup{Failure{DnsFailure::timeout, "cancelled: " + stopped, -1, {}}};
      break;
    case AresStatusClass::bad_name: result = Failure{DnsFailure::bad_name, status_text, -1, {}}; break;
    case AresStatusClass::no_server:
    case AresStatusClass::other: result = Failure{DnsFailure::no_server, status_text, -1, {}}; break;
  }
  if (!log.keeps()) {
    log.count(result.ok() ? nullptr : &result.error());
  } else if (QueryRecord rec{q.name, q.type, q.attempt, "answer", {}, {}, {}, ms}; true) {
    if (result.ok()) {
      rec.cname_chain = result->cname_chain;
      for (const auto& r : result->records) rec.answers.push_back(r.rdata_text());
    } else {
      rec.outcome = std::string(to_string(result.error().kind));
      rec.detail = result.error().detail;
      rec.cname_chain = result.error().cname_chain;
    }
    log.add(std::move(rec));
  }
  if (!result.ok() && result.error().kind == DnsFailure::timeout && stopped.empty() && q.attempt < options.tries) {
    // A retry waits for a slot like any question: behind those already queued.
    queued.push_back(std::make_unique<Query>(q.core, q.entry, q.name, q.type, q.attempt + 1, q.checking_disabled));
  } else {
    q.entry->complete(std::move(result));
  }
  drain_soon();
}

}  // namespace bp::resolver

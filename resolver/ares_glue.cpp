/*
 * Design of the glue.
 *
 * c-ares 1.18.1 (Debian 12) has no event thread of its own; it expects the
 * application to watch its sockets. We register a socket-state callback
 * (ARES_OPT_SOCK_STATE_CB): c-ares calls it with (fd, readable, writable)
 * whenever the interest in a socket changes, and with (fd, 0, 0) before it
 * closes the socket. For every fd we keep a Watcher: a stream_descriptor that
 * is released, never closed, so that c-ares stays the owner of its socket.
 * A readiness wait on the descriptor calls ares_process_fd() for that fd and
 * re-arms; after every call the single timer is re-armed from ares_timeout(),
 * and on expiry ares_process_fd(ARES_SOCKET_BAD, ARES_SOCKET_BAD) lets c-ares
 * time out queries and retry.
 *
 * Flags: ARES_FLAG_NOCHECKRESP, because without it c-ares 1.18 throws away a
 * SERVFAIL or REFUSED reply, tries the next server, and finally reports a
 * bogus ECONNREFUSED (ares_process.c, ares_send.c in 1.18.1). With the flag
 * every reply reaches us and wire.cpp reads the rcode and checks that the
 * question matches. Truncated UDP replies are retried over TCP by c-ares
 * itself (we do not set ARES_FLAG_IGNTC).
 *
 * Tries: c-ares gets ARES_OPT_TRIES = 1, so each send asks each configured
 * server once with exactly the configured timeout (1.18 doubles the timeout
 * on later rounds). Retries are made one level up, in resolver.cpp, so that
 * the bound is timeout x tries x servers and each attempt is logged.
 */
#include "ares_glue.hpp"

#include <ares.h>
#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/format.h>

#include <map>
#include <mutex>
#include <stdexcept>

namespace bp::resolver {

AresStatusClass classify_status(int status) {
  switch (status) {
    case ARES_SUCCESS: return AresStatusClass::success;
    case ARES_ETIMEOUT: return AresStatusClass::timeout;
    case ARES_ECONNREFUSED: return AresStatusClass::connection_refused;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return AresStatusClass::cancelled;
    case ARES_EBADNAME: return AresStatusClass::bad_name;
    case ARES_ESERVFAIL:  // not produced by ares_send, kept for completeness
    default: return AresStatusClass::other;
  }
}

namespace {
std::once_flag g_library_init;

struct Watcher {
  Watcher(asio::any_io_executor ex, int f) : fd(f), desc(ex, f) {}
  int fd;
  asio::posix::stream_descriptor desc;
  bool want_read{false}, want_write{false};
  bool reading{false}, writing{false};
  bool closed{false};
};
}  // namespace

struct AresChannel::Impl {
  explicit Impl(asio::any_io_executor e) : ex(e), timer(e) {}

  asio::any_io_executor ex;
  ares_channel channel{nullptr};
  asio::steady_timer timer;
  bool timer_armed{false};
  std::map<int, std::shared_ptr<Watcher>> watchers;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  static void sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Impl*>(data)->on_sock_state(fd, readable != 0, writable != 0);
  }

  void on_sock_state(int fd, bool readable, bool writable) {
    if (!readable && !writable) {
      // c-ares is about to close fd: stop watching and let go without closing.
      if (auto it = watchers.find(fd); it != watchers.end()) {
        it->second->closed = true;
        asio::error_code ignored;
        it->second->desc.cancel(ignored);
        it->second->desc.release();
        watchers.erase(it);
      }
      return;
    }
    auto& w = watchers[fd];
    if (!w) w = std::make_shared<Watcher>(ex, fd);
    w->want_read = readable;
    w->want_write = writable;
    arm(w);
  }

  void arm(const std::shared_ptr<Watcher>& w) {
    // An idle channel's open sockets (ARES_FLAG_STAYOPEN) are not waited on:
    // a wait would hold the event loop open after the last answer.
    if (w->want_read && !w->reading && outstanding > 0) {
      w->reading = true;
      w->desc.async_wait(asio::posix::descriptor_base::wait_read, [this, w, alive = alive](asio::error_code ec) {
        w->reading = false;
        if (!*alive || w->closed) return;
        if (ec) {
          // Cancelled when the channel went idle; a question sent since wants it back.
          if (ec == asio::error::operation_aborted) arm(w);
          return;
        }
        ares_process_fd(channel, w->fd, ARES_SOCKET_BAD);
        if (!w->closed) arm(w);
        ensure_timer();
      });
    }
    if (w->want_write && !w->writing) {
      w->writing = true;
      w->desc.async_wait(asio::posix::descriptor_base::wait_write, [this, w, alive = alive](asio::error_code ec) {
        w->writing = false;
        if (!*alive || w->closed || ec) return;
        ares_process_fd(channel, ARES_SOCKET_BAD, w->fd);
        if (!w->closed) arm(w);
        ensure_timer();
      });
    }
  }

  /// Re-arms the timer from ares_timeout(), which walks every pending query.
  void update_timer() {
    timeval tv{};
    if (ares_timeout(channel, nullptr, &tv) == nullptr) {
      timer.cancel();
      timer_armed = false;
      return;
    }
    timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer_armed = true;
    timer.async_wait([this, alive = alive](asio::error_code ec) {
      if (!*alive || ec) return;
      timer_armed = false;
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      update_timer();
    });
  }

  /// Every query has the same timeout, so a new one never expires before those
  /// already out, and an answer only makes the earliest expiry later: an armed
  /// timer may fire early (it then re-arms), never late. Only an idle one needs arming.
  void ensure_timer() {
    if (!timer_armed) update_timer();
  }

  /// The channel has nothing out: stop waiting on its sockets until send().
  void idle() {
    for (auto& [fd, w] : watchers) {
      if (w->reading) {
        asio::error_code ignored;
        w->desc.cancel(ignored);
      }
    }
  }

  static void on_reply(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<Reply> reply(static_cast<Reply*>(arg));
    Impl* impl = reply->channel_;
    if (--impl->outstanding == 0) impl->idle();
    const auto len = status == ARES_SUCCESS && abuf != nullptr && alen > 0 ? static_cast<std::size_t>(alen) : 0;
    if (!impl->sending) {
      reply->done(status, status == ARES_SUCCESS ? "" : ares_strerror(status), abuf, len);
      return;
    }
    // c-ares failed the question inside ares_send (no socket, say): tell the
    // caller from the event loop, not from inside its own send().
    asio::post(impl->ex, [r = std::move(reply), status, bytes = std::vector<unsigned char>(abuf, abuf + len)] {
      r->done(status, ares_strerror(status), bytes.data(), bytes.size());
    });
  }
  bool sending{false};  ///< inside ares_send: a callback now is posted, not run
  std::size_t outstanding{0};  ///< questions sent and not answered yet
};

AresChannel::AresChannel(asio::any_io_executor ex, const ChannelOptions& options)
    : ex_(ex), impl_(std::make_unique<Impl>(ex)) {
  std::call_once(g_library_init, [] {
    if (int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS) {
      throw std::runtime_error(fmt::format("c-ares library init failed: {}", ares_strerror(rc)));
    }
  });
  ares_options opts{};
  // STAYOPEN: c-ares 1.18 otherwise closes its sockets whenever no query is
  // out, and a batch then opens a new socket (and epoll registration) again
  // and again.
  opts.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_STAYOPEN;
  opts.timeout = static_cast<int>(options.timeout.count());
  opts.tries = 1;
  opts.sock_state_cb = &Impl::sock_state;
  opts.sock_state_cb_data = impl_.get();
  const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  if (int rc = ares_init_options(&impl_->channel, &opts, mask); rc != ARES_SUCCESS) {
    throw std::runtime_error(fmt::format("cannot start the DNS client: {}", ares_strerror(rc)));
  }
  if (!options.servers.empty()) {
    std::string csv;
    for (const auto& s : options.servers) csv += (csv.empty() ? "" : ",") + s;
    if (int rc = ares_set_servers_ports_csv(impl_->channel, csv.c_str()); rc != ARES_SUCCESS) {
      throw std::runtime_error(fmt::format("resolver list '{}' rejected: {}", csv, ares_strerror(rc)));
    }
  }
  if (servers().empty()) throw std::runtime_error("no DNS resolver configured (none in /etc/resolv.conf; use --resolver)");
}

AresChannel::~AresChannel() {
  *impl_->alive = false;
  impl_->timer.cancel();
  // Completes every pending query with ARES_EDESTRUCTION and closes the sockets.
  ares_destroy(impl_->channel);
}

std::vector<std::string> AresChannel::servers() const {
  std::vector<std::string> out;
  ares_addr_port_node* list = nullptr;
  if (ares_get_servers_ports(impl_->channel, &list) != ARES_SUCCESS) return out;
  for (auto* n = list; n != nullptr; n = n->next) {
    char buf[INET6_ADDRSTRLEN] = {};
    ares_inet_ntop(n->family, &n->addr, buf, sizeof buf);
    const int port = n->udp_port != 0 ? n->udp_port : 53;
    out.push_back(n->family == AF_INET6 ? fmt::format("[{}]:{}", buf, port) : fmt::format("{}:{}", buf, port));
  }
  ares_free_data(list);
  return out;
}

void AresChannel::cancel_all() {
  ares_cancel(impl_->channel);
  impl_->update_timer();  // nothing pending: the retry timer must not hold the loop
}

void AresChannel::send(const std::string& name, std::uint16_t type, std::unique_ptr<Reply> reply, bool checking_disabled) {
  unsigned char* buf = nullptr;
  int len = 0;
  // RD=1; c-ares assigns the ID in ares_send.
  if (int rc = ares_create_query(name.c_str(), 1 /* class IN */, type, 0, 1, &buf, &len, 0); rc != ARES_SUCCESS) {
    asio::post(ex_, [r = std::move(reply), rc] { r->done(rc, ares_strerror(rc), nullptr, 0); });
    return;
  }
  // AD=1 asks a validating resolver to say whether it validated the answer
  // (RFC 6840 section 5.7); DANE uses TLSA records only from such answers.
  if (len > 3) buf[3] = static_cast<unsigned char>(buf[3] | 0x20);
  // CD=1: the answer without the resolver's validation (RFC 4035 section 3.2.2).
  if (len > 3 && checking_disabled) buf[3] = static_cast<unsigned char>(buf[3] | 0x10);
  reply->channel_ = impl_.get();
  if (impl_->outstanding++ == 0) {
    for (auto& [fd, w] : impl_->watchers) impl_->arm(w);
  }
  impl_->sending = true;
  ares_send(impl_->channel, buf, len, &Impl::on_reply, reply.release());
  impl_->sending = false;
  ares_free_string(buf);
  impl_->ensure_timer();
}

}  // namespace bp::resolver

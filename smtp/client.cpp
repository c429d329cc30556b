#include "client.hpp"

#include <asio/connect.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>

#include <cctype>
#include <stdexcept>

namespace bp::smtp {

std::string_view to_string(SessionErrorKind k) {
  switch (k) {
    case SessionErrorKind::refused: return "refused";
    case SessionErrorKind::unreachable: return "unreachable";
    case SessionErrorKind::connect_timeout: return "connect_timeout";
    case SessionErrorKind::timeout: return "timeout";
    case SessionErrorKind::closed: return "closed";
    case SessionErrorKind::protocol: return "protocol";
    case SessionErrorKind::tls: return "tls";
    case SessionErrorKind::io: return "io";
  }
  return "io";
}

struct Connection::Io {
  explicit Io(asio::any_io_executor ex) : socket(ex), timer(ex), buffer(4096) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  std::unique_ptr<asio::ssl::context> context;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls;
  bool tls_up{false};
  std::uint64_t generation{0};
  bool fired{false};
  std::vector<char> buffer;
};

Connection::Connection(asio::any_io_executor ex, Timeouts timeouts, ReplyLimits limits)
    : io_(std::make_shared<Io>(ex)), timeouts_(timeouts), parser_(limits), limits_(limits),
      started_(std::chrono::steady_clock::now()) {}

Connection::~Connection() { close(); }

double Connection::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
}

bool Connection::tls_active() const { return io_->tls_up; }

void Connection::note(char direction, std::string text) {
  transcript_.push_back(TranscriptLine{direction, std::move(text), elapsed_ms()});
}

// The watchdog: when the deadline passes first, the socket's pending operation is
// cancelled (TLS operations too, since they read and write that socket). The
// generation number keeps a late timer from cancelling a later operation.
void Connection::arm(Millis d) {
  auto& io = *io_;
  io.fired = false;
  const auto gen = ++io.generation;
  io.timer.expires_after(d);
  io.timer.async_wait([weak = std::weak_ptr<Io>(io_), gen](std::error_code ec) {
    auto live = weak.lock();
    if (ec || !live || live->generation != gen) return;
    live->fired = true;
    std::error_code ignored;
    live->socket.cancel(ignored);
  });
}

void Connection::disarm() {
  ++io_->generation;
  io_->timer.cancel();
}

void Connection::close() {
  std::error_code ignored;
  if (io_->socket.is_open()) {
    io_->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    io_->socket.close(ignored);
  }
}

asio::awaitable<std::optional<SessionError>> Connection::connect(std::string address, std::uint16_t port, std::string source) {
  started_ = std::chrono::steady_clock::now();
  std::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) co_return SessionError{SessionErrorKind::io, fmt::format("'{}' is not an IP address", address)};
  const asio::ip::tcp::endpoint peer(addr, port);
  peer_address_ = addr.to_string();
  note('*', fmt::format("connecting to [{}]:{}{}", peer_address_, port, source.empty() ? "" : " from " + source));
  io_->socket.open(peer.protocol(), ec);
  if (ec) co_return SessionError{SessionErrorKind::io, "cannot open a socket: " + ec.message()};
  if (!source.empty()) {
    const auto src = asio::ip::make_address(source, ec);
    if (ec) co_return SessionError{SessionErrorKind::io, fmt::format("source '{}' is not an IP address", source)};
    io_->socket.bind(asio::ip::tcp::endpoint(src, 0), ec);
    if (ec) co_return SessionError{SessionErrorKind::io, fmt::format("cannot send from {}: {}", source, ec.message())};
  }
  arm(timeouts_.connect);
  co_await io_->socket.async_connect(peer, asio::redirect_error(asio::use_awaitable, ec));
  const bool fired = io_->fired;
  disarm();
  if (ec) {
    close();
    SessionError e;
    if (fired) {
      e = {SessionErrorKind::connect_timeout, fmt::format("no answer to the connection attempt within {} ms", timeouts_.connect.count())};
    } else if (ec == asio::error::connection_refused) {
      e = {SessionErrorKind::refused, "connection refused (nothing listens on the port)"};
    } else if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable) {
      e = {SessionErrorKind::unreachable, ec.message()};
    } else {
      e = {SessionErrorKind::io, ec.message()};
    }
    note('*', e.detail);
    co_return e;
  }
  local_address_ = io_->socket.local_endpoint(ec).address().to_string();
  note('*', fmt::format("connected from {} in {:.0f} ms", local_address_, elapsed_ms()));
  co_return std::nullopt;
}

asio::awaitable<std::size_t> Connection::read_some(std::error_code& ec) {
  auto buf = asio::buffer(io_->buffer);
  if (io_->tls) co_return co_await io_->tls->async_read_some(buf, asio::redirect_error(asio::use_awaitable, ec));
  co_return co_await io_->socket.async_read_some(buf, asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<Result<Reply, SessionError>> Connection::read_reply(Millis deadline) {
  arm(deadline);
  for (;;) {
    if (auto next = parser_.next()) {
      disarm();
      if (!*next) {
        const auto& err = next->error();
        note('*', fmt::format("unusable reply ({}): {}", to_string(err.kind), err.detail));
        co_return SessionError{SessionErrorKind::protocol, err.detail};
      }
      const Reply& r = next->value();
      for (std::size_t i = 0; i < r.lines.size(); ++i) {
        const bool first = i == 0;
        note('S', fmt::format("{}{}{}{}", r.code, i + 1 < r.lines.size() ? '-' : ' ',
                              first && !r.enhanced.empty() ? r.enhanced + " " : "", r.lines[i]));
      }
      co_return std::move(*next).value();
    }
    std::error_code ec;
    const std::size_t n = co_await read_some(ec);
    if (ec) {
      const bool fired = io_->fired;
      disarm();
      SessionError e;
      if (fired) {
        e = {SessionErrorKind::timeout, fmt::format("no complete reply within {} ms", deadline.count())};
      } else if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated) {
        e = {SessionErrorKind::closed, parser_.mid_reply() ? "the server closed the connection in the middle of a reply"
                                                               : "the server closed the connection"};
      } else {
        e = {SessionErrorKind::io, ec.message()};
      }
      note('*', e.detail);
      co_return e;
    }
    parser_.push(std::string_view(io_->buffer.data(), n));
  }
}

asio::awaitable<std::optional<SessionError>> Connection::send(std::string line) {
  // The probe never delivers: no code path may start a message transfer.
  std::string verb = line.substr(0, 4);
  for (auto& ch : verb) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (verb == "DATA" || verb == "BDAT") throw std::logic_error("bounceprobe never sends DATA or BDAT");
  if (line.find_first_of("\r\n") != std::string::npos) throw std::logic_error("an SMTP command line must not contain CR or LF");
  note('C', line);
  line += "\r\n";
  std::error_code ec;
  arm(timeouts_.command);
  if (io_->tls) {
    co_await asio::async_write(*io_->tls, asio::buffer(line), asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await asio::async_write(io_->socket, asio::buffer(line), asio::redirect_error(asio::use_awaitable, ec));
  }
  const bool fired = io_->fired;
  disarm();
  if (!ec) co_return std::nullopt;
  SessionError e{fired ? SessionErrorKind::timeout : SessionErrorKind::closed,
                 fired ? "the server did not take the command within the deadline" : "cannot send: " + ec.message()};
  note('*', e.detail);
  co_return e;
}

asio::awaitable<Result<Reply, SessionError>> Connection::command(std::string line) {
  if (auto e = co_await send(std::move(line))) co_return *e;
  co_return co_await read_reply(timeouts_.command);
}

asio::awaitable<TlsInfo> Connection::start_tls(const TlsOptions& options) {
  TlsInfo info;
  io_->context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* ctx = io_->context->native_handle();
  // Opportunistic, like an MTA: the handshake never fails on the certificate;
  // inspect_session() judges it afterwards.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  if (SSL_CTX_dane_enable(ctx) <= 0) {
    info.error = "cannot enable DANE: " + openssl_errors();
    co_return info;
  }
  io_->tls = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(io_->socket, *io_->context);
  if (auto e = prepare_ssl(io_->tls->native_handle(), options, info); !e.empty()) {
    info.error = e;
    co_return info;
  }
  note('*', "TLS handshake");
  std::error_code ec;
  arm(timeouts_.tls);
  co_await io_->tls->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  const bool fired = io_->fired;
  disarm();
  if (ec) {
    if (fired) {
      info.error = fmt::format("no TLS handshake within {} ms", timeouts_.tls.count());
    } else {
      auto queued = openssl_errors();
      info.error = ec.message() + (queued.empty() ? "" : " (" + queued + ")");
    }
    note('*', "TLS failed: " + info.error);
    co_return info;
  }
  info.ok = true;
  io_->tls_up = true;
  parser_ = ReplyParser(limits_);  // nothing from before the handshake may count (RFC 3207 section 4.2)
  inspect_session(io_->tls->native_handle(), options, info);
  note('*', fmt::format("TLS up: {} {}", info.protocol, info.cipher));
  co_return info;
}

}  // namespace bp::smtp

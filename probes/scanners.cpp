#include "scanners.hpp"

#include "text.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <memory>

namespace bp::probes::scan {

std::string Endpoint::shown() const {
  if (!unix_path.empty()) return unix_path;
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

std::optional<Endpoint> parse_endpoint(std::string_view spec, std::uint16_t default_port, bool unix_ok, std::string* error) {
  const auto fail = [&](std::string why) -> std::optional<Endpoint> {
    if (error != nullptr) *error = std::move(why);
    return std::nullopt;
  };
  if (spec.empty()) return fail("empty");
  Endpoint e;
  if (spec.find('/') != std::string_view::npos) {  // no address or port has a '/': a socket path
    if (!unix_ok) return fail("a Unix socket is not accepted here: give HOST:PORT");
    e.unix_path = std::string(spec);
    return e;
  }
  std::string_view host = spec, port;
  if (spec.front() == '[') {
    const auto close = spec.find(']');
    if (close == std::string_view::npos) return fail("'[' without ']'");
    host = spec.substr(1, close - 1);
    if (close + 1 < spec.size()) {
      if (spec[close + 1] != ':') return fail("expected ':' after ']'");
      port = spec.substr(close + 2);
    }
  } else if (std::count(spec.begin(), spec.end(), ':') == 1) {
    host = spec.substr(0, spec.find(':'));
    port = spec.substr(spec.find(':') + 1);
  }
  std::error_code ec;
  (void)asio::ip::make_address(std::string(host), ec);
  if (ec) return fail(fmt::format("'{}' is not an IP address", shown(std::string(host), 60)));
  e.host = std::string(host);
  e.port = default_port;
  if (!port.empty()) {
    unsigned n = 0;
    const auto [end, pec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (pec != std::errc{} || end != port.data() + port.size() || n == 0 || n > 65535) {
      return fail(fmt::format("'{}' is not a port", shown(std::string(port), 20)));
    }
    e.port = static_cast<std::uint16_t>(n);
  }
  return e;
}

namespace {

ScanResult not_checked(std::string why) {
  ScanResult r;
  r.verdict = Verdict::not_checked;
  r.detail = std::move(why);
  return r;
}

}  // namespace

ScanResult parse_spamd_reply(std::string_view reply) {
  const auto eol = reply.find('\n');
  const auto status = trim_ws(reply.substr(0, eol));
  // "SPAMD/1.1 0 EX_OK": the protocol, a code (0 is success), a text.
  if (status.rfind("SPAMD/", 0) != 0) {
    return not_checked(fmt::format("not a spamd reply: '{}'", shown(std::string(status), 60)));
  }
  const auto sp = status.find(' ');
  const auto code = sp == std::string_view::npos ? std::string_view() : status.substr(sp + 1);
  if (code.rfind("0 ", 0) != 0) return not_checked(fmt::format("spamd answered '{}'", shown(std::string(status), 80)));
  const auto head_end = reply.find("\r\n\r\n");
  const auto head = reply.substr(0, head_end);
  const auto body = head_end == std::string_view::npos ? std::string_view() : reply.substr(head_end + 4);
  // "Spam: True ; 1000.0 / 5.0"
  const auto at = head.find("\nSpam:");
  if (at == std::string_view::npos) return not_checked("spamd's reply has no Spam: line");
  auto line = head.substr(at + 6);
  line = trim_ws(line.substr(0, line.find('\n')));
  const auto semi = line.find(';');
  const auto flag = trim_ws(line.substr(0, semi));
  if (semi == std::string_view::npos || (flag != "True" && flag != "False" && flag != "Yes" && flag != "No")) {
    return not_checked(fmt::format("spamd's Spam: line '{}' is not understood", shown(std::string(line), 60)));
  }
  auto score = trim_ws(line.substr(semi + 1));
  const auto slash = score.find('/');
  ScanResult r;
  r.verdict = (flag == "True" || flag == "Yes") ? Verdict::flagged : Verdict::clean;
  r.detail = slash == std::string_view::npos
                 ? fmt::format("score {}", score)
                 : fmt::format("score {} of {}", trim_ws(score.substr(0, slash)), trim_ws(score.substr(slash + 1)));
  std::string_view rules = trim_ws(body);
  std::size_t i = 0;
  while (i < rules.size() && r.rules.size() < 100) {
    auto comma = rules.find(',', i);
    auto name = trim_ws(rules.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i));
    if (!name.empty()) r.rules.emplace_back(name.substr(0, 64));
    if (comma == std::string_view::npos) break;
    i = comma + 1;
  }
  return r;
}

ScanResult parse_clamd_reply(std::string_view reply) {
  while (!reply.empty() && reply.back() == '\0') reply.remove_suffix(1);  // clamd ends a reply with NUL in z-mode
  auto line = trim_ws(reply);
  if (line.rfind("stream: ", 0) == 0) line.remove_prefix(8);
  if (line == "OK") {
    ScanResult r;
    r.verdict = Verdict::clean;
    r.detail = "no signature matched";
    return r;
  }
  if (line.size() > 6 && line.substr(line.size() - 6) == " FOUND") {
    ScanResult r;
    r.verdict = Verdict::flagged;
    r.detail = std::string(line.substr(0, std::min<std::size_t>(line.size() - 6, 200)));
    return r;
  }
  if (line.size() > 6 && line.substr(line.size() - 6) == " ERROR") {
    return not_checked(fmt::format("clamd: {}", shown(std::string(line.substr(0, line.size() - 6)), 120)));
  }
  return not_checked(fmt::format("not a clamd reply: '{}'", shown(std::string(line), 60)));
}

namespace {

/// One exchange: connect, `head`, the file (framed in clamd's chunks when `framed`), `tail`,
/// a half-close, the reply up to EOF. Everything within `timeout`.
template <typename Protocol>
asio::awaitable<std::string> exchange(asio::any_io_executor ex, typename Protocol::endpoint peer, std::string head,
                                      std::string file, bool framed, std::string tail, std::chrono::milliseconds timeout,
                                      std::string* error) {
  auto socket = std::make_shared<typename Protocol::socket>(ex);
  asio::steady_timer timer(ex, timeout);
  auto fired = std::make_shared<bool>(false);
  timer.async_wait([socket, fired](std::error_code ec) {
    if (ec) return;
    *fired = true;
    std::error_code ignored;
    socket->close(ignored);
  });
  const auto failed = [&](std::string_view stage, const std::error_code& ec) {
    *error = *fired ? fmt::format("no answer within {} ms ({})", timeout.count(), stage)
                    : fmt::format("{}: {}", stage, ec == asio::error::connection_refused ? "connection refused" : ec.message());
  };
  std::error_code ec;
  co_await socket->async_connect(peer, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    failed("connect", ec);
    co_return std::string();
  }
  co_await asio::async_write(*socket, asio::buffer(head), asio::redirect_error(asio::use_awaitable, ec));
  std::ifstream in(file, std::ios::binary);
  std::vector<char> chunk(64 * 1024);
  while (!ec && in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    if (framed) {
      const std::array<unsigned char, 4> len{static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                                             static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
      co_await asio::async_write(*socket, asio::buffer(len), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    co_await asio::async_write(*socket, asio::buffer(chunk.data(), n), asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!ec) co_await asio::async_write(*socket, asio::buffer(tail), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    failed("sending the message", ec);
    co_return std::string();
  }
  socket->shutdown(Protocol::socket::shutdown_send, ec);
  std::string reply;
  std::array<char, 4096> buf{};
  for (;;) {
    const auto n = co_await socket->async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    reply.append(buf.data(), n);
    if (reply.size() > 64 * 1024) {
      *error = "the reply is over 64 KiB";
      co_return std::string();
    }
    if (ec) break;
  }
  timer.cancel();
  if (ec != asio::error::eof) {
    failed("reading the reply", ec);
    co_return std::string();
  }
  co_return reply;
}

asio::awaitable<std::string> exchange_at(asio::any_io_executor ex, const Endpoint& where, std::string head, std::string file,
                                         bool framed, std::string tail, std::chrono::milliseconds timeout, std::string* error) {
  if (!where.unix_path.empty()) {
    co_return co_await exchange<asio::local::stream_protocol>(ex, asio::local::stream_protocol::endpoint(where.unix_path),
                                                              std::move(head), std::move(file), framed, std::move(tail),
                                                              timeout, error);
  }
  co_return co_await exchange<asio::ip::tcp>(ex, asio::ip::tcp::endpoint(asio::ip::make_address(where.host), where.port),
                                             std::move(head), std::move(file), framed, std::move(tail), timeout, error);
}

}  // namespace

namespace {

/// What one scanner is asked: its protocol's bytes around the message, its size limit, its reply.
struct Ask {
  const char* name;  ///< "spamd"
  std::uint64_t max_size;
  const char* limit;  ///< what the limit is, for the result
  std::string head, tail;
  bool framed;
  ScanResult (*parse)(std::string_view);
};

asio::awaitable<ScanResult> ask(asio::any_io_executor ex, const Endpoint& where, std::string file, std::uint64_t size,
                                std::chrono::milliseconds timeout, Ask a) {
  const auto start = std::chrono::steady_clock::now();
  ScanResult r;
  if (size > a.max_size) {
    r = not_checked(fmt::format("the message ({} octets) is over {} of {} octets, so it was not sent; receivers with "
                                "that default do not scan it either",
                                size, a.limit, a.max_size));
  } else {
    std::string error;
    const auto reply = co_await exchange_at(ex, where, std::move(a.head), std::move(file), a.framed, std::move(a.tail), timeout, &error);
    r = error.empty() ? a.parse(reply) : not_checked(error);
  }
  r.scanner = fmt::format("{} at {}", a.name, where.shown());
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  co_return r;
}

}  // namespace

asio::awaitable<ScanResult> ask_spamd(asio::any_io_executor ex, Endpoint where, std::string file, std::uint64_t size,
                                      std::chrono::milliseconds timeout) {
  // Built before the co_await: GCC 12 mishandles a braced temporary inside one.
  Ask a{"spamd", spamd_max_size, "spamc's default limit (-s)",
        fmt::format("SYMBOLS SPAMC/1.5\r\nContent-length: {}\r\n\r\n", size), "", false, parse_spamd_reply};
  co_return co_await ask(ex, where, std::move(file), size, timeout, std::move(a));
}

asio::awaitable<ScanResult> ask_clamd(asio::any_io_executor ex, Endpoint where, std::string file, std::uint64_t size,
                                      std::chrono::milliseconds timeout) {
  Ask a{"clamd", clamd_max_size, "clamd's default StreamMaxLength", std::string("zINSTREAM\0", 10), std::string(4, '\0'), true,
        parse_clamd_reply};
  co_return co_await ask(ex, where, std::move(file), size, timeout, std::move(a));
}

}  // namespace bp::probes::scan

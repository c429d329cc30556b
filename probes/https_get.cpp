#include "https_get.hpp"

#include "text.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

namespace bp::probes::https {

namespace {

/// The next line of `s` from `pos` (LF or CRLF ended, the end not included); npos when no LF is there yet.
std::size_t line_at(std::string_view s, std::size_t pos, std::string_view& line) {
  const auto nl = s.find('\n', pos);
  if (nl == std::string_view::npos) return nl;
  line = s.substr(pos, nl - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return nl + 1;
}

Parsed malformed(std::string why) {
  Parsed p;
  p.state = Parsed::State::malformed;
  p.error = std::move(why);
  return p;
}

/// Decodes a chunked body (RFC 9112 section 7.1) from `s`.
Parsed chunked(std::string_view s, bool eof, const Limits& limits, Parsed p) {
  std::size_t pos = 0;
  for (;;) {
    std::string_view line;
    const auto next = line_at(s, pos, line);
    if (next == std::string_view::npos) {
      if (s.size() - pos > 1024) return malformed("a chunk size line is over 1024 bytes");
      return eof ? malformed("the connection closed in the middle of the chunked body") : p;
    }
    line = line.substr(0, line.find(';'));  // chunk extensions are ignored
    line = trim_ws(line);
    std::size_t size = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
    if (line.empty() || ec != std::errc{} || end != line.data() + line.size()) {
      return malformed(fmt::format("'{}' is not a chunk size", shown(std::string(line), 40)));
    }
    if (size == 0) {
      p.state = Parsed::State::complete;  // trailer fields, if any, are not needed
      return p;
    }
    const auto room = limits.body - p.response.body.size();
    const auto take = std::min({size, room, s.size() - next});
    p.response.body.append(s.substr(next, take));
    if (p.response.body.size() >= limits.body && size > room) {
      p.response.body_cut = true;
      p.state = Parsed::State::complete;
      return p;
    }
    if (s.size() - next < size + 1) {  // the chunk and at least the LF after it
      if (eof) return malformed("the connection closed in the middle of a chunk");
      p.response.body.clear();  // decoded again from the start when more bytes are in
      return p;
    }
    std::string_view after;
    pos = line_at(s, next + size, after);
    if (pos == std::string_view::npos) {
      if (eof) return malformed("the connection closed in the middle of the chunked body");
      p.response.body.clear();
      return p;
    }
    if (!after.empty()) return malformed("a chunk is longer than its size says");
  }
}

}  // namespace

namespace {

Parsed parse_from(std::string_view bytes, bool eof, const Limits& limits, int interim_left);

}  // namespace

Parsed parse_response(std::string_view bytes, bool eof, const Limits& limits) { return parse_from(bytes, eof, limits, 4); }

namespace {

Parsed parse_from(std::string_view bytes, bool eof, const Limits& limits, int interim_left) {
  // The header block ends at the first empty line.
  std::size_t pos = 0;
  std::string_view line;
  std::vector<std::string_view> lines;
  for (;;) {
    const auto next = line_at(bytes, pos, line);
    if (next == std::string_view::npos || next > limits.head) {
      if (bytes.size() > limits.head || next != std::string_view::npos) {
        return malformed(fmt::format("the response's header block is over {} bytes", limits.head));
      }
      return eof ? malformed(bytes.empty() ? "the server closed the connection without a response"
                                           : "the connection closed in the middle of the response's header block")
                 : Parsed{};
    }
    pos = next;
    if (line.empty()) break;
    lines.push_back(line);
  }
  if (lines.empty()) return malformed("the response starts with an empty line");
  Parsed p;
  auto& r = p.response;
  // Status line: HTTP/1.x SP 3DIGIT SP reason (RFC 9112 section 4).
  const auto status_line = lines.front();
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ' ||
      !std::all_of(status_line.begin() + 9, status_line.begin() + 12, [](char c) { return c >= '0' && c <= '9'; }) ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return malformed(fmt::format("'{}' is not an HTTP/1.x status line", shown(std::string(status_line), 60)));
  }
  r.status = (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  r.reason = std::string(trim_ws(status_line.substr(std::min<std::size_t>(13, status_line.size()))));
  std::optional<std::size_t> length;
  bool is_chunked = false;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto colon = lines[i].find(':');
    if (colon == std::string_view::npos || colon == 0 || lines[i].front() == ' ' || lines[i].front() == '\t') {
      return malformed(fmt::format("'{}' is not a header field", shown(std::string(lines[i]), 60)));
    }
    const auto name = ascii_lower(lines[i].substr(0, colon));
    const auto value = trim_ws(lines[i].substr(colon + 1));
    if (name == "content-type") {
      r.content_type = std::string(value);
    } else if (name == "location") {
      r.location = std::string(value);
    } else if (name == "transfer-encoding") {
      is_chunked = ascii_lower(value).find("chunked") != std::string::npos;
    } else if (name == "content-length") {
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || (length && *length != n)) {
        return malformed(fmt::format("Content-Length '{}' is not one number", shown(std::string(value), 40)));
      }
      length = n;
    }
  }
  if (r.status >= 100 && r.status < 200) {  // an interim response: the real one follows
    if (interim_left == 0) return malformed("more than 4 interim (1xx) responses");
    return parse_from(bytes.substr(pos), eof, limits, interim_left - 1);
  }
  const auto body = bytes.substr(pos);
  if (r.status == 204 || r.status == 304) {
    p.state = Parsed::State::complete;
    return p;
  }
  if (is_chunked) return chunked(body, eof, limits, std::move(p));
  const auto complete = [&](std::string_view b, bool cut) {
    r.body = std::string(b);
    r.body_cut = cut;
    p.state = Parsed::State::complete;
    return p;
  };
  if (length) {
    if (*length > limits.body && body.size() >= limits.body) return complete(body.substr(0, limits.body), true);
    if (*length <= limits.body && body.size() >= *length) return complete(body.substr(0, *length), false);
    if (eof) return malformed(fmt::format("the connection closed after {} of {} body bytes", body.size(), *length));
    return p;
  }
  if (body.size() > limits.body) return complete(body.substr(0, limits.body), true);
  if (eof) return complete(body, false);
  return p;
}

}  // namespace

namespace {

/// The socket, its TLS stream and the watchdog that cancels the socket at a deadline.
struct Link {
  explicit Link(asio::any_io_executor ex) : socket(ex), timer(ex), context(asio::ssl::context::tls_client) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  asio::ssl::context context;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls;
  bool fired{false};
  std::uint64_t generation{0};

  void arm(std::shared_ptr<Link> self, std::chrono::steady_clock::time_point at) {
    fired = false;
    const auto gen = ++generation;
    timer.expires_at(at);
    timer.async_wait([weak = std::weak_ptr<Link>(self), gen](std::error_code ec) {
      auto live = weak.lock();
      if (ec || !live || live->generation != gen) return;
      live->fired = true;
      std::error_code ignored;
      live->socket.cancel(ignored);
    });
  }
  void disarm() {
    ++generation;
    timer.cancel();
  }
};

}  // namespace

asio::awaitable<Fetch> get(asio::any_io_executor ex, std::string host, std::vector<std::string> addresses, std::string path,
                           std::string ca_file, Limits limits) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + limits.total;
  Fetch f;
  f.url = "https://" + host + path;
  const auto elapsed = [&] { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); };
  auto link = std::make_shared<Link>(ex);
  for (const auto& a : addresses) {
    std::error_code ec;
    const auto ip = asio::ip::make_address(a, ec);
    if (ec) continue;
    if (Clock::now() >= deadline) {
      f.tried.push_back(fmt::format("[{}]: not tried, the {} ms bound had passed", a, limits.total.count()));
      continue;
    }
    link->socket.close(ec);
    link->arm(link, std::min(deadline, Clock::now() + limits.connect));
    co_await link->socket.async_connect({ip, 443}, asio::redirect_error(asio::use_awaitable, ec));
    link->disarm();
    if (!ec) {
      f.address = a;
      break;
    }
    f.tried.push_back(fmt::format("[{}]:443: {}", a,
                                  link->fired ? fmt::format("no answer to the connection attempt within {} ms", limits.connect.count())
                                  : ec == asio::error::connection_refused ? std::string("connection refused")
                                                                          : ec.message()));
  }
  if (f.address.empty()) {
    f.error = addresses.empty() ? fmt::format("{} has no address", host)
                                : fmt::format("no address of {} took a connection on port 443", host);
    f.ms = elapsed();
    co_return f;
  }
  // TLS as smtp/tls.hpp does it: the handshake never fails on the certificate; it is judged afterwards.
  SSL_CTX_set_verify(link->context.native_handle(), SSL_VERIFY_NONE, nullptr);
  link->tls = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(link->socket, link->context);
  smtp::TlsOptions options;
  options.host = host;
  options.ca_file = ca_file;
  smtp::TlsInfo info;
  if (auto e = smtp::prepare_ssl(link->tls->native_handle(), options, info); !e.empty()) {
    f.error = e;
    f.ms = elapsed();
    co_return f;
  }
  std::error_code ec;
  link->arm(link, deadline);
  co_await link->tls->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    link->disarm();
    info.error = link->fired ? fmt::format("no TLS handshake within the {} ms bound", limits.total.count())
                             : ec.message() + [] { auto q = smtp::openssl_errors(); return q.empty() ? q : " (" + q + ")"; }();
    f.error = "TLS handshake failed: " + info.error;
    f.tls = info;
    f.ms = elapsed();
    co_return f;
  }
  info.ok = true;
  smtp::inspect_session(link->tls->native_handle(), options, info);
  f.tls = info;
  if (!smtp::certificate_acceptable(info)) {
    link->disarm();
    f.error = "the server's certificate is not acceptable";  // the caller names what is wrong with it
    f.ms = elapsed();
    co_return f;
  }
  const std::string request = fmt::format(
      "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: bounceprobe\r\nAccept: text/plain\r\nConnection: close\r\n\r\n", path, host);
  co_await asio::async_write(*link->tls, asio::buffer(request), asio::redirect_error(asio::use_awaitable, ec));
  std::string buffer;
  std::vector<char> chunk(16 * 1024);
  bool eof = false;
  Parsed p;
  while (!ec) {
    std::size_t n = co_await link->tls->async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    buffer.append(chunk.data(), n);
    if (buffer.size() > 2 * (limits.head + limits.body)) {  // chunk framing cannot take that much
      p = malformed(fmt::format("the response is over {} bytes and still not complete", buffer.size() - n));
      break;
    }
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      eof = true;
      ec = {};
    }
    p = parse_response(buffer, eof, limits);
    if (p.state != Parsed::State::incomplete || eof) break;
  }
  link->disarm();
  if (p.state == Parsed::State::complete) {
    f.response = std::move(p.response);
  } else if (p.state == Parsed::State::malformed) {
    f.error = p.error;
  } else if (link->fired) {
    f.error = fmt::format("no complete response within the {} ms bound", limits.total.count());
  } else {
    f.error = "the connection failed: " + ec.message();
  }
  std::error_code ignored;
  link->socket.close(ignored);
  f.ms = elapsed();
  co_return f;
}

}  // namespace bp::probes::https

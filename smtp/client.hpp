/*++
 * NAME
 *	client 3h
 * SUMMARY
 *	asynchronous SMTP connection with deadlines and STARTTLS
 * DESCRIPTION
 *	Connection speaks SMTP's transport on the Asio loop: connect (IPv4 or
 *	IPv6, optionally from a chosen source address), read one reply, send
 *	one command line, switch to TLS. Every operation has its own deadline; a
 *	watchdog timer cancels the socket when it passes, so a peer that never
 *	answers, answers one byte a minute or stalls a TLS handshake ends in a
 *	typed timeout. Replies go through ReplyParser, whose limits bound memory
 *	against a peer that sends a 1 MB line or endless continuation lines.
 *	Each line sent and received lands in the transcript, with its time.
 *
 *	The class knows nothing of the dialogue's order: dialogue.hpp writes the
 *	script, and that script has no DATA state.
 * SEE ALSO
 *	RFC 5321 section 4.5.3.2 (timeouts), RFC 3207 (STARTTLS), tls.hpp.
 *--*/
#pragma once

#include "reply.hpp"
#include "tls.hpp"

#include <result.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bp::smtp {

using Millis = std::chrono::milliseconds;

/// Shorter than RFC 5321 section 4.5.3.2's minimums (5 minutes for the greeting,
/// MAIL and RCPT): a probe wants an answer, and a receiver this slow is a finding.
struct Timeouts {
  Millis connect{10'000};
  Millis banner{30'000};
  Millis command{30'000};
  Millis tls{15'000};
};

enum class SessionErrorKind { refused, unreachable, connect_timeout, timeout, closed, protocol, tls, io };
std::string_view to_string(SessionErrorKind k);

struct SessionError {
  SessionErrorKind kind{SessionErrorKind::io};
  std::string detail;
};

struct TranscriptLine {
  char direction{'S'};  ///< 'C' sent by us, 'S' from the server, '*' a note (connect, TLS, error)
  std::string text;
  double at_ms{0};      ///< since the connection attempt began
};

class Connection {
 public:
  Connection(asio::any_io_executor ex, Timeouts timeouts, ReplyLimits limits = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Connects to address:port, from `source` when it is not empty.
  asio::awaitable<std::optional<SessionError>> connect(std::string address, std::uint16_t port, std::string source);

  /// Reads one complete reply within `deadline` (the banner's or a command's).
  asio::awaitable<Result<Reply, SessionError>> read_reply(Millis deadline);

  /// Sends `line` and CRLF. The line must not contain CR or LF.
  asio::awaitable<std::optional<SessionError>> send(std::string line);

  /// Sends a command and reads its reply.
  asio::awaitable<Result<Reply, SessionError>> command(std::string line);

  /// TLS handshake after "220 ready to start TLS"; the result describes the session, also when it failed.
  asio::awaitable<TlsInfo> start_tls(const TlsOptions& options);

  /// Closes the socket (no QUIT: the dialogue sends that itself).
  void close();

  /// \return bytes the server sent beyond the last complete reply (RFC 3207 section 5: must be none after 220 to STARTTLS).
  std::size_t unread_bytes() const { return parser_.buffered(); }

  const std::vector<TranscriptLine>& transcript() const { return transcript_; }
  std::string local_address() const { return local_address_; }
  std::string peer_address() const { return peer_address_; }
  bool tls_active() const;
  double elapsed_ms() const;

 private:
  struct Io;
  asio::awaitable<std::size_t> read_some(std::error_code& ec);
  void arm(Millis d);
  void disarm();
  void note(char direction, std::string text);

  std::shared_ptr<Io> io_;
  Timeouts timeouts_;
  ReplyParser parser_;
  ReplyLimits limits_;
  std::vector<TranscriptLine> transcript_;
  std::string local_address_, peer_address_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace bp::smtp

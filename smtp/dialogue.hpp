/*++
 * NAME
 *	dialogue 3h
 * SUMMARY
 *	one SMTP session that stops before DATA
 * DESCRIPTION
 *	run_session() connects to one address of one mail host and speaks:
 *	banner, EHLO (HELO when EHLO is refused), STARTTLS when offered (and
 *	EHLO again), MAIL FROM, one RCPT TO per planned recipient, RSET, QUIT.
 *	There is no DATA state: the script cannot reach it, and Connection
 *	refuses to send DATA or BDAT should a change ever try. Nothing is
 *	delivered.
 *
 *	Each exchange keeps the command sent and the reply (or why none came);
 *	a failure at any step ends the session with a typed error and the
 *	stage it happened in. The session never throws for anything a peer does.
 * SEE ALSO
 *	RFC 5321 sections 3.3 and 4.1.1, RFC 3207.
 *--*/
#pragma once

#include "client.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bp::smtp {

struct Recipient {
  std::string address;
  std::string role;  ///< "recipient", "postmaster", "random" (catch-all test), "relay" (open-relay test)
};

struct Plan {
  std::string helo;    ///< the name sent with EHLO/HELO
  std::string sender;  ///< MAIL FROM; "" = the null sender <>
  std::vector<Recipient> recipients;
  bool starttls{true};
  TlsOptions tls;      ///< host is set per session
  Timeouts timeouts;
  std::string source;  ///< the local address to connect from, or ""
  std::uint16_t port{25};
};

struct Exchange {
  std::string stage;  ///< "banner", "ehlo", "helo", "starttls", "mail", "rcpt", "rset", "quit"
  std::string sent;   ///< the command line ("" for the banner)
  std::string role;   ///< for rcpt: the recipient's role
  std::optional<Reply> reply;
  std::optional<SessionError> error;
};

struct Session {
  std::string host;     ///< MX host name
  std::string address;  ///< the address connected to
  std::uint16_t port{25};
  std::string source;   ///< the local address the dialogue came from
  bool connected{false};
  std::optional<SessionError> error;
  std::string error_stage;  ///< where the error happened: "connect", "banner", "ehlo", "tls", ...
  double connect_ms{0}, banner_ms{0}, total_ms{0};
  std::string ehlo_name;  ///< the name in the first line of the EHLO reply
  std::map<std::string, std::string> extensions;  ///< from the last EHLO
  bool esmtp{false};
  bool starttls_offered{false};
  std::optional<TlsInfo> tls;
  bool plaintext_after_starttls{false};  ///< bytes after "220 go ahead" (command injection, RFC 3207 section 5)
  std::vector<Exchange> exchanges;
  std::vector<TranscriptLine> transcript;

  /// \return the first exchange of that stage (and role, when given), or nullptr.
  const Exchange* find(std::string_view stage, std::string_view role = {}) const;
  const Reply* banner() const;
};

/// Runs one dialogue with address:port of `host`. Never throws for what the peer does.
asio::awaitable<Session> run_session(asio::any_io_executor ex, std::string host, std::string address, Plan plan);

/// \return "<address>" for MAIL FROM / RCPT TO ("<>" for the null sender).
std::string path(const std::string& address);

}  // namespace bp::smtp

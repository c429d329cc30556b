/*++
 * NAME
 *	https_get 3h
 * SUMMARY
 *	one bounded HTTPS GET, as an MTA-STS sender fetches a policy
 * DESCRIPTION
 *	get() connects to the given addresses in turn (the host's A and AAAA,
 *	looked up by the caller through the run's resolver), completes a TLS
 *	handshake with SNI, judges the certificate as smtp/tls.hpp judges a mail
 *	host's (chain to a trusted root, name, validity period), and only when it
 *	is acceptable sends one GET. Redirects are never followed: a 3xx is
 *	returned as it came. Everything is bounded: the connection, the
 *	handshake and the whole exchange by one deadline, the header block and
 *	the body by sizes; a body past its bound is cut and marked.
 *
 *	parse_response() is the pure part: an HTTP/1.x response (status line,
 *	header fields, a body framed by Content-Length, chunked transfer coding
 *	or the end of the connection) read from bytes, incrementally.
 * SEE ALSO
 *	RFC 9110, RFC 9112 (HTTP/1.1 message syntax, chunked coding), RFC 8461
 *	section 3.3 (policy retrieval: HTTPS, certificate, no redirects).
 *--*/
#pragma once

#include <tls.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp::probes::https {

struct Limits {
  std::size_t head{16 * 1024};  ///< status line and header fields
  std::size_t body{64 * 1024};  ///< what an MTA-STS sender accepts as a policy
  std::chrono::milliseconds connect{5000};  ///< each address
  std::chrono::milliseconds total{15000};   ///< connection, handshake, request and response
};

struct Response {
  int status{0};
  std::string reason;
  std::string content_type;  ///< the field's value, as sent
  std::string location;      ///< a redirect's target
  std::string body;          ///< decoded (chunked coding removed), at most Limits::body
  bool body_cut{false};      ///< the body was longer than Limits::body
};

/// What parse_response() made of the bytes so far.
struct Parsed {
  enum class State { incomplete, complete, malformed } state{State::incomplete};
  Response response;
  std::string error;  ///< when malformed
};

/// Reads an HTTP/1.x response from `bytes`. `eof`: the peer closed the connection,
/// so a body without a length ends here. A body past `limits.body` completes the
/// response with body_cut set. A header block past `limits.head` is malformed.
Parsed parse_response(std::string_view bytes, bool eof, const Limits& limits);

struct Fetch {
  std::string url;
  std::string address;            ///< the address that answered ("" when none connected)
  std::vector<std::string> tried; ///< "[address]: why it failed", one per address given up on
  std::optional<smtp::TlsInfo> tls;
  std::optional<Response> response;
  std::string error;  ///< why there is no response ("" when there is one)
  double ms{0};
};

/// GET https://host/path from the first of `addresses` that takes a connection.
/// `ca_file`: PEM bundle to trust instead of the system's store.
asio::awaitable<Fetch> get(asio::any_io_executor ex, std::string host, std::vector<std::string> addresses, std::string path,
                           std::string ca_file, Limits limits = {});

}  // namespace bp::probes::https

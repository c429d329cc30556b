/*++
 * NAME
 *	scanners 3h
 * SUMMARY
 *	ask a real content scanner about a message: spamd and clamd
 * DESCRIPTION
 *	ask_spamd() speaks the spamd protocol (SpamAssassin's spamc/spamd,
 *	SPAMC/1.5): "SYMBOLS", the message's length, the message, a half-close;
 *	the reply says whether it is spam, its score against the threshold, and
 *	the rules that fired. ask_clamd() speaks clamd's INSTREAM: the message in
 *	length-prefixed chunks, a zero-length chunk, and the reply "stream: OK"
 *	or "stream: NAME FOUND". Either connects to a TCP address or a Unix
 *	socket. Every exchange is bounded: one deadline for the whole of
 *	it, and at most 64 KiB of reply.
 *
 *	What is not sent: a message over spamc's default limit (500 KB, spamc
 *	-s) is not given to spamd, and one over clamd's default StreamMaxLength
 *	(25 MB) is not given to clamd; the result says so (not checked), as a
 *	receiver with those defaults would not scan it either.
 *
 *	parse_spamd_reply() and parse_clamd_reply() are the pure part.
 * SEE ALSO
 *	spamd(1p) and SpamAssassin's PROTOCOL file; clamd(8) (INSTREAM).
 *--*/
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp::probes::scan {

/// Where a scanner listens: a Unix socket path, or a host address and port.
struct Endpoint {
  std::string unix_path;
  std::string host;
  std::uint16_t port{0};
  std::string shown() const;  ///< "192.0.2.57:783", "[2001:db8::1]:3310", "/run/clamav/clamd.ctl"
};

/// Reads "HOST:PORT", "[V6]:PORT", "HOST" (default port) or, when `unix_ok`, a socket
/// path (anything with a '/', "./clamd.sock" too). Host names are not resolved: an IP address is needed.
/// \return nullopt with `error` set when `spec` is none of these.
std::optional<Endpoint> parse_endpoint(std::string_view spec, std::uint16_t default_port, bool unix_ok, std::string* error);

enum class Verdict { clean, flagged, not_checked };

struct ScanResult {
  std::string scanner;  ///< "spamd at 192.0.2.57:783"
  Verdict verdict{Verdict::not_checked};
  std::string detail;   ///< "score 1000.0 of 5.0", "Eicar-Test-Signature", or why not checked
  std::vector<std::string> rules;  ///< spamd: the rules that fired
  double ms{0};
};

/// Pure: spamd's reply to SYMBOLS ("SPAMD/1.1 0 EX_OK", "Spam: True ; 1000.0 / 5.0", the rule names).
ScanResult parse_spamd_reply(std::string_view reply);

/// Pure: clamd's reply to INSTREAM ("stream: OK", "stream: NAME FOUND", "... ERROR"), NUL-terminated or not.
ScanResult parse_clamd_reply(std::string_view reply);

inline constexpr std::uint64_t spamd_max_size = 512000;        ///< spamc's default -s
inline constexpr std::uint64_t clamd_max_size = 25ull << 20;   ///< clamd's default StreamMaxLength

/// Sends the message in `file` (`size` octets) to spamd.
asio::awaitable<ScanResult> ask_spamd(asio::any_io_executor ex, Endpoint where, std::string file, std::uint64_t size,
                                      std::chrono::milliseconds timeout);

/// Streams the message in `file` to clamd.
asio::awaitable<ScanResult> ask_clamd(asio::any_io_executor ex, Endpoint where, std::string file, std::uint64_t size,
                                      std::chrono::milliseconds timeout);

}  // namespace bp::probes::scan

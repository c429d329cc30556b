/*++
 * NAME
 *	reply 3h
 * SUMMARY
 *	SMTP reply parser, without I/O
 * DESCRIPTION
 *	ReplyParser takes bytes as they arrive and yields complete replies:
 *	multi-line replies ("250-..." then "250 ..."), every line's code checked
 *	against the first, the RFC 3463 enhanced code taken from the first line
 *	and dropped when its class disagrees with the reply code, non-printable
 *	bytes censored. Limits on the line length, the number of lines and the
 *	bytes of one reply defend against a hostile peer: a 1 MB line or endless
 *	continuation lines end in an error while memory stays bounded.
 *	parse_ehlo() reads the EHLO keywords (SIZE, STARTTLS, PIPELINING, ...).
 * DIAGNOSTICS
 *	ReplyError: line_too_long, too_many_lines, reply_too_long, malformed,
 *	code_mismatch; each with the offending line, censored and cut.
 * SEE ALSO
 *	RFC 5321 sections 4.2 and 4.5.3.1.5, RFC 3463, RFC 2034; Postfix smtp_chat.c.
 *--*/
#pragma once

#include <result.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp::smtp {

struct Reply {
  int code{0};
  std::string enhanced;            ///< "5.7.1", or "" when absent or inconsistent
  std::vector<std::string> lines;  ///< text of each line, without the code and the enhanced code

  /// \return the lines joined with single spaces.
  std::string text() const;
  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
};

enum class ReplyErrorKind { line_too_long, too_many_lines, reply_too_long, malformed, code_mismatch };
std::string_view to_string(ReplyErrorKind k);

struct ReplyError {
  ReplyErrorKind kind{ReplyErrorKind::malformed};
  std::string detail;
};

struct ReplyLimits {
  std::size_t max_line{2048};      ///< RFC 5321 allows 512 octets; servers exceed it in practice
  std::size_t max_lines{100};
  std::size_t max_reply{64 * 1024};
};

class ReplyParser {
 public:
  explicit ReplyParser(ReplyLimits limits = {}) : limits_(limits) {}

  /// Adds received bytes. Never stores more than one line's limit beyond what it has parsed.
  void push(std::string_view bytes);

  /// \return the next complete reply, an error (after which the parser stays failed), or nullopt for "need more".
  std::optional<Result<Reply, ReplyError>> next();

  /// \return bytes received but not yet part of a returned reply.
  std::size_t buffered() const { return buffer_.size(); }
  /// \return true when part of a reply has arrived but not its end.
  bool mid_reply() const { return !buffer_.empty() || !pending_.lines.empty(); }

 private:
  ReplyLimits limits_;
  std::string buffer_;
  Reply pending_;
  std::size_t pending_bytes_{0};
  std::optional<ReplyError> failed_;
};

/// \return the EHLO extensions, keyword (upper case) -> parameters; the first line (greeting) is skipped.
std::map<std::string, std::string> parse_ehlo(const Reply& ehlo);

/// \return the text with bytes outside printable ASCII replaced by '?' (Postfix printable()).
std::string censor(std::string_view s);

}  // namespace bp::smtp

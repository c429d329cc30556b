/*++
 * NAME
 *	message 3h
 * SUMMARY
 *	what a receiver sees in a message at the end of DATA
 * DESCRIPTION
 *	read_message() reads an RFC 5322 message (a .eml file) with GMime and
 *	gathers the facts the message stage of a receiver judges: its size, the
 *	From: header's addresses, Date and Message-ID, every attachment's file
 *	name (Content-Disposition filename= and Content-Type name=, RFC 2231
 *	continuations and encoded words, as GMime decodes them), the MIME depth,
 *	the longest line, 8-bit bytes, and whether the decoded body parts carry
 *	the GTUBE or EICAR test strings.
 *
 *	GMime keeps offsets into the file rather than the content (a persistent
 *	stream), and bodies are scanned through a bounded window, so memory does
 *	not grow with the message. At most limits::message_parts parts are
 *	walked and nesting deeper than limits::message_depth is not followed;
 *	the facts say so.
 *
 *	message_findings() is the pure part: findings for what a careful sender
 *	fixes although receivers tolerate it.
 * DIAGNOSTICS
 *	read_message() throws std::runtime_error for a file that cannot be read or
 *	is not a message at all.
 * SEE ALSO
 *	RFC 5322, RFC 2045-2049, RFC 2231, RFC 5321 section 4.5.3.1.6 (998 octets).
 *--*/
#pragma once

#include "finding.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bp::probes {

struct Attachment {
  std::string filename;      ///< decoded; "" when the part has none
  std::string content_type;  ///< "application/zip"
  int depth{0};              ///< 1 = a part of the top-level multipart
  bool archive{false};       ///< a zip archive (by name or type): its member names were listed
  std::vector<std::string> members;  ///< the names inside a zip archive, at most limits::archive_members
  bool members_capped{false};        ///< more members than listed
  std::string archive_error;         ///< why a zip archive could not be listed ("" when it was)
};

struct MessageFacts {
  std::string source;                    ///< the file, or "-"
  std::string file;                      ///< a path that reads the message again (standard input: a kept copy)
  std::shared_ptr<int> copy;             ///< keeps standard input's copy open while the facts live
  std::uint64_t size{0};                 ///< octets as read
  std::vector<std::string> from;         ///< addresses of the From: header(s)
  int from_headers{0};                   ///< how many From: fields
  bool has_date{false};
  bool has_message_id{false};
  std::string subject;
  std::vector<Attachment> attachments;   ///< parts with a file name
  int parts{0};
  int max_depth{0};
  bool parts_capped{false};              ///< more parts or deeper nesting than walked
  std::uint64_t longest_line{0};         ///< octets, without CRLF
  bool eight_bit{false};                 ///< any octet over 127 in the raw message
  bool gtube{false};                     ///< the GTUBE spam test string in a body part
  bool eicar{false};                     ///< the EICAR anti-virus test string in a body part
};

/// \return the facts of the message in `path` ("-" = standard input, copied to a temporary file).
MessageFacts read_message(const std::string& path);

/// \return the domain of the first From: address, or "" (none, or an address without a domain).
std::string from_domain(const MessageFacts& m);

/// Findings about the message a receiver tolerates but a careful sender fixes.
std::vector<Finding> message_findings(const MessageFacts& m);

/// The test strings (assembled at run time, so that this program is not itself a test file).
std::string gtube_string();
std::string eicar_string();

}  // namespace bp::probes

/*++
 * NAME
 *	bounce_message 3h
 * SUMMARY
 *	read a bounce as it was received: an RFC 3464 DSN, an ARF report or a plain-text bounce
 * DESCRIPTION
 *	parse_bounce_message() takes the raw message (RFC 5322 with MIME, or
 *	just text) and returns what explain() needs: per failed recipient the
 *	fields of the message/delivery-status part (Final-Recipient, Action,
 *	Status, Diagnostic-Code, Remote-MTA), the per-message fields
 *	(Reporting-MTA), the human-readable part decoded to UTF-8 whatever its
 *	transfer encoding (quoted-printable, base64) and charset (ISO-2022-JP,
 *	ISO-8859-x, windows-125x, through GMime and iconv), and the envelope
 *	sender and From: of the returned message when its headers are attached.
 *	MIME parsing is GMime's; the delivery-status fields, which are header
 *	blocks separated by blank lines (RFC 3464 section 2.1), are read here.
 * DIAGNOSTICS
 *	Never throws for malformed input: a message without a DSN part is a
 *	plain bounce, bytes that are not UTF-8 become U+FFFD, every count is bounded.
 *--*/
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bp::report {

constexpr std::size_t max_message_bytes = 64 * 1024 * 1024;

struct DsnRecipient {
  std::string final_recipient;
  std::string original_recipient;
  std::string action;  ///< failed, delayed, delivered, relayed, expanded
  std::string status;  ///< the enhanced code, e.g. 5.1.1
  std::string diagnostic;  ///< Diagnostic-Code, its type ("smtp;") removed
  std::string diagnostic_type;
  std::string remote_mta;
};

struct BounceMessage {
  std::string kind{"plain"};  ///< dsn, feedback (ARF), plain
  std::string subject;
  std::string from;
  std::string reporting_mta;
  std::string human;  ///< the human-readable text, UTF-8, without the returned message
  std::string report_text;  ///< the machine-readable report part as text (DSN or ARF fields)
  std::string original_sender;  ///< Return-Path of the returned message
  std::string original_from;    ///< From: of the returned message
  std::vector<DsnRecipient> recipients;
  bool truncated{false};
};

/// \return the parts of a bounce message; `raw` is the message as received.
BounceMessage parse_bounce_message(std::string_view raw);

/// \return the text explain() should read for one recipient of a DSN.
std::string recipient_text(const BounceMessage& m, const DsnRecipient& r);

}  // namespace bp::report

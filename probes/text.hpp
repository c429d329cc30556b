/*++
 * NAME
 *	text 3h
 * SUMMARY
 *	showing untrusted bytes safely in one line
 * DESCRIPTION
 *	Arguments and bytes from the network are echoed in errors and reports.
 *	escaped() keeps printable ASCII and well-formed, printable UTF-8, and
 *	writes every other byte visibly as \xNN (a tab as \t), so that no control
 *	sequence reaches a terminal and the line stays one line. shown() also
 *	cuts the result to `max` characters, saying how long the original was.
 *--*/
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bp::probes {

/// \return the length (2..4) of the well-formed UTF-8 sequence at s[i], or 0
/// (a lone continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short);
/// the code point goes to *code_point when given. ASCII bytes are not sequences here.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t* code_point = nullptr);

/// Appends the UTF-8 sequence at s[i] to `out`, or U+FFFD for a byte that does not
/// start one; \return how many bytes of `s` it took (at least 1). For s[i] >= 0x80.
std::size_t append_utf8_or_replacement(std::string& out, std::string_view s, std::size_t i);

/// \return `s` with control characters, DEL, C1 controls and invalid UTF-8 written as \xNN.
std::string escaped(std::string_view s);

/// \return escaped(s), cut to about `max` characters with "... (N bytes)" when longer.
std::string shown(std::string_view s, std::size_t max = 80);

/// \return `s` with ASCII letters in lower case (protocol tokens: header names, media types).
std::string ascii_lower(std::string_view s);

/// \return `s` without the spaces, tabs, CRs and LFs at either end.
std::string_view trim_ws(std::string_view s);

}  // namespace bp::probes

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
#include <string>
#include <string_view>

namespace bp::probes {

/// \return `s` with control characters, DEL, C1 controls and invalid UTF-8 written as \xNN.
std::string escaped(std::string_view s);

/// \return escaped(s), cut to about `max` characters with "... (N bytes)" when longer.
std::string shown(std::string_view s, std::size_t max = 80);

}  // namespace bp::probes

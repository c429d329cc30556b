/*++
 * NAME
 *	data_file 3h
 * SUMMARY
 *	reading the TOML data files a user may hand in: bounded, typed, one-line errors
 * DESCRIPTION
 *	Catalog, profile and blocklist files come from the command line, so they
 *	are untrusted input. read_data_file() accepts only a regular file under a
 *	size limit (a device or a directory is refused by name, /dev/zero never
 *	fills memory). parse_toml() turns a syntax error into "file:line:column:
 *	what". toml_int() reads an integer as an integer: a float, a string, or a
 *	value outside [min, max] is an error naming the key, never a silent cast.
 * DIAGNOSTICS
 *	Every function throws std::runtime_error with a one-line message.
 *--*/
#pragma once

#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bp::probes {

/// Data files larger than this are refused (the built-in catalog is about 100 kB).
constexpr std::size_t max_data_file_bytes = 4 * 1024 * 1024;

/// \return the whole content of the regular file at `path`; `what` names it in errors ("catalog").
std::string read_data_file(const std::string& path, std::string_view what, std::size_t limit = max_data_file_bytes);

/// Reads one line (without its LF, and a CR before it) of at most `cap` bytes; the
/// rest of a longer line is skipped and `cut` set, but not forever: a line past
/// 64 MiB (/dev/zero on standard input) throws. \return false at the end of input.
bool read_line(std::FILE* in, std::string& line, std::size_t cap, bool& cut);

/// \return the parsed document; a syntax error becomes "origin:line:column: description".
toml::table parse_toml(std::string_view text, const std::string& origin);

/// \return the integer at `key`, nullopt when absent; throws when it is present
/// but not a TOML integer or outside [min, max].
std::optional<std::int64_t> toml_int(const toml::table& t, std::string_view key, const std::string& where,
                                     std::int64_t min, std::int64_t max);

/// \return the string at `key`: "" when absent and not `required`; throws when it is
/// present but not a string, or absent and required.
std::string toml_string(const toml::table& t, std::string_view key, const std::string& where, bool required = false);

/// Calls `each` with every table of the array of tables `[[key]]` (none when absent);
/// an element that is not a table is an error naming `origin` and the key.
template <typename F>
void for_each_table(const toml::table& root, std::string_view key, const std::string& origin, F&& each) {
  const auto* arr = root[key].as_array();
  if (arr == nullptr) return;
  for (const auto& node : *arr) {
    const auto* t = node.as_table();
    if (t == nullptr) throw std::runtime_error(origin + ": [[" + std::string(key) + "]] must be a table");
    each(*t);
  }
}

/// \return an integer node's value within [min, max]; throws otherwise (array elements).
std::int64_t toml_int_value(const toml::node& n, const std::string& where, std::int64_t min, std::int64_t max);

}  // namespace bp::probes

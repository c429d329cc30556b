/*++
 * NAME
 *	json_writer 3h
 * SUMMARY
 *	JSON text written straight into a string, without a tree
 * DESCRIPTION
 *	A batch writes one JSON line per domain; building a tree of nodes for
 *	each and then serialising it cost more than the checks' own logic.
 *	JsonWriter appends to a caller's string and puts the commas itself.
 *	Strings are escaped as RFC 8259 requires; bytes that are not UTF-8
 *	become U+FFFD, as nlohmann::json does with error_handler_t::replace, so
 *	that the output is always valid UTF-8 whatever came from the network.
 *	Callers write an object's keys in sorted order where output must match
 *	nlohmann::json's (which keeps keys sorted).
 *--*/
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace bp::report {

/// Appends `s` to `out` as a JSON string literal (with the quotes).
void append_json_string(std::string& out, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  /// The next value is this key's.
  JsonWriter& key(std::string_view k);

  JsonWriter& value(std::string_view s) {
    separate();
    append_json_string(out_, s);
    return *this;
  }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b) {
    separate();
    out_ += b ? "true" : "false";
    return *this;
  }
  template <typename Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  JsonWriter& value(Int n) {
    separate();
    out_ += std::to_string(n);
    return *this;
  }
  JsonWriter& value(const std::vector<std::string>& list);
  /// Already JSON text (a subtree serialised elsewhere).
  JsonWriter& raw(std::string_view json);

  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

 private:
  JsonWriter& open(char c);
  JsonWriter& close(char c);
  void separate();

  std::string& out_;
  std::vector<bool> first_;  ///< per open container: nothing written in it yet
  bool after_key_{false};
};

}  // namespace bp::report

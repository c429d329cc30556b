#include "json_writer.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using bp::report::JsonWriter;

namespace {
std::string quoted(std::string_view s) {
  std::string out;
  bp::report::append_json_string(out, s);
  return out;
}
}  // namespace

TEST_CASE("JSON strings: RFC 8259 escapes, control characters as \\u00XX") {
  CHECK(quoted("plain") == "\"plain\"");
  CHECK(quoted("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(quoted("\b\f\n\r\t") == "\"\\b\\f\\n\\r\\t\"");
  CHECK(quoted(std::string_view("\x1b[31m\x07\0", 7)) == "\"\\u001b[31m\\u0007\\u0000\"");
  CHECK(quoted("caf\xc3\xa9 \xe2\x9c\x93") == "\"caf\xc3\xa9 \xe2\x9c\x93\"");
}

TEST_CASE("JSON strings: bytes that are not UTF-8 become U+FFFD, and the result parses") {
  CHECK(quoted("a\xff" "b") == "\"a\xef\xbf\xbd" "b\"");
  CHECK(quoted("\xc0\xaf") == "\"\xef\xbf\xbd\xef\xbf\xbd\"");          // overlong '/'
  CHECK(quoted("\xed\xa0\x80") == "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");  // a surrogate
  CHECK(quoted("cut \xe2\x9c") == "\"cut \xef\xbf\xbd\xef\xbf\xbd\"");
  const auto parsed = nlohmann::json::parse(quoted("x\xfe\x80y\x01"));
  CHECK(parsed.get<std::string>() == "x\xef\xbf\xbd\xef\xbf\xbdy\x01");
}

TEST_CASE("JSON strings: a byte that needs escaping is found wherever it stands in a long run") {
  // Runs of plain bytes are scanned eight at a time: every byte value at every
  // offset of a 20-byte string must come out as it does alone.
  for (int b = 0; b < 256; ++b) {
    const std::string one = (quoted)(std::string(1, static_cast<char>(b)));  // (): not std::quoted by ADL
    const std::string inner = one.substr(1, one.size() - 2);
    for (std::size_t p = 0; p < 20; ++p) {
      std::string s(20, 'a');
      s[p] = static_cast<char>(b);
      const std::string want = "\"" + std::string(p, 'a') + inner + std::string(19 - p, 'a') + "\"";
      if ((quoted)(s) != want) FAIL("byte ", b, " at offset ", p);
    }
  }
  CHECK((quoted)(std::string(64, 'x') + "\"") == "\"" + std::string(64, 'x') + "\\\"\"");
}

TEST_CASE("JsonWriter puts commas and keys where nlohmann::json would") {
  std::string s;
  JsonWriter w(s);
  w.begin_object().field("a", 1).field("b", true).field("c", std::vector<std::string>{"x", "y"});
  w.key("d").begin_array().begin_object().end_object().begin_array().end_array().value(-7).end_array();
  w.key("e").raw("{\"k\":null}").field("f", "s").end_object();
  CHECK(s == R"({"a":1,"b":true,"c":["x","y"],"d":[{},[],-7],"e":{"k":null},"f":"s"})");
  const auto j = nlohmann::json::parse(s);
  CHECK(j.dump() == s);  // same keys in the same (sorted) order, same text
}

// Untrusted bytes shown in one safe line (probes/text.cpp).
#include <doctest/doctest.h>

#include <text.hpp>

#include <string>

using bp::probes::escaped;
using bp::probes::shown;
using namespace std::string_literals;

TEST_CASE("control characters, C1 controls, bidi overrides and invalid UTF-8 are written as \\xNN") {
  CHECK(escaped("mail.example.com") == "mail.example.com");
  CHECK(escaped("ex\x1b[31mample\x07") == "ex\\x1b[31mample\\x07");
  CHECK(escaped("a\tb\r\nc") == "a\\tb\\x0d\\x0ac");
  CHECK(escaped("nul\0byte"s) == "nul\\x00byte");
  CHECK(escaped("b\xfc" "ch") == "b\\xfcch");           // Latin-1, not UTF-8
  CHECK(escaped("bücher") == "bücher");                  // well-formed UTF-8 stays readable
  CHECK(escaped("\xc2\x9b" "31m") == "\\xc2\\x9b31m");   // U+009B, the C1 CSI
  CHECK(escaped("\xe2\x80\xae" "txt") == "\\xe2\\x80\\xaetxt");  // U+202E right-to-left override
  CHECK(escaped("\xc0\xaf") == "\\xc0\\xaf");            // overlong '/'
  CHECK(escaped("\xed\xa0\x80") == "\\xed\\xa0\\x80");   // a UTF-16 surrogate
  CHECK(escaped("\xf0\x9f\x93") == "\\xf0\\x9f\\x93");   // cut short
  CHECK(escaped("\x7f") == "\\x7f");
}

TEST_CASE("shown() cuts long input on a character boundary and says how long it was") {
  CHECK(shown("short") == "short");
  const std::string long_name(5000, 'a');
  const auto s = shown(long_name, 80);
  CHECK(s == std::string(80, 'a') + "... (5000 bytes)");
  // Never inside an escape or a UTF-8 sequence.
  const auto e = shown(std::string(78, 'a') + "\x1b" + "zzzz", 80);
  CHECK(e == std::string(78, 'a') + "... (83 bytes)");
  const auto u = shown(std::string(79, 'a') + "ü" + "zzzz", 80);
  CHECK(u == std::string(79, 'a') + "... (85 bytes)");
}

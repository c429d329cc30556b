#include "dkim.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace bp::probes::dkim;

namespace {
std::string body(const std::string& raw, bool relaxed) {
  BodyCanon c(relaxed);
  std::string out;
  // Fed in small pieces: a line may be split anywhere, a CRLF too.
  for (std::size_t i = 0; i < raw.size(); i += 3) c.feed(std::string_view(raw).substr(i, 3), out);
  c.finish(out);
  return out;
}
}  // namespace

TEST_CASE("DKIM canonicalisation: the examples of RFC 6376 section 3.4.5") {
  // Header fields "A: X" and "B : Y<TAB><CRLF><TAB>Z  " (folded), body " C <CRLF>D <TAB> E<CRLF><CRLF><CRLF>".
  CHECK(canonical_header("A: X", true) == "a:X");
  CHECK(canonical_header("B : Y\t\r\n\tZ  ", true) == "b:Y Z");
  CHECK(canonical_header("A: X", false) == "A: X");
  CHECK(canonical_header("B : Y\t\r\n\tZ  ", false) == "B : Y\t\r\n\tZ  ");
  const std::string raw = " C \r\nD \t E\r\n\r\n\r\n";
  CHECK(body(raw, true) == " C\r\nD E\r\n");
  CHECK(body(raw, false) == " C \r\nD \t E\r\n");
}

TEST_CASE("DKIM canonicalisation: empty bodies, a last line without CRLF, bare LF line ends") {
  CHECK(body("", false) == "\r\n");  // section 3.4.3
  CHECK(body("", true).empty());     // section 3.4.4 (errata 1384)
  CHECK(body("\r\n\r\n", false) == "\r\n");
  CHECK(body("end", false) == "end\r\n");
  CHECK(body("a\nb\n\n", true) == "a\r\nb\r\n");
  CHECK(body("x  \r\n\r\ny\r\n", true) == "x\r\n\r\ny\r\n");  // an empty line inside the body stays
}

TEST_CASE("DKIM tag lists: whitespace, repeated tags and malformed specs") {
  std::string error;
  auto t = parse_tag_list(" v=1; a=rsa-sha256;\r\n\td=example.com ; b=ab cd\r\n ef; ", &error);
  REQUIRE(t.has_value());
  CHECK((*t)["v"] == "1");
  CHECK((*t)["d"] == "example.com");
  CHECK((*t)["b"] == "ab cd\r\n ef");
  CHECK(!parse_tag_list("v=1; v=2", &error).has_value());
  CHECK(error.find("twice") != std::string::npos);
  CHECK(!parse_tag_list("v=1; novalue", &error).has_value());
  CHECK(!parse_tag_list("b@d=1", &error).has_value());
}

TEST_CASE("DKIM findings: pass, fail, a testing key, and a From: no passing signature aligns with") {
  SignatureResult pass{"example.com", "s1", "rsa-sha256", Outcome::pass, "", false, {}};
  SignatureResult fail{"example.net", "s2", "ed25519-sha256", Outcome::fail, "the body hash does not match", false, {}};
  auto aligned = dkim_findings({pass}, "mail.example.com");
  REQUIRE(aligned.size() == 1);
  CHECK(aligned[0].code == "dkim.pass");
  auto other = dkim_findings({pass, fail}, "example.org");
  REQUIRE(other.size() == 3);
  CHECK(other[1].code == "dkim.fail");
  CHECK(other[2].code == "dkim.not-aligned");
  auto none = dkim_findings({}, "example.org");
  REQUIRE(none.size() == 1);
  CHECK(none[0].summary.find("no DKIM signature") != std::string::npos);
}

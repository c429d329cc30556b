#include "dkim.hpp"

#include <doctest/doctest.h>
#include <resolver.hpp>
#include <temp_file.hpp>
#include <zone_file.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <exception>
#include <string>
#include <vector>

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

namespace {
/// RFC 8463 Appendix A: the keys (A.2) and the message signed with both (A.3), lines ending in CRLF.
const char* rfc8463_zone =
    "$ORIGIN football.example.com.\n$TTL 300\n"
    "@ SOA ns.football.example.com. hostmaster.football.example.com. 1 3600 600 1209600 300\n"
    "brisbane._domainkey TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
    "test._domainkey TXT \"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
    "J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/"
    "K4w3QIDAQAB\"\n";

const char* rfc8463_message =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    " date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";

/// Verifies `message` with the keys of `zone_text` answered from a zone file (no DNS traffic).
std::vector<SignatureResult> verify_with_zone(const std::string& message, const std::string& zone_text) {
  bp::test::TempFile zone(zone_text);
  bp::test::TempFile msg(message);
  asio::io_context io;
  bp::resolver::ResolverOptions o;
  o.servers = {"127.0.0.1:9"};  // never asked: the zone file covers every name looked up
  o.overlay = bp::resolver::ZoneOverlay::load({zone.path});
  bp::resolver::Resolver r(io.get_executor(), o);
  std::vector<SignatureResult> out;
  asio::co_spawn(io, verify_dkim(r, msg.path), [&](std::exception_ptr e, std::vector<SignatureResult> v) {
    if (e) std::rethrow_exception(e);
    out = std::move(v);
  });
  io.run();
  return out;
}
}  // namespace

TEST_CASE("DKIM: the signed message of RFC 8463 Appendix A verifies, Ed25519 and RSA; a changed body or header fails") {
  auto res = verify_with_zone(rfc8463_message, rfc8463_zone);
  REQUIRE(res.size() == 2);
  CHECK(res[0].algorithm == "ed25519-sha256");
  CHECK(res[0].selector == "brisbane");
  CHECK(res[1].algorithm == "rsa-sha256");
  CHECK(res[1].selector == "test");
  for (const auto& s : res) {
    CAPTURE(s.detail);
    CHECK(s.outcome == Outcome::pass);
    CHECK(s.domain == "football.example.com");
  }
  // One more body line: the body hash no longer matches, for both.
  res = verify_with_zone(std::string(rfc8463_message) + "Extra line.\r\n", rfc8463_zone);
  REQUIRE(res.size() == 2);
  for (const auto& s : res) CHECK(s.outcome == Outcome::fail);
  // A signed header changed: the signature no longer verifies, for both.
  std::string changed = rfc8463_message;
  changed.replace(changed.find("Is dinner ready?"), 16, "Is lunch ready? ");
  res = verify_with_zone(changed, rfc8463_zone);
  REQUIRE(res.size() == 2);
  for (const auto& s : res) CHECK(s.outcome == Outcome::fail);
}

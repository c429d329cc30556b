#include <doctest/doctest.h>

#include <dmarc/dmarc.hpp>

using namespace bp::probes::dmarc;

TEST_CASE("every tag is reported, explicit or default") {
  auto r = parse_dmarc("v=DMARC1; p=reject; rua=mailto:a@example.com,mailto:b@example.net!10m; adkim=s");
  REQUIRE(r.record);
  const auto& t = r.record->tags;
  CHECK(t.at("p").value == "reject");
  CHECK(t.at("p").explicit_);
  CHECK(t.at("sp").value == "reject");
  CHECK_FALSE(t.at("sp").explicit_);
  CHECK(t.at("np").value == "reject");
  CHECK(t.at("adkim").value == "s");
  CHECK(t.at("aspf").value == "r");
  CHECK(t.at("pct").value == "100");
  CHECK(t.at("fo").value == "0");
  CHECK(r.record->rua == std::vector<std::string>{"a@example.com", "b@example.net"});
  CHECK(r.errors.empty());
}

TEST_CASE("malformed records: errors make them invalid, bad optional tags fall back with a warning") {
  CHECK_FALSE(parse_dmarc("p=reject; v=DMARC1").record);
  CHECK_FALSE(parse_dmarc("v=DMARC1; p=block").record);
  CHECK_FALSE(parse_dmarc("v=DMARC1").record);
  auto nop = parse_dmarc("v=DMARC1; rua=mailto:d@example.com");  // RFC 7489 6.6.3: p=none
  REQUIRE(nop.record);
  CHECK(nop.record->get("p") == "none");
  CHECK_FALSE(nop.warnings.empty());
  auto pct = parse_dmarc("v=DMARC1; p=none; pct=150; adkim=x; foo=bar");
  REQUIRE(pct.record);
  CHECK(pct.record->get("pct") == "100");
  CHECK(pct.record->get("adkim") == "r");
  CHECK(pct.warnings.size() == 3);
  auto trailing = parse_dmarc("v=DMARC1; p=quarantine;");
  REQUIRE(trailing.record);
  CHECK(trailing.warnings.empty());
}

TEST_CASE("organizational domains come from the Public Suffix List") {
  CHECK(organizational_domain("mail.example.com") == "example.com");
  CHECK(organizational_domain("a.b.example.co.uk") == "example.co.uk");
  CHECK(organizational_domain("Example.COM.") == "example.com");
  CHECK(aligned("bounce.example.com", "example.com", false));
  CHECK_FALSE(aligned("bounce.example.com", "example.com", true));
  CHECK_FALSE(aligned("example.net", "example.com", false));
}

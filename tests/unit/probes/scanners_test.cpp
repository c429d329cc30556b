// Tests for probes/scanners.cpp: spamd's and clamd's replies, and where a scanner listens.
#include <doctest/doctest.h>

#include <scanners.hpp>

#include <string>

using namespace bp::probes::scan;

TEST_CASE("parse_spamd_reply: spam, not spam, and what is not a usable reply") {
  auto r = parse_spamd_reply("SPAMD/1.1 0 EX_OK\r\nContent-length: 40\r\nSpam: True ; 1000.0 / 5.0\r\n\r\nGTUBE,MISSING_DATE,NO_RECEIVED");
  CHECK(r.verdict == Verdict::flagged);
  CHECK(r.detail == "score 1000.0 of 5.0");
  CHECK(r.rules == std::vector<std::string>{"GTUBE", "MISSING_DATE", "NO_RECEIVED"});
  r = parse_spamd_reply("SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.1 / 5.0\r\n\r\n");
  CHECK(r.verdict == Verdict::clean);
  CHECK(r.detail == "score -0.1 of 5.0");
  CHECK(r.rules.empty());
  r = parse_spamd_reply("SPAMD/1.0 76 Bad header line: (EOF)\r\n");
  CHECK(r.verdict == Verdict::not_checked);
  CHECK(r.detail == "spamd answered 'SPAMD/1.0 76 Bad header line: (EOF)'");
  CHECK(parse_spamd_reply("HTTP/1.1 400 Bad Request\r\n\r\n").detail == "not a spamd reply: 'HTTP/1.1 400 Bad Request'");
  CHECK(parse_spamd_reply("SPAMD/1.1 0 EX_OK\r\n\r\n").detail == "spamd's reply has no Spam: line");
  CHECK(parse_spamd_reply("SPAMD/1.1 0 EX_OK\r\nSpam: maybe\r\n\r\n").verdict == Verdict::not_checked);
  CHECK(parse_spamd_reply("").verdict == Verdict::not_checked);
}

TEST_CASE("parse_clamd_reply: OK, FOUND with the signature's name, ERROR") {
  CHECK(parse_clamd_reply(std::string("stream: OK\0", 11)).verdict == Verdict::clean);
  auto r = parse_clamd_reply(std::string("stream: Win.Test.EICAR_HDB-1 FOUND\0", 35));
  CHECK(r.verdict == Verdict::flagged);
  CHECK(r.detail == "Win.Test.EICAR_HDB-1");
  r = parse_clamd_reply("INSTREAM size limit exceeded. ERROR\n");
  CHECK(r.verdict == Verdict::not_checked);
  CHECK(r.detail == "clamd: INSTREAM size limit exceeded.");
  CHECK(parse_clamd_reply("hello").detail == "not a clamd reply: 'hello'");
}

TEST_CASE("parse_endpoint: an address and port, a bracketed IPv6 address, a socket path, and what is none of these") {
  std::string why;
  auto e = parse_endpoint("192.0.2.57", 783, false, &why);
  REQUIRE(e);
  CHECK(e->shown() == "192.0.2.57:783");
  e = parse_endpoint("[2001:db8::1]:3311", 3310, true, &why);
  REQUIRE(e);
  CHECK(e->host == "2001:db8::1");
  CHECK(e->shown() == "[2001:db8::1]:3311");
  e = parse_endpoint("2001:db8::1", 3310, true, &why);  // an IPv6 address alone takes the default port
  REQUIRE(e);
  CHECK(e->port == 3310);
  e = parse_endpoint("/run/clamav/clamd.ctl", 3310, true, &why);
  REQUIRE(e);
  CHECK(e->unix_path == "/run/clamav/clamd.ctl");
  e = parse_endpoint("run/clamd.sock", 3310, true, &why);  // relative
  REQUIRE(e);
  CHECK(e->unix_path == "run/clamd.sock");
  CHECK_FALSE(parse_endpoint("/run/spamd.sock", 783, false, &why));
  CHECK(why == "a Unix socket is not accepted here: give HOST:PORT");
  CHECK_FALSE(parse_endpoint("localhost:783", 783, false, &why));
  CHECK(why == "'localhost' is not an IP address");
  CHECK_FALSE(parse_endpoint("192.0.2.57:0", 783, false, &why));
  CHECK(why == "'0' is not a port");
  CHECK_FALSE(parse_endpoint("192.0.2.57:99999", 783, false, &why));
  CHECK_FALSE(parse_endpoint("[2001:db8::1", 783, false, &why));
  CHECK_FALSE(parse_endpoint("", 783, false, &why));
}

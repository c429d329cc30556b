// Tests for resolver/wire.cpp: replies built byte by byte, including hostile ones.
#include <doctest/doctest.h>

#include <wire.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace bp::resolver;

namespace {

struct Packet {
  std::vector<std::uint8_t> b;
  void u16(unsigned v) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v & 0xff));
  }
  void u32(unsigned v) {
    u16(v >> 16);
    u16(v & 0xffff);
  }
  void name(const std::string& n) {
    std::size_t start = 0;
    while (start < n.size()) {
      auto dot = n.find('.', start);
      auto label = n.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      b.push_back(static_cast<std::uint8_t>(label.size()));
      b.insert(b.end(), label.begin(), label.end());
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    b.push_back(0);
  }
  static Packet reply(const std::string& qname, RrType qtype, int rcode, int ancount, unsigned flags = 0x8180) {
    Packet p;
    p.u16(0x1234);
    p.u16((flags & 0xfff0) | static_cast<unsigned>(rcode));
    p.u16(1);
    p.u16(static_cast<unsigned>(ancount));
    p.u16(0);
    p.u16(0);
    p.name(qname);
    p.u16(static_cast<unsigned>(qtype));
    p.u16(1);
    return p;
  }
  void rr(const std::string& owner, RrType type, const std::vector<std::uint8_t>& rdata) {
    name(owner);
    u16(static_cast<unsigned>(type));
    u16(1);
    u32(300);
    u16(static_cast<unsigned>(rdata.size()));
    b.insert(b.end(), rdata.begin(), rdata.end());
  }
  static std::vector<std::uint8_t> encoded(const std::string& n) {
    Packet p;
    p.name(n);
    return p.b;
  }
};

}  // namespace

TEST_CASE("an A answer is parsed into an address") {
  auto p = Packet::reply("mx1.example.com", RrType::a, 0, 1);
  p.rr("mx1.example.com", RrType::a, {192, 0, 2, 25});
  auto r = parse_reply(p.b, "MX1.Example.COM.", RrType::a);
  REQUIRE(r.ok());
  REQUIRE(r->records.size() == 1);
  CHECK(r->records[0].address == "192.0.2.25");
  CHECK(r->records[0].ttl == 300);
}

TEST_CASE("MX answers keep preference and turn the root target into a null MX") {
  auto p = Packet::reply("example.com", RrType::mx, 0, 2);
  auto mx1 = Packet::encoded("mx1.example.com");
  std::vector<std::uint8_t> rd1{0, 10};
  rd1.insert(rd1.end(), mx1.begin(), mx1.end());
  p.rr("example.com", RrType::mx, rd1);
  p.rr("example.com", RrType::mx, {0, 0, 0});
  auto r = parse_reply(p.b, "example.com", RrType::mx);
  REQUIRE(r.ok());
  REQUIRE(r->records.size() == 2);
  CHECK(r->records[0].preference == 10);
  CHECK(r->records[0].target == "mx1.example.com");
  CHECK(r->records[1].target.empty());
  CHECK(r->records[1].rdata_text() == "0 .");
}

TEST_CASE("each rcode maps to its own failure") {
  struct Row {
    int rcode;
    DnsFailure want;
  };
  for (auto row : {Row{1, DnsFailure::formerr}, Row{2, DnsFailure::servfail}, Row{3, DnsFailure::nxdomain},
                   Row{4, DnsFailure::notimp}, Row{5, DnsFailure::refused}, Row{9, DnsFailure::bad_response}}) {
    CAPTURE(row.rcode);
    auto p = Packet::reply("example.com", RrType::mx, row.rcode, 0);
    auto r = parse_reply(p.b, "example.com", RrType::mx);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == row.want);
    CHECK(r.error().rcode == row.rcode);
  }
}

TEST_CASE("NOERROR with no answer is NODATA") {
  auto p = Packet::reply("example.com", RrType::aaaa, 0, 0);
  auto r = parse_reply(p.b, "example.com", RrType::aaaa);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == DnsFailure::nodata);
}

TEST_CASE("a CNAME chain is followed and kept visible") {
  auto p = Packet::reply("www.example.com", RrType::a, 0, 3);
  p.rr("www.example.com", RrType::cname, Packet::encoded("a.example.net"));
  p.rr("a.example.net", RrType::cname, Packet::encoded("b.example.org"));
  p.rr("b.example.org", RrType::a, {203, 0, 113, 5});
  auto r = parse_reply(p.b, "www.example.com", RrType::a);
  REQUIRE(r.ok());
  CHECK(r->cname_chain == std::vector<std::string>{"a.example.net", "b.example.org"});
  CHECK(r->records.at(0).address == "203.0.113.5");
}

TEST_CASE("a CNAME with nothing behind it is NODATA with the chain, not success") {
  auto p = Packet::reply("alias.example.com", RrType::a, 0, 1);
  p.rr("alias.example.com", RrType::cname, Packet::encoded("target.example.net"));
  auto r = parse_reply(p.b, "alias.example.com", RrType::a);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == DnsFailure::nodata);
  CHECK(r.error().cname_chain == std::vector<std::string>{"target.example.net"});
}

TEST_CASE("a CNAME loop is a bad response") {
  auto p = Packet::reply("a.example.com", RrType::a, 0, 2);
  p.rr("a.example.com", RrType::cname, Packet::encoded("b.example.com"));
  p.rr("b.example.com", RrType::cname, Packet::encoded("a.example.com"));
  auto r = parse_reply(p.b, "a.example.com", RrType::a);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == DnsFailure::bad_response);
}

TEST_CASE("TXT strings are read with their length octets") {
  auto p = Packet::reply("example.com", RrType::txt, 0, 1);
  p.rr("example.com", RrType::txt, {3, 'a', 'b', 'c', 2, 'd', 'e'});
  auto r = parse_reply(p.b, "example.com", RrType::txt);
  REQUIRE(r.ok());
  CHECK(r->records[0].strings == std::vector<std::string>{"abc", "de"});
}

TEST_CASE("hostile replies are rejected, never read past their end") {
  SUBCASE("shorter than a header") {
    std::vector<std::uint8_t> tiny{0x12, 0x34, 0x81};
    auto r = parse_reply(tiny, "example.com", RrType::a);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == DnsFailure::bad_response);
  }
  SUBCASE("the question does not match") {
    auto p = Packet::reply("evil.example", RrType::a, 0, 0);
    auto r = parse_reply(p.b, "example.com", RrType::a);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().detail.find("does not match") != std::string::npos);
  }
  SUBCASE("QR bit clear") {
    auto p = Packet::reply("example.com", RrType::a, 0, 0, 0x0100);
    auto r = parse_reply(p.b, "example.com", RrType::a);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == DnsFailure::bad_response);
  }
  SUBCASE("answer count larger than the packet") {
    auto p = Packet::reply("example.com", RrType::a, 0, 5);
    p.rr("example.com", RrType::a, {192, 0, 2, 1});
    auto r = parse_reply(p.b, "example.com", RrType::a);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == DnsFailure::bad_response);
  }
  SUBCASE("TXT string overruns its RDATA") {
    auto p = Packet::reply("example.com", RrType::txt, 0, 1);
    p.rr("example.com", RrType::txt, {200, 'a', 'b'});
    auto r = parse_reply(p.b, "example.com", RrType::txt);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == DnsFailure::bad_response);
  }
  SUBCASE("A record with a wrong length") {
    auto p = Packet::reply("example.com", RrType::a, 0, 1);
    p.rr("example.com", RrType::a, {192, 0, 2});
    auto r = parse_reply(p.b, "example.com", RrType::a);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == DnsFailure::bad_response);
  }
  SUBCASE("a compression pointer that points at itself") {
    auto p = Packet::reply("example.com", RrType::a, 0, 1);
    const auto at = p.b.size();
    p.b.push_back(static_cast<std::uint8_t>(0xc0 | (at >> 8)));
    p.b.push_back(static_cast<std::uint8_t>(at & 0xff));
    p.u16(1);
    p.u16(1);
    p.u32(300);
    p.u16(4);
    p.b.insert(p.b.end(), {192, 0, 2, 1});
    auto r = parse_reply(p.b, "example.com", RrType::a);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == DnsFailure::bad_response);
  }
}

TEST_CASE("an SOA answer keeps both names, the serial and the timers; a short one is malformed") {
  auto p = Packet::reply("example.com", RrType::soa, 0, 1);
  Packet rd;
  rd.name("ns.example.com");
  rd.name("hostmaster.example.com");
  for (unsigned v : {2026113001u, 3600u, 600u, 1209600u, 300u}) rd.u32(v);
  p.rr("example.com", RrType::soa, rd.b);
  auto r = parse_reply(p.b, "example.com", RrType::soa);
  REQUIRE(r.ok());
  REQUIRE(r->records.size() == 1);
  const auto& soa = r->records[0];
  CHECK(soa.target == "ns.example.com");
  CHECK(soa.rname == "hostmaster.example.com");
  CHECK(soa.serial == 2026113001u);
  CHECK(soa.refresh == 3600);
  CHECK(soa.retry == 600);
  CHECK(soa.expire == 1209600);
  CHECK(soa.minimum == 300);
  CHECK(soa.rdata_text() == "ns.example.com. hostmaster.example.com. 2026113001 3600 600 1209600 300");

  auto q = Packet::reply("example.com", RrType::soa, 0, 1);
  rd.b.resize(rd.b.size() - 2);  // the minimum cut short
  q.rr("example.com", RrType::soa, rd.b);
  auto bad = parse_reply(q.b, "example.com", RrType::soa);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == DnsFailure::bad_response);
}

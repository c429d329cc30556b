#include <doctest/doctest.h>

#include <address.hpp>

using namespace bp::probes;

TEST_CASE("addresses are classified against the IANA special-purpose registries") {
  struct Row {
    const char* ip;
    const char* slug;
    bool global;
  };
  const Row rows[] = {
      {"8.8.8.8", "global", true},           {"10.1.2.3", "rfc1918", false},
      {"172.16.5.5", "rfc1918", false},       {"172.31.255.255", "rfc1918", false},
      {"172.32.0.1", "global", true},         {"192.168.1.25", "rfc1918", false},
      {"100.64.1.1", "shared-cgnat", false},  {"100.128.0.1", "global", true},
      {"127.0.0.1", "loopback", false},       {"169.254.1.1", "link-local", false},
      {"192.0.2.25", "documentation", false}, {"198.51.100.7", "documentation", false},
      {"203.0.113.9", "documentation", false}, {"198.18.0.1", "benchmarking", false},
      {"224.0.0.251", "multicast", false},    {"240.0.0.1", "reserved", false},
      {"255.255.255.255", "broadcast", false}, {"0.0.0.0", "unspecified", false},
      {"0.1.2.3", "this-network", false},     {"192.0.0.9", "anycast-service", true},
      {"192.0.0.5", "ds-lite", false},        {"2a00:1450::1", "global", true},
      {"::1", "loopback", false},             {"::", "unspecified", false},
      {"fd00::25", "ula", false},             {"fe80::1", "link-local", false},
      {"2001:db8::26", "documentation", false}, {"2002:c000:219::1", "6to4", false},
      {"64:ff9b::c000:219", "nat64", false},  {"2001::1", "teredo", false},
      {"ff02::1", "multicast", false},        {"4000::1", "unallocated", false},
      {"::ffff:10.0.0.1", "rfc1918", false},  {"::ffff:8.8.8.8", "global", true},
  };
  for (const auto& row : rows) {
    CAPTURE(row.ip);
    auto c = classify(row.ip);
    REQUIRE(c.has_value());
    CHECK(c->slug == row.slug);
    CHECK(c->global == row.global);
  }
}

TEST_CASE("a string that is not an address is not classified") {
  CHECK_FALSE(classify("mx1.example.com").has_value());
  CHECK_FALSE(classify("10.0.0").has_value());
  CHECK_FALSE(classify("").has_value());
}

TEST_CASE("--routable prefixes make a non-global address usable but keep its class") {
  AddressPolicy p;
  p.routable.push_back(*Cidr::parse("192.0.2.0/24"));
  auto c = classify("192.0.2.25", p);
  REQUIRE(c);
  CHECK(c->global);
  CHECK(c->overridden);
  CHECK(c->slug == "documentation");
  CHECK_FALSE(address_finding(*c, "mx1.example.com", "MX host").has_value());
  auto other = classify("198.51.100.7", p);
  CHECK_FALSE(other->global);
}

TEST_CASE("CIDR parsing rejects malformed prefixes") {
  CHECK(Cidr::parse("10.0.0.0/8"));
  CHECK(Cidr::parse("2001:db8::/32"));
  CHECK(Cidr::parse("192.0.2.1"));
  CHECK_FALSE(Cidr::parse("10.0.0.0/33"));
  CHECK_FALSE(Cidr::parse("10.0.0.0/x"));
  CHECK_FALSE(Cidr::parse("example.com/8"));
  auto c = Cidr::parse("10.0.0.0/8");
  auto in = Cidr::parse("10.200.1.1");
  auto out = Cidr::parse("11.0.0.1");
  CHECK(c->contains(in->bytes, false));
  CHECK_FALSE(c->contains(out->bytes, false));
}

TEST_CASE("a non-global MX address gives a finding that names the block") {
  auto c = classify("10.1.2.3");
  auto f = address_finding(*c, "mx.example.net", "MX host");
  REQUIRE(f);
  CHECK(f->code == "address.rfc1918");
  CHECK(f->summary.find("RFC 1918") != std::string::npos);
  CHECK(f->summary.find("10.0.0.0/8") != std::string::npos);
}

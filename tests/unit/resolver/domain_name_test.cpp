#include <doctest/doctest.h>

#include <domain_name.hpp>
#include <resolver.hpp>

#include <string>

using namespace bp::resolver;

TEST_CASE("names are normalised to lower case without the trailing dot") {
  CHECK(normalize_name("Mail.Example.COM.") == "mail.example.com");
  CHECK(normalize_name(".") == ".");
  CHECK(same_name("EXAMPLE.com", "example.com."));
}

TEST_CASE("DNS limits are enforced before a query is sent") {
  CHECK(dns_name_problem("example.com").empty());
  CHECK(dns_name_problem(std::string(63, 'a') + ".example").empty());
  CHECK_FALSE(dns_name_problem(std::string(64, 'a') + ".example").empty());
  CHECK_FALSE(dns_name_problem("a..b").empty());
  CHECK_FALSE(dns_name_problem("").empty());
  std::string longname;
  for (int i = 0; i < 50; ++i) longname += "abcd.";
  longname += "example";
  CHECK_FALSE(dns_name_problem(longname).empty());
}

TEST_CASE("host names follow the LDH rule") {
  struct Row {
    const char* name;
    bool ok;
  };
  for (auto row : {Row{"mail.example.com", true}, Row{"xn--bcher-kva.example", true}, Row{"a-b.example", true},
                   Row{"-ab.example", false}, Row{"ab-.example", false}, Row{"a_b.example", false},
                   Row{"mail.example.123", false}, Row{"a b.example", false}}) {
    CAPTURE(row.name);
    CHECK(hostname_problem(row.name).empty() == row.ok);
  }
}

TEST_CASE("IP literals are recognised") {
  CHECK(looks_like_ip_literal("192.0.2.25"));
  CHECK(looks_like_ip_literal("192.0.2.25."));
  CHECK(looks_like_ip_literal("[2001:db8::1]"));
  CHECK_FALSE(looks_like_ip_literal("mx1.example.com"));
  CHECK_FALSE(looks_like_ip_literal("192.0.2"));
}

TEST_CASE("resolver specs are checked") {
  struct Row {
    const char* spec;
    bool ok;
  };
  for (auto row : {Row{"192.0.2.53", true}, Row{"192.0.2.53:5353", true}, Row{"2001:db8::53", true},
                   Row{"[2001:db8::53]:53", true}, Row{"192.0.2.53:0", false}, Row{"192.0.2.53:70000", false},
                   Row{"resolver.example", false}, Row{"[2001:db8::53", false}, Row{"192.0.2.53:", false}}) {
    CAPTURE(row.spec);
    CHECK(server_spec_problem(row.spec).empty() == row.ok);
  }
}

TEST_CASE("the root and names with a NUL byte are refused, not read past their end") {
  using namespace std::string_literals;
  CHECK(hostname_problem(".") == "the root is not a host name");
  CHECK(dns_name_problem(".").empty());  // the root can be asked about (". NS")
  CHECK(dns_name_problem("example.com\0.evil.example"s) == "name contains a NUL byte");
  CHECK_FALSE(hostname_problem("a\0b.example"s).empty());
  CHECK_FALSE(looks_like_ip_literal("192.0.2.1\0junk"s));
  IpBytes ip;
  CHECK_FALSE(parse_ip("192.0.2.1\0"s, &ip));
  CHECK_FALSE(parse_ip(std::string(200, '1'), &ip));
  REQUIRE(parse_ip("::ffff:192.0.2.1", &ip));
  CHECK(ip.v6);
  REQUIRE(parse_ip("192.0.2.1", &ip));
  CHECK_FALSE(ip.v6);
  CHECK(ip.bytes[3] == 1);
  CHECK(reversed_address_labels("192.0.2.1") == "1.2.0.192");
  CHECK(reversed_address_labels("192.0.2.1\0"s).empty());
}

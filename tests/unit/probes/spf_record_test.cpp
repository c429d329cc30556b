// The SPF record parser and macro expander (RFC 7208 sections 4.6, 7, 12).
#include <doctest/doctest.h>

#include <spf/record.hpp>

using namespace bp::probes::spf;

TEST_CASE("records parse into terms with qualifiers, domains and prefix lengths") {
  auto r = parse_record("v=spf1 +a -mx:mail.example.com/24//64 ~ip4:192.0.2.0/24 ?ip6:2001:db8::/32 include:_spf.example.net exists:%{i}.x.example ptr redirect=_spf.example.org exp=why.example.com unknown-mod=foo -all");
  REQUIRE(r.ok());
  const auto& t = r->terms;
  REQUIRE(t.size() == 11);
  CHECK(t[0].mechanism == Mechanism::a);
  CHECK(t[1].qualifier == '-');
  CHECK(t[1].domain_spec == "mail.example.com");
  CHECK(t[1].cidr4 == 24);
  CHECK(t[1].cidr6 == 64);
  CHECK(t[2].network == "192.0.2.0");
  CHECK(t[2].cidr4 == 24);
  CHECK(t[3].cidr6 == 32);
  CHECK(t[5].domain_spec == "%{i}.x.example");
  CHECK(r->redirect->domain_spec == "_spf.example.org");
  CHECK(r->exp->domain_spec == "why.example.com");
  CHECK(t[9].modifier);
  CHECK(t[9].name == "unknown-mod");
  CHECK(t[1].counts_lookup());
  CHECK_FALSE(t[2].counts_lookup());
}

TEST_CASE("a domain-spec may contain ':' and '/'; only a trailing /digits is a prefix length") {
  auto r = parse_record("v=spf1 a:foo:bar/baz.example.com/24");
  REQUIRE(r.ok());
  CHECK(r->terms[0].domain_spec == "foo:bar/baz.example.com");
  CHECK(r->terms[0].cidr4 == 24);
}

TEST_CASE("syntax errors name the term and its column") {
  struct Row {
    const char* record;
    std::size_t column;
    const char* term;
    const char* says;
  };
  const Row rows[] = {
      {"v=spf1 a:example.com bogus:x -all", 22, "bogus:x", "unknown mechanism"},
      {"v=spf1 ip4:192.0.2.0/33", 8, "ip4:192.0.2.0/33", "prefix length"},
      {"v=spf1 ip4:300.1.1.1", 8, "ip4:300.1.1.1", "not an IPv4 address"},
      {"v=spf1 a/024", 8, "a/024", "prefix length"},
      {"v=spf1 include", 8, "include", "needs ':domain'"},
      {"v=spf1 redirect=a.example redirect=b.example", 27, "redirect=b.example", "second 'redirect='"},
      {"v=spf1 a:%{z}.example.com", 8, "a:%{z}.example.com", "macro letter"},
      {"v=spf1 a:%{c}.example.com", 8, "a:%{c}.example.com", "macro letter"},
      {"v=spf1 a:foo", 8, "a:foo", "no dot"},
      {"v=spf1 a:example.123", 8, "a:example.123", "top-level label"},
      {"v=spf1 -all:foo", 8, "-all:foo", "takes no argument"},
      {"v=spf1 a:%{d0}.example", 8, "a:%{d0}.example", "zero label count"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.record);
    auto r = parse_record(row.record);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().column == row.column);
    CHECK(r.error().term == row.term);
    CHECK(r.error().message.find(row.says) != std::string::npos);
  }
}

TEST_CASE("only 'v=spf1' followed by a space or the end is an SPF record") {
  CHECK(is_spf_record("v=spf1"));
  CHECK(is_spf_record("V=SPF1 -all"));
  CHECK_FALSE(is_spf_record("v=spf10 -all"));
  CHECK_FALSE(is_spf_record("v=spf2 -all"));
  CHECK_FALSE(is_spf_record(" v=spf1 -all"));
}

TEST_CASE("macros expand as in RFC 7208 section 7.4") {
  MacroContext c;
  c.sender = "strong-bad@email.example.com";
  c.local = "strong-bad";
  c.sender_domain = "email.example.com";
  c.domain = "email.example.com";
  c.ip = "192.0.2.3";
  c.helo = "mx.example.org";
  struct Row {
    const char* in;
    const char* out;
  };
  for (auto row : {Row{"%{s}", "strong-bad@email.example.com"}, Row{"%{o}", "email.example.com"},
                   Row{"%{d}", "email.example.com"}, Row{"%{d4}", "email.example.com"},
                   Row{"%{d3}", "email.example.com"}, Row{"%{d2}", "example.com"}, Row{"%{d1}", "com"},
                   Row{"%{dr}", "com.example.email"}, Row{"%{d2r}", "example.email"}, Row{"%{l}", "strong-bad"},
                   Row{"%{l-}", "strong.bad"}, Row{"%{lr}", "strong-bad"}, Row{"%{lr-}", "bad.strong"},
                   Row{"%{l1r-}", "strong"}, Row{"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
                   Row{"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
                   Row{"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
                   Row{"%%%_%-", "% %20"}}) {
    CAPTURE(row.in);
    auto e = expand_macros(row.in, c, false, false);
    REQUIRE(e.ok());
    CHECK(*e == row.out);
  }
  c.ip = "2001:db8::cb01";
  c.ipv6 = true;
  auto e = expand_macros("%{ir}.%{v}._spf.%{d2}", c, true, false);
  REQUIRE(e.ok());
  CHECK(*e == "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
}

TEST_CASE("an upper-case macro letter is URL-escaped, and long domains are cut from the left") {
  MacroContext c;
  c.local = "a b/c";
  auto e = expand_macros("%{L}", c, false, false);
  REQUIRE(e.ok());
  CHECK(*e == "a%20b%2Fc");
  c.domain = std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(60, 'c') + "." + std::string(60, 'd') + ".example";
  auto d = expand_macros("%{d}.x.example", c, true, false);
  REQUIRE(d.ok());
  CHECK(d->size() <= 253);
  CHECK(d->rfind(".x.example") == d->size() - 10);
}

TEST_CASE("a prefix length past the family's maximum, however large, is a syntax error (RFC 7208 4.6.1, 5.6)") {
  // A number too large for an int once wrapped into /0: "192.0.2.1/0" authorised every address.
  for (const char* rec : {"v=spf1 ip4:192.0.2.1/99999999999 -all", "v=spf1 ip4:192.0.2.1/4294967296 -all",
                          "v=spf1 ip4:192.0.2.1/33 -all", "v=spf1 a/4294967296 -all", "v=spf1 mx/2147483648 -all",
                          "v=spf1 a//4294967296 -all", "v=spf1 ip6:2001:db8::/18446744073709551617 -all",
                          "v=spf1 ip6:2001:db8::/129 -all", "v=spf1 a/24//99999999999999999999 -all",
                          "v=spf1 ip4:192.0.2.1/-1 -all", "v=spf1 ip4:192.0.2.1/+8 -all"}) {
    CAPTURE(rec);
    auto r = parse_record(rec);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("prefix length") != std::string::npos);
  }
  auto ok = parse_record("v=spf1 ip4:192.0.2.1/32 ip6:2001:db8::/128 a/0//0 -all");
  REQUIRE(ok.ok());
  CHECK(ok->terms[0].cidr4 == 32);
  CHECK(ok->terms[1].cidr6 == 128);
  CHECK(ok->terms[2].cidr4 == 0);
}

TEST_CASE("an address with a NUL byte inside is not cut at the NUL") {
  using namespace std::string_literals;
  auto r = parse_record("v=spf1 ip4:192.0.2.1\0.99 -all"s);
  CHECK_FALSE(r.ok());
}

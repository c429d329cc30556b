#include "wire.hpp"
#include "zone_file.hpp"

#include <doctest/doctest.h>
#include <temp_file.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace bp::resolver;
using bp::test::TempFile;

namespace {

/// A zone file written for one test and removed after it.

const char* zone_text = R"($ORIGIN example.com.
$TTL 300
@        SOA   ns hostmaster ( 1 3600 600
                               86400 300 )
@        NS    ns
@        MX    10 mx1
mx1      A     192.0.2.25
alias    CNAME mx1
out      CNAME mail.example.net.
*.wild   TXT   "v=spf1 -all"
a.b.deep A     192.0.2.9
@        TXT   "v=spf1 " "mx -all"
sub      NS    ns.sub
ns.sub   A     192.0.2.99
)";

Lookup ask(const ZoneOverlay& z, const std::string& name, RrType type) {
  auto packet = z.reply(name, type);
  REQUIRE(packet.has_value());
  return parse_reply(*packet, name, type);
}

}  // namespace

TEST_CASE("zone file: records, multi-string TXT, parenthesised SOA, relative names") {
  TempFile f(zone_text);
  auto z = ZoneOverlay::load({f.path});
  CHECK(z->origins() == std::vector<std::string>{"example.com"});
  auto mx = ask(*z, "example.com", RrType::mx);
  REQUIRE(mx.ok());
  REQUIRE(mx->records.size() == 1);
  CHECK(mx->records[0].target == "mx1.example.com");
  CHECK(mx->records[0].preference == 10);
  auto txt = ask(*z, "example.com", RrType::txt);
  REQUIRE(txt.ok());
  CHECK(txt->records[0].strings == std::vector<std::string>{"v=spf1 ", "mx -all"});
  CHECK(txt->records[0].ttl == 300);
}

TEST_CASE("zone file: NXDOMAIN, NODATA at a name and at an empty non-terminal, wildcards") {
  TempFile f(zone_text);
  auto z = ZoneOverlay::load({f.path});
  auto none = ask(*z, "nothere.example.com", RrType::a);
  REQUIRE(!none.ok());
  CHECK(none.error().kind == DnsFailure::nxdomain);
  auto nodata = ask(*z, "mx1.example.com", RrType::aaaa);
  REQUIRE(!nodata.ok());
  CHECK(nodata.error().kind == DnsFailure::nodata);
  auto ent = ask(*z, "b.deep.example.com", RrType::a);  // exists only as the parent of a.b.deep
  REQUIRE(!ent.ok());
  CHECK(ent.error().kind == DnsFailure::nodata);
  auto wild = ask(*z, "x.wild.example.com", RrType::txt);
  REQUIRE(wild.ok());
  CHECK(wild->records[0].strings == std::vector<std::string>{"v=spf1 -all"});
}

TEST_CASE("zone file: a CNAME inside the file is followed, one leaving it is left to the resolver") {
  TempFile f(zone_text);
  auto z = ZoneOverlay::load({f.path});
  auto in = ask(*z, "alias.example.com", RrType::a);
  REQUIRE(in.ok());
  CHECK(in->cname_chain == std::vector<std::string>{"mx1.example.com"});
  CHECK(in->records[0].address == "192.0.2.25");
  auto out = ask(*z, "out.example.com", RrType::a);
  REQUIRE(!out.ok());
  CHECK(out.error().kind == DnsFailure::nodata);
  CHECK(out.error().cname_chain == std::vector<std::string>{"mail.example.net"});
}

TEST_CASE("zone file: names outside the origin or below a delegation are not covered") {
  TempFile f(zone_text);
  auto z = ZoneOverlay::load({f.path});
  CHECK(z->covering("example.org") == nullptr);
  CHECK(z->covering("notexample.com") == nullptr);
  CHECK(z->covering("www.sub.example.com") == nullptr);
  CHECK(z->covering("sub.example.com") == nullptr);
  REQUIRE(z->covering("www.example.com") != nullptr);
  CHECK(*z->covering("www.example.com") == "example.com");
  CHECK(!z->reply("example.org", RrType::a).has_value());
}

TEST_CASE("zone file: errors name the file, line and column, and what is wrong") {
  TempFile bad("$ORIGIN example.com.\n@ SOA ns hostmaster 1 2 3 4 5\nmx1 A 192.0.2\n");
  try {
    (void)ZoneOverlay::load({bad.path});
    FAIL("no error");
  } catch (const ZoneFileError& e) {
    const std::string what = e.what();
    CHECK(what.rfind(bad.path + ":3:", 0) == 0);
  }
  TempFile nosoa("www 300 IN A 192.0.2.1\n");
  CHECK_THROWS_AS((void)ZoneOverlay::load({nosoa.path}), ZoneFileError);
  // With the origin given, a file without SOA is fine.
  auto z = ZoneOverlay::load({"example.net=" + nosoa.path});
  CHECK(ask(*z, "www.example.net", RrType::a).ok());
  TempFile inc("$ORIGIN example.com.\n@ SOA ns hostmaster 1 2 3 4 5\n$INCLUDE other.zone\n");
  CHECK_THROWS_AS((void)ZoneOverlay::load({inc.path}), ZoneFileError);
  TempFile twice(zone_text);
  CHECK_THROWS_AS((void)ZoneOverlay::load({twice.path, twice.path}), ZoneFileError);
  CHECK_THROWS_AS((void)ZoneOverlay::load({"/nonexistent/zone"}), ZoneFileError);
}

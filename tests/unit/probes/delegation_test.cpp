// Tests for probes/delegation.cpp: the pure judgement of gathered name server evidence.
#include <doctest/doctest.h>

#include <delegation.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace bp::probes;
using namespace bp::probes::delegation;
using bp::resolver::Answer;
using bp::resolver::DnsFailure;
using bp::resolver::Failure;
using bp::resolver::Lookup;
using bp::resolver::Record;
using bp::resolver::RrType;

namespace {

Lookup ns_answer(const std::vector<std::string>& hosts) {
  Answer a;
  a.qname = "example.com";
  a.qtype = RrType::ns;
  for (const auto& h : hosts) {
    Record r;
    r.owner = "example.com";
    r.type = RrType::ns;
    r.target = h;
    a.records.push_back(r);
  }
  return a;
}

Lookup soa_answer(std::uint32_t serial, bool authoritative, std::uint32_t refresh = 3600, std::uint32_t retry = 600,
                  std::uint32_t expire = 1209600, std::uint32_t minimum = 300) {
  Answer a;
  a.qname = "example.com";
  a.qtype = RrType::soa;
  a.authoritative = authoritative;
  Record r;
  r.owner = "example.com";
  r.type = RrType::soa;
  r.target = "ns1.example.com";
  r.rname = "hostmaster.example.com";
  r.serial = serial;
  r.refresh = refresh;
  r.retry = retry;
  r.expire = expire;
  r.minimum = minimum;
  a.records.push_back(r);
  return a;
}

ServerAnswer server(const std::string& host, const std::string& ip, Lookup soa, bool asked = true) {
  return ServerAnswer{host, *classify(ip), asked, std::move(soa)};
}

Gathered two_servers() {
  Gathered g;
  g.domain = "example.com";
  g.ns = ns_answer({"ns1.example.com", "ns2.example.net"});
  g.soa = soa_answer(7, true);
  g.hosts = {{"ns1.example.com", Answer{}, Answer{}}, {"ns2.example.net", Answer{}, Answer{}}};
  g.servers = {server("ns1.example.com", "8.8.8.8", soa_answer(7, true)),
               server("ns2.example.net", "9.9.9.9", soa_answer(7, true))};
  return g;
}

std::vector<std::string> codes(const std::vector<Finding>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(f.code);
  return out;
}

bool has(const std::vector<Finding>& fs, const std::string& code) {
  return std::any_of(fs.begin(), fs.end(), [&](const Finding& f) { return f.code == code; });
}

}  // namespace

TEST_CASE("two servers that answer with authority and agree: one ok finding with the serial") {
  auto fs = delegation_findings(two_servers());
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == "delegation.ok");
  CHECK(fs[0].summary == "example.com has 2 name servers");
  CHECK(fs[0].detail.find("serial 7") != std::string::npos);
}

TEST_CASE("a server without the AA flag is lame; one with an older serial is a mismatch") {
  auto g = two_servers();
  g.servers[1].soa = soa_answer(7, false);
  auto fs = delegation_findings(g);
  CHECK(has(fs, "delegation.lame"));
  CHECK_FALSE(has(fs, "delegation.ok"));
  g = two_servers();
  g.servers[1].soa = soa_answer(6, true);
  fs = delegation_findings(g);
  REQUIRE(has(fs, "delegation.serial-mismatch"));
  CHECK(std::find_if(fs.begin(), fs.end(), [](const Finding& f) { return f.code == "delegation.serial-mismatch"; })
            ->summary.find("6 from ns2.example.net (9.9.9.9); 7 from ns1.example.com (8.8.8.8)") != std::string::npos);
}

TEST_CASE("a silent server is a warning while another answers, an error when none does") {
  auto g = two_servers();
  g.servers[1].soa = Failure{DnsFailure::timeout, "no reply within 2000 ms", -1, {}};
  auto fs = delegation_findings(g);
  auto silent = std::find_if(fs.begin(), fs.end(), [](const Finding& f) { return f.code == "delegation.ns-no-answer"; });
  REQUIRE(silent != fs.end());
  CHECK(silent->severity == Severity::warning);
  g.servers[0].soa = Failure{DnsFailure::timeout, "no reply within 2000 ms", -1, {}};
  fs = delegation_findings(g);
  for (const auto& f : fs) {
    if (f.code == "delegation.ns-no-answer") CHECK(f.severity == Severity::error);
  }
}

TEST_CASE("one name server, a private address, and SOA timers that defeat their purpose") {
  Gathered g;
  g.domain = "example.com";
  g.ns = ns_answer({"ns1.example.com"});
  g.soa = soa_answer(1, true, 3600, 3600, 3600, 172800);
  g.hosts = {{"ns1.example.com", Answer{}, Answer{}}};
  g.servers = {server("ns1.example.com", "10.0.0.53", Lookup{Answer{}}, false)};
  auto fs = delegation_findings(g);
  for (const char* c : {"delegation.single-ns", "delegation.ns-not-routable", "delegation.soa-retry", "delegation.soa-expire",
                        "delegation.soa-negative-ttl"}) {
    CAPTURE(c);
    CHECK(has(fs, c));
  }
  CHECK_FALSE(has(fs, "delegation.ok"));
}

TEST_CASE("no NS records: a name inside its parent's zone; NXDOMAIN: nothing (the MX probe says it)") {
  Gathered g;
  g.domain = "www.example.com";
  g.ns = Failure{DnsFailure::nodata, "no NS", 0, {}};
  CHECK(codes(delegation_findings(g)) == std::vector<std::string>{"delegation.not-apex"});
  g.ns = Failure{DnsFailure::nxdomain, "no such name", 3, {}};
  CHECK(delegation_findings(g).empty());
  g.ns = Failure{DnsFailure::servfail, "server answered SERVFAIL", 2, {}};
  auto fs = delegation_findings(g);
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == "delegation.not-checked");
  CHECK_FALSE(fs[0].checked);
}

TEST_CASE("from a zone file the servers are not asked, and the ok summary is the live one") {
  auto g = two_servers();
  g.from_zone_file = true;
  for (auto& s : g.servers) s.asked = false;
  auto fs = delegation_findings(g);
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].summary == delegation_findings(two_servers())[0].summary);
  CHECK(fs[0].detail.find("zone file") != std::string::npos);
}

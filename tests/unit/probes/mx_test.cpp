// interpret_mx() is pure: these tests build the lookups by hand.
#include <doctest/doctest.h>

#include <mx.hpp>

#include <algorithm>

using namespace bp::probes;
using bp::resolver::DnsFailure;
using bp::resolver::Failure;

namespace {
HostLookup target(const char* host, std::vector<const char*> addrs, std::uint16_t pref = 10) {
  HostLookup h;
  h.host = host;
  h.preference = pref;
  for (auto a : addrs) h.addresses.push_back(*classify(a));
  if (addrs.empty()) {
    h.a_failure = Failure{DnsFailure::nxdomain, "no such domain", 3, {}};
    h.aaaa_failure = Failure{DnsFailure::nxdomain, "no such domain", 3, {}};
  }
  return h;
}
bool has(const MxReport& r, const std::string& code) {
  return std::any_of(r.findings.begin(), r.findings.end(), [&](const Finding& f) { return f.code == code; });
}
}  // namespace

TEST_CASE("a healthy MX set is ok") {
  MxReport r;
  r.domain = "example.com";
  r.targets = {target("mx1.example.com", {"8.8.8.8"}), target("mx2.example.com", {"8.8.4.4"}, 20)};
  interpret_mx(r);
  CHECK(r.status == MxStatus::has_mx);
  CHECK(has(r, "mx.ok"));
}

TEST_CASE("a lookup failure is never reported as an absence") {
  for (auto kind : {DnsFailure::servfail, DnsFailure::timeout, DnsFailure::refused}) {
    MxReport r;
    r.domain = "example.com";
    r.failure = Failure{kind, "x", -1, {}};
    interpret_mx(r);
    CHECK(r.status == MxStatus::lookup_failed);
    REQUIRE(r.findings.size() == 1);
    CHECK_FALSE(r.findings[0].checked);
    CHECK(r.findings[0].code == "mx.lookup-failed");
  }
}

TEST_CASE("a null MX next to another MX is an error") {
  MxReport r;
  r.domain = "example.com";
  HostLookup null_target;
  r.targets = {null_target, target("mx1.example.com", {"8.8.8.8"})};
  interpret_mx(r);
  CHECK(has(r, "mx.null-mx-mixed"));
}

TEST_CASE("an MX whose only target is private is undeliverable") {
  MxReport r;
  r.domain = "example.net";
  r.targets = {target("mx.example.net", {"192.168.1.25"})};
  interpret_mx(r);
  CHECK(r.status == MxStatus::no_usable_target);
  CHECK(has(r, "address.rfc1918"));
  CHECK(has(r, "mx.no-usable-target"));
}

TEST_CASE("one usable target among broken ones keeps the domain deliverable") {
  MxReport r;
  r.domain = "example.net";
  r.targets = {target("gone.example.net", {}), target("mx1.example.com", {"8.8.8.8"}, 20)};
  interpret_mx(r);
  CHECK(r.status == MxStatus::has_mx);
  CHECK(has(r, "mx.target-unresolvable"));
}

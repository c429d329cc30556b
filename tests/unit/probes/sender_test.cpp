#include <doctest/doctest.h>

#include <sender.hpp>

using namespace bp::probes;

TEST_CASE("mail address syntax") {
  struct Row {
    const char* text;
    bool parses;
    bool fqdn;
  };
  const Row rows[] = {
      {"alice@example.com", true, true},
      {"<alice@example.com>", true, true},
      {"first.last+tag@mail.example.com", true, true},
      {"\"odd local\"@example.com", true, true},
      {"alice@localhost", true, false},
      {"alice", true, false},
      {"alice@server", true, false},
      {"alice@exa_mple.com", true, false},
      {"alice@example.123", true, false},
      {"alice@[192.0.2.1]", true, true},
      {"alice@bücher.example", true, true},
      {"<>", true, true},
      {"al ice@example.com", false, false},
      {".alice@example.com", false, false},
      {"al..ice@example.com", false, false},
      {"alice@", false, false},
      {"alice@example..com", false, false},
      {"alice@[not-an-ip]", false, false},
      {"\"unterminated@example.com", false, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.text);
    auto c = check_address(row.text, "sender");
    CHECK(c.address.has_value() == row.parses);
    CHECK(c.fqdn == row.fqdn);
    if (!row.parses) CHECK(c.findings.at(0).code == "sender.syntax");
    if (row.parses && !row.fqdn) CHECK(c.findings.at(0).code == "sender.not-fqdn");
  }
}

TEST_CASE("an IDN domain is converted to its A-label") {
  std::string why;
  auto a = parse_mail_address("alice@Bücher.Example", &why);
  REQUIRE(a);
  CHECK(a->ascii_domain == "xn--bcher-kva.example");
  CHECK(a->idn);
  CHECK_FALSE(parse_mail_address("alice@xn--zz.example", &why).has_value());
}

TEST_CASE("a local part longer than 64 octets is rejected") {
  std::string why;
  CHECK_FALSE(parse_mail_address(std::string(65, 'a') + "@example.com", &why));
  CHECK(why.find("64") != std::string::npos);
}

namespace {
MxReport report_with(MxStatus status, std::optional<bp::resolver::DnsFailure> failure, std::vector<HostLookup> targets) {
  MxReport r;
  r.domain = "example.net";
  r.status = status;
  if (failure) r.failure = bp::resolver::Failure{*failure, "test", -1, {}};
  r.targets = std::move(targets);
  return r;
}
HostLookup host_with(const char* name, const char* addr) {
  HostLookup h;
  h.host = name;
  if (addr != nullptr) h.addresses.push_back(*classify(addr));
  return h;
}
}  // namespace

TEST_CASE("the sender domain is judged as Postfix reject_unknown_sender_domain does") {
  using bp::resolver::DnsFailure;
  CHECK(sender_domain_state(report_with(MxStatus::has_mx, std::nullopt, {host_with("mx.example.net", "192.0.2.1")})) ==
        DomainMailState::exists);
  CHECK(sender_domain_state(report_with(MxStatus::domain_not_found, DnsFailure::nxdomain, {})) == DomainMailState::not_found);
  CHECK(sender_domain_state(report_with(MxStatus::lookup_failed, DnsFailure::servfail, {})) == DomainMailState::lookup_failed);
  CHECK(sender_domain_state(report_with(MxStatus::lookup_failed, DnsFailure::timeout, {})) == DomainMailState::lookup_failed);
  CHECK(sender_domain_state(report_with(MxStatus::null_mx, std::nullopt, {host_with("", nullptr)})) == DomainMailState::null_mx);
  // No MX but an A record: exists (implicit MX).
  CHECK(sender_domain_state(report_with(MxStatus::implicit_mx, DnsFailure::nodata, {host_with("example.net", "192.0.2.9")})) ==
        DomainMailState::exists);
  // An MX whose targets do not resolve still makes the domain exist for this check.
  CHECK(sender_domain_state(report_with(MxStatus::no_usable_target, std::nullopt, {host_with("gone.example.net", nullptr)})) ==
        DomainMailState::exists);
}

TEST_CASE("a private sender MX gives the mx_access finding, a null MX does not") {
  auto r = report_with(MxStatus::no_usable_target, std::nullopt, {host_with("mx.example.net", "10.1.2.3")});
  auto f = sender_domain_findings(r, "alice@example.net");
  REQUIRE(f.size() == 1);
  CHECK(f[0].code == "sender.mx-rfc1918");
  auto n = report_with(MxStatus::null_mx, std::nullopt, {host_with("", nullptr)});
  CHECK(sender_mx_addresses(n).empty());
}

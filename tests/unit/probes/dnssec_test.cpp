// Tests for probes/dnssec.cpp: the judgement of DNSKEY, DS and the AD flag.
#include <doctest/doctest.h>

#include <dnssec.hpp>

#include <string>
#include <vector>

using namespace bp::probes;
using namespace bp::probes::dnssec;
using bp::resolver::Answer;
using bp::resolver::DnsFailure;
using bp::resolver::Failure;
using bp::resolver::Lookup;
using bp::resolver::Record;
using bp::resolver::RrType;

namespace {
Lookup answer(RrType type, bool ad) {
  Answer a;
  a.qname = "example.com";
  a.qtype = type;
  a.authenticated = ad;
  Record r;
  r.owner = "example.com";
  r.type = type;
  r.key_flags_or_tag = type == RrType::dnskey ? 257 : 12345;
  r.algorithm = 13;
  r.digest_type = 2;
  r.data = "key";
  a.records.push_back(r);
  return a;
}

Lookup nodata() { return Failure{DnsFailure::nodata, "no such record", 0, {}}; }

Gathered gathered(Lookup dnskey, Lookup ds) {
  return Gathered{"example.com", answer(RrType::soa, false), std::move(dnskey), std::move(ds), std::nullopt, std::nullopt};
}

std::string only_code(const std::vector<Finding>& fs) {
  REQUIRE(fs.size() == 1);
  return fs[0].code;
}
}  // namespace

TEST_CASE("DNSSEC: unsigned, an island without DS, not validated here, and validated") {
  CHECK(only_code(dnssec_findings(gathered(nodata(), nodata()))) == "dnssec.unsigned");
  CHECK(only_code(dnssec_findings(gathered(answer(RrType::dnskey, false), nodata()))) == "dnssec.no-ds");
  auto fs = dnssec_findings(gathered(answer(RrType::dnskey, false), answer(RrType::ds, false)));
  CHECK(only_code(fs) == "dnssec.not-validated");
  CHECK(fs[0].severity == Severity::info);
  fs = dnssec_findings(gathered(answer(RrType::dnskey, true), answer(RrType::ds, true)));
  CHECK(only_code(fs) == "dnssec.ok");
  CHECK(fs[0].severity == Severity::ok);
  // Validated DNSKEY but a DS answer without AD: not counted as validated.
  CHECK(only_code(dnssec_findings(gathered(answer(RrType::dnskey, true), answer(RrType::ds, false)))) == "dnssec.not-validated");
}

TEST_CASE("DNSSEC: a name that is not a zone apex is not judged; a failed lookup is not checked") {
  Gathered g = gathered(nodata(), nodata());
  g.soa = nodata();
  CHECK(dnssec_findings(g).empty());
  auto fs = dnssec_findings(gathered(Failure{DnsFailure::servfail, "server answered SERVFAIL", 2, {}}, nodata()));
  CHECK(only_code(fs) == "dnssec.not-checked");
  CHECK_FALSE(fs[0].checked);
  // SOA itself failing is not checked either (not silence).
  g = gathered(nodata(), nodata());
  g.soa = Failure{DnsFailure::timeout, "no reply within 300 ms", -1, {}};
  CHECK(only_code(dnssec_findings(g)) == "dnssec.not-checked");
}

TEST_CASE("DNSSEC: SERVFAIL that answers with checking disabled is a zone that fails validation") {
  const Lookup servfail = Failure{DnsFailure::servfail, "server answered SERVFAIL", 2, {}};
  Gathered g = gathered(servfail, servfail);
  g.soa = servfail;
  g.soa_unchecked = answer(RrType::soa, false);
  g.dnskey_unchecked = answer(RrType::dnskey, false);
  auto fs = dnssec_findings(g);
  CHECK(only_code(fs) == "dnssec.bogus");
  CHECK(fs[0].severity == Severity::error);
  REQUIRE(fs[0].evidence.size() == 2);
  CHECK(fs[0].evidence[1].query == "example.com DNSKEY (CD=1)");
  // The server itself failing (SERVFAIL with CD too) is not bogus: it could not be checked.
  g.soa_unchecked = servfail;
  g.dnskey_unchecked = servfail;
  CHECK(only_code(dnssec_findings(g)) == "dnssec.not-checked");
}

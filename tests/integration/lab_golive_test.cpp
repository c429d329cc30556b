// End-to-end tests of the go-live checks beside MX, SPF and DMARC: DKIM keys, the
// delegation, DNSSEC, MTA-STS (records and the policy fetched over HTTPS) and
// TLS-RPT, each on its fixture in the lab.
#include "lab_support.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

using nlohmann::json;
using namespace lab;

TEST_CASE("check: DKIM keys at the selectors given, or at the common ones, each judged as verifiers judge it") {
  auto keys = bp("check --json" + std::string(routable) +
                 " --dkim-selector k512 --dkim-selector k1024 --dkim-selector revoked --dkim-selector testing"
                 " --dkim-selector garbage --dkim-selector missing dkimkeys.example.net");
  REQUIRE(keys.j.is_object());
  const auto c = codes(keys.j["domains"][0]);
  for (const char* code : {"dkim.key-weak", "dkim.key-short", "dkim.key-revoked", "dkim.key-testing", "dkim.key-syntax", "dkim.key-missing"}) {
    CAPTURE(code);
    CHECK(c.count(code) == 1);
  }
  CHECK(keys.rc == 1);  // a key under 1024 bits, a broken one and a missing one are errors
  // The JSON facts: each selector asked, whether a record is there, and its result.
  std::map<std::string, std::string> results;
  for (const auto& k : keys.j["domains"][0]["dkim_keys"]) results[k["selector"].get<std::string>()] = k["result"].get<std::string>();
  CHECK(results["k512"] == "dkim.key-weak");
  CHECK(results["revoked"] == "dkim.key-revoked");
  CHECK(results["missing"] == "dkim.key-missing");
  // A 4 kB record (over TCP: too long for UDP) whose p= is not a key: one finding, quickly.
  auto huge = bp("check --json" + std::string(routable) + " --dkim-selector huge dkimkeys.example.net");
  REQUIRE(huge.j.is_object());
  bool judged = false;
  for (const auto& f : huge.j["domains"][0]["findings"]) {
    if (f["probe"] == "dkim" && f["subject"].get<std::string>().find("huge._domainkey") != std::string::npos) {
      judged = true;
      CHECK(f["code"] == "dkim.key-syntax");
    }
  }
  CHECK(judged);
  CHECK(huge.seconds < 5);
  auto good = bp("check --json" + std::string(routable) + " --dkim-selector rsa2026 --dkim-selector ed2026 example.com");
  REQUIRE(good.j.is_object());
  int ok = 0;
  for (const auto& f : good.j["domains"][0]["findings"]) ok += f["code"] == "dkim.key-ok" ? 1 : 0;
  CHECK(ok == 2);
  CHECK(good.rc == 0);
  // No selector given: the common ones are tried; none exists for example.com, which is said, not an error.
  auto common = bp("check --json" + std::string(routable) + " example.com");
  REQUIRE(common.j.is_object());
  CHECK(codes(common.j["domains"][0]).count("dkim.no-key-found") == 1);
  CHECK(common.rc == 0);
  auto none = bp("check --json --no-dkim" + std::string(routable) + " example.com");
  REQUIRE(none.j.is_object());
  CHECK(codes(none.j["domains"][0]).count("dkim.no-key-found") == 0);
  CHECK_FALSE(none.j["domains"][0].contains("dkim_keys"));
  CHECK(bp("check --no-dkim --dkim-selector x example.com").rc == 2);
}

TEST_CASE("check: the delegation: each way a name server fails, SOA timers, servers that disagree, and a healthy pair") {
  auto r = bp("check --json deleg.example serial.example example.com example.org" + std::string(routable));
  REQUIRE(r.j.is_object());
  const auto& doms = r.j["domains"];
  REQUIRE(doms.size() == 4);
  const auto find = [](const json& d, const std::string& code, const std::string& subject) -> const json* {
    for (const auto& f : d["findings"]) {
      if (f["code"] == code && (subject.empty() || f["subject"] == subject)) return &f;
    }
    return nullptr;
  };
  struct Row {
    const char* code;
    const char* subject;
    const char* severity;
  };
  // deleg.example: one server serves it; each of the others fails its own way.
  for (const Row& row : std::vector<Row>{{"delegation.lame", "refusing.deleg.example", "error"},
                                         {"delegation.ns-no-answer", "silent.deleg.example", "warning"},
                                         {"delegation.ns-no-address", "gone.deleg.example", "error"},
                                         {"delegation.ns-not-routable", "private.deleg.example", "error"},
                                         {"delegation.ns-alias", "alias.deleg.example", "warning"},
                                         {"delegation.soa-retry", "deleg.example", "warning"},
                                         {"delegation.soa-expire", "deleg.example", "warning"},
                                         {"delegation.soa-negative-ttl", "deleg.example", "info"}}) {
    CAPTURE(row.code);
    const json* f = find(doms[0], row.code, row.subject);
    REQUIRE(f != nullptr);
    CHECK((*f)["severity"] == row.severity);
  }
  CHECK(find(doms[0], "delegation.lame", "refusing.deleg.example")->dump().find("REFUSED") != std::string::npos);
  // A server that claims authority for every name answers with an SOA of its own making: it disagrees.
  const json* everything = find(doms[0], "delegation.serial-mismatch", "deleg.example");
  REQUIRE(everything != nullptr);
  CHECK((*everything)["summary"].get<std::string>().find("4242 from everything.deleg.example (192.0.2.91)") != std::string::npos);
  CHECK(find(doms[0], "delegation.ok", "") == nullptr);
  // serial.example: Knot has serial 2, the old copy at 192.0.2.51 serial 1.
  const json* mismatch = find(doms[1], "delegation.serial-mismatch", "serial.example");
  REQUIRE(mismatch != nullptr);
  CHECK((*mismatch)["summary"].get<std::string>().find("1 from old.serial.example (192.0.2.51)") != std::string::npos);
  CHECK((*mismatch)["summary"].get<std::string>().find("2 from ns.example.com (192.0.2.53)") != std::string::npos);
  // The JSON facts: each server asked, with its answer and serial.
  std::map<std::string, std::int64_t> serials;
  for (const auto& s : doms[1]["delegation"]["servers"]) {
    CHECK(s["asked"] == true);
    CHECK(s["outcome"] == "answer");
    serials[s["address"].get<std::string>()] = s["serial"].get<std::int64_t>();
  }
  CHECK(serials == std::map<std::string, std::int64_t>{{"192.0.2.51", 1}, {"192.0.2.53", 2}});
  CHECK(doms[0]["delegation"]["apex"] == true);
  bool refused = false;
  for (const auto& s : doms[0]["delegation"]["servers"]) refused = refused || (s["host"] == "refusing.deleg.example" && s["outcome"] == "refused");
  CHECK(refused);
  // example.com: two name servers (both Knot) that answer with authority and agree.
  const json* ok = find(doms[2], "delegation.ok", "example.com");
  REQUIRE(ok != nullptr);
  CHECK((*ok)["summary"] == "example.com has 2 name servers");
  CHECK(codes(doms[2]).count("delegation.single-ns") == 0);
  // example.org has one name server.
  CHECK(find(doms[3], "delegation.single-ns", "example.org") != nullptr);
  // A name inside its parent's zone has no delegation of its own; --no-delegation asks nothing.
  auto sub = bp("check --json smtp-slowbanner.example.net" + std::string(routable));
  REQUIRE(sub.j.is_object());
  CHECK(codes(sub.j["domains"][0]).count("delegation.not-apex") == 1);
  auto off = bp("check --no-delegation --json deleg.example" + std::string(routable));
  REQUIRE(off.j.is_object());
  for (const auto& f : off.j["domains"][0]["findings"]) CHECK(f["probe"] != "delegation");
}

TEST_CASE("check: DNSSEC through Knot itself: unsigned, an island without DS, and signed with a DS but not validated") {
  auto r = bp("check --json example.com island.example signed.example smtp-slowbanner.example.net" + std::string(routable));
  REQUIRE(r.j.is_object());
  const auto& doms = r.j["domains"];
  REQUIRE(doms.size() == 4);
  CHECK(codes(doms[0]).count("dnssec.unsigned") == 1);
  CHECK(codes(doms[1]).count("dnssec.no-ds") == 1);
  for (const auto& f : doms[1]["findings"]) {
    if (f["code"] == "dnssec.no-ds") {
      CHECK(f["severity"] == "warning");
      // The DNSKEY answer Knot's signing produced is the evidence (algorithm 13, ECDSA P-256 SHA-256).
      CHECK(f["evidence"].dump().find(" 3 13 ") != std::string::npos);
    }
  }
  // An authoritative server sets no AD flag: signed with a DS, but not validated here.
  CHECK(codes(doms[2]).count("dnssec.not-validated") == 1);
  // A name inside its parent's zone is not judged on its own.
  for (const auto& f : doms[3]["findings"]) CHECK(f["probe"] != "dnssec");
  auto off = bp("check --no-dnssec --json signed.example" + std::string(routable));
  REQUIRE(off.j.is_object());
  for (const auto& f : off.j["domains"][0]["findings"]) CHECK(f["probe"] != "dnssec");
}

TEST_CASE("check: DNSSEC through a validating resolver: a chain of trust, an island, a zone that fails validation; DANE as senders judge it") {
  // unbound on 192.0.2.56 validates from example.'s key; Knot signs example. and its children.
  const std::string via_unbound = " --resolver 192.0.2.56 --no-dkim --no-delegation --routable 192.0.2.0/24 --dnsbl-resolver 192.0.2.54 "
                                  "--ca-file " + env("BP_LAB_STATE") + "/postfix/tls/ca.pem";
  auto r = bp("check --json" + via_unbound + " signed.example island.example bogus.example");
  CAPTURE(r.err);
  REQUIRE(r.j.is_object());
  const auto& d = r.j["domains"];
  REQUIRE(d.size() == 3);
  CHECK(codes(d[0]).count("dnssec.ok") == 1);
  CHECK(codes(d[1]).count("dnssec.no-ds") == 1);
  CHECK(codes(d[2]).count("dnssec.bogus") == 1);
  // The JSON facts say the same.
  CHECK(d[0]["dnssec"]["validated"] == true);
  CHECK(d[0]["dnssec"]["ds"] == true);
  CHECK(d[1]["dnssec"]["signed"] == true);
  CHECK(d[1]["dnssec"]["ds"] == false);
  CHECK(d[2]["dnssec"]["bogus"] == true);
  CHECK(d[2]["dnssec"]["validated"] == false);
  bool ksk = false;
  for (const auto& k : d[0]["dnssec"]["keys"]) ksk = ksk || k == "257 13";
  CHECK(ksk);
  // DANE: the TLSA record of signed.example's mail host came validated, so its match is a ✓ (ok);
  // island.example's mail host is mx1.example.com, whose TLSA answer is not validated: info.
  const auto dane_severity = [](const json& dom) {
    for (const auto& f : dom["findings"]) {
      if (f["code"] == "smtp.dane-match") return f["severity"].get<std::string>();
    }
    return std::string("none");
  };
  CHECK(dane_severity(d[0]) == "ok");
  CHECK(dane_severity(d[1]) == "info");
  bool validated = false;
  for (const auto& s : d[0]["smtp"]["sessions"]) validated = validated || s["tls"]["dane_validated"] == true;
  CHECK(validated);
  // The zone that fails validation: everything in it is SERVFAIL, and the DNSSEC finding says why.
  for (const auto& f : d[2]["findings"]) {
    if (f["code"] == "dnssec.bogus") {
      CHECK(f["severity"] == "error");
      CHECK(f["evidence"][1]["query"] == "bogus.example DNSKEY (CD=1)");
    }
  }
  CHECK(codes(d[2]).count("mx.lookup-failed") == 1);
  // Lookups that failed say nothing of whether DKIM keys exist: no "no key found" for the bogus zone.
  auto keys = bp("check --json --resolver 192.0.2.56 --no-smtp --no-delegation bogus.example");
  REQUIRE(keys.j.is_object());
  CHECK(codes(keys.j["domains"][0]).count("dkim.no-key-found") == 0);
  CHECK(codes(keys.j["domains"][0]).count("dkim.key-lookup-failed") == 1);
}

TEST_CASE("check: MTA-STS and TLS-RPT records, each problem on its fixture") {
  struct Row {
    const char* domain;
    const char* sts;
    const char* rpt;
  };
  for (const auto& row : {Row{"example.com", "mta-sts.none", "tls-rpt.ok"}, Row{"sts.example.net", "mta-sts.record-ok", "tls-rpt.none"}, Row{"stsbad.example.net", "mta-sts.syntax", "tls-rpt.bad-rua"},
                          Row{"ststwo.example.net", "mta-sts.several", "tls-rpt.syntax"}, Row{"example.org", "mta-sts.none", "tls-rpt.none"}}) {
    CAPTURE(row.domain);
    auto r = bp("check --json --no-dkim --no-mta-sts-fetch" + std::string(routable) + " " + row.domain);
    REQUIRE(r.j.is_object());
    const auto c = codes(r.j["domains"][0]);
    CHECK(c.count(row.sts) == 1);
    CHECK(c.count(row.rpt) == 1);
    // A valid record without the fetch says the policy was not looked at.
    CHECK(c.count("mta-sts.policy-not-fetched") == (std::string(row.sts) == "mta-sts.record-ok" ? 1 : 0));
    CHECK_FALSE(r.j["domains"][0].contains("mta_sts"));
  }
}

namespace {

/// The first finding of `domain` with `code`, or null.
json finding(const json& domain, const std::string& code) {
  for (const auto& f : domain["findings"]) {
    if (f["code"] == code) return f;
  }
  return json();
}

std::string lab_ca() { return " --ca-file " + env("BP_LAB_STATE") + "/postfix/tls/ca.pem"; }

}  // namespace

TEST_CASE("check: the MTA-STS policy fetched over HTTPS: a valid one, an MX it leaves out, and each way the fetch fails") {
  auto r = bp("check --json --no-dkim --no-delegation --no-dnssec --smtp-timeout 2000" + std::string(routable) + lab_ca() +
              " sts.example.net sts-uncovered.example.net sts-redirect.example.net sts-huge.example.net sts-html.example.net"
              " sts-silent.example.net sts-nohost.example.net");
  CAPTURE(r.err);
  REQUIRE(r.j.is_object());
  const auto& d = r.j["domains"];
  REQUIRE(d.size() == 7);
  // A valid policy, its lines ending in CRLF and LF mixed, whose wildcard covers mx1.example.com.
  const auto& ok = d[0];
  CHECK(codes(ok).count("mta-sts.policy-ok") == 1);
  CHECK(finding(ok, "mta-sts.policy-ok")["summary"] == "policy id 2026120101: mode enforce, max_age 604800, mx *.example.com");
  CHECK(codes(ok).count("mta-sts.mx-not-covered") == 0);
  CHECK(codes(ok).count("mta-sts.max-age-short") == 0);
  CHECK(codes(ok).count("mta-sts.mx-tls-unchecked") == 1);  // --no-smtp
  CHECK(ok["mta_sts"]["address"] == "192.0.2.61");
  CHECK(ok["mta_sts"]["tls_ok"] == true);
  CHECK(ok["mta_sts"]["response"]["status"] == 200);
  CHECK(ok["mta_sts"]["policy"]["mx"] == json::array({"*.example.com"}));
  // An mx: list without mx2.example.com, in enforce mode, and a max_age of an hour.
  const auto& uncovered = d[1];
  const auto miss = finding(uncovered, "mta-sts.mx-not-covered");
  CHECK(miss["subject"] == "mx2.example.com");
  CHECK(miss["severity"] == "error");
  int misses = 0;
  for (const auto& f : uncovered["findings"]) misses += f["code"] == "mta-sts.mx-not-covered";
  CHECK(misses == 1);  // mx1 and mx.expired-tls are listed
  CHECK(codes(uncovered).count("mta-sts.max-age-short") == 1);
  // A redirect (to itself) is not followed.
  const auto redirect = finding(d[2], "mta-sts.policy-http-status");
  CHECK(redirect["summary"].get<std::string>().find("answers 301 Moved Permanently") != std::string::npos);
  CHECK(redirect["summary"].get<std::string>().find("senders do not follow redirects") != std::string::npos);
  // A 10 MB policy is read up to the bound, not further.
  CHECK(codes(d[3]).count("mta-sts.policy-too-large") == 1);
  CHECK(d[3]["mta_sts"]["response"]["body_cut"] == true);
  // A valid policy served as text/html.
  CHECK(codes(d[4]).count("mta-sts.policy-content-type") == 1);
  CHECK(codes(d[4]).count("mta-sts.policy-ok") == 1);
  // A host that takes the connection and never answers the TLS handshake: bounded by --smtp-timeout.
  const auto silent = finding(d[5], "mta-sts.policy-unreachable");
  CHECK(silent["summary"].get<std::string>().find("no TLS handshake within the 2000 ms bound") != std::string::npos);
  // A record, but no host to fetch the policy from.
  const auto nohost = finding(d[6], "mta-sts.policy-unreachable");
  CHECK(nohost["summary"].get<std::string>().find("mta-sts.sts-nohost.example.net has no address") != std::string::npos);
  CHECK(ok["summary"]["error"] == 0);
  for (std::size_t i = 1; i < d.size(); ++i) CHECK(d[i]["summary"]["error"].get<int>() > 0);
  CHECK(r.seconds < 15);
}

TEST_CASE("check: the MTA-STS policy host's certificate must chain to a trusted root; each MX host's certificate is judged too") {
  // Without the lab CA, the policy host's certificate is not trusted: senders ignore the policy.
  auto untrusted = bp("check --json --no-dkim --no-delegation --no-dnssec" + std::string(routable) + " sts.example.net");
  REQUIRE(untrusted.j.is_object());
  const auto cert = finding(untrusted.j["domains"][0], "mta-sts.policy-certificate");
  CHECK(cert["summary"].get<std::string>().find("does not chain to a trusted root") != std::string::npos);
  CHECK(untrusted.j["domains"][0]["mta_sts"]["tls_ok"] == false);
  CHECK_FALSE(untrusted.j["domains"][0]["mta_sts"].contains("policy"));
  // With the dialogue: the expired certificate of an MX host the policy lists is an error; mx1's valid one is not.
  auto smtp = bp("check --json --no-dkim --no-delegation --no-dnssec --routable 192.0.2.0/24 --routable 2001:db8::/32 "
                 "--dnsbl-resolver 192.0.2.54" + lab_ca() + " sts-uncovered.example.net");
  REQUIRE(smtp.j.is_object());
  const auto& d = smtp.j["domains"][0];
  std::set<std::string> tls_subjects;
  for (const auto& f : d["findings"]) {
    if (f["code"] == "mta-sts.mx-tls") tls_subjects.insert(f["subject"].get<std::string>());
  }
  CHECK(tls_subjects == std::set<std::string>{"mx.expired-tls.example.net"});
  CHECK(finding(d, "mta-sts.mx-tls")["summary"].get<std::string>().find("presents a certificate that has expired") != std::string::npos);
  CHECK(codes(d).count("mta-sts.mx-tls-unchecked") == 0);
}


TEST_CASE("check --mta-sts-state: the policy remembered as a sender caches it; a change under the same id is a warning") {
  char dir[] = "/tmp/bp-sts-state-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string state = std::string(dir) + "/state.json";
  const std::string args = "check --json --no-dkim --no-delegation --no-dnssec" + std::string(routable) + lab_ca() +
                           " --mta-sts-state " + state + " sts.example.net";
  // The first run remembers the policy; the second finds it unchanged.
  auto first = bp(args);
  REQUIRE(first.j.is_object());
  std::ifstream in(state);
  REQUIRE(in.good());
  const auto saved = json::parse(in);
  CHECK(saved["sts.example.net"]["id"] == "2026120101");
  CHECK(saved["sts.example.net"]["summary"] == "mode enforce, max_age 604800, mx *.example.com");
  CHECK(saved["sts.example.net"]["digest"].get<std::string>().size() == 64);
  auto second = bp(args);
  REQUIRE(second.j.is_object());
  for (const auto& f : second.j["domains"][0]["findings"]) {
    CHECK(f["code"] != "mta-sts.id-unchanged");
    CHECK(f["code"] != "mta-sts.policy-changed");
  }
  // What a sender cached last week differs from what is served now, under the same id.
  json old = saved;
  old["sts.example.net"]["digest"] = std::string(64, '0');
  old["sts.example.net"]["summary"] = "mode testing, max_age 604800, mx *.example.com";
  old["sts.example.net"]["seen_at"] = "2026-11-24T00:00:00Z";
  std::ofstream(state) << old.dump();
  auto changed = bp(args);
  REQUIRE(changed.j.is_object());
  const auto f = finding(changed.j["domains"][0], "mta-sts.id-unchanged");
  REQUIRE(f.is_object());
  CHECK(f["severity"] == "warning");
  CHECK(f["summary"].get<std::string>().find("changed since 2026-11-24T00:00:00Z (mode testing") != std::string::npos);
  // The same under a new id: said, not a problem.
  old["sts.example.net"]["id"] = "2026110101";
  std::ofstream(state) << old.dump();
  auto renewed = bp(args);
  REQUIRE(renewed.j.is_object());
  CHECK(finding(renewed.j["domains"][0], "mta-sts.policy-changed")["severity"] == "info");
  // A state file that is not one is a usage error, one line.
  std::ofstream(state) << "[1, 2]";
  auto bad = bp(args);
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("is not a state file: not a JSON object") != std::string::npos);
  // What would stop the state from being written is said before the run.
  auto dir_state = bp("check --no-smtp --mta-sts-state " + std::string(dir) + " sts.example.net");
  CHECK(dir_state.rc == 2);
  CHECK(dir_state.err == "bounceprobe: error: --mta-sts-state '" + std::string(dir) + "' is a directory\n");
  auto no_dir = bp("check --no-smtp --mta-sts-state /nonexistent/dir/state.json sts.example.net");
  CHECK(no_dir.rc == 2);
  CHECK(no_dir.err.find("cannot be written: no directory /nonexistent/dir") != std::string::npos);
  std::remove(state.c_str());
  rmdir(dir);
}

// End-to-end tests: the real bounceprobe binary, run inside the lab's network
// namespace against a real Knot DNS server serving tests/lab/zones.
// Paths come from CMake; BP_LAB_SH, BP_LAB_STATE and BP_BINARY in the environment override them.
#include "lab_support.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>
#include <sys/wait.h>
#include <unistd.h>

using nlohmann::json;
using namespace lab;

TEST_CASE("check: a healthy domain has usable MX hosts and exits 0") {
  auto d = check_one("example.com", 0);
  CHECK(d["mx"]["status"] == "has_mx");
  CHECK(d["mx"]["hosts"].size() == 2);
  CHECK(d["mx"]["hosts"][0]["host"] == "mx1.example.com");
  CHECK(d["mx"]["hosts"][1]["addresses"].size() == 2);  // A and AAAA
  CHECK(codes(d).count("mx.ok") == 1);
  CHECK(codes(d).count("dnsbl.clean") == 1);
  CHECK(d["summary"]["error"] == 0);
  CHECK(d["summary"]["warning"] == 0);
  CHECK(d["summary"]["not_checked"] == 0);
}

TEST_CASE("check: null MX, and a null MX mixed with others") {
  // The fixture's SPF record also authorizes a sender, which is an error next to a null MX.
  auto d = check_one("nullmx.example.net", 1);
  CHECK(d["mx"]["status"] == "null_mx");
  CHECK(codes(d).count("mx.null-mx") == 1);
  CHECK(codes(d).count("sender.domain-null-mx") == 1);
  auto m = check_one("nullmix.example.net", 1);
  CHECK(codes(m).count("mx.null-mx-mixed") == 1);
}

TEST_CASE("check: no MX falls back to the implicit MX, or to nothing") {
  auto d = check_one("implicit.example.net", 0);
  CHECK(d["mx"]["status"] == "implicit_mx");
  CHECK(codes(d).count("mx.implicit-mx") == 1);
  auto n = check_one("nomail.example.net", 1);
  CHECK(n["mx"]["status"] == "no_mail_host");
  CHECK(codes(n).count("mx.no-mail-host") == 1);
  auto p = check_one("implicit-private.example.net", 1);
  CHECK(p["mx"]["status"] == "no_usable_target");
  CHECK(codes(p).count("address.rfc1918") == 1);
}

TEST_CASE("check: a domain that does not exist") {
  auto d = check_one("doesnotexist.example.net", 1);
  CHECK(d["mx"]["status"] == "domain_not_found");
  CHECK(d["mx"]["failure"]["kind"] == "nxdomain");
  CHECK(codes(d).count("mx.domain-not-found") == 1);
}

TEST_CASE("check: MX targets that are aliases, IP literals or do not resolve") {
  auto c = check_one("cname-mx.example.net", 0);
  CHECK(codes(c).count("mx.target-cname") == 1);
  CHECK(c["mx"]["status"] == "has_mx");
  CHECK(c["mx"]["hosts"][0]["cname_chain"][0] == "mx1.example.com");
  CHECK(c["mx"]["hosts"][0]["addresses"][0]["address"] == "192.0.2.25");
  auto l = check_one("literal-mx.example.net", 1);
  CHECK(codes(l).count("mx.target-ip-literal") == 1);
  CHECK(l["mx"]["hosts"][0]["ip_literal"] == true);
  auto g = check_one("dangling-mx.example.net", 1);
  CHECK(codes(g).count("mx.target-unresolvable") == 1);
  CHECK(codes(g).count("mx.no-usable-target") == 1);
}

TEST_CASE("check: MX targets in special-purpose ranges are named by class") {
  struct Row {
    const char* domain;
    const char* code;
    const char* cls;
  };
  for (auto row : {Row{"private-mx.example.net", "address.rfc1918", "rfc1918"},
                   Row{"private172.example.net", "address.rfc1918", "rfc1918"},
                   Row{"private192.example.net", "address.rfc1918", "rfc1918"},
                   Row{"cgnat-mx.example.net", "address.shared-cgnat", "shared-cgnat"},
                   Row{"loopback-mx.example.net", "address.loopback", "loopback"},
                   Row{"docs-mx.example.net", "address.documentation", "documentation"},
                   Row{"linklocal-mx.example.net", "address.link-local", "link-local"},
                   Row{"ula-mx.example.net", "address.ula", "ula"},
                   Row{"sixtofour-mx.example.net", "address.6to4", "6to4"}}) {
    CAPTURE(row.domain);
    auto d = check_one(row.domain, 1);
    CHECK(codes(d).count(row.code) == 1);
    CHECK(codes(d).count("mx.no-usable-target") == 1);
    CHECK(d["mx"]["hosts"][0]["addresses"][0]["class"] == row.cls);
    if (std::string(row.cls) == "rfc1918") {
      CHECK(codes(d).count("sender.mx-rfc1918") == 1);
    } else {
      CHECK(codes(d).count("sender.mx-rfc1918") == 0);
    }
  }
}

TEST_CASE("check: one private MX next to a public one") {
  auto d = check_one("mixed-mx.example.net", 1);
  CHECK(d["mx"]["status"] == "has_mx");
  CHECK(codes(d).count("address.rfc1918") == 1);
  CHECK(codes(d).count("sender.mx-rfc1918") == 1);
}

TEST_CASE("check: IPv6-only host, alias domain, IDN domain") {
  CHECK(check_one("v6only.example.net", 0)["mx"]["status"] == "has_mx");
  auto a = check_one("alias-domain.example.net", 0);
  CHECK(codes(a).count("mx.domain-is-alias") == 1);
  CHECK(a["mx"]["cname_chain"][0] == "example.com");
  auto i = check_one("bücher.example.com", 0);
  CHECK(i["domain"] == "xn--bcher-kva.example.com");
  CHECK(i["mx"]["status"] == "has_mx");
}

TEST_CASE("check: an MX answer larger than 512 bytes arrives over TCP") {
  auto d = check_one("manymx.example.net", 0);
  // All 30 records arrived (over TCP); the 10 most preferred were looked up (docs/limits.md).
  CHECK(d["mx"]["hosts"].size() == 10);
  CHECK(d["mx"]["status"] == "has_mx");
  bool named = false;
  for (const auto& f : d["findings"]) {
    if (f["code"] == "mx.too-many-hosts") named = f["summary"].get<std::string>().find("30 distinct MX hosts") != std::string::npos;
  }
  CHECK(named);
}

TEST_CASE("check: SERVFAIL and REFUSED are 'could not check', never 'no record', and fail CI unless allowed") {
  for (const char* dom : {"mail.broken.example", "example.invalid"}) {
    CAPTURE(dom);
    // The domain's own records could not be checked: that fails by default.
    auto d = check_one(dom, 1);
    CHECK(d["mx"]["status"] == "lookup_failed");
    auto c = codes(d);
    CHECK(c.count("mx.lookup-failed") == 1);
    CHECK(c.count("mx.no-mail-host") == 0);
    CHECK(c.count("mx.domain-not-found") == 0);
    int not_checked = 0;
    for (const auto& f : d["findings"]) {
      if (f["code"] == "mx.lookup-failed") CHECK(f["checked"] == false);
      // Severities and the summary agree; nothing claims the absence of what could not be looked up.
      if (f["checked"] == false) {
        CHECK(f["severity"] == "not_checked");
        ++not_checked;
      }
      CHECK(f["summary"].get<std::string>().find("its mail hosts are on no blocklist") == std::string::npos);
      CHECK(f["summary"].get<std::string>().find("no mail host") == std::string::npos);
    }
    CHECK(d["summary"]["not_checked"] == not_checked);
  }
  // With the dialogue on, the skipped dialogue does not claim there is no mail host either.
  auto dialogue = bp("check --json --smtp-timeout 500 --connect-timeout 500 mail.broken.example");
  REQUIRE(dialogue.j.is_object());
  for (const auto& f : dialogue.j["domains"][0]["findings"]) {
    CHECK(f["summary"].get<std::string>().find("no mail host to talk to") == std::string::npos);
  }
  auto strict = bp("check --json mail.broken.example --fail-on warning");
  CHECK(strict.rc == 1);
  auto allowed = bp("check --json mail.broken.example --allow-unchecked" + std::string(routable));
  CHECK(allowed.rc == 0);
  REQUIRE(allowed.j.is_object());
  CHECK(allowed.j["domains"][0]["summary"]["not_checked"].get<int>() > 0);
  // Blocklists that cannot be checked do not fail a healthy domain.
  auto bl = bp("check --json --no-smtp --routable 192.0.2.0/24 --routable 203.0.113.0/24 --dnsbl-resolver 192.0.2.98 "
               "--timeout 300 --deadline 1 example.com");
  CHECK(bl.rc == 0);
}

TEST_CASE("check: each question is asked once, even when asked concurrently") {
  auto r = bp("check --json --verbose example.com shop.example.com bounce.shop.example.com alias-domain.example.net" +
              std::string(routable));
  REQUIRE(r.j.is_object());
  std::set<std::string> seen;
  for (const auto& q : r.j["run"]["queries"]["log"]) {
    auto key = q["name"].get<std::string>() + "/" + q["type"].get<std::string>();
    CHECK_MESSAGE(seen.insert(key).second, "asked twice: " << key);
  }
  CHECK(r.j["run"]["queries"]["cache_hits"].get<int>() > 0);
}

TEST_CASE("check: 500 domains in one run lose no answers (bounded queries in flight)") {
  std::string args = "check --json --verbose";
  for (int i = 0; i < 500; ++i) args += " d" + std::to_string(i) + ".wild.example.net";
  auto r = bp(args + routable);
  CHECK(r.rc == 0);
  REQUIRE(r.j.is_object());
  REQUIRE(r.j["domains"].size() == 500);
  int ok = 0;
  for (const auto& d : r.j["domains"]) ok += d["mx"]["status"] == "has_mx" ? 1 : 0;
  CHECK(ok == 500);
  CHECK(r.j["summary"]["not_checked"] == 0);
  int retried = 0;
  for (const auto& q : r.j["run"]["queries"]["log"]) retried += q["attempt"].get<int>() > 1 ? 1 : 0;
  CHECK(retried == 0);  // an answer lost to an overflowing socket shows up as a second attempt
}

TEST_CASE("check: JSON Lines and JUnit XML for pipelines") {
  auto l = bp(std::string("check --format jsonl example.com nomail.example.net") + routable);
  CHECK(l.rc == 1);
  std::istringstream lines(l.out);
  std::string line;
  std::vector<json> objs;
  while (std::getline(lines, line)) objs.push_back(json::parse(line));
  REQUIRE(objs.size() == 2);
  CHECK(objs[0]["schema"] == "bounceprobe/1");
  CHECK(objs[0]["domain"] == "example.com");
  CHECK(objs[1]["domain"] == "nomail.example.net");
  auto x = bp(std::string("check --format junit example.com nomail.example.net") + routable);
  CHECK(x.rc == 1);
  CHECK(x.out.rfind("<?xml", 0) == 0);
  CHECK(x.out.find("<testsuite name=\"example.com\"") != std::string::npos);
  CHECK(x.out.find("<testsuite name=\"nomail.example.net\"") != std::string::npos);
  CHECK(x.out.find("<failure type=\"error\" message=\"nomail.example.net has no MX, A or AAAA records") != std::string::npos);
  CHECK(bp("predict --format junit --from a@example.com --to b@example.org").rc == 2);
}

TEST_CASE("check: the text report groups by probe and shows evidence with --verbose") {
  auto r = bp("check nullmx.example.net private-mx.example.net --verbose --color never" + std::string(routable));
  CHECK(r.rc == 1);
  CHECK(r.out.find("nullmx.example.net\n") != std::string::npos);
  CHECK(r.out.find("  mx\n") != std::string::npos);
  CHECK(r.out.find("[mx.null-mx]") != std::string::npos);
  CHECK(r.out.find("✗") != std::string::npos);
  CHECK(r.out.find("· nullmx.example.net MX → 0 .") != std::string::npos);
  CHECK(r.out.find("\033[") == std::string::npos);  // no colour when not a terminal
}

TEST_CASE("predict: each DNS-predictable bounce on its lab fixture") {
  struct Row {
    const char* from;
    const char* to;
    const char* verdict;
    const char* id;
    int code;
    const char* enhanced;
    const char* text;
  };
  const Row rows[] = {
      {"alice@example.com", "bob@doesnotexist.example.net", "bounce", "recipient-domain-no-mail-host", 0, "5.4.4",
       "Host or domain name not found. Name service error for name=doesnotexist.example.net type=MX: Host not found"},
      {"alice@example.com", "bob@nomail.example.net", "bounce", "recipient-domain-no-mail-host", 0, "5.4.4",
       "Host or domain name not found. Name service error for name=nomail.example.net type=A: Host not found"},
      {"alice@doesnotexist.example.net", "bob@example.org", "defer", "sender-domain-not-found", 450, "4.1.8",
       "<alice@doesnotexist.example.net>: Sender address rejected: Domain not found"},
      {"alice@mail.broken.example", "bob@example.org", "defer", "sender-domain-not-found", 450, "4.1.8",
       "<alice@mail.broken.example>: Sender address rejected: Domain not found"},
      {"alice@workstation7", "bob@example.org", "bounce", "sender-not-fqdn", 504, "5.5.2",
       "<alice@workstation7>: Sender address rejected: need fully-qualified address"},
      {"alice@private-mx.example.net", "bob@example.org", "bounce", "sender-mx-rfc1918", 554, "5.7.1",
       "<alice@private-mx.example.net>: Sender address rejected: ACL mx_access mail server in RFC 1918 private network"},
      {"alice@mixed-mx.example.net", "bob@example.org", "bounce", "sender-mx-rfc1918", 554, "5.7.1",
       "<alice@mixed-mx.example.net>: Sender address rejected: ACL mx_access mail server in RFC 1918 private network"},
      {"alice@bounce.shop.example.com", "bob@example.org", "bounce", "sender-regexp-filter", 554, "5.7.1",
       "<alice@bounce.shop.example.com>: Sender address rejected: ACL from_senders_regexp"},
      {"alice@nullmx.example.net", "bob@example.org", "bounce", "postfix-sender-nullmx", 550, "5.7.27",
       "<alice@nullmx.example.net>: Sender address rejected: Domain nullmx.example.net does not accept mail (nullMX)"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.from);
    CAPTURE(row.to);
    auto j = predict(row.from, row.to, 1);
    CHECK(j["schema"] == "bounceprobe/1");
    CHECK(j["verdict"] == row.verdict);
    REQUIRE(j["bounces"].size() >= 1);
    const auto& b = j["bounces"][0];
    CHECK(b["catalog_id"] == row.id);
    CHECK(b["code"] == row.code);
    CHECK(b["enhanced"] == row.enhanced);
    CHECK(b["text"] == row.text);
    CHECK_FALSE(b["fix"].get<std::string>().empty());
    CHECK(b.contains("stage"));
    CHECK(b.contains("evidence"));
  }
}

TEST_CASE("predict: a healthy sender and recipient are accepted") {
  auto j = predict("alice@example.com", "bob@example.org", 0);
  CHECK(j["verdict"] == "accept");
  CHECK(j["bounces"].empty());
  auto idn = predict("jöran@bücher.example.com", "bob@example.org", 0);
  CHECK(idn["verdict"] == "accept");
}

TEST_CASE("predict: evidence carries the queries that decided it") {
  auto j = predict("alice@private-mx.example.net", "bob@example.org", 1);
  bool saw_a = false;
  for (const auto& e : j["bounces"][0]["evidence"]) {
    if (e["query"] == "mx.private-mx.example.net A") saw_a = e["answer"] == "10.1.2.3";
  }
  CHECK(saw_a);
}

TEST_CASE("check: every SPF lint finding on its fixture") {
  struct Row {
    const char* domain;
    const char* code;
  };
  for (auto row : {Row{"example.com", "spf.ok"}, Row{"implicit.example.net", "spf.none"},
                   Row{"spf-multi.example.net", "spf.multiple-records"}, Row{"spf-syntax.example.net", "spf.syntax"},
                   Row{"spf-passall.example.net", "spf.pass-all"}, Row{"spf-neutralall.example.net", "spf.neutral-all"},
                   Row{"spf-noall.example.net", "spf.no-all"}, Row{"spf-ptr.example.net", "spf.ptr"},
                   Row{"spf-void.example.net", "spf.void-lookup"},
                   Row{"spf-include-none.example.net", "spf.include-without-record"},
                   Row{"spf-long.example.net", "spf.record-too-long"},
                   Row{"spf-toomany.example.net", "spf.too-many-lookups"},
                   Row{"nullmx.example.net", "spf.null-mx-sender"}, Row{"mail.broken.example", "spf.lookup-failed"}}) {
    CAPTURE(row.domain);
    auto r = bp(std::string("check --json ") + row.domain + routable);
    REQUIRE(r.j.is_object());
    CHECK(codes(r.j["domains"][0]).count(row.code) == 1);
  }
  auto many = bp(std::string("check --json spf-toomany.example.net") + routable);
  CHECK(many.j["domains"][0]["spf"]["lookups"] == 16);
  auto ok = bp(std::string("check --json example.com") + routable);
  const auto& ranges = ok.j["domains"][0]["spf"]["authorized"];
  CHECK(std::find(ranges.begin(), ranges.end(), "192.0.2.0/24") != ranges.end());
  CHECK(std::find(ranges.begin(), ranges.end(), "192.0.2.25/32") != ranges.end());
  auto broken = bp("check --json mail.broken.example");
  CHECK(codes(broken.j["domains"][0]).count("spf.none") == 0);  // a SERVFAIL is never "no record"
}

TEST_CASE("spf: pass, fail with the deciding term, and temperror on SERVFAIL") {
  auto pass = bp("spf --json --ip 198.51.100.5 --sender alice@spf-fail.example.net");
  CHECK(pass.rc == 0);
  CHECK(pass.j["result"] == "pass");
  CHECK(pass.j["decisive"]["term"] == "ip4:198.51.100.0/24");
  auto fail = bp("spf --json --ip 203.0.113.77 --sender alice@spf-fail.example.net");
  CHECK(fail.rc == 1);
  CHECK(fail.j["result"] == "fail");
  CHECK(fail.j["decisive"]["term"] == "-all");
  CHECK(fail.j["explanation"] == "");
  CHECK(fail.j["lookups"] == 0);
  auto inc = bp("spf --json --ip 192.0.2.25 --sender alice@spf-toomany.example.net");
  CHECK(inc.j["result"] == "pass");
  CHECK(inc.j["lookups"] == 2);  // include:l1, then a:mx1.example.com matched
  auto temp = bp("spf --json --ip 192.0.2.25 --sender alice@mail.broken.example");
  CHECK(temp.j["result"] == "temperror");
  auto none = bp("spf --json --ip 192.0.2.25 --sender alice@implicit.example.net");
  CHECK(none.j["result"] == "none");
  auto bad = bp("spf --ip 1.2.3 --sender a@example.com");
  CHECK(bad.rc == 2);
}

TEST_CASE("spf: hostile policies end in permerror with the reason, quickly") {
  struct Row {
    const char* sender;
    const char* why;
  };
  for (auto row : {Row{"a@loop1.example.net", "more than 10 DNS-querying terms"},
                   Row{"a@deep1.example.net", "more than 10 DNS-querying terms"},
                   Row{"a@spf-garbage.example.net", "0x80"}}) {
    CAPTURE(row.sender);
    auto r = bp(std::string("spf --json --ip 192.0.2.99 --sender ") + row.sender);
    REQUIRE(r.j.is_object());
    CHECK(r.j["result"] == "permerror");
    CHECK(r.j["reason"].get<std::string>().find(row.why) != std::string::npos);
    CHECK(r.seconds < 3.0);
  }
  auto huge = bp("spf --json --ip 198.51.100.1 --sender a@spf-huge.example.net");
  REQUIRE(huge.j.is_object());
  CHECK(huge.j["result"] == "fail");  // 10 kB of ip4 terms, fetched over TCP, none matching
  auto lint = bp(std::string("check --json loop1.example.net deep1.example.net spf-huge.example.net") + routable);
  REQUIRE(lint.j.is_object());
  CHECK(codes(lint.j["domains"][1]).count("spf.too-many-lookups") == 1);
  CHECK(codes(lint.j["domains"][2]).count("spf.record-too-long") == 1);
  CHECK(lint.seconds < 5.0);
}

TEST_CASE("predict: SPF fail gives 550 5.7.23, an authorized IP is accepted") {
  auto j = predict("alice@spf-fail.example.net", "bob@example.org' --ip '203.0.113.77", 1);
  CHECK(j["verdict"] == "bounce");
  REQUIRE(j["bounces"].size() >= 1);
  CHECK(j["bounces"][0]["catalog_id"] == "spf-fail-5723");
  CHECK(j["bounces"][0]["code"] == 550);
  CHECK(j["bounces"][0]["enhanced"] == "5.7.23");
  CHECK(j["bounces"][0]["text"] == "The message was rejected because of Sender Policy Framework violation");
  CHECK_FALSE(j["bounces"][0]["evidence"].empty());
  auto ok = predict("alice@spf-fail.example.net", "bob@example.org' --ip '198.51.100.5", 0);
  CHECK(ok["verdict"] == "accept");
}

TEST_CASE("check and dmarc: every DMARC finding on its fixture") {
  struct Row {
    const char* domain;
    const char* code;
  };
  for (auto row : {Row{"example.com", "dmarc.ok"}, Row{"implicit.example.net", "dmarc.none"},
                   Row{"dmarc-multi.example.net", "dmarc.multiple-records"}, Row{"dmarc-syntax.example.net", "dmarc.syntax"},
                   Row{"dmarc-pnone.example.net", "dmarc.policy-none"}, Row{"dmarc-quarantine.example.net", "dmarc.pct"},
                   Row{"dmarc-ext.example.net", "dmarc.external-report-unauthorized"},
                   Row{"sub.example.org", "dmarc.inherited"}, Row{"a.b.example.org", "dmarc.discovery-differs"},
                   Row{"mail.broken.example", "dmarc.lookup-failed"}}) {
    CAPTURE(row.domain);
    auto r = bp(std::string("check --json ") + row.domain + routable);
    REQUIRE(r.j.is_object());
    CHECK(codes(r.j["domains"][0]).count(row.code) == 1);
  }
  auto ok = bp(std::string("check --json dmarc-extok.example.net") + routable);
  CHECK(codes(ok.j["domains"][0]).count("dmarc.external-report-unauthorized") == 0);
  auto broken = bp("check --json mail.broken.example");
  CHECK(codes(broken.j["domains"][0]).count("dmarc.none") == 0);  // SERVFAIL is never "no record"

  auto sub = bp("dmarc --json sub.example.org");
  CHECK(sub.j["schema"] == "bounceprobe/1");
  CHECK(sub.j["found_at"] == "_dmarc.example.org");
  CHECK(sub.j["rule"] == "rfc7489-organizational-domain");
  CHECK(sub.j["policy"] == "quarantine");
  CHECK(sub.j["policy_tag"] == "sp");
  CHECK(sub.j["tags"]["p"]["explicit"] == true);
  CHECK(sub.j["tags"]["adkim"]["value"] == "r");
  CHECK(sub.j["tags"]["adkim"]["explicit"] == false);
  auto own = bp("dmarc --json dmarc-reject.example.net");
  CHECK(own.j["rule"] == "domain");
  CHECK(own.j["tags"]["adkim"]["value"] == "s");
  CHECK(own.j["tags"]["adkim"]["explicit"] == true);
}

TEST_CASE("predict: DMARC rejection, and the aligned passes that avoid it") {
  auto j = predict("alice@dmarc-reject.example.net", "bob@example.org' --ip '203.0.113.77", 1);
  CHECK(j["verdict"] == "bounce");
  REQUIRE(j["bounces"].size() == 1);  // SPF softfail is accepted; DMARC then rejects
  CHECK(j["bounces"][0]["catalog_id"] == "dmarc-reject-g15");
  CHECK(j["bounces"][0]["code"] == 550);
  CHECK(j["bounces"][0]["enhanced"] == "5.7.1");
  CHECK(j["bounces"][0]["stage"] == "data");
  CHECK(j["bounces"][0]["text"] == "Email rejected per DMARC policy for dmarc-reject.example.net (G15)");
  CHECK(predict("alice@dmarc-reject.example.net", "bob@example.org' --ip '198.51.100.5", 0)["verdict"] == "accept");
  CHECK(predict("alice@dmarc-reject.example.net",
                "bob@example.org' --ip '203.0.113.77' --dkim-pass 'dmarc-reject.example.net", 0)["verdict"] == "accept");
  // adkim=s: a signature by the organizational domain's parent is not aligned.
  CHECK(predict("alice@dmarc-reject.example.net", "bob@example.org' --ip '203.0.113.77' --dkim-pass 'example.net", 1)["verdict"] ==
        "bounce");
  // p=quarantine is not a rejection in the default profile.
  CHECK(predict("alice@dmarc-quarantine.example.net", "bob@example.org' --ip '203.0.113.77", 0)["verdict"] == "accept");
  // SPF fail and DMARC: the RCPT-time SPF rejection comes first, DMARC's next.
  auto both = predict("alice@spf-fail.example.net", "bob@example.org' --ip '203.0.113.77", 1);
  REQUIRE(both["bounces"].size() == 2);
  CHECK(both["bounces"][0]["catalog_id"] == "spf-fail-5723");
  CHECK(both["bounces"][1]["catalog_id"] == "dmarc-reject-g15");
}

namespace {
json dnsbl_result(const json& j, const std::string& target, const std::string& list) {
  for (const auto& r : j["results"]) {
    if (r["target"] == target && r["list"] == list) return r;
  }
  return json();
}
}  // namespace

TEST_CASE("dnsbl: listed, clean and not checked, never a guess") {
  auto r = bp("dnsbl --json --dnsbl-resolver 192.0.2.54 203.0.113.66 203.0.113.67 203.0.113.68 203.0.113.69 203.0.113.70 "
              "203.0.113.1 2001:db8:66::1 spammy.example.net clean.example.net 203.0.113.72");
  REQUIRE(r.j.is_object());
  CHECK(r.j["schema"] == "bounceprobe/1");
  auto sbl = dnsbl_result(r.j, "203.0.113.66", "spamhaus-zen");
  CHECK(sbl["state"] == "listed");
  CHECK(sbl["sublist"] == "SBL");
  CHECK(sbl["query"] == "66.113.0.203.zen.spamhaus.org");
  CHECK(sbl["txt"].get<std::string>().find("203.0.113.66") != std::string::npos);
  CHECK(dnsbl_result(r.j, "203.0.113.67", "spamhaus-zen")["sublist"] == "XBL");
  CHECK(dnsbl_result(r.j, "203.0.113.68", "spamhaus-zen")["sublist"] == "PBL");
  auto open_resolver = dnsbl_result(r.j, "203.0.113.69", "spamhaus-zen");
  CHECK(open_resolver["state"] == "not_checked");  // 127.255.255.254 is about the query, not a listing
  CHECK(open_resolver["reason"].get<std::string>().find("public or open resolver") != std::string::npos);
  auto unknown = dnsbl_result(r.j, "203.0.113.70", "spamhaus-zen");
  CHECK(unknown["state"] == "listed");
  CHECK(unknown["meaning"] == "unknown code");
  CHECK(dnsbl_result(r.j, "203.0.113.1", "spamhaus-zen")["state"] == "clean");
  auto v6 = dnsbl_result(r.j, "2001:db8:66::1", "spamhaus-zen");
  CHECK(v6["state"] == "listed");
  CHECK(v6["query"].get<std::string>().rfind("1.0.0.0.", 0) == 0);
  CHECK(dnsbl_result(r.j, "spammy.example.net", "spamhaus-dbl")["state"] == "listed");
  CHECK(dnsbl_result(r.j, "clean.example.net", "spamhaus-dbl")["state"] == "clean");
  CHECK(dnsbl_result(r.j, "203.0.113.72", "senderscore")["state"] == "listed");
  CHECK(dnsbl_result(r.j, "203.0.113.1", "cloudmark")["state"] == "not_checked");
  // Through a resolver that does not carry the lists (Knot answers REFUSED), nothing is "clean".
  auto wrong = bp("dnsbl --json 203.0.113.66");
  REQUIRE(wrong.j.is_object());
  for (const auto& x : wrong.j["results"]) CHECK(x["state"] == "not_checked");
  CHECK(bp("dnsbl 999.1.2.3").rc == 2);
}

TEST_CASE("dnsbl: hostile answers are findings, never a false listed or clean") {
  auto r = bp("dnsbl --json --zone bl.example.net --zone dead.example.net 203.0.113.66 203.0.113.67 203.0.113.1");
  REQUIRE(r.j.is_object());
  auto big = dnsbl_result(r.j, "203.0.113.66", "zone:bl.example.net");
  CHECK(big["state"] == "listed");
  CHECK(big["txt"].get<std::string>().size() <= 503);  // a 4 kB reason is cut to 500 bytes
  auto outside = dnsbl_result(r.j, "203.0.113.67", "zone:bl.example.net");
  CHECK(outside["state"] == "not_checked");
  CHECK(outside["reason"].get<std::string>().find("outside 127.0.0.0/8") != std::string::npos);
  CHECK(dnsbl_result(r.j, "203.0.113.1", "zone:bl.example.net")["state"] == "clean");
  auto dead = dnsbl_result(r.j, "203.0.113.66", "zone:dead.example.net");
  CHECK(dead["state"] == "not_checked");
  CHECK(dead["reason"].get<std::string>().find("test entry") != std::string::npos);
  CHECK(bp("dnsbl --zone 'not a zone' 203.0.113.1").rc == 2);
}

TEST_CASE("predict: a profile that maps a list to the generic block prints the client's confirmed name") {
  char path[] = "/tmp/bp-profile-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string profile =
      "name = 'internal-block'\n[[check]]\nrestriction = 'reject_rbl_client'\n"
      "rules = [ { list = 'spamcop', entry = 'client-host-blocked' }, { list = 'provider-aggregate', entry = 'client-host-blocked' } ]\n";
  REQUIRE(write(fd, profile.data(), profile.size()) == static_cast<ssize_t>(profile.size()));
  close(fd);
  auto named = predict("alice@example.com", std::string("bob@example.org' --profile '") + path + "' --dnsbl-resolver 192.0.2.54 --ip '203.0.113.71", 1);
  CHECK(named["profile"] == "internal-block");
  CHECK(named["bounces"][0]["catalog_id"] == "client-host-blocked");
  CHECK(named["bounces"][0]["code"] == 554);
  CHECK(named["bounces"][0]["text"] == "<mail71.example.com[203.0.113.71]>: Client host rejected: The sender's mail server is blocked");
  auto unconfirmed = predict("alice@example.com", std::string("bob@example.org' --profile '") + path + "' --dnsbl-resolver 192.0.2.54 --ip '203.0.113.81", 1);
  CHECK(unconfirmed["bounces"][0]["text"] == "<unknown[203.0.113.81]>: Client host rejected: The sender's mail server is blocked");
  std::remove(path);
}

TEST_CASE("check: a mail host on a blocklist, and the domain on a domain list") {
  auto r = bp(std::string("check --json listed-mx.example.net spammy.example.net") + routable);
  REQUIRE(r.j.is_object());
  CHECK(r.rc == 1);
  bool host = false, dbl = false;
  for (const auto& f : r.j["domains"][0]["findings"]) {
    host = host || (f["code"] == "dnsbl.listed" && f["subject"] == "203.0.113.66");
  }
  for (const auto& f : r.j["domains"][1]["findings"]) {
    dbl = dbl || (f["code"] == "dnsbl.listed" && f["subject"] == "spammy.example.net");
  }
  CHECK(host);
  CHECK(dbl);
}

TEST_CASE("predict: every blocklist bounce of the articles on its lab fixture") {
  struct Row {
    const char* ip;
    const char* id;
    const char* text;
  };
  for (auto row : {Row{"203.0.113.80", "dnsbl-cloudmark-csi",
                       "ACL dns_rbl; Client host [203.0.113.80] blocked using sa-ip4tset.blagr.emailsrvr.com=127.26.0.2 Cloudmark CSI. "
                       "Please visit https://csi.cloudmark.com/reset-request for more information on why this message could not be delivered"},
                   Row{"203.0.113.81", "dnsbl-senderscore",
                       "ACL dns_rbl; Client host [203.0.113.81] blocked using sa-ip4tset.blagr.emailsrvr.com=127.22.0.2 Senderscore. "
                       "Please visit https://senderscore.org/rtbl/ for more information on why this message could not be delivered"},
                   Row{"203.0.113.82", "dnsbl-spamhaus-xbl",
                       "ACL dns_rbl; Client host [203.0.113.82] blocked using sa-ip4tset.blagr.emailsrvr.com=127.24.0.2 Spamhaus XBL. "
                       "Please visit https://www.spamhaus.org/lookup/ for more information on why this message could not be delivered"},
                   Row{"203.0.113.83", "dnsbl-spamhaus-sbl",
                       "ACL dns_rbl; Client host [203.0.113.83] blocked using sa-ip4tset.blagr.emailsrvr.com=127.23.0.2 Spamhaus SBL. "
                       "Please visit https://www.spamhaus.org/lookup/ for more information on why this message could not be delivered"},
                   Row{"203.0.113.84", "dnsbl-spamcop",
                       "ACL dns_rbl; Client host [203.0.113.84] blocked using sa-ip4tset.blagr.emailsrvr.com=127.5.0.4 Spamcop. "
                       "Please visit https://spamcop.net/bl.shtml for more information on why this message could not be delivered"},
                   Row{"203.0.113.68", "dnsbl-spamhaus-pbl-g1",
                       "ACL dns_rbl; Client host [203.0.113.68] blocked using Spamhaus PBL. Please visit "
                       "https://www.spamhaus.org/lookup/ for more information on why this message could not be delivered (G1)"},
                   Row{"203.0.113.67", "dnsbl-spamhaus-xbl", nullptr},
                   Row{"203.0.113.71", "dnsbl-spamcop", nullptr}}) {
    CAPTURE(row.ip);
    auto j = predict("alice@example.com", std::string("bob@example.org' --dnsbl-resolver 192.0.2.54 --ip '") + row.ip, 1);
    CHECK(j["verdict"] == "bounce");
    REQUIRE_FALSE(j["bounces"].empty());
    CHECK(j["bounces"][0]["catalog_id"] == row.id);
    CHECK(j["bounces"][0]["code"] == 554);
    CHECK(j["bounces"][0]["enhanced"] == "5.7.1");
    if (row.text != nullptr) CHECK(j["bounces"][0]["text"] == row.text);
    CHECK(j["bounces"][0]["evidence"][0]["query"].get<std::string>().find(".") != std::string::npos);
  }
  // An aggregate code that names none of the five lists: the generic aggregate row (T16).
  auto generic = predict("alice@example.com", "bob@example.org' --dnsbl-resolver 192.0.2.54 --ip '203.0.113.85", 1);
  CHECK(generic["bounces"][0]["catalog_id"] == "dnsbl-provider-aggregate");
  CHECK(generic["bounces"][0]["text"] ==
        "ACL dns_rbl; Client host [203.0.113.85] blocked using sa-ip4tset.blagr.emailsrvr.com=127.30.0.2");
  // The open-resolver answer is not a listing: no bounce, and the prediction says what was not checked.
  auto err = predict("alice@example.com", "bob@example.org' --dnsbl-resolver 192.0.2.54 --ip '203.0.113.69", 1);
  for (const auto& b : err["bounces"]) CHECK(b["catalog_id"].get<std::string>().rfind("dnsbl-", 0) != 0);
  bool said = false;
  for (const auto& n : err["not_checked"]) said = said || n.get<std::string>().find("open resolver") != std::string::npos;
  CHECK(said);
}

TEST_CASE("explain reads a whole bounce from standard input") {
  auto r = bp("explain --json -",
              "<bob@example.org>: host mx1.emailsrvr.com[192.0.2.10] said: 554 5.7.1\n"
              "    <alice@private-mx.example.net>: Sender address rejected: ACL mx_access mail\n"
              "    server in RFC 1918 private network (in reply to RCPT TO command)\n");
  CHECK(r.rc == 0);
  REQUIRE(r.j.is_object());
  CHECK(r.j["matches"][0]["catalog_id"] == "sender-mx-rfc1918");
  CHECK(r.j["matches"][0]["facts"]["address"] == "alice@private-mx.example.net");
  auto none = bp("explain 'see you at lunch'");
  CHECK(none.rc == 1);
}

TEST_CASE("catalog lists every documented bounce") {
  auto r = bp("catalog --json");
  CHECK(r.rc == 0);
  CHECK(r.j["counts"]["seed_entries"] == 42);
  CHECK(r.j["counts"]["documented_rows"] == 53);
}

TEST_CASE("bad input: one clear line on stderr and exit 2") {
  for (const char* args : {"frobnicate", "check", "check --bogus example.com", "check 'exa mple.com'", "check a..b.example",
                           "check localhost", "check example.com --resolver not-an-ip", "check example.com --timeout 0",
                           "predict --from a@example.com", "predict --from a@example.com --to nobody",
                           "predict --from a@example.com --to b@example.org --ip 999.1.1.1",
                           "check example.com --routable 10.0.0.0/40"}) {
    CAPTURE(args);
    auto r = bp(args);
    CHECK(r.rc == 2);
    CHECK(r.err.rfind("bounceprobe: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
}

TEST_CASE("hostile resolvers: garbage, another question, truncated replies are findings, never a crash or hang") {
  for (const char* server : {"192.0.2.95", "192.0.2.94", "192.0.2.93"}) {
    CAPTURE(server);
    auto r = bp(std::string("check --json example.com --timeout 300 --tries 2 --resolver ") + server);
    CHECK((r.rc == 0 || r.rc == 1 || r.rc == 3));  // an exit code, not a signal
    CHECK(r.seconds < 3.0);
    if (r.rc == 3) {
      CHECK(r.err.rfind("bounceprobe: error: ", 0) == 0);
      continue;
    }
    REQUIRE(r.j.is_object());
    const auto& d = r.j["domains"][0];
    CHECK(d["mx"]["status"] == "lookup_failed");  // never "no MX" or "does not exist"
    CHECK(codes(d).count("mx.lookup-failed") == 1);
    CHECK(codes(d).count("mx.domain-not-found") == 0);
  }
}

TEST_CASE("an unreachable or mute resolver: exit 3, one line, within timeout x tries") {
  // 192.0.2.97: nothing listens (port unreachable). 192.0.2.98: swallows queries, never answers.
  for (const char* server : {"192.0.2.97", "192.0.2.98"}) {
    CAPTURE(server);
    auto r = bp(std::string("check example.com --timeout 300 --tries 2 --resolver ") + server);
    CHECK(r.rc == 3);
    CHECK(r.err.rfind("bounceprobe: error: no DNS reply from", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.seconds < 3.0);  // 2 tries x 300 ms, plus process start-up
  }
}

TEST_CASE("check --zone-file: a change that breaks a healthy domain fails before it is published, --compare lists it") {
  const std::string file = std::string(BP_SOURCE_DIR) + "/tests/lab/changes/example.com.zone";
  auto live = bp("check --json" + std::string(routable) + " example.com");
  REQUIRE(live.j.is_object());
  CHECK(live.rc == 0);
  auto change = bp("check --json" + std::string(routable) + " --zone-file " + file + " example.com");
  REQUIRE(change.j.is_object());
  CHECK(change.rc == 1);
  const auto& d = change.j["domains"][0];
  for (const char* code : {"address.rfc1918", "sender.mx-rfc1918", "spf.too-many-lookups", "dmarc.tag-warning"}) {
    CAPTURE(code);
    CHECK(codes(d).count(code) == 1);
  }
  // Evidence says which answers came from the file.
  bool marked = false;
  for (const auto& f : d["findings"]) {
    for (const auto& e : f["evidence"]) marked = marked || e["answer"].get<std::string>().find("[zone file ") != std::string::npos;
  }
  CHECK(marked);

  auto cmp = bp("check --json" + std::string(routable) + " --zone-file " + file + " --compare example.com");
  REQUIRE(cmp.j.is_object());
  CHECK(cmp.rc == 1);
  const auto& c = cmp.j["domains"][0]["compare"];
  std::multiset<std::string> added_problems, removed_problems;
  for (const auto& f : c["added"]) {
    if (f["severity"] == "warning" || f["severity"] == "error") added_problems.insert(f["code"].get<std::string>());
  }
  for (const auto& f : c["removed"]) {
    if (f["severity"] == "warning" || f["severity"] == "error") removed_problems.insert(f["code"].get<std::string>());
  }
  // Exactly the three mistakes of the change (with the consequences each one has), nothing else.
  CHECK(added_problems == std::multiset<std::string>{"address.rfc1918", "sender.mx-rfc1918", "spf.terms-not-resolved",
                                                     "spf.too-many-lookups", "dmarc.tag-warning"});
  CHECK(removed_problems.empty());
  std::set<std::string> removed;
  for (const auto& f : c["removed"]) removed.insert(f["code"].get<std::string>());
  CHECK(removed.count("spf.ok") == 1);

  // A domain the files do not cover is said to be so.
  auto other = bp("check --json" + std::string(routable) + " --zone-file " + file + " example.org");
  REQUIRE(other.j.is_object());
  CHECK(codes(other.j["domains"][0]).count("zone.not-covered") == 1);
}

TEST_CASE("--zone-file on spf, dmarc, dnsbl and predict: the change is judged before it ships") {
  const std::string file = std::string(BP_SOURCE_DIR) + "/tests/lab/changes/example.com.zone";
  // The SPF record of the change has 11 DNS-querying terms: permerror, where live DNS passes.
  auto live = bp("spf --json --ip 192.0.2.25 --sender a@example.com");
  REQUIRE(live.j.is_object());
  CHECK(live.j["result"] == "pass");
  auto spf = bp("spf --json --ip 192.0.2.25 --sender a@example.com --zone-file " + file);
  REQUIRE(spf.j.is_object());
  CHECK(spf.j["result"] == "permerror");
  CHECK(spf.rc == 1);
  auto dmarc = bp("dmarc --json example.com --zone-file " + file);
  REQUIRE(dmarc.j.is_object());
  CHECK(dmarc.j["record"].get<std::string>().find("p=rejct") != std::string::npos);
  // The moved MX host's address comes from the file.
  auto dnsbl = bp("dnsbl --json --dnsbl-resolver 192.0.2.54 mx1.example.com --zone-file " + file);
  CHECK(dnsbl.rc != 2);
  auto predict = bp("predict --json --no-smtp --from a@example.com --to postmaster@example.org --ip 192.0.2.25" +
                    std::string(" --routable 192.0.2.0/24 --dnsbl-resolver 192.0.2.54 --zone-file ") + file);
  REQUIRE(predict.j.is_object());
  CHECK(predict.j["verdict"] != "accept");  // the sender's SPF is now permerror and its MX host private
  CHECK(predict.rc == 1);
}

TEST_CASE("check --zone-file: a syntax error, an $INCLUDE, a missing file are one line and exit 2") {
  char bad[] = "/tmp/bp-zone-XXXXXX";
  const int fd = mkstemp(bad);
  REQUIRE(fd >= 0);
  const std::string text = "$ORIGIN example.com.\n@ SOA ns hostmaster 1 2 3 4 5\nmx1 A 192.0.2\n";
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  auto r = bp(std::string("check --no-smtp --zone-file ") + bad + " example.com");
  CHECK(r.rc == 2);
  CHECK(r.err.find(std::string(bad) + ":3:") != std::string::npos);  // file, line and column
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  std::remove(bad);

  char inc[] = "/tmp/bp-zone-XXXXXX";
  const int ifd = mkstemp(inc);
  REQUIRE(ifd >= 0);
  const std::string itext = "$ORIGIN example.com.\n@ SOA ns hostmaster 1 2 3 4 5\n$INCLUDE /etc/passwd\n";
  REQUIRE(write(ifd, itext.data(), itext.size()) == static_cast<ssize_t>(itext.size()));
  close(ifd);
  auto i = bp(std::string("check --no-smtp --zone-file ") + inc + " example.com");
  CHECK(i.rc == 2);
  CHECK(i.err.find("$INCLUDE is not followed") != std::string::npos);
  std::remove(inc);

  auto m = bp("check --no-smtp --zone-file /nonexistent/zone example.com");
  CHECK(m.rc == 2);
  CHECK(m.err.find("No such file") != std::string::npos);
  auto c = bp("check --no-smtp --compare example.com");
  CHECK(c.rc == 2);
}

TEST_CASE("hostile TXT records: text output carries no control byte, JUnit stays valid XML, JSON valid UTF-8") {
  const std::string args = std::string(routable) + " ctrl.hostile.example";
  auto text = bp("check -v --color never" + args);
  CHECK(!text.out.empty());
  for (const char ch : text.out) {
    const auto c = static_cast<unsigned char>(ch);
    CAPTURE(static_cast<int>(c));
    CHECK((c >= 0x20 || c == '\n') );
    CHECK(c != 0x7f);
  }
  CHECK(text.out.find("\\x1b[2J") != std::string::npos);  // shown, escaped
  auto junit = bp("check --format junit" + args);
  char xml[] = "/tmp/bp-junit-XXXXXX";
  const int fd = mkstemp(xml);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, junit.out.data(), junit.out.size()) == static_cast<ssize_t>(junit.out.size()));
  close(fd);
  const int rc = std::system((std::string("xmllint --noout ") + xml + " 2>/dev/null").c_str());
  CHECK(rc == 0);
  CHECK(junit.out.find("skipped=") != std::string::npos);
  std::remove(xml);
  auto j = bp("check --json" + args);
  CHECK(j.j.is_object());  // nlohmann parses only valid UTF-8
}

TEST_CASE("docs/ci.md: the documented job's commands pass on a good zone and fail on a bad one, with valid JUnit") {
  // The commands exactly as docs/ci.md writes them, between its ci:commands markers.
  std::ifstream doc(std::string(BP_SOURCE_DIR) + "/docs/ci.md");
  REQUIRE(doc.good());
  std::vector<std::string> commands;
  bool inside = false;
  for (std::string line; std::getline(doc, line);) {
    if (line.rfind("<!-- ci:commands", 0) == 0) inside = true;
    else if (line.rfind("<!-- /ci:commands", 0) == 0) inside = false;
    else if (inside && line.rfind("bounceprobe ", 0) == 0) commands.push_back(line.substr(12));
  }
  REQUIRE(commands.size() == 2);
  // A repository: the config file a job would keep (with the lab's resolvers) and a zone.
  char dir[] = "/tmp/bp-ci-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string repo = dir;
  REQUIRE(std::system(("mkdir -p " + repo + "/zones").c_str()) == 0);
  std::ofstream(repo + "/.bounceprobe.toml") << "[check]\nresolver = [\"192.0.2.53\"]\ndnsbl-resolver = [\"192.0.2.54\"]\n"
                                                "routable = [\"192.0.2.0/24\", \"203.0.113.0/24\", \"2001:db8::/32\"]\n"
                                                "fail-on = \"error\"\nno-smtp = true\n";
  char cwd[4096];
  REQUIRE(getcwd(cwd, sizeof cwd) != nullptr);
  REQUIRE(chdir(dir) == 0);
  for (const char* source : {"/tests/lab/zones/example.com.zone", "/tests/lab/changes/example.com.zone"}) {
    const bool good = std::string(source).find("/zones/") != std::string::npos;
    CAPTURE(source);
    std::ifstream in(std::string(BP_SOURCE_DIR) + source);
    std::ofstream(repo + "/zones/example.com.zone") << in.rdbuf();
    std::remove((repo + "/bounceprobe.xml").c_str());
    auto junit = bp(commands[0]);
    CAPTURE(junit.err);
    CHECK(junit.rc == (good ? 0 : 1));
    CHECK(std::system(("xmllint --noout " + repo + "/bounceprobe.xml").c_str()) == 0);
    std::ifstream xml(repo + "/bounceprobe.xml");
    std::stringstream text;
    text << xml.rdbuf();
    CHECK((text.str().find("failures=\"0\"") != std::string::npos) == good);
    auto compare = bp(commands[1]);
    CHECK(compare.rc == (good ? 0 : 1));
    CHECK(compare.out.find(good ? "no change against live DNS" : "changes against live DNS") != std::string::npos);
  }
  REQUIRE(chdir(cwd) == 0);
  std::system(("rm -rf " + repo).c_str());
}

TEST_CASE("a resolver that loses every second query: retries stay bounded, every domain ends with a result or 'not checked'") {
  // 192.0.2.92 forwards to Knot and drops every second query it gets.
  const std::string domains = " example.com example.org sub.example.org nullmx.example.net nullmix.example.net "
                              "cname-mx.example.net literal-mx.example.net dangling-mx.example.net private-mx.example.net "
                              "shop.example.com";
  const std::string opts = std::string(routable) + " --json -v --timeout 300 --tries 2";
  auto clean = bp("check" + opts + domains);
  auto lossy = bp("check" + opts + " --resolver 192.0.2.92" + domains);
  CAPTURE(lossy.err);
  REQUIRE(clean.j.is_object());
  REQUIRE(lossy.j.is_object());
  CHECK(lossy.rc != 3);  // it does answer: not a mute resolver
  CHECK(lossy.seconds < 8.0);
  const auto& cd = clean.j["domains"];
  const auto& ld = lossy.j["domains"];
  REQUIRE(ld.size() == cd.size());
  // Bounded retries: no question is sent more than `tries` times, and some were retried.
  std::map<std::pair<std::string, std::string>, int> attempts;
  int retried = 0;
  for (const auto& q : lossy.j["run"]["queries"]["log"]) {
    const int a = q["attempt"].get<int>();
    CHECK(a >= 1);
    CHECK(a <= 2);
    retried += a == 2 ? 1 : 0;
    attempts[{q["name"].get<std::string>(), q["type"].get<std::string>()}] += 1;
  }
  CHECK(retried > 0);
  for (const auto& [question, n] : attempts) {
    CAPTURE(question.first);
    CHECK(n <= 2);
  }
  // Every domain ends with a result; what was lost is "not checked", never a different answer.
  int not_checked = 0;
  for (std::size_t i = 0; i < ld.size(); ++i) {
    const auto& l = ld[i];
    const auto& c = cd[i];
    CAPTURE(l["domain"].get<std::string>());
    REQUIRE(l["domain"] == c["domain"]);
    CHECK(!l["findings"].empty());
    const auto mx = l["mx"]["status"].get<std::string>();
    CHECK((mx == c["mx"]["status"].get<std::string>() || mx == "lookup_failed"));
    if (l["spf"]["checked"] == true) CHECK(l["spf"]["record"] == c["spf"]["record"]);
    if (l["dmarc"]["checked"] == true) CHECK(l["dmarc"]["policy"] == c["dmarc"]["policy"]);
    not_checked += l["summary"]["not_checked"].get<int>();
  }
  // Some lookups lost both tries (a 1 in 4 chance each): they are said to be unchecked.
  CHECK(not_checked > 0);
}

TEST_CASE("deadlines: a mute resolver ends 10,000 domains with exit 3 within timeout x tries") {
  // 10,000 names are more than one shell argument may hold: the shell reads them from a file.
  char names[] = "/tmp/bp-lab-names-XXXXXX";
  const int fd = mkstemp(names);
  REQUIRE(fd >= 0);
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "d" + std::to_string(i) + ".example.com\n";
  REQUIRE(write(fd, many.data(), many.size()) == static_cast<ssize_t>(many.size()));
  close(fd);
  for (const char* server : {"192.0.2.97", "192.0.2.98"}) {
    CAPTURE(server);
    auto r = bp(std::string("check --no-smtp --timeout 300 --tries 2 --resolver ") + server + " $(cat " + names + ")");
    CHECK(r.rc == 3);
    CHECK(r.err.rfind("bounceprobe: error: no DNS reply from", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
    CHECK(r.seconds < 2.5);  // 2 x 300 ms, start-up and argument parsing of 10,000 names
  }
  std::remove(names);
}

TEST_CASE("deadlines: a domain's pending lookups end at --deadline as not checked, the rest of its report stands") {
  // The blocklist resolver swallows queries; each one would take 2 x 3 s.
  auto r = bp("check --json --no-smtp --routable 192.0.2.0/24 --routable 203.0.113.0/24 --dnsbl-resolver 192.0.2.98 "
              "--timeout 3000 --deadline 0.5 example.com example.org");
  CAPTURE(r.err);
  REQUIRE(r.j.is_object());
  CHECK(r.seconds < 2.0);
  for (const auto& d : r.j["domains"]) {
    CHECK(d["mx"]["status"] == "has_mx");
    bool late = false;
    for (const auto& f : d["findings"]) {
      if (f["code"] == "dnsbl.not-checked") {
        CHECK(f["checked"] == false);
        late = late || f["summary"].get<std::string>().find("deadline passed") != std::string::npos;
      }
    }
    CHECK(late);
  }
  // One domain: the run ends at the deadline too.
  auto one = bp("check --json --no-smtp --dnsbl-resolver 192.0.2.98 --timeout 3000 --run-deadline 0.5 example.com");
  REQUIRE(one.j.is_object());
  CHECK(one.seconds < 2.0);
}

TEST_CASE("hostile DNS: thousands of MX records, SPF terms and DMARC destinations stay within the documented bounds") {
  const std::string args = " --json --no-smtp --routable 192.0.2.0/24 --routable 198.51.100.0/24 --dnsbl-resolver 192.0.2.54";
  struct Row {
    const char* domain;
    const char* code;   // the finding that names the bound
    const char* names;  // what it says
    int max_queries;    // to the main resolver, cache hits excluded
  };
  for (auto row : {Row{"manymx.hostile.example", "mx.too-many-hosts", "2900 distinct MX hosts", 60},
                   Row{"wide.hostile.example", "dnsbl.targets-capped", "at most 20 per domain", 60},
                   Row{"manyterms.hostile.example", "spf.terms-not-resolved", "1990 a/mx/exists term(s)", 120},
                   Row{"manyrua.hostile.example", "dmarc.too-many-destinations", "the other 2490 were not checked", 60}}) {
    CAPTURE(row.domain);
    auto r = bp("check " + std::string(row.domain) + args);
    CAPTURE(r.err);
    REQUIRE(r.j.is_object());
    const auto& d = r.j["domains"][0];
    bool named = false;
    for (const auto& f : d["findings"]) {
      if (f["code"] == row.code) named = f["summary"].get<std::string>().find(row.names) != std::string::npos;
    }
    CHECK(named);
    const auto sent = r.j["run"]["queries"]["sent"].get<int>();
    MESSAGE(row.domain << ": " << sent << " queries in " << r.seconds << " s");
    CHECK(sent <= row.max_queries);
    CHECK(d["dnsbl"]["results"].size() <= 20 * 8);  // 20 targets x the lists
    CHECK(r.seconds < 5.0);
  }
}

TEST_CASE("spf: a prefix length past 2^32 or 2^64 is permerror, never /0 authorizing everyone") {
  for (const char* sender : {"a@overflow4.hostile.example", "a@overflowa.hostile.example", "a@overflow6.hostile.example"}) {
    CAPTURE(sender);
    auto r = bp(std::string("spf --json --ip 203.0.113.99 --sender ") + sender);
    REQUIRE(r.j.is_object());
    CHECK(r.j["result"] == "permerror");
    CHECK(r.j["reason"].get<std::string>().find("prefix length") != std::string::npos);
  }
  auto c = bp(std::string("check --json overflow4.hostile.example") + routable);
  REQUIRE(c.j.is_object());
  const auto& d = c.j["domains"][0];
  CHECK(codes(d).count("spf.syntax") == 1);
  CHECK(codes(d).count("spf.ok") == 0);
  CHECK(d["spf"]["authorized"].empty());
}

TEST_CASE("hostile command lines: one escaped, bounded line and a usage exit, never a crash") {
  struct Row {
    std::string args;
    int rc;
    const char* says;
  };
  const std::string huge(5000, 'a');
  for (const auto& row : {Row{"check .", 2, "the root is not a host name"},
                          Row{"check 'ex\033[31mample\007.com'", 2, "'ex\\x1b[31mample\\x07.com'"},
                          Row{"check " + huge + ".example", 2, "... (5008 bytes)"},
                          Row{"check --helo . example.com", 2, "--helo '.' is not a host name"},
                          Row{"dmarc .", 2, "the root is not a host name"},
                          Row{"check --catalog /dev/zero example.com", 2, "is not a regular file"},
                          Row{"check --catalog /tmp example.com", 2, "is a directory"},
                          Row{"check --dkim-selector 'a b' example.com", 2, "is not a selector"},
                          Row{"explain --message /dev/null/x", 2, "--message"},
                          Row{"check --deadline nan example.com", 2, "not a number of seconds"},
                          Row{"explain --input /dev/zero", 2, "is a device, not a file"},
                          Row{"explain --message /dev/zero", 2, "is a device, not a file"}}) {
    CAPTURE(row.args);
    auto r = bp(row.args);
    CHECK(r.rc == row.rc);
    CHECK(r.err.rfind("bounceprobe: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.size() < 700);
    CHECK(r.err.find('\033') == std::string::npos);
    CHECK(r.err.find(row.says) != std::string::npos);
  }
  // A recipient domain of "." is a finding, not an out-of-bounds read.
  auto p = bp("predict --json --no-smtp --from a@example.com --to x@.");
  REQUIRE(p.j.is_object());
  bool flagged = false;
  for (const auto& f : p.j["findings"]) flagged = flagged || f["code"] == "recipient.not-fqdn";
  CHECK(flagged);
}

namespace {

/// Runs `bounceprobe ARGS` in the lab and notes when each line of its output arrived (seconds from start).
std::vector<std::pair<double, std::string>> timed_lines(const std::string& args) {
  const std::string cmd = env("BP_LAB_SH") + " exec " + env("BP_LAB_STATE") + " " + env("BP_BINARY") + " " + args + " 2>/dev/null";
  std::vector<std::pair<double, std::string>> out;
  const auto start = std::chrono::steady_clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[1 << 16];
  std::string line;
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    line += buf;
    if (line.back() != '\n') continue;
    out.emplace_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), line);
    line.clear();
  }
  pclose(p);
  return out;
}

}  // namespace

TEST_CASE("check streams: a finished domain's line is written while a slow one is still being checked") {
  const std::string smtp = " --routable 192.0.2.0/24 --routable 203.0.113.0/24 --dnsbl-resolver 192.0.2.54 --helo client.example.org";
  // In input order: the fast domain comes first, so its line cannot wait for the tarpit (2.5 s greeting).
  auto lines = timed_lines("check --format jsonl example.org smtp-slowbanner.example.net" + smtp);
  REQUIRE(lines.size() == 2);
  CHECK(json::parse(lines[0].second)["domain"] == "example.org");
  CHECK(json::parse(lines[1].second)["domain"] == "smtp-slowbanner.example.net");
  CHECK(lines[1].first - lines[0].first > 1.5);
  // --unordered: completion order, whatever the input order.
  lines = timed_lines("check --format jsonl --unordered smtp-slowbanner.example.net example.org" + smtp);
  REQUIRE(lines.size() == 2);
  CHECK(json::parse(lines[0].second)["domain"] == "example.org");
  CHECK(lines[1].first - lines[0].first > 1.5);
}

TEST_CASE("check: Ctrl-C writes what is finished, closes the document and exits 130") {
  const std::string smtp = " --routable 192.0.2.0/24 --routable 203.0.113.0/24 --dnsbl-resolver 192.0.2.54 --helo client.example.org";
  // The tarpit comes first: example.org's result, finished, waits for it (input order) when the signal comes.
  const std::string args = " smtp-slowbanner.example.net example.org" + smtp;
  auto r = bp("check --format jsonl" + args, "", "timeout --preserve-status -s INT 1");
  CHECK(r.rc == 130);
  CHECK(r.seconds < 2.0);
  CHECK(r.err.find("interrupted") != std::string::npos);
  std::istringstream in(r.out);
  std::vector<json> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["domain"] == "example.org");
  // One JSON document: closed, valid, with the finished domain.
  r = bp("check --format json" + args, "", "timeout --preserve-status -s TERM 1");
  CHECK(r.rc == 128 + 15);
  REQUIRE(r.j.is_object());
  REQUIRE(r.j["domains"].size() == 1);
  CHECK(r.j["domains"][0]["domain"] == "example.org");
}

TEST_CASE("check --input: a slow domain at the head of a full reorder buffer is waited for, not spun on") {
  // A mail host that never greets comes first (held for --smtp-timeout, 6 s); 400 quick domains
  // finish behind it and fill the reorder buffer (256 results), so the workers wait for room.
  std::string input = "smtp-nobanner.example.net\n";
  for (int i = 0; i < 400; ++i) input += "example.org\n";
  char timing[] = "/tmp/bp-lab-time-XXXXXX";
  int fd = mkstemp(timing);
  REQUIRE(fd >= 0);
  close(fd);
  auto r = bp("check --format jsonl --input - --smtp-timeout 6000 --routable 192.0.2.0/24 --dnsbl-resolver 192.0.2.54 "
              "--helo client.example.org",
              input, std::string("/usr/bin/time -f '%e %U %S' -o ") + timing);
  // GNU time writes "Command exited with non-zero status N" first when it did: the figures are the last line.
  std::ifstream t(timing);
  std::string last;
  for (std::string line; std::getline(t, line);) last = line;
  std::remove(timing);
  double wall = 0, user = 0, sys = 0;
  std::istringstream(last) >> wall >> user >> sys;
  MESSAGE("401 domains behind a 6 s silent host: " << wall << " s wall, " << user + sys << " s CPU");
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 401);
  CHECK(json::parse(r.out.substr(0, r.out.find('\n')))["domain"] == "smtp-nobanner.example.net");
  CHECK(wall > 5.5);
  // Waiting costs no CPU: a wake-up that re-armed a shared timer used to cancel the others'
  // waits, and the workers spun on each other for the whole wait (CPU time = wall time).
  // The checks themselves take well under 3 s of CPU, even in the sanitizer build.
  CHECK(user + sys < wall - 3.0);
}

TEST_CASE("--dns-sockets spreads the queries and changes no answer") {
  auto one = bp("check --json example.com example.org manymx.example.net" + std::string(routable));
  auto four = bp("check --json --dns-sockets 4 example.com example.org manymx.example.net" + std::string(routable));
  REQUIRE(one.j.is_object());
  REQUIRE(four.j.is_object());
  CHECK(one.rc == four.rc);
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(codes(one.j["domains"][i]) == codes(four.j["domains"][i]));
    CHECK(one.j["domains"][i]["mx"] == four.j["domains"][i]["mx"]);
  }
}

TEST_CASE("check --input: comments and blank lines skipped, a bad line is an error record and the batch goes on") {
  const std::string input = "# domains to watch\nexample.com\n\n   example.org   \nnot a domain!\n" + std::string(2000, 'x') +
                            "\nexample.net\n";
  auto r = bp("check --format jsonl --input -" + std::string(routable), input);
  CHECK(r.rc == 2);  // the input needs fixing
  std::vector<json> rows;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
  REQUIRE(rows.size() == 5);
  CHECK(rows[0]["domain"] == "example.com");
  CHECK(rows[1]["domain"] == "example.org");
  CHECK(rows[2]["input_line"] == 5);
  CHECK(rows[2]["error"].get<std::string>().find("not a valid domain") != std::string::npos);
  CHECK(rows[3]["input_line"] == 6);
  CHECK(rows[3]["error"].get<std::string>().find("longer than 1024 bytes") != std::string::npos);
  CHECK(rows[4]["domain"] == "example.net");
  for (const auto& row : rows) CHECK(row["schema"] == "bounceprobe/1");
  // The same batch as arguments, text: one line per bad argument, the rest checked.
  auto t = bp(std::string("check example.com 'not a domain!' example.org") + routable);
  CHECK(t.rc == 2);
  CHECK(t.out.find("not a valid domain") != std::string::npos);
  CHECK(t.out.find("3 domains") == std::string::npos);
  CHECK(t.out.find("2 domains") != std::string::npos);
  CHECK(t.out.find("1 input line not checked") != std::string::npos);
  // json: one document, the rejected input under "errors".
  auto j = bp(std::string("check --json example.com 'bad domain'") + routable);
  REQUIRE(j.j.is_object());
  CHECK(j.j["domains"].size() == 1);
  CHECK(j.j["errors"].size() == 1);
  // Arguments and --input together, or neither, are usage errors.
  CHECK(bp("check --input - example.com", "example.org\n").rc == 2);
  CHECK(bp("check").rc == 2);
}

// ---- The SMTP dialogue, against the lab's Postfix and odd peers (tests/lab/mail.sh).

namespace {

std::string smtp_args() {
  return std::string(" --routable 192.0.2.0/24 --routable 203.0.113.0/24 --routable 2001:db8::/32 --dnsbl-resolver 192.0.2.54") +
         " --helo client.example.org --ca-file " + env("BP_LAB_STATE") + "/postfix/tls/ca.pem";
}

json check_smtp(const std::string& domain, const std::string& extra = "") {
  auto r = bp("check --json " + domain + smtp_args() + extra);
  CAPTURE(r.err);
  REQUIRE(r.j.is_object());
  REQUIRE(r.j["domains"].size() == 1);
  return r.j["domains"][0];
}

const json* finding(const json& domain, const std::string& code) {
  for (const auto& f : domain["findings"]) {
    if (f["code"] == code) return &f;
  }
  return nullptr;
}

/// Every command any session sent.
std::vector<std::string> sent_commands(const json& smtp) {
  std::vector<std::string> out;
  for (const auto& s : smtp["sessions"]) {
    for (const auto& x : s["exchanges"]) out.push_back(x["sent"].get<std::string>());
  }
  return out;
}

json predict_smtp(const std::string& args) {
  auto r = bp("predict --json " + args + smtp_args());
  CAPTURE(r.err);
  REQUIRE(r.j.is_object());
  return r.j;
}

}  // namespace

TEST_CASE("smtp: a healthy MX over STARTTLS with a trusted, matching certificate and DANE, never DATA") {
  auto d = check_smtp("example.com", " --relay-test");
  const auto& smtp = d["smtp"];
  // check talks to every address (mx1; mx2 over IPv4 and IPv6); mx1 answers first.
  REQUIRE(smtp["sessions"].size() == 3);
  CHECK(smtp["final_session"] == 0);
  const auto& s = smtp["sessions"][0];
  CHECK(s["host"] == "mx1.example.com");
  CHECK(s["address"] == "192.0.2.25");
  CHECK(s["source"] == "192.0.2.25");
  CHECK(s["tls"]["ok"] == true);
  CHECK(s["tls"]["protocol"].get<std::string>().rfind("TLSv1.", 0) == 0);
  CHECK(s["tls"]["certificate"]["trusted"] == true);
  CHECK(s["tls"]["certificate"]["name_matches"] == true);
  CHECK(s["tls"]["certificate"]["expired"] == false);
  CHECK(s["tls"]["dane"] == "matched");
  CHECK(s["extensions"].contains("PIPELINING"));
  CHECK(smtp["data_sent"] == false);
  for (const auto& cmd : sent_commands(smtp)) {
    CAPTURE(cmd);
    CHECK(cmd.rfind("DATA", 0) != 0);
    CHECK(cmd.rfind("BDAT", 0) != 0);
  }
  // postmaster accepted, a made-up user refused, relaying refused: all healthy.
  for (const char* code : {"smtp.tls", "smtp.dane-match", "smtp.rejects-unknown", "smtp.relay-denied", "smtp.rdns", "smtp.dialogue"}) {
    CAPTURE(code);
    REQUIRE(finding(d, code) != nullptr);
  }
  CHECK((*finding(d, "smtp.tls"))["severity"] == "ok");
  CHECK((*finding(d, "smtp.rdns"))["severity"] == "ok");
  // The lab resolver does not validate: the TLSA match protects nothing, so it is no ✓ (RFC 7672 section 2.2).
  CHECK(s["tls"]["dane_validated"] == false);
  CHECK((*finding(d, "smtp.dane-match"))["severity"] == "info");
  CHECK(finding(d, "smtp.catch-all") == nullptr);
  CHECK(finding(d, "smtp.open-relay") == nullptr);
  CHECK(d["worst"] != "error");
}

TEST_CASE("smtp: certificate problems, a missing STARTTLS and a TLSA record that matches nothing") {
  auto expired = check_smtp("expired-tls.example.net");
  REQUIRE(finding(expired, "smtp.cert-expired") != nullptr);
  CHECK((*finding(expired, "smtp.cert-expired"))["severity"] == "error");
  CHECK(expired["smtp"]["sessions"][0]["tls"]["certificate"]["days_left"].get<long>() < 0);
  // Judged once: the expiry is the only chain error, so no "chain does not verify, serve the full chain";
  // the handshake worked, the verdict is no.
  CHECK(finding(expired, "smtp.cert-untrusted") == nullptr);
  CHECK(expired["smtp"]["sessions"][0]["tls"]["handshake"] == true);
  CHECK(expired["smtp"]["sessions"][0]["tls"]["ok"] == false);

  auto wrong = check_smtp("wrongname-tls.example.net");
  REQUIRE(finding(wrong, "smtp.cert-name-mismatch") != nullptr);
  CHECK(finding(wrong, "smtp.cert-untrusted") == nullptr);  // the lab CA signed it: only the name is wrong
  REQUIRE(finding(wrong, "smtp.dane-mismatch") != nullptr);
  CHECK(wrong["smtp"]["sessions"][0]["tls"]["dane"] == "no_match");
  CHECK(wrong["smtp"]["sessions"][0]["tls"]["ok"] == false);

  auto self = check_smtp("selfsigned-tls.example.net");
  REQUIRE(finding(self, "smtp.cert-untrusted") != nullptr);
  CHECK((*finding(self, "smtp.cert-untrusted"))["detail"].get<std::string>().find("self-signed") != std::string::npos);

  auto notls = check_smtp("notls.example.net");
  REQUIRE(finding(notls, "smtp.no-starttls") != nullptr);
  CHECK(notls["smtp"]["sessions"][0].contains("tls") == false);
}

TEST_CASE("smtp: hostile peers end in a finding within the deadlines") {
  struct Case {
    const char* domain;
    const char* code;
    const char* detail;
  };
  for (const auto& c : {Case{"smtp-nobanner", "smtp.timeout", "no complete reply within 1000 ms"},
                        Case{"smtp-longline", "smtp.protocol-violation", "longer than 2048 bytes"},
                        Case{"smtp-endless", "smtp.protocol-violation", "more than 100 lines"},
                        Case{"smtp-midclose", "smtp.connection-closed", "in the middle of a reply"},
                        Case{"smtp-tlsgarbage", "smtp.tls-handshake-failed", "wrong version number"}}) {
    CAPTURE(c.domain);
    const auto start = std::chrono::steady_clock::now();
    auto d = check_smtp(std::string(c.domain) + ".example.net", " --smtp-timeout 1000");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(secs < 3.0);
    const json* f = finding(d, c.code);
    REQUIRE(f != nullptr);
    CHECK((*f)["summary"].get<std::string>().find(c.detail) != std::string::npos);
  }
  // An opportunistic sender retries without STARTTLS after a failed handshake: so does the probe.
  auto garbage = check_smtp("smtp-tlsgarbage.example.net", " --smtp-timeout 1000");
  REQUIRE(garbage["smtp"]["sessions"].size() == 2);
  CHECK(garbage["smtp"]["sessions"][1].contains("tls") == false);
  CHECK(garbage["smtp"]["final_session"] == 1);
  // A tarpit: the greeting comes after 2.5 s.
  auto slow = check_smtp("smtp-slowbanner.example.net");
  REQUIRE(finding(slow, "smtp.banner-slow") != nullptr);
  CHECK(slow["smtp"]["sessions"][0]["banner_ms"].get<double>() >= 2400.0);
  // Memory stays bounded by the parser's limits: unit_smtp's "hostile peers" case measures it
  // byte by byte (a process-wide RSS here would mostly measure the sanitizer build's shadow memory).
}

TEST_CASE("check talks to every MX host and address: a backup MX that refuses what the primary accepts; predict stops at the first") {
  const std::string args = " --routable 192.0.2.0/24 --routable 2001:db8::/32 --dnsbl-resolver 192.0.2.54 --helo client.example.org";
  auto r = bp("check --json backup.example.net example.com" + args);
  REQUIRE(r.j.is_object());
  const auto& backup = r.j["domains"][0];
  REQUIRE(backup["smtp"]["sessions"].size() == 2);
  CHECK(backup["smtp"]["sessions"][0]["address"] == "192.0.2.25");
  CHECK(backup["smtp"]["sessions"][1]["address"] == "192.0.2.31");
  CHECK(backup["smtp"]["final_session"] == 0);
  bool refused = false, first = false;
  for (const auto& f : backup["findings"]) {
    if (f["code"] == "smtp.host-refuses-recipient") {
      refused = true;
      CHECK(f["severity"] == "error");
      CHECK(f["subject"] == "mx-backup.example.net");
      CHECK(f["summary"].get<std::string>().find("554 5.7.1") != std::string::npos);
      CHECK(f["summary"].get<std::string>().find("while mx1.example.com [192.0.2.25] accepts it") != std::string::npos);
    }
    if (f["code"] == "smtp.first-receiver") {
      first = true;
      CHECK(f["summary"].get<std::string>().find("goes first to mx1.example.com [192.0.2.25]") != std::string::npos);
    }
  }
  CHECK(refused);
  CHECK(first);
  CHECK(r.rc == 1);  // an error finding
  // example.com: both hosts, and mx2's IPv4 and IPv6 addresses, each in its own session.
  std::set<std::string> addresses;
  for (const auto& s : r.j["domains"][1]["smtp"]["sessions"]) addresses.insert(s["address"].get<std::string>());
  CHECK(addresses == std::set<std::string>{"192.0.2.25", "192.0.2.26", "2001:db8::26"});
  CHECK(codes(r.j["domains"][1]).count("smtp.host-refuses-recipient") == 0);
  // predict walks as a sender does: the first host that answers, nothing after it.
  auto p = bp("predict --json --from user@example.org --to postmaster@backup.example.net --ip 192.0.2.80" + args);
  REQUIRE(p.j.is_object());
  const auto& sessions = p.j["smtp"]["sessions"];
  REQUIRE(sessions.is_array());
  CHECK(sessions.size() == 1);
}

TEST_CASE("smtp: port 25 unreachable everywhere, and the fallback to the next MX") {
  auto dead = check_smtp("smtp-dead.example.net");
  const json* f = finding(dead, "smtp.unreachable");
  REQUIRE(f != nullptr);
  CHECK((*f)["severity"] == "error");
  CHECK((*f)["fix"].get<std::string>().find("outbound port 25") != std::string::npos);

  auto fb = check_smtp("smtp-fallback.example.net");
  const auto& sessions = fb["smtp"]["sessions"];
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0]["connected"] == false);
  CHECK(sessions[0]["error"]["kind"] == "refused");
  CHECK(sessions[1]["host"] == "mx1.example.com");
  CHECK(fb["smtp"]["final_session"] == 1);
  REQUIRE(finding(fb, "smtp.connect-failed") != nullptr);
  // mx1 is no destination for smtp-fallback.example.net: the catalog names the answer.
  REQUIRE(finding(fb, "smtp.bounce.relay-access-denied") != nullptr);
}

TEST_CASE("smtp: a receiver's connection-count limit is a finding with its catalog entry") {
  // Hold one connection to mx2 (one per client allowed), then probe it from the same address.
  const std::string hold = env("BP_LAB_SH") + " exec " + env("BP_LAB_STATE") +
                           " timeout 5 bash -c 'exec 3<>/dev/tcp/192.0.2.26/25; head -c 4 <&3; sleep 4'";
  FILE* holder = popen(hold.c_str(), "r");
  REQUIRE(holder != nullptr);
  char greeting[5] = {};
  REQUIRE(fread(greeting, 1, 4, holder) == 4);
  CHECK(std::string(greeting) == "220 ");
  auto d = check_smtp("busy.example.net");
  pclose(holder);
  const json* f = finding(d, "smtp.connection-limit");
  REQUIRE(f != nullptr);
  CHECK((*f)["summary"].get<std::string>().find("421 4.7.0 mx2.example.com Error: too many connections from 192.0.2.26") !=
        std::string::npos);
  CHECK(finding(d, "smtp.bounce.postfix-too-many-connections") != nullptr);
}

TEST_CASE("smtp: IPv6, and a source address that is not ours") {
  auto d = check_smtp("example.com", " --source-ip 2001:db8::26");
  REQUIRE(d["smtp"]["sessions"].size() == 1);
  CHECK(d["smtp"]["sessions"][0]["address"] == "2001:db8::26");
  CHECK(d["smtp"]["sessions"][0]["source"] == "2001:db8::26");
  CHECK(d["smtp"]["sessions"][0]["tls"]["ok"] == true);
  auto r = bp("check example.com --source-ip 203.0.113.99" + smtp_args());
  CHECK(r.rc == 2);
  CHECK(r.err == "bounceprobe: error: --source-ip 203.0.113.99 is not an address of this machine\n");
  auto ca = bp("check example.com --ca-file /nonexistent/ca.pem");
  CHECK(ca.rc == 2);
  CHECK(ca.err == "bounceprobe: error: --ca-file '/nonexistent/ca.pem' cannot be read\n");
  auto helo = bp("check example.com --helo 'bad name'");
  CHECK(helo.rc == 2);
  CHECK(helo.err.rfind("bounceprobe: error: --helo 'bad name' is not a host name", 0) == 0);
}

TEST_CASE("predict: the observed RCPT-stage bounce, each on its catalog entry with the exact text") {
  struct Case {
    const char* args;
    const char* entry;
    int code;
    const char* enhanced;
    const char* text;
  };
  for (const auto& c : {
           Case{"--from a@example.org --to nobody@example.com", "recipient-unknown-in-relay-table", 550, "5.1.1",
                "<nobody@example.com>: Recipient address rejected: User unknown in relay recipient table"},
           Case{"--from a@example.org --to someone@smtp-fallback.example.net", "relay-access-denied", 550, "5.7.1",
                "<someone@smtp-fallback.example.net>: Relay access denied"},
           Case{"--from x@blocked.example.org --to user@example.com", "sender-blocked-by-domain", 554, "5.7.1",
                "<x@blocked.example.org>: Sender address rejected: Blocked by this domain"},
           Case{"--from annoying@example.org --to victim@example.com", "sender-blocked-by-recipient", 554, "5.7.1",
                "<annoying@example.org>: Sender address rejected: Blocked by this recipient"},
       }) {
    CAPTURE(c.args);
    auto j = predict_smtp(c.args);
    CHECK(j["verdict"] == "bounce");
    REQUIRE(!j["bounces"].empty());
    const auto& b = j["bounces"][0];
    CHECK(b["check"] == "observed");
    CHECK(b["catalog_id"] == c.entry);
    CHECK(b["code"] == c.code);
    CHECK(b["enhanced"] == c.enhanced);
    CHECK(b["text"] == c.text);
    CHECK(b["stage"] == "rcpt");
  }
  // The same sender to a mailbox that exists: accepted at RCPT, and the report says DATA was not tried.
  auto ok = predict_smtp("--from a@example.org --to user@example.com");
  CHECK(ok["verdict"] == "accept");
  bool observed = false;
  for (const auto& p : ok["passed"]) observed = observed || p.get<std::string>().rfind("observed: mx1.example.com", 0) == 0;
  CHECK(observed);
}

TEST_CASE("predict: an answer about the connecting address counts only for the address that connected") {
  // --ip is an address of this machine: the dialogue comes from it, and its block counts.
  auto mine = predict_smtp("--from a@example.org --to user@example.com --ip 198.51.100.77");
  REQUIRE(!mine["bounces"].empty());
  CHECK(mine["bounces"][0]["check"] == "observed");
  CHECK(mine["bounces"][0]["catalog_id"] == "client-host-blocked");
  CHECK(mine["smtp"]["sessions"][0]["source"] == "198.51.100.77");
  // The dialogue came from elsewhere: what this machine got is reported, the prediction for --ip rests on DNS.
  auto other = predict_smtp("--from a@example.org --to user@example.com --ip 203.0.113.5 --source-ip 198.51.100.77");
  REQUIRE(!other["bounces"].empty());
  CHECK(other["bounces"][0]["check"] != "observed");
  REQUIRE(other["observed_from_this_machine"].size() == 1);
  CHECK(other["observed_from_this_machine"][0]["catalog_id"] == "client-host-blocked");
  CHECK(other["observed_from_this_machine"][0]["source"] == "198.51.100.77");
}

namespace {

json explain_probe(const std::string& text, const std::string& extra = "") {
  auto r = bp("explain --json --probe" + smtp_args() + extra + " -", text);
  CAPTURE(r.err);
  CAPTURE(r.out);
  REQUIRE(r.j.is_object());
  REQUIRE(r.j.contains("confirm"));
  return r.j;
}

}  // namespace

TEST_CASE("explain --probe: the cause of each bounce is confirmed, or refuted, by the probe that can tell") {
  // An unknown user: the recipient's MX is asked again (RCPT, never DATA).
  auto unknown = explain_probe("<nobody@example.com>: host mx1.example.com[192.0.2.25] said: 550 5.1.1 <nobody@example.com>: "
                               "Recipient address rejected: User unknown (in reply to RCPT TO command)");
  CHECK(unknown["reason"] == "recipient-unknown");
  CHECK(unknown["confirm"]["probe"] == "smtp");
  CHECK(unknown["confirm"]["status"] == "holds");
  CHECK(unknown["confirm"]["targets"]["recipient"] == "nobody@example.com");
  auto exists = explain_probe("550 5.1.1 <user@example.com>: Recipient address rejected: User unknown");
  CHECK(exists["confirm"]["status"] == "does-not-hold");
  // A blocklisted client address: the blocklists are asked.
  auto listed = explain_probe("554 5.7.1 Service unavailable; Client host [203.0.113.66] blocked using zen.spamhaus.org");
  CHECK(listed["reason"] == "blocklisted");
  CHECK(listed["confirm"]["probe"] == "dnsbl");
  CHECK(listed["confirm"]["status"] == "holds");
  auto clean = explain_probe("554 5.7.1 Service unavailable; Client host [203.0.113.1] blocked using zen.spamhaus.org");
  CHECK(clean["confirm"]["status"] == "does-not-hold");
  // A DMARC rejection names only the domain: --ip gives the sending address for SPF.
  auto dmarc = explain_probe("550 5.7.1 Email rejected per DMARC policy for dmarc-reject.example.net (G15)", " --ip 203.0.113.77");
  CHECK(dmarc["reason"] == "authentication");
  CHECK(dmarc["confirm"]["probe"] == "spf-dmarc");
  CHECK(dmarc["confirm"]["status"] == "holds");
  auto authorized = explain_probe("550 5.7.1 Email rejected per DMARC policy for dmarc-reject.example.net (G15)", " --ip 198.51.100.5");
  CHECK(authorized["confirm"]["status"] == "does-not-hold");
  // A domain that does not exist.
  auto nxdomain = explain_probe("<bob@doesnotexist.example.net>: Host or domain name not found. Name service error for "
                                "name=doesnotexist.example.net type=A: Host not found");
  CHECK(nxdomain["reason"] == "recipient-domain-unknown");
  CHECK(nxdomain["confirm"]["probe"] == "mx");
  CHECK(nxdomain["confirm"]["status"] == "holds");
  auto exists_now = explain_probe("<bob@example.com>: Host or domain name not found. Name service error for name=example.com type=A: Host not found");
  CHECK(exists_now["confirm"]["status"] == "does-not-hold");
  // Nothing to probe for a mailbox-full answer's opposite: content reasons say so instead of guessing.
  auto spam = explain_probe("550 5.7.1 Message rejected as spam");
  CHECK(spam["confirm"]["status"] == "not-checked");
}

TEST_CASE("explain --message reads a DSN with one answer per failed recipient, and --input answers a batch line by line") {
  const std::string dsn =
      "From: MAILER-DAEMON@mail.sender.example\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\n"
      "Content-Type: text/plain; charset=utf-8\n\nThe mail system\n\n--b\nContent-Type: message/delivery-status\n\n"
      "Reporting-MTA: dns; mail.sender.example\n\nFinal-Recipient: rfc822; bob@example.com\nAction: failed\nStatus: 5.1.1\n"
      "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown\n\n"
      "Final-Recipient: rfc822; carol@example.net\nAction: failed\nStatus: 4.4.7\nDiagnostic-Code: X-Postfix; delivery temporarily "
      "suspended\n\nFinal-Recipient: rfc822; dave@example.org\nAction: delivered\nStatus: 2.0.0\n\n--b--\n";
  auto r = bp("explain --json --message -", dsn);
  CAPTURE(r.err);
  CHECK(r.rc == 0);
  REQUIRE(r.j.is_object());
  CHECK(r.j["message"]["kind"] == "dsn");
  CHECK(r.j["message"]["reporting_mta"] == "mail.sender.example");
  REQUIRE(r.j["answers"].size() == 2);  // the delivered recipient is no bounce
  CHECK(r.j["answers"][0]["recipient"] == "bob@example.com");
  CHECK(r.j["answers"][0]["reason"] == "recipient-unknown");
  CHECK(r.j["answers"][1]["recipient"] == "carol@example.net");
  CHECK(r.j["answers"][1]["reason"] == "expired");
  CHECK(r.j["reason"] == "recipient-unknown");

  auto b = bp("explain --input - --format jsonl",
              "550 5.1.1 The email account that you tried to reach does not exist.\n\nnot a bounce at all\n"
              "452 4.2.2 The email account that you tried to reach is over quota.\n");
  CHECK(b.rc == 0);
  std::vector<json> lines;
  std::size_t pos = 0;
  while (pos < b.out.size()) {
    auto nl = b.out.find('\n', pos);
    lines.push_back(json::parse(b.out.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  REQUIRE(lines.size() == 3);  // the blank line is skipped, its number kept
  CHECK(lines[0]["input_line"] == 1);
  CHECK(lines[0]["reason"] == "recipient-unknown");
  CHECK(lines[1]["input_line"] == 3);
  CHECK(lines[1]["reason"] == "other");
  CHECK(lines[2]["input_line"] == 4);
  CHECK(lines[2]["reason"] == "mailbox-full");
  // Bad input files: one line, exit 2.
  auto missing = bp("explain --input /nonexistent/file --format jsonl");
  CHECK(missing.rc == 2);
  auto dir = bp("explain --message /tmp");
  CHECK(dir.rc == 2);
}

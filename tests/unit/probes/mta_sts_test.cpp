// Tests for probes/https_get.cpp (reading an HTTP response) and
// probes/mta_sts_policy.cpp (the policy, mx: patterns, the judgement).
#include <doctest/doctest.h>

#include <https_get.hpp>
#include <mta_sts.hpp>

#include <set>
#include <string>

using namespace bp::probes;
using namespace bp::probes::transport;
using https::Limits;
using https::Parsed;
using https::parse_response;
using State = Parsed::State;

TEST_CASE("parse_response: Content-Length, chunked coding, the end of the connection, and every bound") {
  const Limits limits;
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n";
  // Incomplete until all five bytes are in; bytes past Content-Length are not body.
  CHECK(parse_response(head.substr(0, 20), false, limits).state == State::incomplete);
  CHECK(parse_response(head + "abc", false, limits).state == State::incomplete);
  auto p = parse_response(head + "abcdeEXTRA", false, limits);
  REQUIRE(p.state == State::complete);
  CHECK(p.response.status == 200);
  CHECK(p.response.reason == "OK");
  CHECK(p.response.content_type == "text/plain");
  CHECK(p.response.body == "abcde");
  CHECK(parse_response(head + "abc", true, limits).error == "the connection closed after 3 of 5 body bytes");

  // Chunked, with an extension and a trailer, split anywhere: the same body.
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nmode\r\n6\r\n: none\r\n0\r\nX-T: 1\r\n\r\n";
  for (std::size_t cut = 0; cut < chunked.size(); ++cut) {
    CAPTURE(cut);
    const auto part = parse_response(chunked.substr(0, cut), false, limits);
    CHECK(part.state != State::malformed);
  }
  p = parse_response(chunked, false, limits);
  REQUIRE(p.state == State::complete);
  CHECK(p.response.body == "mode: none");
  CHECK(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, limits).error == "'zz' is not a chunk size");
  CHECK(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", false, limits).error ==
        "a chunk is longer than its size says");

  // No length: the body ends with the connection. LF-only lines are read too.
  p = parse_response("HTTP/1.0 200 OK\nContent-Type: text/plain\n\nversion: STSv1\n", true, limits);
  REQUIRE(p.state == State::complete);
  CHECK(p.response.body == "version: STSv1\n");

  // An interim 100 before the real response; a redirect keeps its Location.
  p = parse_response("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 301 Moved Permanently\r\nLocation: https://x/\r\nContent-Length: 0\r\n\r\n", false,
                     limits);
  REQUIRE(p.state == State::complete);
  CHECK(p.response.status == 301);
  CHECK(p.response.location == "https://x/");
  std::string interims;
  for (int i = 0; i < 6; ++i) interims += "HTTP/1.1 100 Continue\r\n\r\n";
  CHECK(parse_response(interims, false, limits).error == "more than 4 interim (1xx) responses");

  // Bounds: a body past its bound is cut (with or without a length); a header block past its bound is malformed.
  Limits small;
  small.body = 8;
  small.head = 64;
  p = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", false, small);
  REQUIRE(p.state == State::complete);
  CHECK(p.response.body == "01234567");
  CHECK(p.response.body_cut);
  p = parse_response("HTTP/1.1 200 OK\r\n\r\n0123456789", false, small);
  CHECK(p.response.body_cut);
  p = parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n", false, small);
  CHECK(p.response.body == "01234567");
  CHECK(p.response.body_cut);
  CHECK(parse_response("HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a'), false, small).error ==
        "the response's header block is over 64 bytes");

  // What is not HTTP.
  CHECK(parse_response("SSH-2.0-OpenSSH\r\n\r\n", false, limits).error == "'SSH-2.0-OpenSSH' is not an HTTP/1.x status line");
  CHECK(parse_response("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", false, limits).error == "'no colon here' is not a header field");
  CHECK(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", false, limits).state == State::malformed);
  CHECK(parse_response("", true, limits).error == "the server closed the connection without a response");
}

TEST_CASE("parse_policy: RFC 8461 section 3.2's fields, LF and CRLF lines, and what makes a policy invalid") {
  auto p = parse_policy("version: STSv1\r\nmode: enforce\nmx: MX1.Example.COM.\r\nmx: *.example.net\nmax_age: 604800\r\nx-ext: kept out\n");
  CHECK(p.problems.empty());
  CHECK(p.version == "STSv1");
  CHECK(p.mode == "enforce");
  REQUIRE(p.max_age);
  CHECK(*p.max_age == 604800);
  CHECK(p.mx == std::vector<std::string>{"mx1.example.com", "*.example.net"});
  // mode none needs no mx.
  CHECK(parse_policy("version: STSv1\nmode: none\nmax_age: 86400\n").problems.empty());

  struct Row {
    const char* text;
    const char* problem;
  };
  for (const auto& row : {
           Row{"mode: enforce\nmx: a.example\nmax_age: 1\n", "no version field"},
           Row{"version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", "version is 'STSv2', not STSv1"},
           Row{"version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", "mode 'strict' is none of enforce, testing, none"},
           Row{"version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age field"},
           Row{"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", "max_age 31557601 is over the limit of 31557600 seconds"},
           Row{"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "max_age '-1' is not a number of seconds"},
           Row{"version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx field: no MX host is allowed"},
           Row{"version: STSv1\nmode: enforce\nmx: a b\nmax_age: 1\n", "mx 'a b' is not a host name or *.name pattern"},
           Row{"version: STSv1\nmode: enforce\nmode: none\nmx: a.example\nmax_age: 1\n", "mode appears 2 times"},
           Row{"version: STSv1\n<html>\nmode: enforce\nmx: a.example\nmax_age: 1\n", "line 2 ('<html>') is not \"key: value\""},
       }) {
    CAPTURE(row.text);
    const auto problems = parse_policy(row.text).problems;
    CHECK(std::find(problems.begin(), problems.end(), row.problem) != problems.end());
  }
}

TEST_CASE("mx_matches: a name, or a wildcard for exactly one leftmost label (RFC 8461 section 4.1)") {
  CHECK(mx_matches("mx1.example.com", "MX1.example.com."));
  CHECK_FALSE(mx_matches("mx1.example.com", "mx2.example.com"));
  CHECK(mx_matches("*.example.com", "mx1.example.com"));
  CHECK_FALSE(mx_matches("*.example.com", "a.b.example.com"));
  CHECK_FALSE(mx_matches("*.example.com", "example.com"));
  CHECK_FALSE(mx_matches("*.example.com", "mx1.notexample.com"));
  CHECK_FALSE(mx_matches("*.example.com", ".example.com"));
}

namespace {

PolicyFetch fetched(int status, std::string content_type, std::string body) {
  PolicyFetch p;
  p.id = "7";
  p.host = "mta-sts.example.com";
  p.fetch.url = "https://mta-sts.example.com/.well-known/mta-sts.txt";
  p.fetch.address = "192.0.2.61";
  https::Response r;
  r.status = status;
  r.reason = "OK";
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  p.fetch.response = r;
  if (status == 200) p.policy = parse_policy(p.fetch.response->body);
  return p;
}

MxReport mx_of(std::initializer_list<const char*> hosts) {
  MxReport mx;
  mx.domain = "example.com";
  for (const auto* h : hosts) {
    HostLookup t;
    t.host = h;
    mx.targets.push_back(t);
  }
  return mx;
}

std::set<std::string> codes(const std::vector<Finding>& fs) {
  std::set<std::string> out;
  for (const auto& f : fs) out.insert(f.code);
  return out;
}

}  // namespace

TEST_CASE("policy_findings: uncovered MX hosts by mode, and each MX host's TLS when the dialogue ran") {
  const auto p = fetched(200, "text/plain", "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n");
  const auto mx = mx_of({"mx1.example.com", "backup.example.org"});
  auto out = policy_findings("example.com", p, mx, nullptr);
  CHECK(codes(out) == std::set<std::string>{"mta-sts.policy-ok", "mta-sts.mx-not-covered", "mta-sts.mx-tls-unchecked"});
  for (const auto& f : out) {
    if (f.code == "mta-sts.mx-not-covered") {
      CHECK(f.subject == "backup.example.org");
      CHECK(f.severity == Severity::error);
    }
  }
  // Testing mode: the same host is a warning; mode none judges no host.
  const auto testing = fetched(200, "text/plain", "version: STSv1\nmode: testing\nmx: mx1.example.com\nmax_age: 604800\n");
  for (const auto& f : policy_findings("example.com", testing, mx, nullptr)) {
    if (f.code == "mta-sts.mx-not-covered") CHECK(f.severity == Severity::warning);
  }
  const auto none = fetched(200, "text/plain", "version: STSv1\nmode: none\nmax_age: 604800\n");
  CHECK(codes(policy_findings("example.com", none, mx, nullptr)) == std::set<std::string>{"mta-sts.policy-ok"});

  // The dialogue ran: a host without STARTTLS and one whose certificate does not name it.
  SmtpReport smtp;
  smtp.attempted = true;
  bp::smtp::Session plain;
  plain.host = "mx1.example.com";
  plain.address = "192.0.2.25";
  plain.connected = plain.esmtp = true;
  smtp.sessions.push_back(plain);
  bp::smtp::Session wrong = plain;
  wrong.host = "backup.example.org";
  wrong.starttls_offered = true;
  bp::smtp::TlsInfo t;
  t.ok = true;
  t.cert = bp::smtp::CertInfo{};
  t.cert->chain_trusted = true;
  t.cert->names = {"other.example"};
  wrong.tls = t;
  smtp.sessions.push_back(wrong);
  out = policy_findings("example.com", p, mx, &smtp);
  std::vector<std::string> tls;
  for (const auto& f : out) {
    if (f.code == "mta-sts.mx-tls") tls.push_back(f.summary);
  }
  REQUIRE(tls.size() == 2);
  CHECK(tls[0].find("offers no STARTTLS") != std::string::npos);
  CHECK(tls[1].find("does not name the host (it names other.example)") != std::string::npos);
}

TEST_CASE("policy_findings: each way the fetch fails is one finding that says why") {
  const auto mx = mx_of({"mx1.example.com"});
  auto redirect = fetched(302, "text/html", "");
  redirect.fetch.response->location = "https://elsewhere.example/";
  auto out = policy_findings("example.com", redirect, mx, nullptr);
  REQUIRE(out.size() == 1);
  CHECK(out[0].code == "mta-sts.policy-http-status");
  CHECK(out[0].summary.find("(to https://elsewhere.example/): senders do not follow redirects") != std::string::npos);

  out = policy_findings("example.com", fetched(200, "text/html; charset=utf-8", "version: STSv1\nmode: none\nmax_age: 9\n"), mx, nullptr);
  CHECK(codes(out).count("mta-sts.policy-content-type") == 1);

  auto cut = fetched(200, "text/plain", std::string(100, 'x'));
  cut.fetch.response->body_cut = true;
  CHECK(codes(policy_findings("example.com", cut, mx, nullptr)) == std::set<std::string>{"mta-sts.policy-too-large"});

  auto bad = fetched(200, "text/plain", "version: STSv1\n");
  CHECK(codes(policy_findings("example.com", bad, mx, nullptr)) == std::set<std::string>{"mta-sts.policy-syntax"});

  PolicyFetch unreachable;
  unreachable.host = "mta-sts.example.com";
  unreachable.fetch.url = "https://mta-sts.example.com/.well-known/mta-sts.txt";
  unreachable.fetch.error = "no address of mta-sts.example.com took a connection on port 443";
  unreachable.fetch.tried = {"[192.0.2.61]:443: connection refused"};
  out = policy_findings("example.com", unreachable, mx, nullptr);
  REQUIRE(out.size() == 1);
  CHECK(out[0].code == "mta-sts.policy-unreachable");
  CHECK(out[0].summary.find("[192.0.2.61]:443: connection refused") != std::string::npos);

  PolicyFetch private_only;
  private_only.host = "mta-sts.example.com";
  private_only.skipped = {"10.0.0.1 (Private-Use)"};
  out = policy_findings("example.com", private_only, mx, nullptr);
  REQUIRE(out.size() == 1);
  CHECK(out[0].summary.find("its only addresses are not routable: 10.0.0.1 (Private-Use)") != std::string::npos);
}

TEST_CASE("policy_digest: line ends, spacing and mx order do not change it; a value does") {
  const auto a = parse_policy("version: STSv1\r\nmode: enforce\r\nmx: a.example\r\nmx: b.example\r\nmax_age: 86400\r\n");
  const auto b = parse_policy("version:STSv1\nmax_age:   86400\nmx: b.example\nmode: enforce\nmx: A.example\n");
  const auto c = parse_policy("version: STSv1\nmode: testing\nmx: a.example\nmx: b.example\nmax_age: 86400\n");
  CHECK(policy_digest(a) == policy_digest(b));
  CHECK(policy_digest(a) != policy_digest(c));
  CHECK(policy_digest(a).size() == 64);
}

TEST_CASE("id_findings: a policy changed under the same id is a warning; a new id is said") {
  const SeenPolicy before{"1", "aaaa", "mode testing, max_age 86400, mx a.example", "2026-11-01T00:00:00Z"};
  CHECK(id_findings("example.com", std::nullopt, before).empty());  // nothing remembered yet
  CHECK(id_findings("example.com", before, before).empty());
  auto fs = id_findings("example.com", before, SeenPolicy{"1", "bbbb", "mode enforce, max_age 86400, mx a.example", ""});
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == "mta-sts.id-unchanged");
  CHECK(fs[0].severity == Severity::warning);
  CHECK(fs[0].summary ==
        "the MTA-STS policy changed since 2026-11-01T00:00:00Z (mode testing, max_age 86400, mx a.example -> mode enforce, "
        "max_age 86400, mx a.example) but the record's id is still 1: senders that cached the old policy keep it until its "
        "max_age passes");
  fs = id_findings("example.com", before, SeenPolicy{"2", "aaaa", before.summary, ""});
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == "mta-sts.id-changed");
  fs = id_findings("example.com", before, SeenPolicy{"2", "bbbb", "x", ""});
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].code == "mta-sts.policy-changed");
  CHECK(fs[0].severity == Severity::info);
}

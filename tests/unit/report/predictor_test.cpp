// predict() is pure: the evidence is built by hand, as if the probes had run.
#include <doctest/doctest.h>

#include <predictor.hpp>

using namespace bp::report;
using namespace bp::probes;
using bp::resolver::DnsFailure;
using bp::resolver::Failure;

namespace {

HostLookup host(const char* name, const char* addr) {
  HostLookup h;
  h.host = name;
  if (addr != nullptr) {
    h.addresses.push_back(*classify(addr));
  } else {
    h.a_failure = Failure{DnsFailure::nodata, "x", 0, {}};
    h.aaaa_failure = Failure{DnsFailure::nodata, "x", 0, {}};
  }
  return h;
}

MxReport healthy(const std::string& domain) {
  MxReport r;
  r.domain = domain;
  r.targets = {host("mx1.example.com", "8.8.8.8")};
  interpret_mx(r);
  return r;
}

MxReport failing(const std::string& domain, DnsFailure kind) {
  MxReport r;
  r.domain = domain;
  r.failure = Failure{kind, "test", kind == DnsFailure::nxdomain ? 3 : 2, {}};
  if (kind == DnsFailure::nodata) r.targets = {host(domain.c_str(), nullptr)};
  interpret_mx(r);
  return r;
}

PredictInput input(const std::string& from, const std::string& to, std::optional<MxReport> smx, std::optional<MxReport> rmx) {
  PredictInput in;
  in.sender = from;
  in.recipient = to;
  in.sender_check = check_address(from, "sender");
  in.recipient_check = check_address(to, "recipient");
  in.sender_mx = std::move(smx);
  in.recipient_mx = std::move(rmx);
  return in;
}

const Profile& profile() {
  static const Profile p = Profile::builtin(Catalog::builtin());
  return p;
}

}  // namespace

TEST_CASE("a healthy pair is accepted") {
  auto p = predict(profile(), input("alice@example.com", "bob@example.org", healthy("example.com"), healthy("example.org")));
  CHECK(p.verdict == "accept");
  CHECK(p.bounces.empty());
}

TEST_CASE("each DNS condition gives its documented bounce, with the real address filled in") {
  struct Row {
    const char* name;
    PredictInput in;
    const char* verdict;
    const char* id;
    int code;
    const char* enhanced;
    const char* text;
  };
  MxReport nullmx;
  nullmx.domain = "nullmx.example.net";
  nullmx.targets = {HostLookup{}};
  interpret_mx(nullmx);
  MxReport priv;
  priv.domain = "private.example.net";
  priv.targets = {host("mx.private.example.net", "172.16.5.5")};
  interpret_mx(priv);
  Row rows[] = {
      {"recipient domain does not exist", input("alice@example.com", "bob@gone.example", healthy("example.com"), failing("gone.example", DnsFailure::nxdomain)),
       "bounce", "recipient-domain-no-mail-host", 0, "5.4.4",
       "Host or domain name not found. Name service error for name=gone.example type=MX: Host not found"},
      {"sender domain does not exist", input("alice@gone.example", "bob@example.org", failing("gone.example", DnsFailure::nxdomain), healthy("example.org")),
       "defer", "sender-domain-not-found", 450, "4.1.8", "<alice@gone.example>: Sender address rejected: Domain not found"},
      {"sender domain lookup SERVFAILs", input("alice@broken.example", "bob@example.org", failing("broken.example", DnsFailure::servfail), healthy("example.org")),
       "defer", "sender-domain-not-found", 450, "4.1.8", "<alice@broken.example>: Sender address rejected: Domain not found"},
      {"sender lookup times out", input("alice@slow.example", "bob@example.org", failing("slow.example", DnsFailure::timeout), healthy("example.org")),
       "defer", "sender-domain-not-found", 450, "4.1.8", "<alice@slow.example>: Sender address rejected: Domain not found"},
      {"sender not fully qualified", input("alice@workstation7", "bob@example.org", std::nullopt, healthy("example.org")),
       "bounce", "sender-not-fqdn", 504, "5.5.2", "<alice@workstation7>: Sender address rejected: need fully-qualified address"},
      {"sender MX in RFC 1918", input("alice@private.example.net", "bob@example.org", priv, healthy("example.org")),
       "bounce", "sender-mx-rfc1918", 554, "5.7.1",
       "<alice@private.example.net>: Sender address rejected: ACL mx_access mail server in RFC 1918 private network"},
      {"sender domain begins with bounce.", input("alice@bounce.shop.example", "bob@example.org", healthy("bounce.shop.example"), healthy("example.org")),
       "bounce", "sender-regexp-filter", 554, "5.7.1", "<alice@bounce.shop.example>: Sender address rejected: ACL from_senders_regexp"},
      {"sender domain publishes a null MX", input("alice@nullmx.example.net", "bob@example.org", nullmx, healthy("example.org")),
       "bounce", "postfix-sender-nullmx", 550, "5.7.27",
       "<alice@nullmx.example.net>: Sender address rejected: Domain nullmx.example.net does not accept mail (nullMX)"},
  };
  for (auto& row : rows) {
    CAPTURE(row.name);
    auto p = predict(profile(), row.in);
    CHECK(p.verdict == std::string(row.verdict));
    REQUIRE_FALSE(p.bounces.empty());
    const auto& b = p.bounces.front();
    CHECK(b.entry->id == std::string(row.id));
    CHECK(b.code == row.code);
    CHECK(b.enhanced == std::string(row.enhanced));
    CHECK(b.text == std::string(row.text));
  }
}

TEST_CASE("a failed sender lookup defers only if nothing later rejects, as defer_if_permit does") {
  // bounce.* sender whose domain SERVFAILs: the regexp REJECT wins, the 450 comes after it.
  auto p = predict(profile(), input("alice@bounce.broken.example", "bob@example.org",
                                    failing("bounce.broken.example", DnsFailure::servfail), healthy("example.org")));
  CHECK(p.verdict == "bounce");
  REQUIRE(p.bounces.size() == 2);
  CHECK(p.bounces[0].entry->id == "sender-regexp-filter");
  CHECK(p.bounces[1].entry->id == "sender-domain-not-found");
  CHECK(p.bounces[1].defer_if_permit);
}

TEST_CASE("the recipient's routing failure comes first, before any receiver check") {
  auto p = predict(profile(), input("alice@workstation7", "bob@gone.example", std::nullopt, failing("gone.example", DnsFailure::nxdomain)));
  REQUIRE(p.bounces.size() == 2);
  CHECK(p.bounces[0].entry->id == "recipient-domain-no-mail-host");
  CHECK(p.bounces[1].entry->id == "sender-not-fqdn");
}

TEST_CASE("a null sender skips the sender-domain checks") {
  auto p = predict(profile(), input("<>", "bob@example.org", std::nullopt, healthy("example.org")));
  CHECK(p.verdict == "accept");
}

TEST_CASE("reply templates fill only known placeholders") {
  CHECK(fill_reply("<{sender}>: {unknown} {recipient_domain}", {{"sender", "a@b.example"}, {"recipient_domain", "c.example"}}) ==
        "<a@b.example>: {unknown} c.example");
}

TEST_CASE("a profile with an unknown restriction, entry or prefix is refused") {
  const auto& cat = Catalog::builtin();
  CHECK_THROWS_WITH_AS(Profile::load("[[check]]\nrestriction='reject_everything'\nentry='sender-not-fqdn'\n", "p.toml", cat),
                       doctest::Contains("unknown restriction"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Profile::load("[[check]]\nrestriction='reject_non_fqdn_sender'\nentry='no-such-entry'\n", "p.toml", cat),
                       doctest::Contains("no entry 'no-such-entry'"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Profile::load("[[check]]\nrestriction='check_sender_mx_access'\nrules=[{prefix='10.0.0.0/99', entry='sender-mx-rfc1918'}]\n",
                                     "p.toml", cat),
                       doctest::Contains("not an address prefix"), std::runtime_error);
}

namespace {

/// A probe report with one finished session whose RCPT for the recipient got `reply`.
SmtpReport dialogue(const std::string& source, int code, const std::string& enhanced, const std::string& text) {
  bp::smtp::Session s;
  s.host = "mx1.example.org";
  s.address = "8.8.8.8";
  s.source = source;
  s.connected = true;
  bp::smtp::Reply r;
  r.code = code;
  r.enhanced = enhanced;
  r.lines = {text};
  s.exchanges.push_back({"rcpt", "RCPT TO:<bob@example.org>", "recipient", r, std::nullopt});
  SmtpReport rep;
  rep.domain = "example.org";
  rep.sessions.push_back(std::move(s));
  rep.final_session = 0;
  return rep;
}

}  // namespace

TEST_CASE("observed replies find their catalog entry; answers about the client count only for the address that connected") {
  const auto& cat = Catalog::builtin();
  auto unknown = observe(cat, dialogue("192.0.2.1", 550, "5.1.1", "<bob@example.org>: Recipient address rejected: User unknown in relay recipient table"));
  REQUIRE(unknown.size() == 1);
  REQUIRE(unknown[0].entry != nullptr);
  CHECK(unknown[0].entry->id == "recipient-unknown-in-relay-table");
  CHECK_FALSE(unknown[0].judges_client());
  CHECK(counts_for(unknown[0], "203.0.113.9"));  // about the envelope: holds for any sending IP

  auto blocked = observe(cat, dialogue("192.0.2.1", 554, "5.7.1", "<unknown[192.0.2.1]>: Client host rejected: The sender's mail server is blocked"));
  REQUIRE(blocked.size() == 1);
  REQUIRE(blocked[0].entry != nullptr);
  CHECK(blocked[0].entry->id == "client-host-blocked");
  CHECK(blocked[0].judges_client());
  CHECK(counts_for(blocked[0], "192.0.2.1"));
  CHECK_FALSE(counts_for(blocked[0], "203.0.113.9"));
  CHECK_FALSE(counts_for(blocked[0], ""));

  // predict(): the envelope answer leads; the client answer from another address is set aside.
  auto in = input("alice@example.com", "bob@example.org", healthy("example.com"), healthy("example.org"));
  in.observed = unknown;
  auto p = predict(profile(), in);
  CHECK(p.verdict == "bounce");
  REQUIRE(!p.bounces.empty());
  CHECK(p.bounces.front().restriction == "observed");
  CHECK(p.bounces.front().text == "<bob@example.org>: Recipient address rejected: User unknown in relay recipient table");

  in.ips = {"203.0.113.9"};
  in.observed = blocked;
  auto q = predict(profile(), in);
  CHECK(q.observed_elsewhere.size() == 1);
  for (const auto& b : q.bounces) CHECK(b.restriction != "observed");

  // An unknown text is still observed, without an entry, never dropped.
  auto odd = observe(cat, dialogue("192.0.2.1", 550, "5.7.1", "go away"));
  REQUIRE(odd.size() == 1);
  CHECK(odd[0].entry == nullptr);
  auto findings = observed_findings(odd);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].code == "smtp.refused");
  CHECK(findings[0].severity == Severity::error);
}

TEST_CASE("the greeting's host name, and a random local part") {
  bp::smtp::Reply r;
  r.code = 220;
  r.lines = {"MX1.Example.COM ESMTP Postfix"};
  CHECK(greeting_name(r) == "mx1.example.com");
  r.lines = {"ESMTP ready"};
  CHECK(greeting_name(r).empty());  // not a host name
  const auto a = random_local_part(), b = random_local_part();
  CHECK(a.size() == std::string("bounceprobe-").size() + 12);
  CHECK(a != b);
}

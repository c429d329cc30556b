// Blocklist answers are classified from the list's data; never a guess.
#include <doctest/doctest.h>

#include <dnsbl/dnsbl.hpp>

using namespace bp::probes::dnsbl;
using bp::resolver::Answer;
using bp::resolver::DnsFailure;
using bp::resolver::Failure;
using bp::resolver::Lookup;
using bp::resolver::Record;
using bp::resolver::RrType;

namespace {
const DnsList& list(const std::string& id) {
  for (const auto& l : builtin_lists()) {
    if (l.id == id) return l;
  }
  FAIL("no list " << id);
  return builtin_lists().front();
}
Lookup answer(std::vector<std::string> addrs) {
  Answer a;
  a.qtype = RrType::a;
  for (auto& x : addrs) {
    Record r;
    r.type = RrType::a;
    r.address = x;
    a.records.push_back(r);
  }
  return a;
}
}  // namespace

TEST_CASE("return codes map to their sublists") {
  struct Row {
    const char* list;
    const char* code;
    State state;
    const char* sublist;
  };
  for (auto row : {Row{"spamhaus-zen", "127.0.0.2", State::listed, "SBL"}, Row{"spamhaus-zen", "127.0.0.3", State::listed, "CSS"},
                   Row{"spamhaus-zen", "127.0.0.4", State::listed, "XBL"}, Row{"spamhaus-zen", "127.0.0.7", State::listed, "XBL"},
                   Row{"spamhaus-zen", "127.0.0.10", State::listed, "PBL"}, Row{"spamhaus-zen", "127.0.0.11", State::listed, "PBL"},
                   Row{"spamhaus-zen", "127.255.255.254", State::not_checked, ""},
                   Row{"spamhaus-zen", "127.255.255.255", State::not_checked, ""},
                   Row{"spamhaus-zen", "127.255.255.252", State::not_checked, ""},
                   Row{"spamhaus-dbl", "127.0.1.4", State::listed, "DBL"}, Row{"spamhaus-dbl", "127.0.1.255", State::not_checked, ""},
                   Row{"senderscore", "127.0.0.2", State::listed, "RPBL"}, Row{"senderscore", "127.255.255.255", State::not_checked, ""},
                   Row{"provider-aggregate", "127.23.0.2", State::listed, "Spamhaus SBL"},
                   Row{"provider-aggregate", "127.5.0.7", State::listed, "Spamcop"},
                   Row{"spamcop", "10.0.0.1", State::not_checked, ""}}) {
    CAPTURE(row.list);
    CAPTURE(row.code);
    auto v = classify(list(row.list), answer({row.code}));
    CHECK(v.state == row.state);
    CHECK(v.sublist == row.sublist);
    CHECK_FALSE(v.unknown_code);
  }
}

TEST_CASE("NXDOMAIN is clean, a failure is not checked, an undocumented code is listed as unknown") {
  CHECK(classify(list("spamcop"), Failure{DnsFailure::nxdomain, "x", 3, {}}).state == State::clean);
  CHECK(classify(list("spamcop"), Failure{DnsFailure::servfail, "x", 2, {}}).state == State::not_checked);
  CHECK(classify(list("spamcop"), Failure{DnsFailure::timeout, "x", -1, {}}).state == State::not_checked);
  auto u = classify(list("spamhaus-zen"), answer({"127.0.0.77"}));
  CHECK(u.state == State::listed);
  CHECK(u.unknown_code);
  // Several codes at once (ZEN): an error code among them makes the whole answer about the query.
  CHECK(classify(list("spamhaus-zen"), answer({"127.0.0.4", "127.0.0.10"})).state == State::listed);
  CHECK(classify(list("spamhaus-zen"), answer({"127.0.0.2", "127.255.255.254"})).state == State::not_checked);
}

TEST_CASE("query names: reversed octets, nibbles, domains") {
  const auto& zen = list("spamhaus-zen");
  CHECK(query_name(zen, "203.0.113.79") == "79.113.0.203.zen.spamhaus.org");
  CHECK(query_name(zen, "2001:db8:7ca6:22::45") ==
        "5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.2.0.0.6.a.c.7.8.b.d.0.1.0.0.2.zen.spamhaus.org");
  CHECK(query_name(zen, "example.com").empty());
  CHECK(query_name(list("spamhaus-dbl"), "Example.COM") == "example.com.dbl.spamhaus.org");
  CHECK(query_name(list("spamhaus-dbl"), "192.0.2.1").empty());
}

TEST_CASE("a Spamhaus key moves the Spamhaus zones to the Data Query Service") {
  auto lists = with_spamhaus_key(builtin_lists(), "abcdefghijklmnopqrstuvwxyz");
  bool zen = false;
  for (const auto& l : lists) {
    if (l.id == "spamhaus-zen") zen = l.zone == "abcdefghijklmnopqrstuvwxyz.zen.dq.spamhaus.net";
    if (l.id == "spamcop") CHECK(l.zone == "bl.spamcop.net");
  }
  CHECK(zen);
  CHECK_THROWS(with_spamhaus_key(builtin_lists(), "bad.key"));
  CHECK_THROWS(with_spamhaus_key(builtin_lists(), ""));
}

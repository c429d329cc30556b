// The reason tables: enhanced codes decide when they are unambiguous, wording
// decides otherwise, reply codes last; the tables refuse what they cannot use.
#include <doctest/doctest.h>

#include <catalog.hpp>
#include <classify.hpp>
#include <explain.hpp>

using namespace bp::report;

TEST_CASE("the order of decision: decisive code, phrase, hint code, reply code, class") {
  const auto& r = Reasons::builtin();
  auto c = r.classify(550, "5.1.1", "blocked by policy");
  CHECK(c.reason == "recipient-unknown");
  CHECK(c.confidence == Confidence::code);
  c = r.classify(550, "5.7.1", "Relaying denied");
  CHECK(c.reason == "relay-denied");
  CHECK(c.confidence == Confidence::phrase);
  c = r.classify(550, "5.7.1", "go away");
  CHECK(c.reason == "policy");
  CHECK(c.confidence == Confidence::code);
  c = r.classify(503, "", "go away");
  CHECK(c.reason == "syntax");
  CHECK(c.confidence == Confidence::code);
  c = r.classify(550, "", "go away");
  CHECK(c.confidence == Confidence::guess);
  c = r.classify(0, "", "nothing to see");
  CHECK(c.reason == "other");
  CHECK(c.confidence == Confidence::guess);
  // Gmail's 4.2.1 is a rate, not a disabled mailbox: X.2.1 is only a hint.
  CHECK(r.classify(450, "4.2.1", "The user you are trying to contact is receiving mail too quickly.").reason == "rate-limited");
  // Microsoft's 5.1.10 is a missing recipient; RFC 7505's X.1.10 a null MX: the wording decides.
  CHECK(r.classify(550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found").reason == "recipient-unknown");
  CHECK(r.classify(556, "5.1.10", "Domain example.com does not accept mail (nullMX)").reason == "not-accepting");
}

TEST_CASE("enhanced code rules: ranges, one class over either, malformed codes") {
  const auto& r = Reasons::builtin();
  REQUIRE(r.status_rule("5.7.620") != nullptr);
  CHECK(r.status_rule("5.7.620")->reason == "blocklisted");
  CHECK(r.status_rule("5.7.650") != nullptr);
  CHECK(r.status_rule("5.7.650")->reason == "reputation");
  CHECK(r.status_rule("4.2.2")->reason == "mailbox-full");
  CHECK(r.status_rule("5.4.300")->reason == "expired");
  CHECK(r.status_rule("4.4.300") == nullptr);  // Exchange's 5.4.300 only
  CHECK(r.status_rule("5.99999999999.1") == nullptr);
  CHECK(r.status_rule("x.y.z") == nullptr);
  CHECK(r.status_rule("") == nullptr);
}

TEST_CASE("every catalog entry has a reason of the vocabulary") {
  for (const auto& e : Catalog::builtin().entries()) {
    CAPTURE(e.id);
    CHECK(Reasons::builtin().find(e.reason) != nullptr);
  }
}

TEST_CASE("bad tables are refused with the rule named") {
  const std::string base = "[[reason]]\nid='other'\ntitle='t'\nexplanation='e'\nfix='f'\nconfirm='none'\n";
  CHECK_THROWS_WITH_AS(Reasons::load(base + "[[status]]\ncode='5.x.1'\nreason='other'\nmeaning='m'\nsource='s'\n", "t"),
                       doctest::Contains("status '5.x.1'"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Reasons::load(base + "[[status]]\ncode='5.1.1'\nreason='nope'\nmeaning='m'\nsource='s'\n", "t"),
                       doctest::Contains("unknown reason 'nope'"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Reasons::load(base + "[[phrase]]\nreason='other'\nsource='s'\npatterns=['(']\n", "t"),
                       doctest::Contains("pattern '('"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Reasons::load(base + "[[reply]]\ncode=4294967846\nreason='other'\nmeaning='m'\nsource='s'\n", "t"),
                       doctest::Contains("200..599"), std::runtime_error);
  CHECK_THROWS_WITH_AS(Reasons::load("[[reason]]\nid='x'\ntitle='t'\nexplanation='e'\nfix='f'\nconfirm='none'\n", "t"),
                       doctest::Contains("'other' is required"), std::runtime_error);
}

TEST_CASE("the receiver's codes are reported as given, and a class disagreement is flagged") {
  auto r = explain(Catalog::builtin(), "451 4.7.1 <jane@bounce.shop.example>: Sender address rejected: ACL from_senders_regexp");
  REQUIRE_FALSE(r.matches.empty());
  CHECK(r.matches.front().entry->id == "sender-regexp-filter");
  CHECK(r.code == 451);
  CHECK(r.enhanced == "4.7.1");
  CHECK(r.matches.front().code == 451);
  CHECK_FALSE(r.matches.front().class_agrees);
  // Without codes in the paste, none are invented from the entry.
  r = explain(Catalog::builtin(), "Email rejected per DMARC policy for example.org");
  REQUIRE_FALSE(r.matches.empty());
  CHECK(r.matches.front().entry->id == "dmarc-reject-g15");
  CHECK(r.code == 0);
  CHECK(r.enhanced.empty());
  CHECK(r.reason == "authentication");
  CHECK(r.confidence == Confidence::catalog);
}

TEST_CASE("another receiver's text is not claimed by a documented entry, but gets its reason and the nearest entries") {
  auto r = explain(Catalog::builtin(), "550 5.1.1 The email account that you tried to reach does not exist. - gsmtp");
  CHECK(r.matches.empty());
  CHECK(r.reason == "recipient-unknown");
  CHECK(r.confidence == Confidence::code);
  CHECK(r.code == 550);
  REQUIRE_FALSE(r.nearest.empty());
  for (const auto* e : r.nearest) CHECK(e->reason == "recipient-unknown");
}

TEST_CASE("the copy of the returned message does not decide: its headers are the sender's") {
  auto r = explain(Catalog::builtin(),
                   "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'\n\n"
                   "Original message headers:\nReceived-SPF: fail\nSubject: virus spam relay denied\n");
  CHECK(r.reason == "recipient-unknown");
  CHECK(r.normalized.find("Received-SPF") == std::string::npos);
}

TEST_CASE("facts: the failed recipient and the refused sender") {
  auto r = explain(Catalog::builtin(), "Final-Recipient: rfc822; bob@example.com\nAction: failed\nStatus: 5.1.1\n");
  CHECK(r.facts["recipient"] == "bob@example.com");
  r = explain(Catalog::builtin(), "554 5.7.1 <jane@bounce.shop.example>: Sender address rejected: ACL from_senders_regexp");
  CHECK(r.facts["sender"] == "jane@bounce.shop.example");
  CHECK(r.facts.count("recipient") == 0);
}

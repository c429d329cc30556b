// explain() maps every documented row, and realistic variants of it, to its entry.
#include <doctest/doctest.h>

#include <catalog.hpp>
#include <explain.hpp>

#include <re2/re2.h>

#include <string>

using namespace bp::report;

namespace {

/// The documented text with the article's placeholders replaced by real-looking values.
std::string with_real_values(std::string s) {
  RE2::GlobalReplace(&s, R"(\$\{user@example\.com\})", "jane.doe@acme-widgets.example");
  RE2::GlobalReplace(&s, R"(user@domain\.com)", "jane.doe@acme-widgets.example");
  RE2::GlobalReplace(&s, R"(admin@fashiondig\.com)", "billing@acme-widgets.example");
  RE2::GlobalReplace(&s, R"(user@nonqualifieddomain)", "jane@workstation7");
  RE2::GlobalReplace(&s, R"((?i)servername\[xx\.xx\.xx\.xx\])", "mail.sender.example[203.0.113.77]");
  RE2::GlobalReplace(&s, R"((?i)\[xx\.xx\.xx\.xx\])", "[203.0.113.77]");
  RE2::GlobalReplace(&s, R"(127\.XX\.XX\.XX)", "127.0.0.2");
  RE2::GlobalReplace(&s, R"(127\.5\.0\.X)", "127.5.0.4");
  RE2::GlobalReplace(&s, R"(\[XXXXXXX\])", "[acme-widgets.example]");
  return s;
}

/// Wraps at spaces, as a mail client and Postfix's bounce do, with an indent.
std::string wrapped(const std::string& s, std::size_t width) {
  std::string out, line;
  std::size_t start = 0;
  while (start < s.size()) {
    auto sp = s.find(' ', start);
    auto word = s.substr(start, sp == std::string::npos ? std::string::npos : sp - start);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n    ";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  return out + line;
}

/// The text inside the non-delivery report a sending Postfix writes.
std::string in_postfix_bounce(const std::string& reply) {
  return "This is the mail system at host mail.sender.example.\n\n"
         "I'm sorry to have to inform you that your message could not\n"
         "be delivered to one or more recipients. It's attached below.\n\n"
         "                   The mail system\n\n" +
         wrapped("<bob@recipient.example>: host mx1.emailsrvr.com[192.0.2.10] said: " + reply +
                     " (in reply to RCPT TO command)",
                 72) +
         "\n\nReporting-MTA: dns; mail.sender.example\nAction: failed\n";
}

/// The text inside an Exchange/Outlook non-delivery report.
std::string in_exchange_ndr(const std::string& reply) {
  return "Delivery has failed to these recipients or groups:\n\nbob@recipient.example\n\n"
         "Diagnostic information for administrators:\n\nGenerating server: mail.sender.example\n\n"
         "bob@recipient.example\nRemote Server returned '" + reply + "'\n\nOriginal message headers:\n";
}

}  // namespace

TEST_CASE("every documented row is explained by its own entry first") {
  const auto& cat = Catalog::builtin();
  int rows = 0;
  for (const auto& e : cat.entries()) {
    for (const auto& d : e.documented) {
      ++rows;
      CAPTURE(d.row);
      const std::string variant = with_real_values(d.text);
      for (const auto& text : {d.text, variant, in_postfix_bounce(variant), in_exchange_ndr(variant)}) {
        CAPTURE(text);
        auto r = explain(cat, text);
        REQUIRE_FALSE(r.matches.empty());
        CHECK(r.matches.front().entry->id == e.id);
      }
    }
  }
  CHECK(rows == 53);
}

TEST_CASE("facts are pulled out of a real-looking bounce") {
  auto r = explain(Catalog::builtin(),
                   in_postfix_bounce("554 5.7.1 ACL dns_rbl; Client host [203.0.113.77] blocked using "
                                     "sa-ip4tset.blagr.emailsrvr.com=127.23.0.2 Spamhaus SBL. Please visit "
                                     "https://www.spamhaus.org/lookup/ for more information on why this message could "
                                     "not be delivered"));
  REQUIRE_FALSE(r.matches.empty());
  const auto& m = r.matches.front();
  CHECK(m.entry->id == "dnsbl-spamhaus-sbl");
  CHECK(m.code == 554);
  CHECK(m.enhanced == "5.7.1");
  CHECK(m.facts.at("ip") == "203.0.113.77");
  CHECK(m.facts.at("list") == "sa-ip4tset.blagr.emailsrvr.com");
  CHECK(m.facts.at("list_code") == "127.23.0.2");
  // The generic aggregate entry also matches, ranked below the named list.
  bool generic = false;
  for (const auto& x : r.matches) generic = generic || x.entry->id == "dnsbl-provider-aggregate";
  CHECK(generic);
}

TEST_CASE("a multi-line SMTP reply is folded before matching") {
  auto r = explain(Catalog::builtin(),
                   "550-5.1.1 <jane@acme-widgets.example>: Recipient address rejected:\n"
                   "550 5.1.1 User unknown in relay recipient table");
  REQUIRE_FALSE(r.matches.empty());
  CHECK(r.matches.front().entry->id == "recipient-unknown-in-relay-table");
  CHECK(r.matches.front().facts.at("address") == "jane@acme-widgets.example");
}

TEST_CASE("stock Postfix texts land on their own entries, not on a provider row") {
  struct Row {
    const char* text;
    const char* id;
  };
  for (auto row : {Row{"550 5.7.27 <a@nullmx.example>: Sender address rejected: Domain nullmx.example does not accept mail (nullMX)",
                       "postfix-sender-nullmx"},
                   Row{"421 4.7.0 mx.example.org Error: too many connections from 203.0.113.77", "postfix-too-many-connections"},
                   Row{"454 4.7.1 <bob@elsewhere.example>: Relay access denied", "relay-access-denied"}}) {
    CAPTURE(row.text);
    auto r = explain(Catalog::builtin(), row.text);
    REQUIRE_FALSE(r.matches.empty());
    CHECK(r.matches.front().entry->id == std::string(row.id));
  }
}

TEST_CASE("text that is no bounce matches nothing, and hostile input is bounded") {
  CHECK(explain(Catalog::builtin(), "Lunch at noon? Bring the 250 reports.").matches.empty());
  std::string huge(2 * max_input_bytes, 'x');
  auto r = explain(Catalog::builtin(), huge);
  CHECK(r.truncated);
  CHECK(r.matches.empty());
  std::string binary = std::string("550 5.1.1 <a@b.example>:") + '\x01' + '\x02' +
                       " Recipient address rejected: User unknown in relay recipient table";
  CHECK_FALSE(explain(Catalog::builtin(), binary).matches.empty());
}

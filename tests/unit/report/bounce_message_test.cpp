// Reading a bounce as received: DSN fields per recipient, decoded human text,
// legacy charsets, and hostile MIME that must end in an answer, not a crash.
#include <doctest/doctest.h>

#include <bounce_message.hpp>

#include <string>

using namespace bp::report;

TEST_CASE("a multipart/report DSN: per-message and per-recipient fields, folded lines, returned headers") {
  const std::string raw =
      "From: MAILER-DAEMON@mx.example\nSubject: Returned mail\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"x\"\n\n--x\n"
      "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe, it failed.\n--x\n"
      "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
      "Final-Recipient: rfc822; bob@example.com\nAction: failed\nStatus: 5.1.1 (bad mailbox)\nRemote-MTA: dns; mx.example.com\n"
      "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>:\n   Recipient address rejected: User unknown\n\n"
      "Final-Recipient: RFC822; <carol@example.net>\nAction: Delayed\nStatus: 4.4.1\n\n--x\n"
      "Content-Type: text/rfc822-headers\n\nReturn-Path: <alice@sender.example>\nFrom: Alice <alice@sender.example>\n\n--x--\n";
  auto m = parse_bounce_message(raw);
  CHECK(m.kind == "dsn");
  CHECK(m.subject == "Returned mail");
  CHECK(m.reporting_mta == "mx.example");
  CHECK(m.human.find("Grüße") != std::string::npos);
  CHECK(m.original_sender == "alice@sender.example");
  REQUIRE(m.recipients.size() == 2);
  CHECK(m.recipients[0].final_recipient == "bob@example.com");
  CHECK(m.recipients[0].action == "failed");
  CHECK(m.recipients[0].status == "5.1.1");
  CHECK(m.recipients[0].remote_mta == "mx.example.com");
  CHECK(m.recipients[0].diagnostic_type == "smtp");
  CHECK(m.recipients[0].diagnostic == "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown");
  CHECK(m.recipients[1].action == "delayed");
  CHECK(recipient_text(m, m.recipients[0]).find("Diagnostic-Code: smtp; 550 5.1.1") != std::string::npos);
}

TEST_CASE("plain bounces: base64, ISO-2022-JP, encoded-word subjects, no MIME at all") {
  auto m = parse_bounce_message(
      "Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\nContent-Type: text/plain; charset=ISO-2022-JP\n\n"
      "\x1b$B%F%9%H\x1b(B 550 5.1.1 User unknown\n");
  CHECK(m.kind == "plain");
  CHECK(m.subject == "テスト");
  CHECK(m.human.find("テスト") != std::string::npos);
  m = parse_bounce_message("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                           "NTUwIDUuMS4xIFVzZXIgdW5rbm93bgo=\n");
  CHECK(m.human.find("550 5.1.1 User unknown") != std::string::npos);
  m = parse_bounce_message("just a pasted line: 550 5.1.1 User unknown");
  CHECK(m.human.find("550 5.1.1") != std::string::npos);
}

TEST_CASE("hostile messages end in an answer: garbage, broken and nested MIME, wrong charsets, no DSN part") {
  std::string garbage;
  for (int i = 0; i < 200000; ++i) garbage.push_back(static_cast<char>((i * 7919) % 256));
  auto g = parse_bounce_message(garbage);
  CHECK(g.recipients.empty());
  std::string nested = "Content-Type: multipart/mixed; boundary=\"b0\"\n\n";
  for (int i = 0; i < 300; ++i) nested += "--b" + std::to_string(i) + "\nContent-Type: multipart/mixed; boundary=\"b" + std::to_string(i + 1) + "\"\n\n";
  nested += "--b300\nContent-Type: text/plain\n\n550 5.1.1 deep\n";
  auto n = parse_bounce_message(nested);
  CHECK(n.kind == "plain");
  auto bad = parse_bounce_message("Content-Type: text/plain; charset=x-no-such-charset\n\n\xff\xfe 550 5.2.2 full\n");
  CHECK(bad.human.find("550 5.2.2 full") != std::string::npos);
  auto unterminated = parse_bounce_message(
      "Content-Type: multipart/report; report-type=delivery-status; boundary=zz\n\n--zz\nContent-Type: message/delivery-status\n\n"
      "Final-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.2.2\n");
  CHECK(unterminated.kind == "dsn");
  REQUIRE(unterminated.recipients.size() == 1);
  CHECK(unterminated.recipients[0].status == "5.2.2");
}

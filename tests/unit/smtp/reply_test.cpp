// The SMTP reply parser, fed as a peer would: whole, in pieces, and hostile.
#include <doctest/doctest.h>

#include <reply.hpp>

#include <string>

using namespace bp::smtp;

namespace {
Reply one(const std::string& bytes) {
  ReplyParser p;
  p.push(bytes);
  auto r = p.next();
  REQUIRE(r.has_value());
  REQUIRE(r->ok());
  return r->value();
}
}  // namespace

TEST_CASE("single and multi-line replies, with enhanced codes") {
  auto r = one("550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in relay recipient table\r\n");
  CHECK(r.code == 550);
  CHECK(r.enhanced == "5.1.1");
  CHECK(r.text() == "<bob@example.org>: Recipient address rejected: User unknown in relay recipient table");
  CHECK(r.permanent());
  auto m = one("554-5.7.1 first line\r\n554-5.7.1 second line\r\n554 5.7.1 last line\r\n");
  CHECK(m.lines.size() == 3);
  CHECK(m.text() == "first line second line last line");
  CHECK(one("220 mx.example.org ESMTP Postfix\n").lines[0] == "mx.example.org ESMTP Postfix");
  CHECK(one("250\r\n").lines.size() == 1);
}

TEST_CASE("an enhanced code whose class disagrees with the reply is dropped") {
  auto r = one("450 5.1.1 mixed up\r\n");
  CHECK(r.enhanced.empty());
  CHECK(r.text() == "mixed up");
  CHECK(one("250 2.1.0 Ok\r\n").enhanced == "2.1.0");
  CHECK(one("250 2.1 not an enhanced code\r\n").enhanced.empty());
}

TEST_CASE("bytes arriving one at a time give the same reply") {
  const std::string wire = "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n";
  ReplyParser p;
  std::optional<bp::Result<Reply, ReplyError>> r;
  for (char c : wire) {
    CHECK_FALSE(r.has_value());
    p.push(std::string_view(&c, 1));
    r = p.next();
  }
  REQUIRE(r.has_value());
  REQUIRE(r->ok());
  auto ext = parse_ehlo(r->value());
  CHECK(ext.count("STARTTLS") == 1);
  CHECK(ext.at("SIZE") == "52428800");
  CHECK(ext.count("PIPELINING") == 1);
  CHECK(ext.count("MX.EXAMPLE.ORG") == 0);  // the greeting line is not a keyword
}

TEST_CASE("two replies in one read are returned one after the other") {
  ReplyParser p;
  p.push("250 2.1.0 Ok\r\n550 5.7.1 <x@y.example>: Relay access denied\r\n");
  auto a = p.next();
  auto b = p.next();
  REQUIRE((a && a->ok() && b && b->ok()));
  CHECK(a->value().code == 250);
  CHECK(b->value().code == 550);
  CHECK_FALSE(p.next().has_value());
}

TEST_CASE("hostile peers: every case ends in an error with bounded memory") {
  SUBCASE("a 1 MB line without an end") {
    ReplyParser p;
    const std::string chunk(64 * 1024, 'A');
    std::optional<bp::Result<Reply, ReplyError>> r;
    for (int i = 0; i < 16 && !r; ++i) {
      p.push(chunk);
      r = p.next();
    }
    REQUIRE(r.has_value());
    CHECK(r->error().kind == ReplyErrorKind::line_too_long);
  }
  SUBCASE("endless continuation lines") {
    ReplyParser p;
    std::optional<bp::Result<Reply, ReplyError>> r;
    for (int i = 0; i < 1000 && !r; ++i) {
      p.push("250-still going\r\n");
      r = p.next();
    }
    REQUIRE(r.has_value());
    CHECK(r->error().kind == ReplyErrorKind::too_many_lines);
  }
  SUBCASE("codes that change inside a reply") {
    ReplyParser p;
    p.push("250-one\r\n550 two\r\n");
    auto r = p.next();
    REQUIRE(r.has_value());
    CHECK(r->error().kind == ReplyErrorKind::code_mismatch);
  }
  SUBCASE("garbage instead of a reply, with control bytes censored in the error") {
    ReplyParser p;
    p.push(std::string("\x16\x03\x01garbage after STARTTLS\r\n"));
    auto r = p.next();
    REQUIRE(r.has_value());
    CHECK(r->error().kind == ReplyErrorKind::malformed);
    CHECK(r->error().detail.find('\x16') == std::string::npos);
  }
  SUBCASE("non-printable bytes inside a valid reply are censored") {
    auto r = one(std::string("220 hello\x07world\r\n"));
    CHECK(r.text() == "hello?world");
  }
}

TEST_CASE("mid_reply: a greeting cut after its first line is still a reply in progress") {
  bp::smtp::ReplyParser p;
  CHECK_FALSE(p.mid_reply());
  p.push("220-first line\r\n");
  CHECK_FALSE(p.next().has_value());
  CHECK(p.mid_reply());
  CHECK(p.buffered() == 0);  // the line was taken; only the reply's end is missing
  p.push("220 last\r\n250 next");
  auto r = p.next();
  REQUIRE(r.has_value());
  REQUIRE(r->ok());
  CHECK(r->value().lines.size() == 2);
  CHECK(p.buffered() == 8);  // "250 next" waits: bytes after a reply are visible (STARTTLS injection)
}

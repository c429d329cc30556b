#include "message.hpp"

#include <doctest/doctest.h>
#include <base64_lines.hpp>
#include <temp_file.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>
#include <zip.h>

using namespace bp::probes;
using bp::test::TempFile;

namespace {

std::string headers(const std::string& from = "From: Ann <ann@Example.COM>\r\n") {
  return from + "To: bob@example.org\r\nSubject: t\r\nDate: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n"
                "MIME-Version: 1.0\r\n";
}

bool has(const std::vector<Finding>& fs, const std::string& code) {
  return std::any_of(fs.begin(), fs.end(), [&](const Finding& f) { return f.code == code; });
}

}  // namespace

TEST_CASE("message: attachment names from filename=, name=, RFC 2231 continuations and encoded words") {
  TempFile m(headers() +
                "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"plain.exe\"\r\n\r\nx\r\n"
                "--b\r\nContent-Type: application/octet-stream; name=\"by-name.chm\"\r\n\r\nx\r\n"
                "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n"
                " filename*0*=UTF-8''long%20na;\r\n filename*1=\"me.HQX\"\r\n\r\nx\r\n"
                "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n"
                " filename=\"=?UTF-8?B?w6ljaGFudGlsbG9uLnNjcg==?=\"\r\n\r\nx\r\n"
                "--b--\r\n");
  const auto f = read_message(m.path);
  std::vector<std::string> names;
  for (const auto& a : f.attachments) names.push_back(a.filename);
  CHECK(names == std::vector<std::string>{"plain.exe", "by-name.chm", "long name.HQX", "\xc3\xa9" "chantillon.scr"});
  CHECK(f.from == std::vector<std::string>{"ann@Example.COM"});
  CHECK(from_domain(f) == "example.com");
  CHECK(f.parts == 6);
  CHECK(f.max_depth == 1);
}

TEST_CASE("message: GTUBE in a quoted-printable part and EICAR in a base64 attachment are found after decoding") {
  const std::string g = gtube_string();
  // quoted-printable: the '=' soft line break splits the string across two lines.
  const std::string qp = g.substr(0, 30) + "=\r\n" + g.substr(30);
  TempFile m(headers() +
                "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp + "\r\n"
                "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"t.com\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n"
                "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU\r\nLUZJTEUhJEgrSCo=\r\n"
                "--b--\r\n");
  const auto f = read_message(m.path);
  CHECK(f.gtube);
  CHECK(f.eicar);
  TempFile clean(headers() + "Content-Type: text/plain\r\n\r\nnothing to see\r\n");
  const auto c = read_message(clean.path);
  CHECK(!c.gtube);
  CHECK(!c.eicar);
}

TEST_CASE("message: From: problems, missing Date and Message-ID, long lines and 8-bit data are findings") {
  TempFile none("To: bob@example.org\r\nSubject: t\r\n\r\nbody\r\n");
  const auto n = read_message(none.path);
  CHECK(n.from_headers == 0);
  CHECK(from_domain(n).empty());
  const auto nf = message_findings(n);
  CHECK(has(nf, "message.no-from"));
  CHECK(has(nf, "message.no-date"));
  CHECK(has(nf, "message.no-message-id"));
  TempFile two(headers("From: a@example.com, b@example.net\r\n") + "Content-Type: text/plain\r\n\r\n" +
                  std::string(1200, 'x') + "\r\ncaf\xc3\xa9\r\n");
  const auto t = read_message(two.path);
  CHECK(t.from.size() == 2);
  const auto tf = message_findings(t);
  CHECK(has(tf, "message.several-from"));
  CHECK(has(tf, "message.long-line"));
  CHECK(has(tf, "message.eight-bit"));
  CHECK(!has(tf, "message.no-date"));
}

TEST_CASE("message: nesting deeper than the bound and a boundary that never closes end in facts, not a crash") {
  std::string deep = headers() + "Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n";
  for (int i = 1; i <= 1000; ++i) deep += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n";
  deep += "--b1000\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"deep.exe\"\r\n\r\nx\r\n";
  TempFile d(deep);
  const auto f = read_message(d.path);
  CHECK(f.parts_capped);
  CHECK(has(message_findings(f), "message.parts-capped"));
  TempFile open(headers() + "Content-Type: multipart/mixed; boundary=\"never\"\r\n\r\n--never\r\nContent-Type: text/plain\r\n\r\nno end");
  CHECK_NOTHROW((void)read_message(open.path));
  CHECK_THROWS((void)read_message("/nonexistent/message.eml"));
}

TEST_CASE("message: a 10 MB header, invalid base64, a 10 kB file name and non-UTF-8 headers end in facts, not a crash") {
  // One header field of 10 MB (a folded Subject): read, and its long line is a finding.
  std::string huge = "From: ann@example.com\r\nSubject: x";
  for (int i = 0; i < 10 * 1024; ++i) huge += "\r\n " + std::string(1020, 'a');
  huge += "\r\nDate: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nbody\r\n";
  TempFile h(huge);
  const auto big = read_message(h.path);
  CHECK(big.size == huge.size());
  CHECK(big.from == std::vector<std::string>{"ann@example.com"});
  // Base64 that is not base64, and a file name of 10 kB: the part is still an attachment, its name kept.
  const std::string name(10 * 1024, 'n');
  TempFile b(headers() + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n"
             "Content-Disposition: attachment; filename=\"" + name + ".exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             "!!!! this is *not* base64 ====\r\n--b--\r\n");
  const auto bad = read_message(b.path);
  REQUIRE(bad.attachments.size() == 1);
  CHECK(bad.attachments[0].filename.size() == name.size() + 4);
  // Latin-1 bytes in headers and in an encoded word that lies about its charset.
  TempFile l(std::string("From: J\xfcrgen <j@example.com>\r\nSubject: =?utf-8?B?/w==?= Gr\xfc\xdf" "e\r\n") +
             "Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <2@example.com>\r\n\r\nhi\r\n");
  const auto latin = read_message(l.path);
  CHECK(latin.from == std::vector<std::string>{"j@example.com"});
  CHECK(latin.eight_bit);
}

namespace {

/// A zip archive (stored, in memory) holding files of these names, as base64 lines.
std::string zip_base64(const std::vector<std::string>& names) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &error);
  REQUIRE(out != nullptr);
  zip_source_keep(out);
  zip_t* za = zip_open_from_source(out, ZIP_TRUNCATE, &error);
  REQUIRE(za != nullptr);
  for (const auto& n : names) {
    zip_source_t* s = zip_source_buffer(za, "x", 1, 0);
    REQUIRE(zip_file_add(za, n.c_str(), s, ZIP_FL_ENC_UTF_8) >= 0);
  }
  REQUIRE(zip_close(za) == 0);
  REQUIRE(zip_source_open(out) == 0);
  REQUIRE(zip_source_seek(out, 0, SEEK_END) == 0);
  const auto size = zip_source_tell(out);
  REQUIRE(zip_source_seek(out, 0, SEEK_SET) == 0);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  REQUIRE(zip_source_read(out, bytes.data(), static_cast<zip_uint64_t>(size)) == size);
  zip_source_close(out);
  zip_source_free(out);
  zip_error_fini(&error);
  return bp::test::base64_lines(bytes);
}

}  // namespace

TEST_CASE("message: the names inside a zip attachment are listed; a part that only claims to be a zip says why not") {
  TempFile m(headers() + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
             "--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=\"invoice.zip\"\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n" + zip_base64({"docs/readme.txt", "docs/setup.EXE"}) +
             "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"fake.zip\"\r\n\r\n"
             "not a zip at all\r\n--b--\r\n");
  const auto f = read_message(m.path);
  REQUIRE(f.attachments.size() == 2);
  CHECK(f.attachments[0].archive);
  CHECK(f.attachments[0].members == std::vector<std::string>{"docs/readme.txt", "docs/setup.EXE"});
  CHECK(f.attachments[0].archive_error.empty());
  CHECK(f.attachments[1].archive);
  CHECK(f.attachments[1].members.empty());
  CHECK(f.attachments[1].archive_error.rfind("not a readable zip archive", 0) == 0);
}

// End-to-end tests of predict --message: the message-stage bounces, DKIM verified
// by the tool, a message too large, and the real content scanners (spamd, clamd).
#include "lab_support.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>
#include <unistd.h>

using nlohmann::json;
using namespace lab;

namespace {

/// A message written for one test: headers, a text body, and attachments (name, bytes) in base64.
std::string write_message(const std::string& from, const std::vector<std::pair<std::string, std::string>>& attachments,
                          const std::string& body = "Hello.\r\n") {
  const auto base64 = lab::base64_lines;
  std::string m = "From: " + from + "\r\nTo: postmaster@example.org\r\nSubject: test\r\n"
                  "Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <lab@example.com>\r\nMIME-Version: 1.0\r\n";
  if (attachments.empty()) {
    m += "Content-Type: text/plain\r\n\r\n" + body;
  } else {
    m += "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n" + body;
    for (const auto& [name, data] : attachments) {
      m += "--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"" + name +
           "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(data);
    }
    m += "--b1--\r\n";
  }
  char path[] = "/tmp/bp-lab-message-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, m.data(), m.size()) == static_cast<ssize_t>(m.size()));
  close(fd);
  return path;
}

const char* predict_args = "predict --json --no-smtp --from a@example.com --to postmaster@example.org --ip 192.0.2.25 "
                           "--routable 192.0.2.0/24 --dnsbl-resolver 192.0.2.54";

}  // namespace

TEST_CASE("predict --message: each message-stage bounce with its exact catalog text, in the order a receiver meets them") {
  const std::string gtube = std::string("XJS*C4JDBQADN1.NSBN3*2IDNEN*") + "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
  const std::string eicar = std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
  struct Row {
    std::string file;
    const char* entry;
    const char* text;
  };
  const std::vector<Row> rows = {
      {write_message("a@example.com", {{"setup.exe", "MZ"}}), "blocked-attachment-g1a",
       "[blocked file] - Your message has been rejected because it contains a banned file attachment (G1A)"},
      {write_message("a@example.com", {{"Help.CHM", "ITSF"}}), "blocked-attachment-g1b",
       "[blocked file] - Your message has been rejected because it contains a banned file attachment (G1B)"},
      {write_message("a@example.com", {{"archive.hqx", "(This file"}}), "blocked-attachment-winzip-g1c",
       "[blocked file] - File attachment is not allowed because they can be used to exploit Winzip (G1C)"},
      {write_message("a@example.com", {{std::string(51, 'n') + ".pdf", "%PDF"}}), "invalid-data-attachment-name",
       "<postmaster@example.org>:Invalid data in message> #SMTP#"},
      {write_message("a@example.com", {{"test.txt", eicar}}), "content-virus-detected",
       "Your message has been rejected because you have been detected sending a virus"},
      {write_message("a@example.com", {}, gtube + "\r\n"), "content-spam-detected",
       "Your message has been rejected because you have been detected sending spam"},
      // DMARC is judged on the From: header: example.org (p=reject) is not aligned with the envelope's example.com.
      {write_message("a@example.org", {}), "dmarc-reject-g15", "Email rejected per DMARC policy for example.org (G15)"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.entry);
    auto r = bp(std::string(predict_args) + " --message " + row.file);
    CAPTURE(r.err);
    REQUIRE(r.j.is_object());
    CHECK(r.rc == 1);
    CHECK(r.j["verdict"] == "bounce");
    REQUIRE(!r.j["bounces"].empty());
    CHECK(r.j["bounces"][0]["catalog_id"] == row.entry);
    CHECK(r.j["bounces"][0]["text"] == row.text);
    CHECK(r.j["bounces"][0]["code"].get<int>() >= 550);
    std::remove(row.file.c_str());
  }
  // A message that passes every check, from an aligned From:.
  const auto clean = write_message("a@example.com", {{"report.pdf", "%PDF"}});
  auto ok = bp(std::string(predict_args) + " --message " + clean);
  REQUIRE(ok.j.is_object());
  CHECK(ok.j["verdict"] == "accept");
  CHECK(ok.rc == 0);
  // Without --message, the message-stage checks are named as not made.
  auto without = bp(predict_args);
  REQUIRE(without.j.is_object());
  CHECK(without.j.dump().find("no --message") != std::string::npos);
  // SIZE= declared at MAIL FROM over 50 MB: refused there, before any recipient check.
  auto declared = bp(std::string(predict_args) + " --size 60000000 --message " + clean);
  REQUIRE(declared.j.is_object());
  CHECK(declared.j["bounces"][0]["catalog_id"] == "message-too-large-g17");
  CHECK(declared.j["bounces"][0]["stage"] == "mail");
  std::remove(clean.c_str());
}

namespace {

/// Signs `message` with the lab's DKIM key (dkimpy, an independent implementation); \return the signed file.
std::string dkim_signed(const std::string& message, const char* algorithm, const char* canon, bool break_body) {
  const std::string dir = std::string(BP_LAB_STATE) + "/dkim/";
  const bool ed = std::string(algorithm) == "ed25519-sha256";
  const std::string out = message + ".signed";
  const std::string script =
      "import dkim,sys\n"
      "m=open(sys.argv[1],'rb').read()\n"
      "k=open(sys.argv[2],'rb').read().strip()\n"
      "c=sys.argv[5].encode().split(b'/')\n"
      "sig=dkim.sign(m,sys.argv[3].encode(),b'example.com',k,include_headers=[b'from',b'to',b'subject',b'date',b'message-id'],"
      "signature_algorithm=sys.argv[4].encode(),canonicalize=(c[0],c[1]))\n"
      "s=sig+m\n"
      "if sys.argv[7]=='1': s=s.replace(b'Hello.',b'Hallo.')\n"
      "open(sys.argv[6],'wb').write(s)\n";
  char py[] = "/tmp/bp-dkim-sign-XXXXXX";
  const int fd = mkstemp(py);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, script.data(), script.size()) == static_cast<ssize_t>(script.size()));
  close(fd);
  const std::string cmd = std::string("/usr/bin/python3 -I ") + py + " " + message + " " + dir + (ed ? "ed25519.key" : "rsa.pem") +
                          " " + (ed ? "ed2026" : "rsa2026") + " " + algorithm + " " + canon + " " + out + " " +
                          (break_body ? "1" : "0");
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::remove(py);
  return out;
}

}  // namespace

TEST_CASE("predict --message: DKIM verified by the tool, RSA and Ed25519, makes DMARC pass on an unaligned envelope") {
  // From: example.com (p=reject); the envelope is example.org, so SPF cannot align: only DKIM can.
  // 203.0.113.25 is example.org's MX, which its SPF ("mx -all") authorizes: SPF passes, for example.org.
  const std::string args = "predict --json --no-smtp --from a@example.org --to postmaster@example.org --ip 203.0.113.25 "
                           "--routable 192.0.2.0/24 --routable 203.0.113.0/24 --dnsbl-resolver 192.0.2.54 --message ";
  const auto plain = write_message("a@example.com", {});
  auto unsigned_run = bp(args + plain);
  REQUIRE(unsigned_run.j.is_object());
  CHECK(unsigned_run.j["bounces"][0]["catalog_id"] == "dmarc-reject-g15");
  for (const auto& [algorithm, canon] : {std::pair{"rsa-sha256", "relaxed/relaxed"}, std::pair{"rsa-sha256", "simple/simple"},
                                         std::pair{"ed25519-sha256", "relaxed/simple"}}) {
    CAPTURE(algorithm);
    CAPTURE(canon);
    const auto good = dkim_signed(plain, algorithm, canon, false);
    auto r = bp(args + good);
    CAPTURE(r.err);
    REQUIRE(r.j.is_object());
    CHECK(r.j["verdict"] == "accept");
    CHECK(r.rc == 0);
    bool pass = false;
    for (const auto& f : r.j["findings"]) pass = pass || f["code"] == "dkim.pass";
    CHECK(pass);
    // The body changed after signing: the signature fails, and DMARC rejects.
    const auto broken = dkim_signed(plain, algorithm, canon, true);
    auto b = bp(args + broken);
    REQUIRE(b.j.is_object());
    CHECK(b.j["bounces"][0]["catalog_id"] == "dmarc-reject-g15");
    bool failed = false;
    for (const auto& f : b.j["findings"]) {
      if (f["code"] == "dkim.fail") failed = f["summary"].get<std::string>().find("body hash") != std::string::npos;
    }
    CHECK(failed);
    std::remove(good.c_str());
    std::remove(broken.c_str());
  }
  std::remove(plain.c_str());
}

TEST_CASE("predict --message: a 53 MB message is too large (G17), read in bounded memory") {
  // Made here, not committed: 53 MB of base64 in one attachment.
  const std::string big = write_message("a@example.com", {{"big.bin", std::string(40u * 1024 * 1024, 'z')}});
  auto r = bp(std::string(predict_args) + " --message " + big);
  std::remove(big.c_str());
  REQUIRE(r.j.is_object());
  CHECK(r.j["bounces"][0]["catalog_id"] == "message-too-large-g17");
  CHECK(r.j["bounces"][0]["text"] == "Message too large (G17)");
  CHECK(r.j["bounces"][0]["code"] == 550);
  CHECK(r.j["bounces"][0]["enhanced"] == "5.3.4");
  CHECK(r.rc == 1);
}


TEST_CASE("predict --spamd and --clamd: the real scanners answer for spam and viruses; one that cannot be reached is not checked") {
  const std::string gtube = std::string("XJS*C4JDBQADN1.NSBN3*2IDNEN*") + "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
  const std::string eicar = std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
  const std::string scanners = " --spamd 192.0.2.57 --clamd " + env("BP_LAB_STATE") + "/clamd/clamd.sock";
  // GTUBE: spamd (SpamAssassin's own rules) says spam, and the bounce carries its verdict.
  const auto spam = write_message("a@example.com", {}, gtube + "\r\n");
  auto s = bp(std::string(predict_args) + scanners + " --message " + spam);
  CAPTURE(s.err);
  REQUIRE(s.j.is_object());
  REQUIRE(!s.j["bounces"].empty());
  CHECK(s.j["bounces"][0]["catalog_id"] == "content-spam-detected");
  CHECK(s.j["bounces"][0]["reason"].get<std::string>().find("spamd at 192.0.2.57:783 finds the message spam: score") !=
        std::string::npos);
  CHECK(s.j["bounces"][0]["evidence"].dump().find("GTUBE") != std::string::npos);
  json spamd;
  for (const auto& x : s.j["content_scans"]) {
    if (x["scanner"] == "spamd at 192.0.2.57:783") spamd = x;
  }
  REQUIRE(spamd.is_object());
  CHECK(spamd["verdict"] == "flagged");
  CHECK(std::find(spamd["rules"].begin(), spamd["rules"].end(), "GTUBE") != spamd["rules"].end());
  // EICAR in a base64 attachment: clamd (over its Unix socket) decodes the MIME part and finds it.
  const auto virus = write_message("a@example.com", {{"test.txt", eicar}});
  auto v = bp(std::string(predict_args) + scanners + " --message " + virus);
  REQUIRE(v.j.is_object());
  REQUIRE(!v.j["bounces"].empty());
  CHECK(v.j["bounces"][0]["catalog_id"] == "content-virus-detected");
  CHECK(v.j["bounces"][0]["reason"].get<std::string>().find("finds the message infected: Lab.Eicar-Test-Signature") !=
        std::string::npos);
  // A clean message: both scanners asked, both say so, and the prediction is accept.
  const auto clean = write_message("a@example.com", {{"report.pdf", "%PDF-1.4 nothing to see"}});
  auto c = bp(std::string(predict_args) + " --spamd 192.0.2.57:783 --clamd 192.0.2.58:3310 --message " + clean);
  CAPTURE(c.err);
  REQUIRE(c.j.is_object());
  CHECK(c.j["verdict"] == "accept");
  int clean_scans = 0;
  for (const auto& x : c.j["content_scans"]) clean_scans += x["verdict"] == "clean" ? 1 : 0;
  CHECK(clean_scans == 2);
  bool said = false;
  for (const auto& p : c.j["passed"]) said = said || p.get<std::string>().find("clamd at 192.0.2.58:3310: no signature matched") != std::string::npos;
  CHECK(said);
  // Nothing listens at 192.0.2.97: not checked, with the reason; no bounce is invented.
  auto gone = bp(std::string(predict_args) + " --spamd 192.0.2.97:783 --smtp-timeout 2000 --message " + clean);
  REQUIRE(gone.j.is_object());
  bool unchecked = false;
  for (const auto& n : gone.j["not_checked"]) {
    unchecked = unchecked || n.get<std::string>().find("spamd at 192.0.2.97:783 could not scan the message: connect") != std::string::npos;
  }
  CHECK(unchecked);
  CHECK(gone.j["verdict"] == "accept");
  // Usage: a scanner without a message, a host name instead of an address, a socket for spamd.
  CHECK(bp("predict --from a@example.com --to b@example.org --spamd 192.0.2.57").rc == 2);
  auto empty = bp(std::string(predict_args) + " --spamd '' --message " + clean);  // an unset variable is not "no scanner"
  CHECK(empty.rc == 2);
  CHECK(empty.err == "bounceprobe: error: --spamd '' is not a socket path or HOST:PORT: empty\n");
  auto named = bp(std::string(predict_args) + " --clamd scanner.example:3310 --message " + clean);
  CHECK(named.rc == 2);
  CHECK(named.err == "bounceprobe: error: --clamd 'scanner.example:3310' is not a socket path or HOST:PORT: 'scanner.example' is not an IP address\n");
  // spamd on a Unix socket (spamd --socketpath): a path that does not exist is not checked, with the reason.
  auto nosock = bp(std::string(predict_args) + " --spamd /nonexistent/spamd.sock --message " + clean);
  REQUIRE(nosock.j.is_object());
  CHECK(nosock.j["not_checked"].dump().find("spamd at /nonexistent/spamd.sock could not scan the message: connect") !=
        std::string::npos);
  for (const auto& f : {spam, virus, clean}) std::remove(f.c_str());
}

TEST_CASE("predict --message: names inside a zip are judged only when the profile opens archives") {
  char dir[] = "/tmp/bp-lab-zip-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string d = dir;
  // A zip holding an executable, made with Python's zipfile (an independent writer).
  REQUIRE(std::system(("python3 -I -c \"import zipfile; z = zipfile.ZipFile('" + d +
                       "/a.zip', 'w'); z.writestr('invoice/readme.txt', 'hi'); z.writestr('invoice/setup.exe', 'MZ'); z.close()\"")
                          .c_str()) == 0);
  std::ifstream in(d + "/a.zip", std::ios::binary);
  const std::string zip((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(zip.size() > 100);
  const auto message = write_message("a@example.com", {{"invoice.zip", zip}});
  // The built-in profile does not open archives, as the documented bounces judge names only.
  auto plain = bp(std::string(predict_args) + " -v --message " + message);
  REQUIRE(plain.j.is_object());
  CHECK(plain.j["verdict"] == "accept");
  // A profile that does: the .exe inside is a G1A bounce, and the reason names it.
  std::ifstream builtin(std::string(BP_SOURCE_DIR) + "/report/profiles/default.toml");
  std::string profile((std::istreambuf_iterator<char>(builtin)), std::istreambuf_iterator<char>());
  const std::string key = "restriction = \"reject_attachment\"\n";
  REQUIRE(profile.find(key) != std::string::npos);
  profile.insert(profile.find(key) + key.size(), "archives = true\n");
  std::ofstream(d + "/archives.toml") << profile;
  auto opened = bp(std::string(predict_args) + " --profile " + d + "/archives.toml --message " + message);
  CAPTURE(opened.err);
  REQUIRE(opened.j.is_object());
  REQUIRE(!opened.j["bounces"].empty());
  CHECK(opened.j["bounces"][0]["catalog_id"] == "blocked-attachment-g1a");
  CHECK(opened.j["bounces"][0]["reason"].get<std::string>().find("attachment 'invoice.zip' holds 'invoice/setup.exe', a .exe file") !=
        std::string::npos);
  // 'archives' on another kind of check is a profile error.
  std::string wrong = profile;
  wrong.insert(wrong.find("restriction = \"content_test_string\"\n") + 36, "archives = true\n");
  std::ofstream(d + "/wrong.toml") << wrong;
  auto bad = bp(std::string(predict_args) + " --profile " + d + "/wrong.toml --message " + message);
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("'archives' is for reject_attachment") != std::string::npos);
  std::remove(message.c_str());
  std::system(("rm -rf " + d).c_str());
}

#include "lab_support.hpp"

#include <base64_lines.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace lab {

std::string env(const char* name) {
  if (const char* v = std::getenv(name)) return v;
  const std::string n = name;
  if (n == "BP_LAB_SH") return BP_LAB_SH;
  if (n == "BP_LAB_STATE") return BP_LAB_STATE;
  return BP_BINARY;
}

Run bp(const std::string& args, const std::string& stdin_text, const std::string& wrapper) {
  char errfile[] = "/tmp/bp-lab-test-XXXXXX";
  int fd = mkstemp(errfile);
  REQUIRE(fd >= 0);
  close(fd);
  std::string cmd = env("BP_LAB_SH") + " exec " + env("BP_LAB_STATE") + " " + wrapper + " " + env("BP_BINARY") + " " + args;
  char infile[] = "/tmp/bp-lab-in-XXXXXX";
  if (!stdin_text.empty()) {
    int ifd = mkstemp(infile);
    REQUIRE(ifd >= 0);
    REQUIRE(write(ifd, stdin_text.data(), stdin_text.size()) == static_cast<ssize_t>(stdin_text.size()));
    close(ifd);
    cmd += std::string(" < ") + infile;
  } else {
    cmd += " < /dev/null";
  }
  cmd += std::string(" 2> ") + errfile;
  Run r;
  const auto start = std::chrono::steady_clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(errfile);
  std::stringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  std::remove(errfile);
  if (!stdin_text.empty()) std::remove(infile);
  if (!r.out.empty() && r.out.front() == '{') {
    r.j = json::parse(r.out, nullptr, false);  // JSON Lines is not one document: leave it to the caller
    if (r.j.is_discarded()) r.j = json();
  }
  return r;
}

json check_one(const std::string& domain, int want_rc) {
  auto r = bp("check --json " + domain + routable);
  CAPTURE(r.err);
  CHECK(r.rc == want_rc);
  REQUIRE(r.j.is_object());
  CHECK(r.j["schema"] == "bounceprobe/1");
  REQUIRE(r.j["domains"].size() == 1);
  return r.j["domains"][0];
}

std::set<std::string> codes(const json& domain) {
  std::set<std::string> out;
  for (const auto& f : domain["findings"]) out.insert(f["code"].get<std::string>());
  return out;
}

json predict(const std::string& from, const std::string& to, int want_rc) {
  auto r = bp("predict --json --from '" + from + "' --to '" + to + "'" + routable);
  CAPTURE(r.err);
  CHECK(r.rc == want_rc);
  REQUIRE(r.j.is_object());
  return r.j;
}

std::string base64_lines(const std::string& bytes) { return ::bp::test::base64_lines(bytes); }

}  // namespace lab

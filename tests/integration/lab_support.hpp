// Helpers shared by the lab's end-to-end tests: run the real bounceprobe binary
// inside the lab's network namespace and read what it printed.
// Paths come from CMake; BP_LAB_SH, BP_LAB_STATE and BP_BINARY in the environment override them.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>

namespace lab {

using nlohmann::json;

// The lab serves mail domains from Knot and blocklists from rbldnsd, and uses documentation ranges as public.
// `routable` is for the tests about DNS evidence: it turns the SMTP dialogue off.
inline constexpr const char* routable =
    " --no-smtp --routable 192.0.2.0/24 --routable 203.0.113.0/24 --routable 2001:db8::/32 --dnsbl-resolver 192.0.2.54";

/// The environment overrides the paths CMake compiled in.
std::string env(const char* name);

struct Run {
  int rc{-1};
  std::string out;
  std::string err;
  double seconds{0};
  json j;
};

/// Runs `bounceprobe ARGS` inside the lab; `stdin_text` is piped in when given;
/// `wrapper` is a command bounceprobe runs under ("timeout -s INT 1").
Run bp(const std::string& args, const std::string& stdin_text = "", const std::string& wrapper = "");

/// `check --json DOMAIN` (DNS only), its exit code checked; \return the domain's object.
json check_one(const std::string& domain, int want_rc);

/// \return the finding codes of one domain's object.
std::set<std::string> codes(const json& domain);

/// Base64 in MIME's lines of 76 characters (tests/support/base64_lines.hpp).
std::string base64_lines(const std::string& bytes);

/// `predict --json`, its exit code checked.
json predict(const std::string& from, const std::string& to, int want_rc);

}  // namespace lab

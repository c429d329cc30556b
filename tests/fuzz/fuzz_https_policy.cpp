// Fuzz target: bytes from an MTA-STS policy host (probes/https_get.cpp and
// probes/mta_sts_policy.cpp): an HTTP response split at arbitrary points, as TLS
// delivers it, read incrementally; then the body read as a policy and its mx:
// patterns matched.
#include <https_get.hpp>
#include <mta_sts.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  bp::probes::https::Limits limits;
  limits.head = 512;
  limits.body = 1024;
  using State = bp::probes::https::Parsed::State;
  for (std::size_t end = step;; end += step) {
    const bool eof = end >= bytes.size();
    const auto p = bp::probes::https::parse_response(bytes.substr(0, eof ? bytes.size() : end), eof, limits);
    if (p.state == State::complete && p.response.body.size() > limits.body) std::abort();
    if (p.state == State::complete) {
      const auto policy = bp::probes::transport::parse_policy(p.response.body);
      for (const auto& m : policy.mx) (void)bp::probes::transport::mx_matches(m, "mx1.example.com");
    }
    if (p.state != State::incomplete || eof) break;
  }
  (void)bp::probes::transport::parse_policy(bytes);
  return 0;
}

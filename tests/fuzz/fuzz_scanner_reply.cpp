// Fuzz target: bytes from a content scanner (probes/scanners.cpp): a spamd reply,
// a clamd reply, and the same bytes as a --spamd/--clamd argument.
#include <scanners.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)bp::probes::scan::parse_spamd_reply(bytes);
  (void)bp::probes::scan::parse_clamd_reply(bytes);
  std::string why;
  if (auto e = bp::probes::scan::parse_endpoint(bytes, 783, true, &why)) (void)e->shown();
  return 0;
}

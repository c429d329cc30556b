// Fuzz target: the TOML files a user hands in with --catalog, --profile and
// blocklist definitions (report/catalog.cpp, report/profile.cpp,
// report/classify.cpp, probes/dnsbl/dnsbl.cpp). Errors are exceptions with
// one line; anything else (a crash, a hang, another exception type) is a bug.
#include <catalog.hpp>
#include <classify.hpp>
#include <dnsbl/dnsbl.hpp>
#include <profile.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0: (void)bp::report::Catalog::load(text, "fuzz.toml"); break;
      case 1: (void)bp::report::Profile::load(text, "fuzz.toml", bp::report::Catalog::builtin()); break;
      case 2: (void)bp::report::Reasons::load(text, "fuzz.toml"); break;
      default: (void)bp::probes::dnsbl::load_lists(text, "fuzz.toml"); break;
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}

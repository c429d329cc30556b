// Fuzz target: a bounce text pasted by a user (report/explain.cpp, report/classify.cpp).
#include <catalog.hpp>
#include <classify.hpp>
#include <explain.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto& catalog = bp::report::Catalog::builtin();
  auto r = bp::report::explain(catalog, text);
  (void)r.reason;
  const int code = size >= 3 ? 400 + (data[0] % 200) : 550;
  (void)bp::report::Reasons::builtin().classify(code, size > 8 ? text.substr(0, 8) : text, text);
  return 0;
}

// Fuzz target: a whole bounce message (report/bounce_message.cpp): MIME,
// RFC 3464 delivery-status fields, encodings and charsets through GMime.
#include <bounce_message.hpp>
#include <catalog.hpp>
#include <explain.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto m = bp::report::parse_bounce_message(raw);
  for (const auto& r : m.recipients) {
    auto text = bp::report::recipient_text(m, r);
    (void)bp::report::explain(bp::report::Catalog::builtin(), text);
  }
  return 0;
}

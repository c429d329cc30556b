// Fuzz target: bytes from an SMTP server (smtp/reply.cpp): replies split at
// arbitrary points, as TCP delivers them, then EHLO keywords.
#include <reply.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  bp::smtp::ReplyParser p;
  for (std::size_t i = 0; i < bytes.size(); i += step) {
    p.push(bytes.substr(i, step));
    while (auto r = p.next()) {
      if (!r->ok()) return 0;  // the parser stays failed
      (void)bp::smtp::parse_ehlo(r->value());
      (void)bp::smtp::censor(r->value().text());
    }
  }
  return 0;
}

// Fuzz target: a DNS reply from the network (resolver/wire.cpp). The first
// byte picks the record type asked for; the rest is the reply. The question
// name is read from the reply itself, so matching replies reach the answers.
#include <wire.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bp::resolver::RrType;
  if (size < 1) return 0;
  static const RrType types[] = {RrType::a, RrType::aaaa, RrType::mx, RrType::txt, RrType::cname, RrType::ptr, RrType::tlsa, RrType::ns};
  const RrType t = types[data[0] % (sizeof types / sizeof types[0])];
  std::span<const std::uint8_t> reply(data + 1, size - 1);
  for (const char* q : {"example.com", "x.example.com", "."}) {
    auto r = bp::resolver::parse_reply(reply, q, t);
    if (r.ok()) {
      for (const auto& rec : r->records) (void)rec.rdata_text();
    }
  }
  return 0;
}

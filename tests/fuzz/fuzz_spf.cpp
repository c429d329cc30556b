// Fuzz target: an SPF record from a TXT answer and its macros (probes/spf/record.cpp).
#include <spf/record.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace spf = bp::probes::spf;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)spf::is_spf_record(text);
  auto r = spf::parse_record(text);
  spf::MacroContext ctx;
  ctx.sender = "strong-bad@email.example.com";
  ctx.local = "strong-bad";
  ctx.sender_domain = "email.example.com";
  ctx.domain = "email.example.com";
  ctx.ip = size % 2 == 0 ? "192.0.2.3" : "2001:db8::cb01";
  ctx.ipv6 = size % 2 != 0;
  ctx.helo = "mx.example.org";
  if (r.ok()) {
    for (const auto& t : r->terms) {
      if (!t.domain_spec.empty()) (void)spf::expand_macros(t.domain_spec, ctx, true, false);
    }
  }
  // The whole input as a macro string too, as an exp= explanation would be.
  (void)spf::macro_string_problem(text, false, true);
  (void)spf::expand_macros(text, ctx, false, true);
  (void)spf::expand_macros(text, ctx, true, false);
  return 0;
}

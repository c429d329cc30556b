// Fuzz target: a DMARC record from a TXT answer (probes/dmarc/dmarc.cpp).
#include <dmarc/dmarc.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto p = bp::probes::dmarc::parse_dmarc(text);
  if (p.record) {
    for (const auto& [k, tag] : p.record->tags) (void)p.record->get(k);
  }
  // The same bytes as a domain: the Public Suffix List lookup and alignment.
  (void)bp::probes::dmarc::organizational_domain(text);
  (void)bp::probes::dmarc::aligned(text, "mail.example.com", false);
  return 0;
}

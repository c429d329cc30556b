// Fuzz target: names and addresses typed by users or found in records
// (resolver/domain_name.cpp, probes/sender.cpp, probes/address.cpp).
#include <address.hpp>
#include <domain_name.hpp>
#include <sender.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace r = bp::resolver;
  namespace p = bp::probes;
  const std::string s(reinterpret_cast<const char*>(data), size);
  (void)r::normalize_name(s);
  (void)r::dns_name_problem(s);
  (void)r::hostname_problem(s);
  (void)r::looks_like_ip_literal(s);
  (void)r::reverse_name(s);
  r::IpBytes ip;
  (void)r::parse_ip(s, &ip);
  std::string problem;
  (void)p::domain_to_ascii(s, &problem);
  (void)p::parse_mail_address(s, &problem);
  (void)p::check_address(s, "recipient");
  (void)p::Cidr::parse(s);
  (void)p::classify(s, {});
  return 0;
}

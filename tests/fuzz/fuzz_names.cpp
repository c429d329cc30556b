// Fuzz target: names and addresses typed by users or found in records
// (resolver/domain_name.cpp, probes/sender.cpp, probes/address.cpp), and the
// JSON string writer that echoes them (report/json_writer.cpp): its output
// must always parse back.
#include <address.hpp>
#include <domain_name.hpp>
#include <json_writer.hpp>
#include <nlohmann/json.hpp>
#include <sender.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
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
  std::string json;
  bp::report::append_json_string(json, s);
  // Valid UTF-8 in, the same bytes back; anything else: still valid JSON.
  const auto back = nlohmann::json::parse(json, nullptr, false);
  if (back.is_discarded() || !back.is_string()) std::abort();
  return 0;
}

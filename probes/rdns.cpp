#include "rdns.hpp"

#include <async.hpp>
#include <domain_name.hpp>

#include <arpa/inet.h>

#include <array>

namespace bp::probes {

namespace {
bool same_address(const std::string& a, const std::string& b) {
  resolver::IpBytes x, y;
  return resolver::parse_ip(a, &x) && resolver::parse_ip(b, &y) && x.v6 == y.v6 && x.bytes == y.bytes;
}
}  // namespace

asio::awaitable<std::string> confirmed_name(resolver::Resolver& r, std::string ip) {
  const auto ptr_name = resolver::reverse_name(ip);
  if (ptr_name.empty()) co_return std::string{};
  auto ptr = co_await r.lookup(ptr_name, resolver::RrType::ptr);
  if (!ptr.ok()) co_return std::string{};
  const auto type = ip.find(':') == std::string::npos ? resolver::RrType::a : resolver::RrType::aaaa;
  std::vector<std::string> names;
  std::vector<asio::awaitable<resolver::Lookup>> ops;
  for (const auto& rec : ptr->records) {
    if (names.size() >= 10) break;
    names.push_back(rec.target);
    ops.push_back(r.lookup(rec.target, type));
  }
  auto fwd = co_await when_all(std::move(ops));
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!fwd[i].ok()) continue;
    for (const auto& a : fwd[i]->records) {
      if (same_address(a.address, ip)) co_return names[i];
    }
  }
  co_return std::string{};
}

}  // namespace bp::probes

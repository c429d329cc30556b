// Base64 in lines of 76 characters with CRLF, as a MIME body carries it (RFC 2045 section 6.8).
#pragma once

#include <string>

namespace bp::test {

inline std::string base64_lines(const std::string& in) {
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const auto byte = [&](std::size_t k) { return k < in.size() ? static_cast<unsigned>(static_cast<unsigned char>(in[k])) : 0u; };
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += b64[(v >> 18) & 63];
    out += b64[(v >> 12) & 63];
    out += i + 1 < in.size() ? b64[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? b64[v & 63] : '=';
    if ((i / 3 + 1) % 19 == 0) out += "\r\n";
  }
  return out + "\r\n";
}

}  // namespace bp::test

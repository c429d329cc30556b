// zone_server ADDRESS PORT ZONE.json [DELAY_MS]: a small authoritative DNS
// server for tests, answering exactly the data in ZONE.json and nothing else:
//   { "name": [ {"type": "A", "data": "192.0.2.1"}, {"type": "TXT", "data": ["a", "b"]},
//               {"type": "MX", "data": [10, "mx.example.com"]}, {"type": "TIMEOUT"},
//               {"type": "SOA", "data": ["ns.example", "hostmaster.example", 1, 3600, 600, 1209600, 300]} ] }
// A name that is absent is NXDOMAIN; a name without the asked type is NODATA,
// or no answer at all when it carries TIMEOUT ("TXT: NONE" marks an absent TXT); a CNAME is returned with the chain followed inside the
// data. UDP answers over 512 bytes are truncated (TC) and TCP is served too.
// DELAY_MS holds every answer back, to count round trips.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;
nlohmann::json g_zone;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

void put16(Bytes& b, unsigned v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void put_name(Bytes& b, const std::string& n) {
  std::size_t start = 0;
  while (start < n.size()) {
    auto dot = n.find('.', start);
    auto label = n.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.size() > 63) label.resize(63);
    b.push_back(static_cast<std::uint8_t>(label.size()));
    b.insert(b.end(), label.begin(), label.end());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  b.push_back(0);
}

bool read_name(const std::uint8_t* p, std::size_t len, std::size_t& pos, std::string& out) {
  out.clear();
  while (pos < len) {
    const std::size_t l = p[pos++];
    if (l == 0) return true;
    if (l > 63 || pos + l > len) return false;
    if (!out.empty()) out += '.';
    out.append(reinterpret_cast<const char*>(p + pos), l);
    pos += l;
  }
  return false;
}

unsigned type_code(const std::string& t) {
  static const std::map<std::string, unsigned> m{{"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12}, {"MX", 15},
                                                 {"TXT", 16}, {"AAAA", 28}, {"SPF", 99}};
  auto it = m.find(t);
  return it == m.end() ? 0 : it->second;
}

const nlohmann::json* find(const std::string& name) {
  for (auto it = g_zone.begin(); it != g_zone.end(); ++it) {
    if (lower(it.key()) == name) return &it.value();
  }
  return nullptr;
}

bool has_type(const nlohmann::json& recs, const std::string& t) {
  return std::any_of(recs.begin(), recs.end(), [&](const nlohmann::json& r) { return r.is_object() && r.value("type", "") == t; });
}

void put_rr(Bytes& b, const std::string& owner, const nlohmann::json& r, unsigned qtype) {
  const std::string t = r["type"];
  put_name(b, owner);
  put16(b, qtype);
  put16(b, 1);
  put16(b, 0);
  put16(b, 300);
  Bytes rd;
  const auto& d = r["data"];
  if (t == "A" || t == "AAAA") {
    std::uint8_t buf[16];
    const bool v6 = t == "AAAA";
    if (inet_pton(v6 ? AF_INET6 : AF_INET, d.get<std::string>().c_str(), buf) == 1) rd.assign(buf, buf + (v6 ? 16 : 4));
  } else if (t == "MX") {
    put16(rd, d[0].get<unsigned>());
    put_name(rd, d[1].get<std::string>());
  } else if (t == "CNAME" || t == "PTR" || t == "NS") {
    put_name(rd, d.get<std::string>());
  } else if (t == "SOA") {  // [mname, rname, serial, refresh, retry, expire, minimum]
    put_name(rd, d[0].get<std::string>());
    put_name(rd, d[1].get<std::string>());
    for (std::size_t i = 2; i < 7; ++i) {
      const auto v = d[i].get<std::uint32_t>();
      put16(rd, v >> 16);
      put16(rd, v & 0xffffu);
    }
  } else {  // TXT, SPF: a list of strings (bytes given as \u00XX code points)
    std::vector<std::string> strings;
    if (d.is_string()) strings.push_back(d.get<std::string>());
    else for (const auto& s : d) strings.push_back(s.get<std::string>());
    for (const auto& s : strings) {
      std::string bytes;
      for (std::size_t i = 0; i < s.size();) {  // decode UTF-8 code points < 256 back to single bytes
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0xc0 && c < 0xc4 && i + 1 < s.size()) {
          bytes += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3f));
          i += 2;
        } else {
          bytes += static_cast<char>(c);
          ++i;
        }
      }
      for (std::size_t off = 0; off < bytes.size() || off == 0; off += 255) {
        auto part = bytes.substr(off, 255);
        rd.push_back(static_cast<std::uint8_t>(part.size()));
        rd.insert(rd.end(), part.begin(), part.end());
        if (bytes.empty()) break;
      }
    }
  }
  put16(b, static_cast<unsigned>(rd.size()));
  b.insert(b.end(), rd.begin(), rd.end());
}

/// \return the reply, or an empty vector for "do not answer".
Bytes answer(const std::uint8_t* q, std::size_t len, bool udp) {
  if (len < 12) return {};
  std::size_t pos = 12;
  std::string qname;
  if (!read_name(q, len, pos, qname) || pos + 4 > len) return {};
  const unsigned qtype = static_cast<unsigned>((q[pos] << 8) | q[pos + 1]);
  qname = lower(qname);
  Bytes b(q, q + 2);
  std::vector<std::pair<std::string, const nlohmann::json*>> rrs;
  int rcode = 0;
  std::string cur = qname;
  for (int hop = 0; hop < 10; ++hop) {
    const auto* recs = find(cur);
    if (recs == nullptr) {
      if (hop == 0) rcode = 3;
      break;
    }
    bool followed = false;
    const std::size_t before = rrs.size();
    for (const auto& r : *recs) {
      if (!r.is_object()) continue;
      const std::string t = r["type"];
      unsigned code = type_code(t);
      // SPF-type data is also served as TXT when the name has no TXT of its own.
      if (t == "SPF" && qtype == 16 && !has_type(*recs, "TXT")) code = 16;
      const bool none_marker = r.contains("data") && r["data"].is_array() && r["data"].size() == 1 &&
                               r["data"][0].is_string() && r["data"][0] == "NONE";
      if (code == qtype && !none_marker) rrs.emplace_back(cur, &r);
      if (t == "CNAME" && qtype != 5) {
        rrs.emplace_back(cur, &r);
        cur = lower(r["data"].get<std::string>());
        followed = true;
      }
    }
    // TIMEOUT: a name with no data of the asked type never answers.
    if (!followed && rrs.size() == before && has_type(*recs, "TIMEOUT")) return {};
    if (!followed) break;
  }
  put16(b, 0x8400u | static_cast<unsigned>(rcode));  // QR, AA
  put16(b, 1);
  put16(b, static_cast<unsigned>(rrs.size()));
  put16(b, 0);
  put16(b, 0);
  b.insert(b.end(), q + 12, q + pos + 4);
  for (const auto& [owner, r] : rrs) {
    const std::string t = (*r)["type"];
    unsigned code = type_code(t);
    if (t == "SPF" && qtype == 16) code = 16;
    put_rr(b, owner, *r, code);
  }
  if (udp && b.size() > 512) {  // truncate: header and question only, TC set
    b.resize(pos + 4);
    b[2] |= 0x02;
    b[6] = b[7] = 0;
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: zone_server ADDRESS PORT ZONE.json [DELAY_MS]\n");
    return 2;
  }
  std::ifstream in(argv[3]);
  g_zone = nlohmann::json::parse(in);
  const int delay = argc > 4 ? std::atoi(argv[4]) : 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
  inet_pton(AF_INET, argv[1], &sa.sin_addr);
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  int tcp = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(udp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || bind(tcp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      listen(tcp, 16) != 0) {
    std::perror("zone_server: bind");
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  struct Pending {
    Bytes reply;
    sockaddr_storage peer;
    socklen_t peer_len;
    std::chrono::steady_clock::time_point due;
  };
  std::vector<Pending> pending;
  std::uint8_t buf[65536];
  for (;;) {
    int timeout = -1;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->due <= now) {
        sendto(udp, it->reply.data(), it->reply.size(), 0, reinterpret_cast<sockaddr*>(&it->peer), it->peer_len);
        it = pending.erase(it);
      } else {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(it->due - now).count() + 1;
        timeout = timeout < 0 ? static_cast<int>(ms) : std::min(timeout, static_cast<int>(ms));
        ++it;
      }
    }
    pollfd fds[2] = {{udp, POLLIN, 0}, {tcp, POLLIN, 0}};
    if (poll(fds, 2, timeout) <= 0) continue;
    if ((fds[0].revents & POLLIN) != 0) {
      Pending p;
      p.peer_len = sizeof p.peer;
      auto n = recvfrom(udp, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&p.peer), &p.peer_len);
      if (n > 0) {
        p.reply = answer(buf, static_cast<std::size_t>(n), true);
        p.due = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
        if (!p.reply.empty()) pending.push_back(std::move(p));
      }
    }
    if ((fds[1].revents & POLLIN) != 0) {
      int c = accept(tcp, nullptr, nullptr);
      if (c < 0) continue;
      std::uint8_t lenb[2];
      if (recv(c, lenb, 2, MSG_WAITALL) == 2) {
        const std::size_t qlen = static_cast<std::size_t>((lenb[0] << 8) | lenb[1]);
        if (recv(c, buf, qlen, MSG_WAITALL) == static_cast<ssize_t>(qlen)) {
          auto reply = answer(buf, qlen, false);
          if (!reply.empty()) {
            if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
            std::uint8_t rl[2] = {static_cast<std::uint8_t>(reply.size() >> 8), static_cast<std::uint8_t>(reply.size() & 0xff)};
            (void)send(c, rl, 2, 0);
            (void)send(c, reply.data(), reply.size(), 0);
          }
        }
      }
      close(c);
    }
  }
}

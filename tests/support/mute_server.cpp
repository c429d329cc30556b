// mute_server ADDRESS PORT [MODE]: a hostile DNS peer for the lab.
//   mute      (default) accepts UDP datagrams and TCP connections, never answers
//   garbage   answers every UDP query with random bytes that keep its ID
//   mismatch  answers with a well-formed reply for another question
//   truncated answers with the header only, claiming 5 answer records
//   everything claims authority for every name: an SOA query gets an SOA for
//             the name asked (serial 4242), any other type an empty answer, all with AA
//   lossy:IP  forwards to the DNS server at IP:53 and drops every second query,
//             so that half the answers never come (retries must stay bounded)
// A client must give up within its timeout, or reject the reply, never crash or hang.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: mute_server ADDRESS PORT [mute|garbage|mismatch|truncated|everything|lossy:IP]\n");
    return 2;
  }
  const std::string mode = argc > 3 ? argv[3] : "mute";
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
    std::fprintf(stderr, "mute_server: bad address %s\n", argv[1]);
    return 2;
  }
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  int tcp = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(udp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      bind(tcp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(tcp, 16) != 0) {
    std::perror("mute_server: bind");
    return 1;
  }
  // lossy: one socket towards the upstream server; replies go back to the
  // client that sent the query with that ID.
  int up = -1;
  std::map<std::pair<unsigned char, unsigned char>, sockaddr_in> asked;
  unsigned long queries = 0;
  if (mode.rfind("lossy:", 0) == 0) {
    sockaddr_in ua{};
    ua.sin_family = AF_INET;
    ua.sin_port = htons(53);
    if (inet_pton(AF_INET, mode.c_str() + 6, &ua.sin_addr) != 1) {
      std::fprintf(stderr, "mute_server: bad upstream in %s\n", mode.c_str());
      return 2;
    }
    up = socket(AF_INET, SOCK_DGRAM, 0);
    if (connect(up, reinterpret_cast<sockaddr*>(&ua), sizeof ua) != 0) {
      std::perror("mute_server: connect");
      return 1;
    }
  }
  std::vector<int> held;
  char buf[65536];
  for (;;) {
    pollfd fds[3] = {{udp, POLLIN, 0}, {tcp, POLLIN, 0}, {up, POLLIN, 0}};
    if (poll(fds, up >= 0 ? 3 : 2, -1) < 0) continue;
    if (up >= 0 && (fds[2].revents & POLLIN) != 0) {
      auto n = recv(up, buf, sizeof buf, 0);
      if (n >= 12) {
        auto it = asked.find({static_cast<unsigned char>(buf[0]), static_cast<unsigned char>(buf[1])});
        if (it != asked.end()) {
          sendto(udp, buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&it->second), sizeof it->second);
          asked.erase(it);
        }
      }
    }
    if ((fds[0].revents & POLLIN) != 0) {
      sockaddr_in peer{};
      socklen_t plen = sizeof peer;
      auto n = recvfrom(udp, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (n < 12 || mode == "mute") continue;
      if (up >= 0) {
        if (++queries % 2 == 0) continue;  // this one is lost
        asked[{static_cast<unsigned char>(buf[0]), static_cast<unsigned char>(buf[1])}] = peer;
        send(up, buf, static_cast<std::size_t>(n), 0);
        continue;
      }
      std::vector<unsigned char> reply;
      if (mode == "garbage") {
        reply.assign(buf, buf + 2);  // keep the ID so the client reads it
        for (int i = 0; i < 200; ++i) reply.push_back(static_cast<unsigned char>(std::rand() & 0xff));
        reply[2] |= 0x80;
      } else if (mode == "mismatch") {
        const unsigned char q[] = {0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 4, 'e', 'v', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};
        reply.assign(buf, buf + 2);
        reply.insert(reply.end(), q, q + sizeof q);
      } else if (mode == "everything") {
        // The question as asked (the name ends at its zero label; type and class follow).
        std::size_t end = 12;
        while (end < static_cast<std::size_t>(n) && buf[end] != 0) end += 1 + static_cast<unsigned char>(buf[end]);
        if (end + 5 > static_cast<std::size_t>(n)) continue;
        const bool soa = buf[end + 1] == 0 && buf[end + 2] == 6;
        reply.assign(buf, buf + end + 5);
        reply[2] = static_cast<unsigned char>(0x84 | (buf[2] & 0x01));  // QR, AA, RD copied
        reply[3] = 0;
        reply[4] = 0;
        reply[5] = 1;
        reply[6] = 0;
        reply[7] = soa ? 1 : 0;
        reply[8] = reply[9] = reply[10] = reply[11] = 0;
        if (soa) {
          const unsigned char rr[] = {0xc0, 0x0c, 0, 6, 0, 1, 0, 0, 0x0e, 0x10, 0, 49,
                                      2, 'n', 's', 10, 'e', 'v', 'e', 'r', 'y', 't', 'h', 'i', 'n', 'g', 0,
                                      1, 'h', 10, 'e', 'v', 'e', 'r', 'y', 't', 'h', 'i', 'n', 'g', 0,
                                      0, 0, 0x10, 0x92, 0, 0, 0x0e, 0x10, 0, 0, 0x02, 0x58, 0, 0x12, 0x75, 0, 0, 0, 0x01, 0x2c};
          reply.insert(reply.end(), rr, rr + sizeof rr);
        }
      } else {  // truncated
        reply.assign(buf, buf + 12);
        reply[2] = 0x81;
        reply[3] = 0x80;
        reply[7] = 5;
      }
      sendto(udp, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer), plen);
    }
    if ((fds[1].revents & POLLIN) != 0) {
      int c = accept(tcp, nullptr, nullptr);
      if (c >= 0 && held.size() < 64) held.push_back(c);
      else if (c >= 0) close(c);
    }
  }
}

// mute_server ADDRESS PORT [MODE]: a hostile DNS peer for the lab.
//   mute      (default) accepts UDP datagrams and TCP connections, never answers
//   garbage   answers every UDP query with random bytes that keep its ID
//   mismatch  answers with a well-formed reply for another question
//   truncated answers with the header only, claiming 5 answer records
// A client must give up within its timeout, or reject the reply, never crash or hang.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: mute_server ADDRESS PORT [mute|garbage|mismatch|truncated]\n");
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
  std::vector<int> held;
  char buf[65536];
  for (;;) {
    pollfd fds[2] = {{udp, POLLIN, 0}, {tcp, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if ((fds[0].revents & POLLIN) != 0) {
      sockaddr_in peer{};
      socklen_t plen = sizeof peer;
      auto n = recvfrom(udp, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (n < 12 || mode == "mute") continue;
      std::vector<unsigned char> reply;
      if (mode == "garbage") {
        reply.assign(buf, buf + 2);  // keep the ID so the client reads it
        for (int i = 0; i < 200; ++i) reply.push_back(static_cast<unsigned char>(std::rand() & 0xff));
        reply[2] |= 0x80;
      } else if (mode == "mismatch") {
        const unsigned char q[] = {0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 4, 'e', 'v', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};
        reply.assign(buf, buf + 2);
        reply.insert(reply.end(), q, q + sizeof q);
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

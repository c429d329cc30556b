// mute_server ADDRESS PORT: a hostile DNS peer for the lab. It accepts UDP
// datagrams and TCP connections on ADDRESS:PORT and never answers, so a client
// can be shown to give up within its timeout instead of hanging.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: mute_server ADDRESS PORT\n");
    return 2;
  }
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
    if ((fds[0].revents & POLLIN) != 0) (void)recv(udp, buf, sizeof buf, 0);
    if ((fds[1].revents & POLLIN) != 0) {
      int c = accept(tcp, nullptr, nullptr);
      if (c >= 0 && held.size() < 64) held.push_back(c);
      else if (c >= 0) close(c);
    }
  }
}

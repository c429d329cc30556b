// smtp_peer ADDRESS PORT MODE: a hostile or odd SMTP peer for the lab.
//   nobanner    accepts the connection and never says anything
//   slowbanner  waits 2.5 s before an otherwise normal greeting (a tarpit)
//   longline    sends a 1 MB greeting line with no end
//   endless     sends "220-" continuation lines without end
//   midclose    sends the first line of a multi-line greeting, then closes
//   tlsgarbage  offers STARTTLS, says "220 go ahead", then sends bytes that are not TLS
// Every connection gets its own thread; a client must end each case within its
// deadlines and bounded memory, never hang or crash.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

bool say(int fd, const std::string& s) { return send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()); }

/// \return the next line from the client (without CRLF), or false when it left.
bool hear(int fd, std::string& buffer, std::string& line) {
  for (;;) {
    const auto nl = buffer.find('\n');
    if (nl != std::string::npos) {
      line = buffer.substr(0, nl);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      buffer.erase(0, nl + 1);
      return true;
    }
    char chunk[1024];
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0 || buffer.size() > 65536) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

void drain(int fd) {
  char chunk[1024];
  while (recv(fd, chunk, sizeof chunk, 0) > 0) {
  }
}

/// A minimal, well-behaved server after the greeting: 250 to everything, 221 to QUIT.
void converse(int fd, bool starttls_garbage) {
  std::string buffer, line;
  while (hear(fd, buffer, line)) {
    std::string verb = line.substr(0, 8);
    for (auto& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (verb.rfind("EHLO", 0) == 0) {
      say(fd, starttls_garbage ? "250-peer.example\r\n250 STARTTLS\r\n" : "250-peer.example\r\n250 PIPELINING\r\n");
    } else if (verb.rfind("STARTTLS", 0) == 0 && starttls_garbage) {
      say(fd, "220 2.0.0 Ready to start TLS\r\n");
      for (int i = 0; i < 50 && say(fd, "this is not a TLS record, just text\r\n"); ++i) {
      }
      drain(fd);
      return;
    } else if (verb.rfind("QUIT", 0) == 0) {
      say(fd, "221 2.0.0 Bye\r\n");
      return;
    } else {
      say(fd, "250 2.0.0 Ok\r\n");
    }
  }
}

void serve(int fd, std::string mode) {
  if (mode == "nobanner") {
    drain(fd);
  } else if (mode == "slowbanner") {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    if (say(fd, "220 slow.example ESMTP\r\n")) converse(fd, false);
  } else if (mode == "longline") {
    std::string chunk(64 * 1024, 'x');
    say(fd, "220 ");
    for (int i = 0; i < 16 && say(fd, chunk); ++i) {
    }
    drain(fd);
  } else if (mode == "endless") {
    while (say(fd, "220-and another line\r\n")) {
    }
  } else if (mode == "midclose") {
    say(fd, "220-first line of a greeting that never ends\r\n");
  } else if (mode == "tlsgarbage") {
    if (say(fd, "220 garbage.example ESMTP\r\n")) converse(fd, true);
  }
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: smtp_peer ADDRESS PORT nobanner|slowbanner|longline|endless|midclose|tlsgarbage\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
    std::fprintf(stderr, "smtp_peer: bad address %s\n", argv[1]);
    return 2;
  }
  const std::string mode = argv[3];
  int tcp = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(tcp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(tcp, 16) != 0) {
    std::perror("smtp_peer: bind");
    return 1;
  }
  for (;;) {
    const int fd = accept(tcp, nullptr, nullptr);
    if (fd < 0) continue;
    std::thread(serve, fd, mode).detach();
  }
}

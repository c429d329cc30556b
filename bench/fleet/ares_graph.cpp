// The baseline of the fleet benchmark: a plain c-ares 1.18 loop that asks what
// `bounceprobe check --no-smtp` asks for each domain, with nothing else (no
// findings, no rendering): MX, then each host's A and AAAA, then each address
// on the four address blocklists and the domain on the domain list; the SPF
// record and its include/redirect chain (a provider's records fetched once);
// _dmarc, _mta-sts and _smtp._tls. Each blocklist zone's RFC 5782 test entry once. `window` domains in flight.
//   ares_graph SERVER DOMAINS_FILE [WINDOW]
#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

ares_channel channel;
std::size_t queries = 0, answers = 0;
const char* ip_lists[] = {"zen.spamhaus.org", "bl.spamcop.net", "bl.score.senderscore.com", "sa-ip4tset.blagr.emailsrvr.com"};

struct Domain;
void finished(Domain* d);

struct Domain {
  std::string name;
  int pending{0};
  void done() {
    if (--pending == 0) finished(this);
  }
};

struct Ask {
  Domain* d;
  std::string name;
  int type;
};

void ask(Domain* d, const std::string& name, int type);
std::set<std::string> spf_seen;

std::string reversed(const std::string& ip) {
  unsigned char b[16];
  if (inet_pton(AF_INET, ip.c_str(), b) == 1) {
    return std::to_string(b[3]) + "." + std::to_string(b[2]) + "." + std::to_string(b[1]) + "." + std::to_string(b[0]);
  }
  inet_pton(AF_INET6, ip.c_str(), b);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 15; i >= 0; --i) {
    out += hex[b[i] & 15];
    out += '.';
    out += hex[b[i] >> 4];
    if (i) out += '.';
  }
  return out;
}

void on_reply(void* arg, int status, int, unsigned char* abuf, int alen) {
  auto* a = static_cast<Ask*>(arg);
  Domain* d = a->d;
  if (status == ARES_SUCCESS) {
    ++answers;
    if (a->type == ns_t_mx) {
      ares_mx_reply* mx = nullptr;
      if (ares_parse_mx_reply(abuf, alen, &mx) == ARES_SUCCESS) {
        for (auto* m = mx; m; m = m->next) {
          ask(d, m->host, ns_t_a);
          ask(d, m->host, ns_t_aaaa);
        }
        ares_free_data(mx);
      }
    } else if (a->type == ns_t_a || a->type == ns_t_aaaa) {
      if (d != nullptr && a->name.find("fleet.example") != std::string::npos) {
        ares_addrttl v4[16];
        ares_addr6ttl v6[16];
        int n = 16;
        char buf[INET6_ADDRSTRLEN];
        if (a->type == ns_t_a && ares_parse_a_reply(abuf, alen, nullptr, v4, &n) == ARES_SUCCESS) {
          for (int i = 0; i < n; ++i) {
            inet_ntop(AF_INET, &v4[i].ipaddr, buf, sizeof buf);
            for (const char* z : ip_lists) ask(d, reversed(buf) + "." + z, ns_t_a);
          }
        } else if (a->type == ns_t_aaaa && ares_parse_aaaa_reply(abuf, alen, nullptr, v6, &n) == ARES_SUCCESS) {
          for (int i = 0; i < n; ++i) {
            inet_ntop(AF_INET6, &v6[i].ip6addr, buf, sizeof buf);
            for (const char* z : ip_lists) ask(d, reversed(buf) + "." + z, ns_t_a);
          }
        }
      }
    } else if (a->type == ns_t_txt) {
      ares_txt_ext* txt = nullptr;
      if (ares_parse_txt_reply_ext(abuf, alen, &txt) == ARES_SUCCESS) {
        std::string all;
        for (auto* t = txt; t; t = t->next) all.append(reinterpret_cast<char*>(t->txt), t->length);
        ares_free_data(txt);
        for (const char* key : {"include:", "redirect="}) {
          for (auto p = all.find(key); p != std::string::npos; p = all.find(key, p + 1)) {
            auto start = p + std::strlen(key);
            auto end = all.find(' ', start);
            auto target = all.substr(start, end == std::string::npos ? std::string::npos : end - start);
            if (spf_seen.insert(target).second) ask(d, target, ns_t_txt);
          }
        }
      }
    }
  }
  delete a;
  if (d) d->done();
}

void ask(Domain* d, const std::string& name, int type) {
  ++queries;
  if (d) ++d->pending;
  ares_query(channel, name.c_str(), ns_c_in, type, on_reply, new Ask{d, name, type});
}

std::vector<std::string> names;
std::size_t next_name = 0, completed = 0;

void start_next() {
  if (next_name >= names.size()) return;
  auto* d = new Domain{names[next_name++]};
  d->pending = 1;  // held until every first-level question is out
  ask(d, d->name, ns_t_mx);
  ask(d, d->name, ns_t_txt);
  ask(d, "_dmarc." + d->name, ns_t_txt);
  ask(d, "_mta-sts." + d->name, ns_t_txt);
  ask(d, "_smtp._tls." + d->name, ns_t_txt);
  ask(d, d->name + ".dbl.spamhaus.org", ns_t_a);
  d->done();
}

void finished(Domain* d) {
  delete d;
  ++completed;
  start_next();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ares_graph SERVER DOMAINS_FILE [WINDOW]\n");
    return 2;
  }
  std::ifstream in(argv[2]);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) names.push_back(l);
  }
  const std::size_t window = argc > 3 ? std::stoul(argv[3]) : 20;
  ares_library_init(ARES_LIB_INIT_ALL);
  ares_options o{};
  o.timeout = 2000;
  o.tries = 2;
  ares_init_options(&channel, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  ares_set_servers_ports_csv(channel, argv[1]);
  for (const char* z : ip_lists) ask(nullptr, std::string("2.0.0.127.") + z, ns_t_a);
  ask(nullptr, "test.dbl.spamhaus.org", ns_t_a);
  for (std::size_t i = 0; i < window; ++i) start_next();
  while (true) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short ev = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) ev |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) ev |= POLLOUT;
      if (ev) fds.push_back({socks[i], ev, 0});
    }
    if (fds.empty()) break;
    timeval tv{}, *t = ares_timeout(channel, nullptr, &tv);
    const int ms = t ? static_cast<int>(t->tv_sec * 1000 + t->tv_usec / 1000) : 1000;
    poll(fds.data(), fds.size(), ms);
    for (auto& p : fds) {
      ares_process_fd(channel, (p.revents & POLLIN) ? p.fd : ARES_SOCKET_BAD, (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD);
    }
    if (fds.empty() || std::all_of(fds.begin(), fds.end(), [](const pollfd& p) { return p.revents == 0; })) {
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
  }
  std::printf("%zu domains, %zu queries, %zu answers\n", completed, queries, answers);
  ares_destroy(channel);
  ares_library_cleanup();
  return completed == names.size() ? 0 : 1;
}

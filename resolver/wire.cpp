#include "wire.hpp"

#include "domain_name.hpp"

#include <arpa/inet.h>
#include <ares.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace bp::resolver {

namespace {

constexpr std::size_t header_size = 12;
constexpr int max_chain = 16;

/// A read cursor that never steps outside the packet.
class Cursor {
 public:
  explicit Cursor(std::span<const std::uint8_t> p) : p_(p) {}
  std::size_t pos() const { return pos_; }
  bool has(std::size_t n) const { return pos_ <= p_.size() && p_.size() - pos_ >= n; }
  std::optional<std::uint16_t> u16() {
    if (!has(2)) return std::nullopt;
    auto v = static_cast<std::uint16_t>((p_[pos_] << 8) | p_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::optional<std::uint32_t> u32() {
    auto hi = u16();
    auto lo = u16();
    if (!hi || !lo) return std::nullopt;
    return (std::uint32_t{*hi} << 16) | *lo;
  }
  /// Reads a possibly compressed name (loops and overruns are rejected by c-ares).
  std::optional<std::string> name() {
    std::string s;
    if (!name_into(s)) return std::nullopt;
    return s;
  }
  /// name() into `out`, reusing its storage: false when the name is malformed.
  bool name_into(std::string& out) {
    if (!has(1)) return false;
    char* raw = nullptr;
    long enclen = 0;
    if (ares_expand_name(p_.data() + pos_, p_.data(), static_cast<int>(p_.size()), &raw, &enclen) != ARES_SUCCESS) {
      return false;
    }
    out.assign(*raw == '\0' ? "." : raw);  // the root comes back as ""
    ares_free_string(raw);
    normalize_in_place(out);
    pos_ += static_cast<std::size_t>(enclen);
    return true;
  }
  bool skip(std::size_t n) {
    if (!has(n)) return false;
    pos_ += n;
    return true;
  }
  std::span<const std::uint8_t> bytes(std::size_t n) {
    auto s = p_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::span<const std::uint8_t> packet() const { return p_; }
  void seek(std::size_t p) { pos_ = p; }

 private:
  std::span<const std::uint8_t> p_;
  std::size_t pos_{0};
};

Failure bad(std::string why, int rcode = -1) { return Failure{DnsFailure::bad_response, std::move(why), rcode, {}}; }

std::optional<Record> parse_record(Cursor& c, std::string* why) {
  Record r;
  auto owner = c.name();
  auto type = c.u16();
  auto klass = c.u16();
  auto ttl = c.u32();
  auto rdlen = c.u16();
  if (!owner || !type || !klass || !ttl || !rdlen || !c.has(*rdlen)) {
    *why = "record header overruns the packet";
    return std::nullopt;
  }
  r.owner = *owner;
  r.type = static_cast<RrType>(*type);
  r.ttl = *ttl;
  const std::size_t rdata_start = c.pos();
  const std::size_t rdata_end = rdata_start + *rdlen;
  auto fail = [&](const char* what) {
    *why = fmt::format("malformed {} record for {}: {}", to_string(r.type), r.owner, what);
    return std::nullopt;
  };
  switch (r.type) {
    case RrType::a:
    case RrType::aaaa: {
      const std::size_t want = r.type == RrType::a ? 4 : 16;
      if (*rdlen != want) return fail("wrong address length");
      auto b = c.bytes(want);
      char buf[INET6_ADDRSTRLEN] = {};
      inet_ntop(r.type == RrType::a ? AF_INET : AF_INET6, b.data(), buf, sizeof buf);
      r.address = buf;
      break;
    }
    case RrType::cname:
    case RrType::ptr:
    case RrType::ns: {
      auto t = c.name();
      if (!t || c.pos() != rdata_end) return fail("bad target name");
      r.target = *t;
      break;
    }
    case RrType::mx: {
      auto pref = c.u16();
      auto t = pref ? c.name() : std::nullopt;
      if (!pref || !t || c.pos() != rdata_end) return fail("bad preference or exchange");
      r.preference = *pref;
      r.target = (*t == ".") ? std::string{} : *t;
      break;
    }
    case RrType::txt:
    case RrType::spf: {
      // One or more <character-string>s, each a length octet and data (RFC 1035 3.3.14).
      while (c.pos() < rdata_end) {
        auto len_byte = c.bytes(1);
        std::size_t len = len_byte[0];
        if (c.pos() + len > rdata_end) return fail("character-string overruns RDATA");
        auto s = c.bytes(len);
        r.strings.emplace_back(reinterpret_cast<const char*>(s.data()), s.size());
      }
      break;
    }
    case RrType::soa: {
      auto mname = c.name();
      auto rname = mname ? c.name() : std::nullopt;
      std::optional<std::uint32_t> v[5];
      for (auto& x : v) x = rname ? c.u32() : std::nullopt;
      if (!mname || !rname || !v[4] || c.pos() != rdata_end) return fail("bad names or timers");
      r.target = *mname;
      r.rname = *rname;
      r.serial = *v[0];
      r.refresh = *v[1];
      r.retry = *v[2];
      r.expire = *v[3];
      r.minimum = *v[4];
      break;
    }
    case RrType::dnskey:
    case RrType::ds: {
      if (*rdlen < 4) return fail("shorter than its fixed fields");
      auto f = c.bytes(4);
      r.key_flags_or_tag = static_cast<std::uint16_t>((f[0] << 8) | f[1]);
      r.algorithm = f[3 - (r.type == RrType::ds ? 1 : 0)];
      if (r.type == RrType::ds) r.digest_type = f[3];
      auto d = c.bytes(*rdlen - 4u);
      r.data.assign(reinterpret_cast<const char*>(d.data()), d.size());
      break;
    }
    case RrType::tlsa: {
      if (*rdlen < 3) return fail("shorter than its three fields");
      auto f = c.bytes(3);
      r.usage = f[0];
      r.selector = f[1];
      r.matching = f[2];
      auto d = c.bytes(*rdlen - 3u);
      r.data.assign(reinterpret_cast<const char*>(d.data()), d.size());
      break;
    }
    default:
      c.skip(*rdlen);
  }
  c.seek(rdata_end);
  return r;
}

}  // namespace

Lookup parse_reply(std::span<const std::uint8_t> reply, std::string_view qname_in, RrType qtype) {
  // The resolver asks with normalized names: no copy is made for those.
  std::string normalized;
  std::string_view qname = qname_in;
  if (!is_normalized(qname_in)) qname = normalized = normalize_name(qname_in);
  Cursor c(reply);
  if (!c.has(header_size)) return bad(fmt::format("reply of {} bytes is shorter than a DNS header", reply.size()));
  c.skip(2);  // ID: c-ares matched it already
  auto flags = *c.u16();
  auto qd = *c.u16();
  auto an = *c.u16();
  c.skip(4);  // NSCOUNT, ARCOUNT: authority and additional data are not used
  const int rcode = flags & 0x000f;
  if ((flags & 0x8000) == 0) return bad("reply has QR=0", rcode);
  if (((flags >> 11) & 0x0f) != 0) return bad("reply has a non-zero opcode", rcode);

  // The question must be ours: with ARES_FLAG_NOCHECKRESP, c-ares no longer checks it.
  if (qd != 1) return bad(fmt::format("reply carries {} questions", qd), rcode);
  thread_local std::string rq;  // compared, not kept: its storage serves every reply
  const bool rq_ok = c.name_into(rq);
  auto rt = c.u16();
  auto rc = c.u16();
  if (!rq_ok || !rt || !rc) return bad("question section overruns the packet", rcode);
  if (rq != qname || *rt != static_cast<std::uint16_t>(qtype) || *rc != 1) {
    return bad(fmt::format("reply question {} {} does not match the query", rq, to_string(static_cast<RrType>(*rt))), rcode);
  }

  switch (rcode) {
    case 0: break;
    case 1: return Failure{DnsFailure::formerr, "server answered FORMERR", rcode, {}};
    case 2: return Failure{DnsFailure::servfail, "server answered SERVFAIL", rcode, {}};
    case 3: break;  // NXDOMAIN: still read the answer, it may hold the CNAME chain
    case 4: return Failure{DnsFailure::notimp, "server answered NOTIMP", rcode, {}};
    case 5: return Failure{DnsFailure::refused, "server answered REFUSED", rcode, {}};
    default: return bad(fmt::format("server answered rcode {}", rcode), rcode);
  }

  // ANCOUNT is the sender's claim: reserve only what the bytes left could hold
  // (a record takes at least 11 octets: a compressed or root name and 10 fixed).
  std::vector<Record> records;
  records.reserve(std::min<std::size_t>(an, (reply.size() - c.pos()) / 11));
  for (std::uint16_t i = 0; i < an; ++i) {
    std::string why;
    auto r = parse_record(c, &why);
    if (!r) return bad(why, rcode);
    records.push_back(std::move(*r));
  }

  Answer ans;
  ans.qname = std::string(qname);
  ans.qtype = qtype;
  ans.rcode = rcode;
  ans.authoritative = (flags & 0x0400) != 0;
  ans.truncated = (flags & 0x0200) != 0;
  ans.authenticated = (flags & 0x0020) != 0;
  // Follow the chain of aliases from the asked name (RFC 2181 10.1).
  std::string_view current = qname;  // the name the chain has reached (CNAME records stay in `records`)
  if (qtype != RrType::cname) {
    for (int hop = 0;; ++hop) {
      auto it = std::find_if(records.begin(), records.end(), [&](const Record& r) {
        return r.type == RrType::cname && r.owner == current;
      });
      if (it == records.end()) break;
      if (hop >= max_chain) return bad(fmt::format("CNAME chain from {} longer than {}", qname, max_chain), rcode);
      for (const auto& seen : ans.cname_chain) {
        if (seen == it->target) return bad(fmt::format("CNAME loop at {}", it->target), rcode);
      }
      current = it->target;
      ans.cname_chain.emplace_back(current);
    }
  }
  ans.records.reserve(records.size());
  for (auto& r : records) {
    if (r.type == qtype && r.owner == current) ans.records.push_back(std::move(r));
  }
  if (rcode == 3) {
    return Failure{DnsFailure::nxdomain,
                   ans.cname_chain.empty() ? "no such domain (NXDOMAIN)"
                                           : fmt::format("alias target {} does not exist (NXDOMAIN)", current),
                   rcode, ans.cname_chain};
  }
  if (ans.records.empty()) {
    return Failure{DnsFailure::nodata,
                   ans.cname_chain.empty() ? fmt::format("no {} record (NODATA)", to_string(qtype))
                                           : fmt::format("no {} record at alias target {} (NODATA)", to_string(qtype), current),
                   rcode, ans.cname_chain};
  }
  return ans;
}

}  // namespace bp::resolver

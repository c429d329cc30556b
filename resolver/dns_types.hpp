/*++
 * NAME
 *	dns_types 3h
 * SUMMARY
 *	typed DNS answers and failures
 * DESCRIPTION
 *	An Answer is the set of records of the asked type at the end of the
 *	CNAME chain, with the chain itself kept visible. A DnsFailure keeps apart
 *	what the server said (nxdomain, nodata, servfail, refused, formerr,
 *	notimp) from what happened locally (timeout, connection_refused,
 *	bad_response, no_server, cancelled, bad_name).
 * DIAGNOSTICS
 *	Failure carries a one-line detail and the raw rcode (-1 when no reply).
 * SEE ALSO
 *	RFC 1035 section 4.1.1 (RCODE), RFC 2308 (NODATA), RFC 2181 section 10.1 (CNAME).
 *--*/
#pragma once

#include "result.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bp::resolver {

enum class RrType : std::uint16_t {
  a = 1, ns = 2, cname = 5, soa = 6, ptr = 12, mx = 15, txt = 16, aaaa = 28, ds = 43, dnskey = 48, tlsa = 52, spf = 99,
};

/// \return the mnemonic ("MX"), or "TYPEnnn" for unknown types.
std::string to_string(RrType t);

enum class DnsFailure {
  nxdomain, nodata, servfail, refused, formerr, notimp,
  timeout, connection_refused, bad_response, no_server, cancelled, bad_name,
};

/// \return the slug used in JSON and findings ("servfail").
std::string_view to_string(DnsFailure f);

/// \return true for failures where the server gave an authoritative negative answer.
constexpr bool is_negative(DnsFailure f) { return f == DnsFailure::nxdomain || f == DnsFailure::nodata; }

struct Record {
  std::string owner;            ///< owner name, lower case, no trailing dot
  RrType type{RrType::a};
  std::uint32_t ttl{0};
  std::string target;           ///< CNAME, PTR, NS and MX target ("" for the root, i.e. null MX)
  std::uint16_t preference{0};  ///< MX preference
  std::vector<std::string> strings;  ///< TXT character-strings, raw bytes
  std::string address;          ///< A/AAAA in presentation form
  std::uint8_t usage{0}, selector{0}, matching{0};  ///< TLSA fields (RFC 6698 section 2.1)
  std::string data;             ///< TLSA certificate association data, raw bytes
  /// SOA (RFC 1035 section 3.3.13): MNAME is in `target`; the mailbox, the serial and the timers here.
  std::string rname;
  std::uint32_t serial{0}, refresh{0}, retry{0}, expire{0}, minimum{0};
  /// DNSKEY (RFC 4034 section 2.1): flags, algorithm, the key in `data`;
  /// DS (section 5.1): key tag, algorithm, digest type, the digest in `data`.
  std::uint16_t key_flags_or_tag{0};
  std::uint8_t algorithm{0}, digest_type{0};

  /// \return the record data in presentation form, for evidence.
  std::string rdata_text() const;
};

struct Answer {
  std::string qname;
  RrType qtype{RrType::a};
  int rcode{0};
  bool authoritative{false};
  bool truncated{false};
  bool authenticated{false};  ///< AD: the resolver says it validated the answer with DNSSEC
  std::vector<std::string> cname_chain;  ///< names the query was redirected to, in order
  std::vector<Record> records;           ///< records of qtype at the end of the chain
  std::string zone_file;                 ///< the zone file that answered ("" for DNS)
};

struct Failure {
  Failure(DnsFailure k = DnsFailure::bad_response, std::string d = {}, int rc = -1, std::vector<std::string> chain = {})
      : kind(k), detail(std::move(d)), rcode(rc), cname_chain(std::move(chain)) {}
  DnsFailure kind{DnsFailure::bad_response};
  std::string detail;
  int rcode{-1};
  std::vector<std::string> cname_chain;
  std::string zone_file;  ///< the zone file that answered ("" for DNS)
};

/// The answer or failure for one question. Answers are shared, not copied: the
/// run's cache and every asker of the same question hold the same immutable
/// value, so handing an answer out costs a reference count, not a copy of its
/// records. Reading goes through const access; mut() gives a private copy to
/// change (copied only when the value is shared).
class [[nodiscard]] Lookup {
 public:
  using Value = Result<Answer, Failure>;
  Lookup() : p_(empty()) {}
  Lookup(Answer a) : p_(std::make_shared<Value>(std::move(a))) {}   // NOLINT: implicit by design
  Lookup(Failure f) : p_(std::make_shared<Value>(std::move(f))) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return p_->ok(); }
  explicit operator bool() const noexcept { return ok(); }
  const Answer& value() const { return p_->value(); }
  const Failure& error() const { return p_->error(); }
  const Answer* operator->() const { return &p_->value(); }
  const Answer& operator*() const { return p_->value(); }

  /// \return this lookup's own value to change: copied first if another holder shares it.
  Value& mut() {
    if (p_.use_count() != 1) p_ = std::make_shared<Value>(*p_);
    return *p_;
  }

 private:
  static const std::shared_ptr<Value>& empty() {
    static const std::shared_ptr<Value> e = std::make_shared<Value>();
    return e;
  }
  std::shared_ptr<Value> p_;
};

}  // namespace bp::resolver

/*++
 * NAME
 *	dkim 3h
 * SUMMARY
 *	DKIM signatures of a message, verified as a receiver verifies them
 * DESCRIPTION
 *	verify_dkim() reads the message's DKIM-Signature fields (RFC 6376
 *	section 3.5), fetches each key from selector._domainkey.domain through
 *	the resolver, and verifies rsa-sha256 and ed25519-sha256 (RFC 8463)
 *	signatures with OpenSSL after simple or relaxed canonicalisation
 *	(section 3.4), honouring l= (body length) and x= (expiry). The body is
 *	hashed as it is read, so memory does not grow with the message.
 *
 *	The canonicalisation and tag-list functions are pure and tested on
 *	their own with the examples of RFC 6376 section 3.4.5.
 * DIAGNOSTICS
 *	Each signature ends as pass, fail (with why), temperror (the key could
 *	not be looked up) or permerror (a malformed signature or key).
 * SEE ALSO
 *	RFC 6376, RFC 8301 (rsa-sha1 no longer accepted, keys of 1024 bits at
 *	least), RFC 8463.
 *--*/
#pragma once

#include "finding.hpp"

#include <resolver.hpp>

#include <asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bp::probes::dkim {

/// \return the tags of a DKIM tag list (RFC 6376 section 3.2), or nullopt with `error`
/// set for a malformed list or a repeated tag. Values keep their inner whitespace.
std::optional<std::map<std::string, std::string>> parse_tag_list(const std::string& text, std::string* error);

/// A header field as it appears, "Name: value" with its folding, without the final CRLF.
std::string canonical_header(const std::string& field, bool relaxed);

/// Streaming body canonicalisation (section 3.4.3 and 3.4.4): feed() the raw body in
/// pieces (CRLF or bare LF line ends), then finish(); out() is what is hashed.
class BodyCanon {
 public:
  explicit BodyCanon(bool relaxed) : relaxed_(relaxed) {}
  /// Appends canonical bytes to `out` (the caller hashes and clears it as it likes).
  void feed(std::string_view raw, std::string& out);
  void finish(std::string& out);

 private:
  void line(std::string_view l, std::string& out);
  bool relaxed_;
  std::string partial_;        ///< a line not ended yet
  std::size_t empty_lines_{0};  ///< empty lines held back: dropped if nothing follows
  bool any_{false};
};

enum class Outcome { pass, fail, temperror, permerror };
std::string_view to_string(Outcome o);

struct SignatureResult {
  std::string domain;    ///< d=
  std::string selector;  ///< s=
  std::string algorithm; ///< a=
  Outcome outcome{Outcome::permerror};
  std::string detail;    ///< why, for anything but pass
  bool testing{false};   ///< the key says t=y
  std::vector<Evidence> evidence;
};

/// \return every DKIM-Signature of the message in `path`, each verified.
asio::awaitable<std::vector<SignatureResult>> verify_dkim(resolver::Resolver& r, std::string path);

/// Selectors tried by `check` when none is given: the common defaults of mail
/// systems and providers (a domain may use others: --dkim-selector names them).
/// (selector1/2: Microsoft 365; google: Google Workspace; k1: Mailchimp and others.)
inline const std::vector<std::string> common_selectors{"default", "selector1", "selector2", "google", "k1"};

/// Pure: findings for the key record published at `name` (selector._domainkey.domain),
/// given the TXT lookup (RFC 6376 section 3.6.1; RFC 8301 key sizes; RFC 8463).
std::vector<Finding> key_findings(const std::string& name, const resolver::Lookup& txt, bool asked_for);

/// One selector's key as the report's JSON gives it.
struct KeyFact {
  std::string selector;
  std::string name;    ///< selector._domainkey.domain
  bool found{false};   ///< a TXT record is there
  std::string result;  ///< the code of its finding: "dkim.key-ok", "dkim.key-weak", ... ("" for an absent common selector)
};

struct KeysReport {
  std::vector<Finding> findings;
  std::vector<KeyFact> keys;
};

/// The keys of `domain` at `selectors` (or the common ones when empty), looked up at once.
asio::awaitable<KeysReport> check_keys(resolver::Resolver& r, std::string domain, std::vector<std::string> selectors);

/// Findings for the signatures, and for a From: domain no passing signature aligns with.
std::vector<Finding> dkim_findings(const std::vector<SignatureResult>& results, const std::string& from_domain);

}  // namespace bp::probes::dkim

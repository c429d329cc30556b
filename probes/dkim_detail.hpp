/*++
 * NAME
 *	dkim_detail 3h
 * SUMMARY
 *	what the DKIM files share (not part of dkim(3h)'s interface)
 * DESCRIPTION
 *	Text helpers for tag values, base64, and the reading of a key record
 *	(RFC 6376 section 3.6.1): the verifier and the key check judge the same
 *	record the same way.
 *--*/
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bp::probes::dkim::detail {

std::string lower(std::string s);
/// \return `s` without leading and trailing spaces, tabs, CR and LF.
std::string trim(std::string_view s);
/// \return `s` without any space, tab, CR or LF (folded base64).
std::string strip_ws(std::string_view s);
/// \return the bytes of base64 text (whitespace ignored), or nullopt.
std::optional<std::string> base64_decode(const std::string& in);

/// A key record as verifiers read it.
struct KeyRecord {
  std::string type{"rsa"};         ///< k=: "rsa" or "ed25519"
  bool testing{false};             ///< t=y
  bool revoked{false};             ///< empty p=
  bool sha1_only{false};           ///< h= that does not allow sha256
  int bits{0};                     ///< the RSA key's size
  std::shared_ptr<EVP_PKEY> key;   ///< the public key, when usable
  std::string code;                ///< the finding code of a problem: dkim.key-syntax or dkim.key-type ("" when none)
  std::string problem;             ///< what is wrong, completing "the DKIM key at NAME ..."
};

/// \return the record's reading; `problem` says why it cannot be used (not for a revoked key).
KeyRecord read_key_record(const std::string& text);

}  // namespace bp::probes::dkim::detail

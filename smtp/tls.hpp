/*++
 * NAME
 *	tls 3h
 * SUMMARY
 *	what a STARTTLS session proves: protocol, certificate, name, DANE
 * DESCRIPTION
 *	The handshake itself runs with verification off, as an opportunistic
 *	SMTP client does (RFC 7435): a certificate problem must not stop the
 *	dialogue, it must be reported. Afterwards the peer's chain is verified
 *	on its own against the system store (or --ca-file), every error the
 *	verifier meets is kept, the leaf is checked against the MX host name
 *	(RFC 6125 through X509_check_host) and its validity period read.
 *
 *	DANE: with TLSA records for _25._tcp.<mx>, OpenSSL's DANE verifier
 *	(SSL_dane_enable) runs during the handshake and says whether a record
 *	matched the chain; RFC 7672 makes TLSA records usable only from a
 *	DNSSEC-validated answer, so the report says whether the resolver set AD.
 * SEE ALSO
 *	RFC 3207, RFC 6125, RFC 6698, RFC 7672; SSL_dane_enable(3), X509_check_host(3).
 *--*/
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct ssl_st;

namespace bp::smtp {

struct TlsaRecord {
  std::uint8_t usage{0}, selector{0}, matching{0};
  std::string data;  ///< raw bytes
};

struct TlsOptions {
  std::string host;        ///< the MX host name: SNI and the name the certificate must carry
  std::string ca_file;     ///< PEM bundle; empty = the system's trust store
  std::vector<TlsaRecord> tlsa;
  bool tlsa_authenticated{false};  ///< the TLSA answer carried AD
};

struct CertInfo {
  std::string subject;   ///< RFC 2253 form
  std::string issuer;
  std::vector<std::string> names;  ///< DNS subjectAltNames, else the CN
  std::string not_before, not_after;  ///< ISO 8601, UTC
  long days_left{0};                  ///< until not_after; negative when expired
  bool expired{false};
  bool not_yet_valid{false};
  bool chain_trusted{false};
  std::vector<std::string> chain_errors;  ///< "depth 0: certificate has expired", one per problem
  bool name_matches{false};
  std::string key;  ///< "RSA 2048", "EC 256"
};

enum class DaneOutcome { not_published, matched, no_match, unusable };

struct TlsInfo {
  bool ok{false};       ///< the handshake completed
  std::string error;    ///< why it did not
  std::string protocol; ///< "TLSv1.3"
  std::string cipher;
  std::optional<CertInfo> cert;
  DaneOutcome dane{DaneOutcome::not_published};
  std::string dane_detail;
  bool dane_authenticated{false};  ///< the TLSA records came in a DNSSEC-validated answer (senders use only those)
};

std::string_view to_string(DaneOutcome d);

/// \return the chain errors that are not about the validity period (an expired
/// certificate fails verification for that alone: it is one problem, not two).
std::vector<std::string> chain_errors_besides_validity(const CertInfo& c);

/// \return true when a sender that authenticates the server (MTA-STS, DANE-TA)
/// would accept this certificate: the handshake completed, the chain verifies,
/// it names the host and it is within its validity period.
bool certificate_acceptable(const TlsInfo& t);

/// \return why certificate_acceptable() is false, one clause per problem joined
/// by "; " ("has expired (2026-01-01T00:00:00Z)", "does not name the host (it
/// names a.example)", "does not chain to a trusted root (depth 0: self-signed
/// certificate)"), or "". Each clause follows "the certificate ".
std::string certificate_problems(const TlsInfo& t);

/// Prepares `ssl` before the handshake: SNI, DANE records (marks `info` when none is usable).
/// \return an error text, or "" when everything was set.
std::string prepare_ssl(ssl_st* ssl, const TlsOptions& options, TlsInfo& info);

/// Fills in protocol, cipher, certificate and DANE findings after a completed handshake.
void inspect_session(ssl_st* ssl, const TlsOptions& options, TlsInfo& info);

/// \return OpenSSL's queued errors as one line (and clears the queue).
std::string openssl_errors();

}  // namespace bp::smtp

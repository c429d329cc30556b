#include "tls.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

namespace bp::smtp {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string{};
}

std::string time_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::vector<std::string> dns_names(X509* cert) {
  std::vector<std::string> out;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type != GEN_DNS) continue;
      const auto* s = g->d.dNSName;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
    }
    GENERAL_NAMES_free(sans);
  }
  if (out.empty()) {  // no DNS subjectAltName: the CN is all a name check can see
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) out.emplace_back(cn);
  }
  return out;
}

std::string key_text(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return "?";
  const char* kind = "key";
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: kind = "RSA"; break;
    case EVP_PKEY_EC: kind = "EC"; break;
    case EVP_PKEY_ED25519: kind = "Ed25519"; break;
    case EVP_PKEY_ED448: kind = "Ed448"; break;
    default: break;
  }
  return fmt::format("{} {}", kind, EVP_PKEY_get_bits(key));
}

// The verifier's callback has no user pointer of its own; the verification runs
// synchronously on this thread, so a thread-local list is enough.
thread_local std::vector<std::string>* verify_errors = nullptr;

int collect_error(int ok, X509_STORE_CTX* ctx) {
  if (ok == 0 && verify_errors != nullptr && verify_errors->size() < 16) {
    const int err = X509_STORE_CTX_get_error(ctx);
    auto line = fmt::format("depth {}: {}", X509_STORE_CTX_get_error_depth(ctx), X509_verify_cert_error_string(err));
    bool seen = false;
    for (const auto& e : *verify_errors) seen = seen || e == line;
    if (!seen) verify_errors->push_back(std::move(line));
  }
  return 1;  // go on: every problem is reported, not only the first
}

/// Verifies the peer's chain against the trust store, keeping every error.
void verify_chain(X509* leaf, STACK_OF(X509) * chain, const std::string& ca_file, CertInfo& info) {
  StorePtr store(X509_STORE_new());
  if (!store) return;
  const int loaded = ca_file.empty() ? X509_STORE_set_default_paths(store.get()) : X509_STORE_load_file(store.get(), ca_file.c_str());
  if (loaded != 1) {
    info.chain_errors.push_back(ca_file.empty() ? "the system trust store could not be loaded"
                                                : fmt::format("the CA file {} could not be loaded", ca_file));
    ERR_clear_error();
    return;
  }
  X509_STORE_set_verify_cb(store.get(), collect_error);
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, chain) != 1) return;
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  verify_errors = &info.chain_errors;
  const int rc = X509_verify_cert(ctx.get());
  verify_errors = nullptr;
  info.chain_trusted = rc == 1 && info.chain_errors.empty();
  ERR_clear_error();
}

}  // namespace

std::vector<std::string> chain_errors_besides_validity(const CertInfo& c) {
  std::vector<std::string> out;
  for (const auto& e : c.chain_errors) {
    // X509_verify_cert_error_string() for X509_V_ERR_CERT_HAS_EXPIRED and X509_V_ERR_CERT_NOT_YET_VALID.
    if (e.ends_with("certificate has expired") || e.ends_with("certificate is not yet valid")) continue;
    out.push_back(e);
  }
  return out;
}

bool certificate_acceptable(const TlsInfo& t) {
  return t.ok && t.cert && t.cert->chain_trusted && t.cert->name_matches && !t.cert->expired && !t.cert->not_yet_valid;
}

std::string certificate_problems(const TlsInfo& t) {
  if (!t.ok) return t.error.empty() ? "no TLS session" : "no TLS session: " + t.error;
  if (!t.cert) return "no certificate was presented";
  const auto& c = *t.cert;
  std::vector<std::string> out;
  if (c.expired) out.push_back(fmt::format("has expired ({})", c.not_after));
  if (c.not_yet_valid) out.push_back(fmt::format("is not valid before {}", c.not_before));
  if (!c.name_matches) {
    std::string names;
    for (const auto& n : c.names) names += (names.empty() ? "" : ", ") + n;
    out.push_back(fmt::format("does not name the host (it names {})", names.empty() ? "nothing" : names));
  }
  const auto chain = chain_errors_besides_validity(c);
  if (!c.chain_trusted && (!chain.empty() || c.chain_errors.empty())) {
    std::string why;
    for (const auto& e : chain) why += (why.empty() ? "" : ", ") + e;
    out.push_back(why.empty() ? fmt::format("does not chain to a trusted root (issuer {})", c.issuer)
                              : fmt::format("does not chain to a trusted root ({})", why));
  }
  std::string joined;
  for (const auto& x : out) joined += (joined.empty() ? "" : "; ") + x;
  return joined;
}

std::string_view to_string(DaneOutcome d) {
  switch (d) {
    case DaneOutcome::not_published: return "not_published";
    case DaneOutcome::matched: return "matched";
    case DaneOutcome::no_match: return "no_match";
    case DaneOutcome::unusable: return "unusable";
  }
  return "not_published";
}

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256] = {};
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out;
}

std::string prepare_ssl(ssl_st* ssl, const TlsOptions& options, TlsInfo& info) {
  if (!options.host.empty() && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(options.host.c_str())) != 1) {
    return "cannot set the server name (SNI): " + openssl_errors();
  }
  if (options.tlsa.empty()) return {};
  info.dane_authenticated = options.tlsa_authenticated;
  if (SSL_dane_enable(ssl, options.host.c_str()) <= 0) return "cannot enable DANE: " + openssl_errors();
  int usable = 0;
  for (const auto& t : options.tlsa) {
    const int rc = SSL_dane_tlsa_add(ssl, t.usage, t.selector, t.matching, reinterpret_cast<const unsigned char*>(t.data.data()),
                                     t.data.size());
    if (rc > 0) ++usable;
  }
  ERR_clear_error();
  if (usable == 0) {
    info.dane = DaneOutcome::unusable;
    info.dane_detail = fmt::format("none of the {} TLSA record(s) is usable (unknown usage, selector or matching type)", options.tlsa.size());
  }
  return {};
}

void inspect_session(ssl_st* ssl, const TlsOptions& options, TlsInfo& info) {
  info.protocol = SSL_get_version(ssl);
  info.cipher = SSL_get_cipher_name(ssl);
  X509Ptr leaf(SSL_get1_peer_certificate(ssl));
  if (leaf) {
    CertInfo c;
    c.subject = name_text(X509_get_subject_name(leaf.get()));
    c.issuer = name_text(X509_get_issuer_name(leaf.get()));
    c.names = dns_names(leaf.get());
    c.not_before = time_text(X509_get0_notBefore(leaf.get()));
    c.not_after = time_text(X509_get0_notAfter(leaf.get()));
    int days = 0, secs = 0;
    if (ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(leaf.get())) == 1) c.days_left = days;
    c.expired = X509_cmp_current_time(X509_get0_notAfter(leaf.get())) < 0;
    c.not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(leaf.get())) > 0;
    c.key = key_text(leaf.get());
    c.name_matches = !options.host.empty() &&
                     X509_check_host(leaf.get(), options.host.data(), options.host.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
    verify_chain(leaf.get(), SSL_get_peer_cert_chain(ssl), options.ca_file, c);
    info.cert = std::move(c);
  }
  if (!options.tlsa.empty() && info.dane != DaneOutcome::unusable) {
    uint8_t usage = 0, selector = 0, mtype = 0;
    const int depth = SSL_get0_dane_authority(ssl, nullptr, nullptr);
    if (depth >= 0 && SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, nullptr, nullptr) >= 0) {
      info.dane = DaneOutcome::matched;
      info.dane_detail = fmt::format("TLSA {} {} {} matched the certificate at depth {}", usage, selector, mtype, depth);
    } else {
      info.dane = DaneOutcome::no_match;
      info.dane_detail = fmt::format("no TLSA record matched: {}", X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
    }
  }
  ERR_clear_error();
}

}  // namespace bp::smtp

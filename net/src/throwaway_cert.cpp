#include "tlschan/net/throwaway_cert.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace tlschan::net {

namespace {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

TlsError failure(const std::string& step) {
  std::string message = "throw-away certificate: cannot " + step;
  const unsigned long code = ERR_get_error();
  if (code != 0) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof reason);
    message += ": ";
    message += reason;
  }
  ERR_clear_error();
  return TlsError{message};
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

bool add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

Expected<ThrowawayCertificate, TlsError> make_throwaway_certificate(const std::string& common_name,
                                                                    const ThrowawayCertificateOptions& options) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return unexpected(failure("make a P-256 key"));

  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return unexpected(failure("make a certificate"));
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr)
    return unexpected(failure("draw a serial number"));
  constexpr long day = 24L * 3600;
  const bool validity_set =
      options.expired ? X509_gmtime_adj(X509_getm_notBefore(cert.get()), -2 * day) != nullptr &&
                            X509_gmtime_adj(X509_getm_notAfter(cert.get()), -day) != nullptr
                      : X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
                            X509_time_adj_ex(X509_getm_notAfter(cert.get()), options.valid_days, 0, nullptr) != nullptr;
  if (!validity_set)
    return unexpected(failure("set the validity"));
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.get()) != 1)
    return unexpected(failure("name the certificate '" + common_name + "'"));
  std::string alt_names = "DNS:" + common_name;
  if (options.loopback_names) alt_names = common_name == "localhost" ? "DNS:localhost,IP:127.0.0.1"
                                                                      : alt_names + ",DNS:localhost,IP:127.0.0.1";
  if (!add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), NID_subject_alt_name, alt_names) ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth"))
    return unexpected(failure("add the certificate's extensions"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return unexpected(failure("sign the certificate"));

  ThrowawayCertificate out;
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return unexpected(failure("encode the certificate and key as PEM"));
  out.cert_pem = bio_text(cert_bio.get());
  out.key_pem = bio_text(key_bio.get());

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &length) != 1)
    return unexpected(failure("fingerprint the certificate"));
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned int i = 0; i < length; ++i) {
    if (i != 0) out.fingerprint += ':';
    out.fingerprint += hex[digest[i] >> 4];
    out.fingerprint += hex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace tlschan::net

// Certificates made in memory for client-check: an EC P-256 key and a self-signed certificate for a
// name, valid from an hour ago for a day, or expired (valid for a day that ended a day ago).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

#include "tlschan/audit/client_check.hpp"

namespace tlschan::audit {

namespace {

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

Expected<PemPair, std::string> throwaway_certificate(const std::string& name, bool expired) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                          EVP_PKEY_free);
  if (!key) return unexpected(std::string("cannot make a key pair"));
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!cert) return unexpected(std::string("cannot make a certificate"));
  const long day = 24L * 3600;
  bool ok = X509_set_version(cert.get(), 2) == 1;
  ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(std::time(nullptr) & 0x7fffffff)) == 1;
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert.get()), expired ? -2 * day : -3600) != nullptr;
  ok = ok && X509_gmtime_adj(X509_getm_notAfter(cert.get()), expired ? -day : day) != nullptr;
  X509_NAME* subject = X509_get_subject_name(cert.get());
  ok = ok && X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0) == 1;
  ok = ok && X509_set_issuer_name(cert.get(), subject) == 1;
  ok = ok && X509_set_pubkey(cert.get(), key.get()) == 1;
  if (ok) {
    const std::string san = "DNS:" + name;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    ok = ext != nullptr && X509_add_ext(cert.get(), ext, -1) == 1;
    X509_EXTENSION_free(ext);
  }
  ok = ok && X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return unexpected(std::string("cannot sign the certificate"));
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return unexpected(std::string("cannot write the certificate as PEM"));
  }
  return PemPair{bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

}  // namespace tlschan::audit

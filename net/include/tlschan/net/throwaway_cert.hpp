// A throw-away server certificate, made in memory and never written anywhere: a fresh P-256 key and
// a self-signed X.509 certificate. `tlschan serve` started without a configuration uses one;
// `tlschan client-check` makes its normal, expired and wrong-name certificates with it.
#pragma once

#include <string>

#include "tlschan/expected.hpp"
#include "tlschan/tls.hpp"

namespace tlschan::net {

struct ThrowawayCertificate {
  std::string cert_pem;
  std::string key_pem;
  std::string fingerprint;  // SHA-256 of the certificate's DER, upper-case hex pairs joined by ':'
};

struct ThrowawayCertificateOptions {
  int valid_days = 1;           // valid from an hour ago for this many days
  bool expired = false;         // instead valid for a day that ended a day ago
  bool loopback_names = true;   // DNS:localhost and IP:127.0.0.1 in subjectAltName too
};

// Subject and issuer CN=`common_name`, subjectAltName DNS:`common_name` (and the loopback names
// unless asked not to), a random 128-bit serial number.
Expected<ThrowawayCertificate, TlsError> make_throwaway_certificate(const std::string& common_name,
                                                                    const ThrowawayCertificateOptions& options = {});

}  // namespace tlschan::net

// A throw-away server certificate for `tlschan serve` started without a configuration: a fresh
// P-256 key and a self-signed X.509 certificate, made in memory and never written anywhere.
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

// Subject and issuer CN=`common_name`, subjectAltName DNS:`common_name`, DNS:localhost and
// IP:127.0.0.1, valid from an hour ago for `valid_days` days, a random 128-bit serial number.
Expected<ThrowawayCertificate, TlsError> make_throwaway_certificate(const std::string& common_name,
                                                                    int valid_days = 1);

}  // namespace tlschan::net

// cert-expired: a correct STARTTLS server with an expired (self-signed) certificate for the server's name.
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec cert_expired() {
  CaseScript s;
  s.certificate = CertificateFault::expired;
  return {"cert-expired", "a correct STARTTLS with an expired (self-signed) certificate for the server's name", s, [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            return certificate(f, g, "expired");
          }};
}

}  // namespace tlschan::audit::cases

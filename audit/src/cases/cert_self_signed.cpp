// cert-self-signed: a correct STARTTLS server with a self-signed certificate for the server's name.
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec cert_self_signed() {
  CaseScript s;
  s.certificate = CertificateFault::self_signed;
  return {"cert-self-signed", "a correct STARTTLS with a self-signed certificate for the server's name", s, [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            return certificate(f, g, "self-signed");
          }};
}

}  // namespace tlschan::audit::cases

// cert-wrong-name: a correct STARTTLS server with a self-signed certificate for wrong-name.tlschan.invalid.
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec cert_wrong_name() {
  CaseScript s;
  s.certificate = CertificateFault::wrong_name;
  return {"cert-wrong-name", "a correct STARTTLS with a self-signed certificate for wrong-name.tlschan.invalid", s, [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            return certificate(f, g, "wrong-name");
          }};
}

}  // namespace tlschan::audit::cases

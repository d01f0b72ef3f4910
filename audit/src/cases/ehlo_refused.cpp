// ehlo-refused: EHLO is answered 500, HELO 250; STARTTLS (not offered) is answered 502.
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec ehlo_refused() {
  CaseScript s;
  s.refuse_ehlo = true;
  return {"ehlo-refused", "EHLO answered 500, HELO accepted", s, [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            return plaintext_allowed(f, g, "a 500 to EHLO");
          }};
}

}  // namespace tlschan::audit::cases

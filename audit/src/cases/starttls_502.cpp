// starttls-502: STARTTLS is listed and answered 502; the server goes on in plaintext.
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec starttls_502() {
  CaseScript s;
  s.starttls = StartTlsAnswer::refuse502;
  return {"starttls-502", "STARTTLS listed, answered 502", s, [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            if (g.expect == Policy::no) return pass("never sent STARTTLS (" + what_it_did(f.first()) + ")", f.first().first_command);
            return plaintext_allowed(f, g, "a 502 to STARTTLS");
          }};
}

}  // namespace tlschan::audit::cases

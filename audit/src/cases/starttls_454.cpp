// starttls-454: STARTTLS is listed and answered 454; the server goes on in plaintext.
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec starttls_454() {
  CaseScript s;
  s.starttls = StartTlsAnswer::refuse454;
  return {"starttls-454", "STARTTLS listed, answered 454", s, [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            if (g.expect == Policy::no) return pass("never sent STARTTLS (" + what_it_did(f.first()) + ")", f.first().first_command);
            return plaintext_allowed(f, g, "a 454 to STARTTLS");
          }};
}

}  // namespace tlschan::audit::cases

// no-starttls: the EHLO reply does not list STARTTLS; the server otherwise works (MAIL, RCPT, DATA
// answered, the message read and refused with 451).
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec no_starttls() {
  CaseScript s;
  s.list_starttls = false;
  return {"no-starttls", "EHLO answered without STARTTLS", s, [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            return plaintext_allowed(f, g, "an EHLO reply without STARTTLS");
          }};
}

}  // namespace tlschan::audit::cases

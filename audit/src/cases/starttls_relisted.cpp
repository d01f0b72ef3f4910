// starttls-relisted: a correct STARTTLS; inside TLS the EHLO reply lists STARTTLS again. A second
// STARTTLS (answered 503) fails.
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec starttls_relisted() {
  CaseScript s;
  s.relist_in_tls = true;
  return {"starttls-relisted", "STARTTLS listed again in the EHLO reply inside TLS", s,
          [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            const auto& c = f.first();
            if (g.expect == Policy::no) return pass("never sent STARTTLS (" + what_it_did(c) + ")", c.first_command);
            if (!c.second_starttls.empty()) return fail("a second STARTTLS inside TLS", c.second_starttls);
            if (c.tls_established) return pass("no second STARTTLS inside TLS (" + what_it_did(c) + ")", c.first_tls_command);
            return pass("TLS did not come up, so no second STARTTLS (" + what_it_did(c) + ")", c.end);
          }};
}

}  // namespace tlschan::audit::cases

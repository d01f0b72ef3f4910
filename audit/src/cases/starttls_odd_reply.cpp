// starttls-odd-reply: STARTTLS is listed and answered with a 354 (a 3xx reply, which semantics.md
// section 4 makes a protocol error: the client closes). A client that starts a handshake anyway, or
// sends MAIL on that connection, fails.
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec starttls_odd_reply() {
  CaseScript s;
  s.starttls = StartTlsAnswer::odd;
  return {"starttls-odd-reply", "STARTTLS listed, answered 354 (no STARTTLS reply)", s,
          [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            const auto& c = f.first();
            if (g.expect == Policy::no) return pass("never sent STARTTLS (" + what_it_did(c) + ")", c.first_command);
            if (!c.tls_record_after_odd.empty()) {
              return fail("the client started a TLS handshake after a 3xx reply to STARTTLS", "a TLS record after 354");
            }
            if (!c.plain_mail.empty()) return fail("MAIL on the connection whose STARTTLS got a 3xx reply", c.plain_mail);
            if (c.starttls.empty()) return pass("never sent STARTTLS and no MAIL (" + what_it_did(c) + ")", c.end);
            return pass("no TLS and no MAIL after the 3xx reply to STARTTLS (" + what_it_did(c) + ")",
                        c.plain_after_refusal.empty() ? c.end : c.plain_after_refusal);
          }};
}

}  // namespace tlschan::audit::cases

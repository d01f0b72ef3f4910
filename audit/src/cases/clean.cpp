// clean: a correct STARTTLS server (the certificate of --cert/--key, or the throw-away one).
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec clean() {
  CaseScript s;
  return {"clean", "a correct STARTTLS server", s, [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            const auto& c = f.first();
            if (g.expect == Policy::no) return pass("plaintext, never STARTTLS (" + what_it_did(c) + ")", c.first_command);
            if (c.starttls.empty()) return fail("a " + std::string(to_string(g.expect)) + " client did not use the listed STARTTLS", c.end);
            if (c.tls_established) {
              return pass("used TLS (" + what_it_did(c) + ")", c.tls_mail.empty() ? c.first_tls_command : c.tls_mail);
            }
            if (g.expect_verified) {
              return info("the handshake failed (" + c.handshake_error +
                              "): a verifying client needs --cert/--key it trusts for this case",
                          c.end);
            }
            return fail("the handshake with a correct server failed (" + c.handshake_error + ")", c.end);
          }};
}

}  // namespace tlschan::audit::cases

// response-injection: the 220 to STARTTLS carries, in the same segment, a fake 250 EHLO reply and
// further 250 and 354 replies. Inside TLS the server holds each reply a moment: a client that acted
// on the injected replies sends its next command before the real reply (PIPELINING is never listed).
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec response_injection() {
  CaseScript s;
  s.starttls = StartTlsAnswer::inject;
  return {"response-injection", "STARTTLS 220 with fake 250 replies in the same segment", s,
          [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            const auto& c = f.first();
            if (g.expect == Policy::no) return pass("never sent STARTTLS (" + what_it_did(c) + ")", c.first_command);
            if (!c.out_of_step.empty()) {
              return fail("the client acted on the injected replies: a command arrived before the reply to the one before it",
                          c.out_of_step);
            }
            if (!c.first_tls_command.empty()) {
              std::string verb = c.first_tls_command.substr(0, 4);
              for (auto& ch : verb) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
              if (verb != "EHLO") return fail("the first command inside TLS is not EHLO", c.first_tls_command);
              return pass("EHLO first inside TLS, every command after its reply (" + what_it_did(c) + ")",
                          c.first_tls_command);
            }
            return pass("the client did not act on the injected replies (" + what_it_did(c) + ")", c.end);
          }};
}

}  // namespace tlschan::audit::cases

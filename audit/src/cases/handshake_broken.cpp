// handshake-broken: STARTTLS answered 220, then the ClientHello is answered with a handshake record
// no TLS stack accepts (a ServerHello with an empty body: a decode error), and the server waits a
// moment for plaintext on the same connection before it closes.
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec handshake_broken() {
  CaseScript s;
  s.starttls = StartTlsAnswer::broken;
  return {"handshake-broken", "STARTTLS 220, then a malformed ServerHello record", s,
          [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            return failed_handshake(f, g);
          }};
}

}  // namespace tlschan::audit::cases

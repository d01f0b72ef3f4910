// handshake-eof: STARTTLS answered 220; the server reads the ClientHello and closes the connection
// (a clean end of stream) before its first flight.
#include "cases.hpp"

namespace tlschan::audit::cases {

CaseSpec handshake_eof() {
  CaseScript s;
  s.starttls = StartTlsAnswer::eof;
  return {"handshake-eof", "STARTTLS 220, then the connection closes before the server's first flight", s,
          [s](const CaseFacts& f, const GradeContext& g) {
            if (auto r = policy_rules(s, f, g)) return *r;
            return failed_handshake(f, g);
          }};
}

}  // namespace tlschan::audit::cases

// The cases of `tlschan client-check`, one unit each (its script and its grading), and the rules
// every case applies before its own.
#pragma once

#include <optional>
#include <string>

#include "tlschan/audit/client_check.hpp"

namespace tlschan::audit::cases {

CaseSpec no_starttls();
CaseSpec ehlo_refused();
CaseSpec starttls_454();
CaseSpec starttls_502();
CaseSpec starttls_odd_reply();
CaseSpec handshake_broken();
CaseSpec handshake_eof();
CaseSpec response_injection();
CaseSpec starttls_relisted();
CaseSpec cert_self_signed();
CaseSpec cert_expired();
CaseSpec cert_wrong_name();
CaseSpec clean();

// The rules before any case's own: a `no` client never sends STARTTLS; a `must` client never sends
// MAIL in plaintext, on any connection of the case; a `may` or `must` client whose server listed
// STARTTLS does not send MAIL in plaintext without trying it first (fallback connections aside).
std::optional<Outcome> policy_rules(const CaseScript& script, const CaseFacts& facts, const GradeContext& g);

// "EHLO, STARTTLS, TLS up (TLSv1.3), in-TLS EHLO, ...; client QUIT"
std::string what_it_did(const ConnectionFacts& c);
// The first fallback connection's facts, or nullptr.
const ConnectionFacts* fallback(const CaseFacts& facts);
// The grading shared by the cases whose STARTTLS is refused (454, 502) or not offered.
Outcome plaintext_allowed(const CaseFacts& facts, const GradeContext& g, const std::string& server_did);
// The grading shared by the handshake-broken and handshake-eof cases.
Outcome failed_handshake(const CaseFacts& facts, const GradeContext& g);
// The grading shared by the certificate cases.
Outcome certificate(const CaseFacts& facts, const GradeContext& g, const std::string& fault);

}  // namespace tlschan::audit::cases

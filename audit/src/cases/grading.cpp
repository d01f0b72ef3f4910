#include "cases.hpp"

#include <algorithm>

namespace tlschan::audit::cases {

std::string what_it_did(const ConnectionFacts& c) {
  std::string out;
  for (const auto& step : c.trail) out += (out.empty() ? "" : ", ") + step;
  if (out.empty()) out = "nothing after the greeting";
  return out + "; " + (c.end.empty() ? "connection ended" : c.end);
}

const ConnectionFacts* fallback(const CaseFacts& facts) {
  for (const auto& c : facts.connections) {
    if (c.fallback) return &c;
  }
  return nullptr;
}

std::optional<Outcome> policy_rules(const CaseScript& script, const CaseFacts& facts, const GradeContext& g) {
  for (const auto& c : facts.connections) {
    const std::string where = c.fallback ? " (on the fallback connection)" : "";
    if (g.expect == Policy::no && !c.starttls.empty()) {
      return fail("a no client sent STARTTLS" + where, c.starttls);
    }
    if (g.expect == Policy::must && !c.plain_mail.empty()) {
      return fail("a must client sent MAIL in plaintext" + where, c.plain_mail);
    }
  }
  const auto& first = facts.first();
  if (g.expect != Policy::no && script.list_starttls && !script.refuse_ehlo && first.starttls.empty() &&
      !first.plain_mail.empty()) {
    return fail(std::string("a ") + to_string(g.expect) + " client sent MAIL in plaintext without trying the listed STARTTLS",
                first.plain_mail);
  }
  return std::nullopt;
}

Outcome plaintext_allowed(const CaseFacts& facts, const GradeContext& g, const std::string& server_did) {
  const auto& c = facts.first();
  if (g.expect == Policy::must) {
    return pass("no MAIL in plaintext after " + server_did + " (" + what_it_did(c) + ")",
                c.plain_after_refusal.empty() ? c.end : c.plain_after_refusal);
  }
  if (!c.plain_mail.empty()) {
    return pass(std::string("plaintext delivery after ") + server_did + ", as a " + to_string(g.expect) +
                    " client may (" + what_it_did(c) + ")",
                c.plain_mail);
  }
  return pass("no plaintext delivery after " + server_did + " (" + what_it_did(c) + ")", c.end);
}

Outcome failed_handshake(const CaseFacts& facts, const GradeContext& g) {
  const auto& c = facts.first();
  if (g.expect == Policy::no) return pass("never sent STARTTLS (" + what_it_did(c) + ")", c.first_command);
  if (c.starttls.empty()) return pass("never sent STARTTLS and no MAIL (" + what_it_did(c) + ")", c.end);
  if (g.expect == Policy::may && !c.plain_after_failure.empty() && c.plain_after_failure != "QUIT") {
    return fail("plaintext on the connection whose handshake failed", c.plain_after_failure);
  }
  if (const auto* f = fallback(facts)) {
    if (!f->plain_mail.empty()) {
      return pass("plaintext only on a new connection (fallback " + what_it_did(*f) + ")", f->plain_mail);
    }
    return pass("a new connection, and no plaintext MAIL on it (" + what_it_did(*f) + ")", f->end);
  }
  return pass("the handshake failed (" + c.handshake_error + ") and the client sent no plaintext after it (" +
                  what_it_did(c) + ")",
              c.end);
}

Outcome certificate(const CaseFacts& facts, const GradeContext& g, const std::string& fault) {
  const auto& c = facts.first();
  if (g.expect == Policy::no) return pass("never sent STARTTLS (" + what_it_did(c) + ")", c.first_command);
  if (c.starttls.empty()) return pass("never sent STARTTLS and no MAIL (" + what_it_did(c) + ")", c.end);
  const bool went_on = c.tls_established && !c.first_tls_command.empty();
  if (went_on) {
    const std::string why = "the client went on inside TLS with the " + fault + " certificate";
    return g.expect_verified ? fail(why + " (--expect-verified)", c.first_tls_command)
                             : info(why + " (the contract verifies nothing)", c.first_tls_command);
  }
  if (c.handshake_failed) {
    const std::string why = "the client refused the " + fault + " certificate (" + c.handshake_error + ")";
    return g.expect_verified ? pass(why, c.end) : info(why + "; the contract does not verify", c.end);
  }
  return info("the handshake ended without a command inside TLS (" + what_it_did(c) + ")", c.end);
}

}  // namespace tlschan::audit::cases

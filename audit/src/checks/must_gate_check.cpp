// must-530-*: on a must server, MAIL, RCPT, DATA and VRFY before TLS get 530 (RFC 3207 4); the
// contract's text is "530 5.7.0 No STARTTLS command has been given.".
#include "checks.hpp"

namespace tlschan::audit::checks {

const char* to_string(GatedCommand c) {
  switch (c) {
    case GatedCommand::mail: return "mail";
    case GatedCommand::rcpt: return "rcpt";
    case GatedCommand::data: return "data";
    case GatedCommand::vrfy: return "vrfy";
  }
  return "?";
}

Outcome must_gate(CheckContext& ctx, GatedCommand command) {
  if (ctx.expect() != Policy::must) return skip("only graded on a must server (--expect must)");
  if (ctx.options().implicit_tls) return skip("implicit TLS: there is no plaintext phase");
  std::string why;
  auto c = ctx.after_ehlo(why);
  if (!c) return skip(why);
  const std::string to = ctx.options().to.empty() ? "postmaster" : ctx.options().to;
  std::string line;
  switch (command) {
    case GatedCommand::mail: line = "MAIL FROM:<" + ctx.options().from + ">"; break;
    case GatedCommand::rcpt: line = "RCPT TO:<" + to + ">"; break;
    case GatedCommand::data: line = "DATA"; break;
    case GatedCommand::vrfy: line = "VRFY postmaster"; break;
  }
  c->send(line + "\r\n");
  const auto r = c->read_reply();
  c->send("QUIT\r\n");
  c->read_reply();
  const std::string verb = line.substr(0, 4);
  if (!r.ok()) return fail(verb + " before TLS got no reply (" + describe(r) + ")", describe(r));
  if (r.code() != 530) return fail(verb + " before TLS was answered " + std::to_string(r.code()) + ", not 530", describe(r));
  const bool contract_text = r.reply.lines.size() == 1 && r.reply.lines[0] == "5.7.0 No STARTTLS command has been given.";
  if (!contract_text) {
    return warn(verb + " before TLS got 530, with another text than \"530 5.7.0 No STARTTLS command has been given.\"",
                describe(r));
  }
  return pass(verb + " before TLS got the contract's 530", describe(r));
}

}  // namespace tlschan::audit::checks

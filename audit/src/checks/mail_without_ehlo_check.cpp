// mail-without-ehlo-after-tls: MAIL right after the handshake, without a fresh EHLO. RFC 3207 4.2
// lets a server accept it; tlschan's contract refuses it with 503. Either way INFO.
#include "checks.hpp"

namespace tlschan::audit::checks {

Outcome mail_without_ehlo_after_tls(CheckContext& ctx) {
  if (ctx.options().implicit_tls) return skip("implicit TLS: there was no EHLO before TLS");
  Outcome skipped;
  if (!needs_tls(ctx, skipped)) return skipped;
  std::string why;
  auto c = ctx.after_ehlo(why);
  if (!c) return skip(why);
  c->send("STARTTLS\r\n");
  const auto r = c->read_reply();
  if (r.code() != 220) return skip("STARTTLS was not answered with 220 (" + describe(r) + ")");
  const auto hs = c->start_tls();
  if (!hs.ok()) return skip("the handshake failed: " + hs.error);
  c->send("MAIL FROM:<" + ctx.options().from + ">\r\n");
  const auto mail = c->read_reply();
  c->send("RSET\r\n");
  c->read_reply();
  c->send("QUIT\r\n");
  c->read_reply();
  if (!mail.ok()) return info("MAIL without a fresh EHLO after TLS got no reply (" + describe(mail) + ")");
  if (mail.reply.klass() == 2) {
    return info("MAIL without a fresh EHLO after TLS was accepted (RFC 3207 allows it; tlschan's contract refuses it with 503)",
                describe(mail));
  }
  return info("MAIL without a fresh EHLO after TLS was refused, as tlschan's contract does", describe(mail));
}

}  // namespace tlschan::audit::checks

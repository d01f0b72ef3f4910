// starttls-relisted: the EHLO reply inside TLS must not list STARTTLS again (RFC 3207 4.2).
#include "checks.hpp"

namespace tlschan::audit::checks {

Outcome starttls_relisted(CheckContext& ctx) {
  Outcome skipped;
  if (!needs_tls(ctx, skipped)) return skipped;
  std::string why;
  Reply ehlo;
  auto c = ctx.inside_tls(why, &ehlo);
  if (!c) return skip(why);
  c->send("QUIT\r\n");
  c->read_reply();
  const auto caps = parse_capabilities(ehlo);
  if (caps.starttls) return fail("the EHLO reply inside TLS lists STARTTLS again", describe(ehlo));
  return pass("the EHLO reply inside TLS does not list STARTTLS", describe(ehlo));
}

}  // namespace tlschan::audit::checks

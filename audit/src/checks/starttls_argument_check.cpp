// starttls-argument: STARTTLS takes no argument (RFC 3207 4): 501, and never a handshake.
// starttls-on-no-server: a no server does not accept STARTTLS at all.
#include "checks.hpp"

namespace tlschan::audit::checks {

Outcome starttls_argument(CheckContext& ctx) {
  std::string why;
  auto c = ctx.after_ehlo(why);
  if (!c) return skip(why);
  c->send("STARTTLS now\r\n");
  const auto r = c->read_reply();
  if (!r.ok()) return fail("STARTTLS with an argument got no reply (" + describe(r) + ")", describe(r));
  if (r.code() == 220) return fail("STARTTLS with an argument was accepted", describe(r));
  c->send("QUIT\r\n");
  c->read_reply();
  if (r.code() == 501) return pass("STARTTLS with an argument was refused with 501", describe(r));
  if (ctx.expect() == Policy::no && !ctx.options().implicit_tls && r.reply.klass() == 5) {
    return pass("STARTTLS with an argument was refused on a no server", describe(r));
  }
  if (ctx.options().implicit_tls && r.reply.klass() == 5) {
    return pass("STARTTLS with an argument inside TLS was refused", describe(r));
  }
  return warn("STARTTLS with an argument was refused with " + std::to_string(r.code()) + ", 501 was expected", describe(r));
}

Outcome starttls_on_no_server(CheckContext& ctx) {
  if (ctx.expect() != Policy::no || ctx.options().implicit_tls) return skip("only graded on a no server");
  std::string why;
  auto c = ctx.after_ehlo(why);
  if (!c) return skip(why);
  c->send("STARTTLS\r\n");
  const auto r = c->read_reply();
  if (r.code() == 220) return fail("STARTTLS was accepted on a no server", describe(r));
  c->send("QUIT\r\n");
  c->read_reply();
  if (!r.ok()) return fail("STARTTLS on a no server got no reply (" + describe(r) + ")", describe(r));
  return pass("STARTTLS was not accepted on a no server", describe(r));
}

}  // namespace tlschan::audit::checks

// second-starttls: a STARTTLS inside TLS must be refused with a 5xx, and the session must go on.
#include "checks.hpp"

namespace tlschan::audit::checks {

Outcome second_starttls(CheckContext& ctx) {
  Outcome skipped;
  if (!needs_tls(ctx, skipped)) return skipped;
  std::string why;
  auto c = ctx.inside_tls(why);
  if (!c) return skip(why);
  c->send("STARTTLS\r\n");
  const auto r = c->read_reply();
  if (!r.ok()) return fail("a second STARTTLS inside TLS lost the session (" + describe(r) + ")", describe(r));
  if (r.code() == 220) return fail("a second STARTTLS inside TLS was accepted", describe(r));
  c->send("NOOP\r\n");
  const auto after = c->read_reply();
  if (after.code() != 250) {
    return fail("a second STARTTLS was refused but the session did not go on (NOOP: " + describe(after) + ")", describe(r));
  }
  c->send("QUIT\r\n");
  c->read_reply();
  if (r.reply.klass() != 5) return warn("a second STARTTLS was refused with a " + std::to_string(r.code()) + ", a 5xx was expected", describe(r));
  return pass("a second STARTTLS inside TLS was refused and the session went on", describe(r));
}

}  // namespace tlschan::audit::checks

// handshake: STARTTLS (or the implicit TLS of the port) and a real handshake; what was negotiated
// and what the certificate says, as INFO.
#include "checks.hpp"

namespace tlschan::audit::checks {

namespace {

std::string negotiated(const Connection& c) {
  const auto& cert = c.certificate();
  std::string out = c.tls_version() + ", " + c.tls_cipher();
  if (cert.seen) {
    out += "; certificate subject " + cert.subject + ", issuer " + cert.issuer + ", expires " + cert.not_after +
           (cert.expired ? " (expired)" : "") + (cert.self_signed ? ", self-signed" : ", not self-signed");
  }
  return out;
}

}  // namespace

Outcome handshake(CheckContext& ctx) {
  Outcome skipped;
  if (!needs_tls(ctx, skipped)) return skipped;
  std::string why;
  if (ctx.options().implicit_tls) {
    auto c = ctx.greeted(why);
    if (!c) return fail("implicit TLS: " + why);
    c->send("QUIT\r\n");
    c->read_reply();
    return info("implicit TLS: " + negotiated(*c));
  }
  auto c = ctx.after_ehlo(why);
  if (!c) return skip(why);
  c->send("STARTTLS\r\n");
  const auto r = c->read_reply();
  if (r.code() == 454) return warn("STARTTLS is listed but TLS is unavailable (454)", describe(r));
  if (r.code() != 220) return fail("STARTTLS is listed but was not answered with 220", describe(r));
  const auto hs = c->start_tls();
  if (!hs.ok()) return fail("the handshake failed after 220: " + hs.error, describe(r));
  c->send("QUIT\r\n");
  c->read_reply();
  return info(negotiated(*c), describe(r));
}

}  // namespace tlschan::audit::checks

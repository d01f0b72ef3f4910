// line-*: commands a server should refuse or survive: ended by a bare LF or a bare CR, holding a
// NUL, a 512-octet line (the RFC 5321 limit, to be accepted) and a much longer one. What the server
// does is WARN or INFO; only a connection lost without a reply fails.
#include "checks.hpp"

namespace tlschan::audit::checks {

namespace {

struct Probe {
  std::string bytes;     // the line under test; a CRLF and QUIT follow it in the same write
  std::string what;      // "a command ended by a bare LF"
  bool accept_is_warn;   // accepting it is a WARN (else INFO)
  bool refuse_is_warn;   // refusing it is a WARN (else INFO)
};

Probe probe_for(LineFault fault) {
  switch (fault) {
    case LineFault::bare_lf: return {"NOOP\n", "a command ended by a bare LF", true, false};
    case LineFault::bare_cr: return {"NOOP\r", "a command ended by a bare CR", true, false};
    case LineFault::nul: return {std::string("NOOP \0x\r\n", 9), "a command holding a NUL", true, false};
    case LineFault::octets_512: return {"NOOP " + std::string(505, 'x') + "\r\n", "a 512-octet command line", false, true};
    case LineFault::very_long:
      return {"NOOP " + std::string(16384, 'x') + "\r\n", "a 16391-octet command line", false, false};
  }
  return {};
}

}  // namespace

const char* to_string(LineFault f) {
  switch (f) {
    case LineFault::bare_lf: return "bare-lf";
    case LineFault::bare_cr: return "bare-cr";
    case LineFault::nul: return "nul";
    case LineFault::octets_512: return "512-octets";
    case LineFault::very_long: return "very-long";
  }
  return "?";
}

Outcome line_hygiene(CheckContext& ctx, LineFault fault) {
  const Probe p = probe_for(fault);
  std::string why;
  auto c = ctx.after_ehlo(why);
  if (!c) return skip(why);
  // The CRLF after the line under test ends it for a server that only splits at CRLF, so that QUIT
  // is read either way and no wait depends on the timeout.
  c->send(p.bytes + "\r\nQUIT\r\n");
  ReadStatus end = ReadStatus::closed;
  const auto replies = c->read_until_closed(end);
  if (replies.empty()) {
    if (end == ReadStatus::timeout) return info("no reply to " + p.what + " within the timeout (the server kept reading)");
    return fail("the connection was lost without a reply to " + p.what);
  }
  const Reply& r = replies.front();
  if (r.klass() == 2 && r.code != 221) {
    return p.accept_is_warn ? warn("the server executed " + p.what, describe(r)) : info("the server accepted " + p.what, describe(r));
  }
  if (r.code == 221) return info("the server answered only QUIT after " + p.what, describe(r));
  return p.refuse_is_warn ? warn("the server refused " + p.what + ", which RFC 5321 4.5.3.1.4 allows", describe(r))
                          : info("the server refused " + p.what, describe(r));
}

Outcome data_line_over_1000(CheckContext& ctx) {
  if (!ctx.has_mailbox()) return skip("needs --from and --to");
  const std::string id = "data-line-over-1000";
  std::string why;
  auto c = ctx.options().implicit_tls ? ctx.inside_tls(why) : ctx.after_ehlo(why);
  if (!c) return skip(why);
  if (!ctx.open_data(*c, why)) return skip(why);
  c->send(ctx.message_header(id) + "The next line is 1200 octets long.\r\n" + std::string(1198, 'x') +
          "\r\n\r\n.\r\nQUIT\r\n");
  ReadStatus end = ReadStatus::closed;
  const auto replies = c->read_until_closed(end);
  if (replies.empty()) {
    if (end == ReadStatus::timeout) return info("no reply to the end of data within the timeout");
    return fail("the connection was lost without a reply to a message with a 1200-octet line");
  }
  const Reply& r = replies.front();
  if (r.klass() == 2) return info("the server accepted a message with a 1200-octet line (over RFC 5321's 1000)", describe(r));
  return info("the server refused a message with a 1200-octet line", describe(r));
}

Outcome error_limit(CheckContext& ctx) {
  constexpr int burst = 25;
  std::string why;
  auto c = ctx.after_ehlo(why);
  if (!c) return skip(why);
  std::string bad;
  for (int i = 0; i < burst; ++i) bad += "XTLSCHAN" + std::to_string(i) + "\r\n";
  c->send(bad + "QUIT\r\n");
  ReadStatus end = ReadStatus::closed;
  const auto replies = c->read_until_closed(end);
  int errors = 0;
  for (const auto& r : replies) {
    if (r.code == 421) {
      return info("the server ended the session with 421 after " + std::to_string(errors) + " bad commands", describe(r));
    }
    if (r.code == 221) {
      return info("the server answered " + std::to_string(errors) + " bad commands and QUIT: no error limit within " +
                      std::to_string(burst),
                  describe(r));
    }
    if (r.klass() == 5) ++errors;
  }
  if (end == ReadStatus::timeout) {
    return info("the server answered " + std::to_string(errors) + " bad commands, then nothing within the timeout");
  }
  return info("the server closed the connection after " + std::to_string(errors) + " bad commands without a 421",
              replies.empty() ? "" : describe(replies.back()));
}

}  // namespace tlschan::audit::checks

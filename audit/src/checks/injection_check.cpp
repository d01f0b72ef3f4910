// injection-*: commands sent after "STARTTLS\r\n" before TLS is up (CVE-2011-0411): in the same
// segment, in a second segment before the 220 arrives, or glued in front of the ClientHello. A
// server that answers one of them, in plaintext or inside TLS, fails.
#include <cctype>

#include "checks.hpp"

namespace tlschan::audit::checks {

namespace {

bool starts_like_reply(std::string_view bytes) {
  return bytes.size() >= 3 && std::isdigit(static_cast<unsigned char>(bytes[0])) &&
         std::isdigit(static_cast<unsigned char>(bytes[1])) && std::isdigit(static_cast<unsigned char>(bytes[2]));
}

// After the STARTTLS exchange: NOOP, then QUIT. A server that discarded the injected command
// answers exactly those two; an earlier reply is the injected command's answer.
Outcome count_answers(Connection& c, const std::string& where) {
  c.send("NOOP\r\n");
  const auto first = c.read_reply();
  if (!first.ok()) {
    if (first.status == ReadStatus::closed) return pass("the server closed the connection " + where + " without answering the injected command", describe(first));
    return pass("no reply " + where + " (" + describe(first) + "); the injected command was not answered");
  }
  c.send("QUIT\r\n");
  ReadStatus end = ReadStatus::closed;
  auto rest = c.read_until_closed(end);
  rest.insert(rest.begin(), first.reply);
  // The replies to our NOOP and QUIT are the last two (or one, when QUIT's was lost to a close).
  std::size_t ours = 0;
  for (const auto& r : rest) {
    if (r.code == 221) ours = 1;
  }
  const std::size_t expected = 1 + ours;
  if (rest.size() > expected) {
    return fail("the server answered an injected command " + where, describe(rest.front()));
  }
  return pass("the injected command was not answered " + where, describe(first));
}

}  // namespace

const std::vector<InjectionPayload>& injection_payloads() {
  static const std::vector<InjectionPayload> payloads = {
      {"noop", "NOOP\r\n"},
      {"ehlo", "EHLO injected.tlschan.invalid\r\n"},
      {"rset", "RSET\r\n"},
      {"mail", "MAIL FROM:<injected@tlschan.invalid>\r\n"},
      {"helo", "HELO injected.tlschan.invalid\r\n"},
  };
  return payloads;
}

const char* to_string(InjectionMode mode) {
  switch (mode) {
    case InjectionMode::same_segment: return "same-segment";
    case InjectionMode::second_segment: return "second-segment";
    case InjectionMode::before_clienthello: return "before-clienthello";
  }
  return "?";
}

Outcome injection(CheckContext& ctx, const InjectionPayload& payload, InjectionMode mode) {
  if (ctx.options().implicit_tls) return skip("implicit TLS: there is no STARTTLS to inject after");
  Outcome skipped;
  if (!needs_tls(ctx, skipped)) return skipped;
  std::string why;
  auto c = ctx.after_ehlo(why);
  if (!c) return skip(why);
  switch (mode) {
    case InjectionMode::same_segment: c->send("STARTTLS\r\n" + payload.bytes); break;
    case InjectionMode::second_segment:
      c->send("STARTTLS\r\n");
      c->send(payload.bytes);
      break;
    case InjectionMode::before_clienthello: c->send("STARTTLS\r\n"); break;
  }
  const auto r = c->read_reply();
  if (!r.ok()) return fail("STARTTLS was not answered (" + describe(r) + ")");
  if (r.code() != 220) {
    if (mode == InjectionMode::before_clienthello) return skip("STARTTLS was refused (" + describe(r) + "), so there is no handshake to inject in front of");
    // A second segment may arrive after the refusal, when it is an ordinary command: only the
    // same segment tells an answered injection apart.
    if (mode == InjectionMode::second_segment) return skip("STARTTLS was refused (" + describe(r) + "): a second segment cannot be told from a command sent after the refusal");
    // Refused: the session goes on in plaintext, where the injected command must not be answered.
    if (starts_like_reply(c->pending())) {
      return fail("the server answered an injected command after refusing STARTTLS", one_line(c->pending()));
    }
    return count_answers(*c, "after STARTTLS was refused (" + describe(r) + ")");
  }
  // A plaintext answer to the injected command may already sit behind the 220.
  if (mode != InjectionMode::before_clienthello) c->wait_for_input(std::chrono::milliseconds(50));
  if (starts_like_reply(c->pending())) {
    return fail("the server answered an injected command in plaintext after its 220", one_line(c->pending()));
  }
  const auto hs = c->start_tls(mode == InjectionMode::before_clienthello ? std::string_view(payload.bytes) : std::string_view());
  if (!hs.ok()) {
    if (starts_like_reply(c->handshake_plaintext())) {
      return fail("the server answered an injected command in plaintext instead of the handshake",
                  one_line(c->handshake_plaintext()));
    }
    return pass("the handshake did not complete (" + hs.error + "); the injected command was not answered", describe(r));
  }
  return count_answers(*c, "inside TLS");
}

}  // namespace tlschan::audit::checks

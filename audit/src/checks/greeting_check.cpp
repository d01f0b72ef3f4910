// greeting-ehlo and starttls-advertised: the first connection, which also tells the runner what the
// server offers (and so which policy to grade it against when --expect is not given).
#include "checks.hpp"

namespace tlschan::audit::checks {

GreetingFacts probe_greeting(const ProbeOptions& options, Exchange& exchange) {
  GreetingFacts facts;
  std::string why;
  auto c = Connection::open(options.target, exchange, options.timeout, why);
  if (!c) {
    facts.unreachable_reason = why;
    return facts;
  }
  if (options.implicit_tls) {
    const auto hs = c->start_tls();
    if (!hs.ok()) {
      facts.unreachable_reason = "the TLS handshake on connect failed: " + hs.error;
      return facts;
    }
  }
  const auto greeting = c->read_reply();
  if (greeting.code() != 220) {
    facts.unreachable_reason = "the server never greeted with 220 (" + describe(greeting) + ")";
    return facts;
  }
  facts.reachable = true;
  c->send("EHLO " + options.helo + "\r\n");
  const auto ehlo = c->read_reply();
  if (ehlo.code() != 250) {
    facts.greeting = fail("the greeting was 220 but EHLO was not answered with 250", describe(ehlo));
    return facts;
  }
  facts.ehlo_ok = true;
  const auto caps = parse_capabilities(ehlo.reply);
  facts.starttls_listed = caps.starttls;
  facts.pipelining = caps.pipelining;
  facts.greeting = pass(std::string("greeted with 220") + (options.implicit_tls ? " inside TLS" : "") +
                            " and EHLO answered with 250; STARTTLS " + (caps.starttls ? "listed" : "not listed"),
                        describe(ehlo));
  c->send("QUIT\r\n");
  c->read_reply();
  return facts;
}

Outcome starttls_advertised(const ProbeOptions& options, Policy expect, const GreetingFacts& facts) {
  if (!facts.ehlo_ok) return skip("EHLO was not answered");
  if (options.implicit_tls) {
    if (facts.starttls_listed) return fail("STARTTLS is listed inside implicit TLS, where TLS is already active");
    return pass("STARTTLS is not listed inside implicit TLS");
  }
  if (!options.expect) {
    return info(std::string("STARTTLS ") + (facts.starttls_listed ? "listed: graded as a may server" : "not listed: graded as a no server") +
                " (give --expect to grade against the policy you configured)");
  }
  if (expect == Policy::no) {
    if (facts.starttls_listed) return warn("STARTTLS is listed on a port expected to be no");
    return pass("STARTTLS is not listed, as expected on a no port");
  }
  if (!facts.starttls_listed) {
    return fail(std::string("STARTTLS is not listed on a port expected to be ") + to_string(expect));
  }
  return pass(std::string("STARTTLS is listed, as expected on a ") + to_string(expect) + " port");
}

bool needs_tls(CheckContext& ctx, Outcome& skip_reason) {
  if (ctx.options().implicit_tls || ctx.starttls_listed()) return true;
  skip_reason = skip("the server does not list STARTTLS");
  return false;
}

std::string one_line(std::string_view text) {
  std::string out;
  for (const char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  return out;
}

std::string quoted_bytes(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\0') {
      out += "\\x00";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace tlschan::audit::checks

#include "tlschan/oracle/outcome_oracle.hpp"

namespace tlschan::oracle {

const char* word(Outcome o) {
  switch (o) {
    case Outcome::delivered_tls: return "delivered-tls";
    case Outcome::delivered_plain: return "delivered-plain";
    case Outcome::bounced: return "bounced";
    case Outcome::deferred: return "deferred";
  }
  return "?";
}

namespace {

constexpr Outcome plain = Outcome::delivered_plain;
constexpr Outcome tls = Outcome::delivered_tls;
constexpr Outcome b530 = Outcome::bounced;
constexpr Outcome deferred = Outcome::deferred;

// Section 5's table: rows client no/may/must, columns server no, may ok/unavailable/broken,
// must ok/unavailable/broken.
constexpr Outcome table[3][7] = {
    {plain, plain, plain, plain, b530, b530, b530},
    {plain, tls, plain, plain, tls, b530, b530},
    {deferred, tls, deferred, deferred, tls, deferred, deferred},
};

int column(Pol server, Health health) {
  if (server == Pol::no) return 0;
  const int base = server == Pol::may ? 1 : 4;
  return base + (health == Health::ok ? 0 : health == Health::unavailable ? 1 : 2);
}

// The outcome when the client never gets to TLS on a plaintext path: as with a server that does
// not list STARTTLS (strip) or refuses it (refuse).
Outcome without_tls(Pol client, Pol server) {
  if (client == Pol::must) return deferred;
  return server == Pol::must ? b530 : plain;
}

}  // namespace

Outcome expected(const Cell& c) {
  const Health health = c.server == Pol::no ? Health::ok : c.health;
  const Outcome base = table[static_cast<int>(c.client)][column(c.server, health)];
  // A no client never looks at STARTTLS, and a no server never offers it: meddlers on the
  // STARTTLS exchange have nothing to act on.
  if (c.client == Pol::no || c.server == Pol::no) return base;
  switch (c.adversary) {
    case Adversary::none:
    case Adversary::inject_command:
    case Adversary::inject_response:
      return base;
    case Adversary::strip:
    case Adversary::refuse:
      return without_tls(c.client, c.server);
    case Adversary::tamper:
      // As broken, where a handshake happens at all (TLS unavailable answers 454 before any).
      if (health != Health::ok) return base;
      return table[static_cast<int>(c.client)][column(c.server, Health::broken)];
  }
  return base;
}

std::vector<Outcome> acceptable_under_fault(const Cell& c, bool resets_only) {
  const Outcome own = expected(c);
  std::vector<Outcome> ok{own};
  if (own != deferred) ok.push_back(deferred);
  const bool handshake_started = c.client != Pol::no && c.server != Pol::no && c.health == Health::ok &&
                                 c.adversary != Adversary::strip && c.adversary != Adversary::refuse;
  if (handshake_started && !resets_only) {
    const Outcome failed = table[static_cast<int>(c.client)][column(c.server, Health::broken)];
    if (failed != own && failed != deferred) ok.push_back(failed);
  }
  return ok;
}

bool falls_back(const Cell& c) {
  if (c.client != Pol::may || c.server == Pol::no) return false;
  const bool handshake_fails =
      c.health == Health::broken || (c.health == Health::ok && c.adversary == Adversary::tamper);
  return handshake_fails && c.adversary != Adversary::strip && c.adversary != Adversary::refuse;
}

Outcome expected_tls_port(Pol client, Pol server, Health health) {
  (void)client;
  // No plaintext phase and no fallback: either the handshake works or the attempt defers.
  if (server == Pol::no || health != Health::ok) return deferred;
  return tls;
}

std::string expected_source_channel(Outcome outcome, std::string_view incoming, std::string_view switch_target) {
  if (outcome == tls && !switch_target.empty()) return std::string(switch_target);
  return std::string(incoming);
}

}  // namespace tlschan::oracle

// The outcome model of semantics.md section 5, written from the spec alone: it shares no decision
// code with the engine (only plain data types). The matrix, the explorer and the property tests ask
// it what a run must end in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tlschan::oracle {

// Plain words, so that nothing of the engine's types leaks into the model.
enum class Pol { no, may, must };
enum class Health { ok, unavailable, broken };
enum class Adversary { none, strip, refuse, tamper, inject_command, inject_response };
enum class Outcome { delivered_tls, delivered_plain, bounced, deferred };

const char* word(Outcome o);  // "delivered-tls", "delivered-plain", "bounced", "deferred"

struct Cell {
  Pol client = Pol::no;
  Pol server = Pol::no;
  Health health = Health::ok;  // ignored when server is no
  Adversary adversary = Adversary::none;
};

// The one outcome the spec gives the cell (the tables of section 5, with the adversary applied).
Outcome expected(const Cell& cell);

// Under a network fault: the cell's own outcome or deferred (section 5); and where the client
// starts a TLS handshake, also the outcome of a failed handshake, because a connection closed during
// the handshake is a failed handshake to the client (section 4), which a may client answers with
// its plaintext fallback. A reset is a lost connection, which defers (section 4), never an end of
// stream: when every fault of the run is a reset, the failed handshake's outcome is not allowed.
std::vector<Outcome> acceptable_under_fault(const Cell& cell, bool resets_only = false);

// Whether the may client ends up delivering after its handshake failed (the "fallback" cells).
bool falls_back(const Cell& cell);

// Implicit TLS: a client told to connect to the TLS port (client policy may or must).
Outcome expected_tls_port(Pol client, Pol server, Health health);

// The source channel a delivered message records: the switch target iff it went over TLS.
std::string expected_source_channel(Outcome outcome, std::string_view incoming, std::string_view switch_target);

}  // namespace tlschan::oracle

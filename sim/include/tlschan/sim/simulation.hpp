// Runs a Scenario under one seed: real ClientSession and ServerSession instances exchange bytes
// over simulated links in virtual time, with real (deterministically seeded) OpenSSL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tlschan/client_session.hpp"
#include "tlschan/sim/run_observer.hpp"
#include "tlschan/sim/scenario.hpp"
#include "tlschan/tls.hpp"

namespace tlschan::sim {

struct MessageResult {
  Disposition disposition = Disposition::deferred;
  bool tls = false;              // delivered over TLS (every delivered recipient)
  std::vector<RecipientOutcome> recipients;
  int attempts = 0;
  int deliveries = 0;            // copies the server accepted
  bool rfc1047_window = false;   // a connection was lost between the final dot and its reply
  bool fallback = false;         // the may fallback to plaintext happened
  std::string channel;           // the source channel the server recorded (last copy)

  Outcome outcome() const { return outcome_of(disposition, tls); }
};

// The outcome's word: delivered-tls, delivered-plain, bounced, deferred.
inline std::string outcome_word(const MessageResult& m) { return to_string(m.outcome()); }

struct RunResult {
  std::uint64_t seed = 0;
  std::vector<MessageResult> messages;
  std::vector<std::string> violations;  // broken invariants (semantics.md section 5)
  int script_messages = 0;              // messages the server accepted from scripted clients
  bool completed = false;               // false: the event bound ran out
  Time end{};
  std::uint64_t events = 0;
};

// TLS contexts and certificates reused across runs; make one per thread.
class Simulator {
 public:
  // Installs the deterministic RAND provider (once per process) and builds the contexts.
  static Expected<Simulator, std::string> create();

  // Runs the scenario; when `transcript` is given, appends the run's transcript body to it; when
  // `observer` is given, shows it the run's connections, segments and TLS key log (it changes
  // nothing in the run or its transcript).
  RunResult run(const Scenario& scenario, std::uint64_t seed, std::string* transcript = nullptr,
                RunObserver* observer = nullptr) const;

  const TlsContext& server_tls(Health h) const { return h == Health::broken ? broken_ : healthy_; }
  const TlsContext& client_tls() const { return client_; }

 private:
  Simulator(TlsContext healthy, TlsContext broken, TlsContext client)
      : healthy_(std::move(healthy)), broken_(std::move(broken)), client_(std::move(client)) {}
  TlsContext healthy_;
  TlsContext broken_;
  TlsContext client_;
};

// The fixed test certificate and key every simulated server presents (corpus/certs, embedded).
const char* simulator_certificate_pem();
const char* simulator_key_pem();

}  // namespace tlschan::sim

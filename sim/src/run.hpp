// One run of a scenario under a seed: it wires the parts of the simulator together (the event
// loop, the network, the client host's queue, the peers of each connection, the transcript and the
// invariants) and drives the peers as bytes, closes and deadlines arrive.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attempts.hpp"
#include "connection.hpp"
#include "invariants.hpp"
#include "network.hpp"
#include "tlschan/sim/event_loop.hpp"
#include "tlschan/sim/simulation.hpp"
#include "transcript_writer.hpp"

namespace tlschan::sim::detail {

class Run final : private Network::Receiver {
 public:
  Run(const Simulator& sim, const Scenario& sc, std::uint64_t seed, std::string* transcript, RunObserver* observer);
  RunResult go();

 private:
  // The client host's queue.
  void start_attempt(std::size_t i);
  void finish_attempt(std::size_t i);
  // Connections.
  Connection& add_connection(ClientPeer client);
  void open_connection(std::size_t i);
  void open_script(std::size_t k);
  ServerConfig server_config() const;
  void maybe_end(Connection& c);
  // What arrives (Network::Receiver).
  void segment_arrived(Connection& c, bool c2s, const std::string& seg) override;
  void close_arrived(Connection& c, bool c2s) override;
  void reset_arrived(Connection& c) override;
  // The peers.
  void pump_client(Connection& c);
  void pump_server(Connection& c);
  void arm_timer(Connection& c, bool client);
  void client_event(Connection& c, const ClientEvent& e);
  void server_event(Connection& c, const ServerEvent& e);
  void carry_out(Connection& c, ScriptedPeerBase& peer, bool client);
  void write_meddling(const Connection& c, bool c2s, const MeddlerOutput& m);
  void note_meddling(Connection& c, bool c2s, bool acted_before, std::size_t forwarded, const std::string& answer);

  const Simulator& sim_;
  RunObserver* observer_;  // nullptr: none
  const Scenario& sc_;
  std::uint64_t seed_;
  EventLoop loop_;
  TranscriptWriter transcript_;
  Network net_;
  Prng meddle_;
  Invariants invariants_;
  std::vector<MessageState> messages_;
  std::vector<std::unique_ptr<Connection>> conns_;
  int connections_ = 0;
  int script_messages_ = 0;
  const std::string ready_to_start_tls_;
};

}  // namespace tlschan::sim::detail

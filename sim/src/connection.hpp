// One simulated connection: its two pipes (one per direction), its meddler and its two peers, each
// real (an engine session) or scripted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tlschan/client_session.hpp"
#include "tlschan/server_session.hpp"
#include "tlschan/sim/event_loop.hpp"
#include "tlschan/sim/meddler.hpp"
#include "tlschan/sim/scripted_peers.hpp"

namespace tlschan::sim::detail {

// Bytes of a pipe (stream offsets [from, to)) a meddler changed or injected, and what it did;
// kept only for a run's observer.
struct MeddledBytes {
  std::uint64_t from = 0, to = 0;
  std::string what;
};

// One direction of a connection: an ordered byte stream.
struct Pipe {
  EventLoop::Lane lane = 0;  // its deliveries and its close, in the order they arrive
  Duration latency{};
  Time last_arrival{};
  std::uint64_t sent = 0;
  // The bytes on their way, in order: each delivery event takes the next segment from the front.
  std::string flight;
  std::size_t flight_head = 0;
  std::uint64_t delivered = 0;  // the stream offset of flight_head
  bool fin_sent = false;
  bool stalled = false;
  // The stream offset from which the sender speaks TLS, set when it starts (semantics.md 3.2, 4):
  // the transcript shows the bytes before it as text, the bytes from it on as TLS.
  std::optional<std::uint64_t> tls_at;
  std::vector<MeddledBytes> meddled;  // only with an observer
};

// The client of a queued message: its ClientSession lives with the message, across the
// connections of one attempt (the may fallback opens a second one).
struct RealClient {
  ClientSession* session = nullptr;
};
using ClientPeer = std::variant<RealClient, ScriptedClient>;
using ServerPeer = std::variant<ServerSession, ScriptedServer>;

struct Connection {
  Connection(int id, ClientPeer client_peer, ServerPeer server_peer, Meddler m)
      : id(id), client(std::move(client_peer)), server(std::move(server_peer)), meddler(std::move(m)) {}

  int id = 0;
  std::size_t message = 0;  // the queued message a real client carries
  ClientPeer client;
  ServerPeer server;
  Pipe c2s, s2c;
  Meddler meddler;
  bool client_gone = false;  // the client's side of the socket is closed
  bool server_gone = false;
  bool ended = false;
  EventLoop::Timer client_timer = 0;  // each side's deadline (ClientSession/ServerSession::deadline)
  EventLoop::Timer server_timer = 0;

  ClientSession* real_client() {
    auto* r = std::get_if<RealClient>(&client);
    return r ? r->session : nullptr;
  }
  ScriptedClient* scripted_client() { return std::get_if<ScriptedClient>(&client); }
  ServerSession* real_server() { return std::get_if<ServerSession>(&server); }
  ScriptedServer* scripted_server() { return std::get_if<ScriptedServer>(&server); }
  Pipe& pipe(bool c2s_direction) { return c2s_direction ? c2s : s2c; }
  const Pipe& pipe(bool c2s_direction) const { return c2s_direction ? c2s : s2c; }
};

}  // namespace tlschan::sim::detail

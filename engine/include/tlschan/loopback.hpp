// A minimal in-memory driver: runs one delivery attempt of a ClientSession against ServerSessions
// (one per connection, so that the may fallback gets its fresh connection), moving bytes between
// them and advancing time only to fire deadlines. The simulator (tlschan::sim) is the full driver;
// this one serves tests, the demo and library users who want a session pair in a few lines.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "tlschan/client_session.hpp"
#include "tlschan/server_session.hpp"

namespace tlschan {

enum class Direction { client_to_server, server_to_client };

struct LoopbackOptions {
  Time start{};
  std::size_t segment = 0;  // deliver bytes in pieces of at most this size; 0: as sent
  // Sees (and may change) every batch of bytes before delivery; `connection` counts from 0.
  std::function<void(int connection, Direction, std::string& bytes)> meddle;
  int max_steps = 100000;   // a bound, so that a bug cannot loop forever
};

struct LoopbackResult {
  std::vector<MessageAccepted> accepted;
  std::vector<RecipientOutcome> outcomes;
  Disposition disposition = Disposition::deferred;
  int connections = 0;
  std::vector<std::pair<int, ServerEvent>> server_events;  // with the connection index
  std::vector<std::pair<int, ClientEvent>> client_events;
  std::string client_bytes;  // everything the server received (after meddling), all connections
  std::string server_bytes;  // everything the client received (after meddling), all connections
  bool finished = false;     // false: max_steps ran out
  Time end{};
};

LoopbackResult run_loopback(ClientSession& client, const std::function<ServerSession(Time)>& make_server,
                            const LoopbackOptions& options = {});

}  // namespace tlschan

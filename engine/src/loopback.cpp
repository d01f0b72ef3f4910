#include "tlschan/loopback.hpp"

#include <algorithm>
#include <optional>

namespace tlschan {

namespace {

template <class Session>
std::string take_output(Session& s) {
  std::string bytes(s.output());
  s.consume(bytes.size());
  return bytes;
}

template <class Session, class Deliver>
void deliver(std::string bytes, std::size_t segment, Session& to, Time now, Deliver&& record) {
  record(bytes);
  if (segment == 0) segment = std::max<std::size_t>(bytes.size(), 1);
  for (std::size_t at = 0; at < bytes.size(); at += segment) {
    to.receive(std::string_view(bytes).substr(at, segment), now);
  }
}

}  // namespace

LoopbackResult run_loopback(ClientSession& client, const std::function<ServerSession(Time)>& make_server,
                            const LoopbackOptions& options) {
  LoopbackResult result;
  Time now = options.start;
  int conn = 0;
  std::optional<ServerSession> server(make_server(now));
  result.connections = 1;

  auto drain_events = [&] {
    while (auto e = server->next_event()) {
      if (auto* m = std::get_if<MessageAccepted>(&*e)) result.accepted.push_back(*m);
      result.server_events.emplace_back(conn, std::move(*e));
    }
    while (auto e = client.next_event()) result.client_events.emplace_back(conn, std::move(*e));
  };

  for (int step = 0; step < options.max_steps; ++step) {
    bool moved = false;
    if (!client.output().empty()) {
      std::string bytes = take_output(client);
      if (options.meddle) options.meddle(conn, Direction::client_to_server, bytes);
      if (!server->finished()) {
        deliver(std::move(bytes), options.segment, *server, now, [&](const std::string& b) { result.client_bytes += b; });
      }
      moved = true;
    }
    if (!server->output().empty()) {
      std::string bytes = take_output(*server);
      if (options.meddle) options.meddle(conn, Direction::server_to_client, bytes);
      if (!client.connection_finished()) {
        deliver(std::move(bytes), options.segment, client, now, [&](const std::string& b) { result.server_bytes += b; });
      }
      moved = true;
    }
    drain_events();
    if (moved) continue;

    // Both sides are quiet: closes travel, then the fallback reconnects, then time passes.
    if (server->finished() && !client.connection_finished()) {
      client.on_peer_closed(now);
      continue;
    }
    if (client.connection_finished() && !server->finished()) {
      server->on_peer_closed(now);
      drain_events();
      continue;
    }
    if (client.connection_finished() && server->finished()) {
      if (client.wants_reconnect()) {
        ++conn;
        ++result.connections;
        server.emplace(make_server(now));
        client.reconnected(now);
        continue;
      }
      result.finished = client.done();
      break;
    }
    std::optional<Time> next = client.deadline();
    if (const auto s = server->deadline(); s && (!next || *s < *next)) next = s;
    if (!next) break;
    now = std::max(now, *next);
    client.on_deadline(now);
    server->on_deadline(now);
    drain_events();
  }
  result.outcomes = client.outcomes();
  result.disposition = client.message_disposition();
  result.end = now;
  return result;
}

}  // namespace tlschan

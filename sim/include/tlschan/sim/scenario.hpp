// What one simulation runs: a server, a client with its queue of messages, the network between
// them (latency, segmentation, a meddler, faults) and the retry schedule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tlschan/outcome.hpp"
#include "tlschan/policy.hpp"
#include "tlschan/sim/meddler.hpp"
#include "tlschan/time.hpp"

namespace tlschan::sim {

// The engine's words, also under sim:: (sim::Health is tlschan::Health).
using tlschan::Health;
using tlschan::Outcome;
using tlschan::parse_health;
using tlschan::parse_outcome;
using tlschan::to_string;

struct ServerSpec {
  std::string name = "mx.tlschan.test";
  std::string channel = "tcp_local";          // the incoming channel
  Policy policy = Policy::may;                // its server policy
  std::optional<std::string> switch_target;   // its tlsswitchchannel
  Health health = Health::ok;
  bool tls_port = false;                      // implicit TLS (the dispatcher's TLS_PORT)
};

struct ClientSpec {
  std::string name = "client.tlschan.test";
  std::string channel = "tcp_remote";         // the outgoing channel
  Policy policy = Policy::may;                // its client policy
  bool implicit_tls = false;                  // connect to the TLS port
};

struct MessageSpec {
  std::string from = "alice@client.tlschan.test";
  std::vector<std::string> to{"bob@mx.tlschan.test"};
  std::string body = "Subject: simulated\r\n\r\nHello.\r\n";
};

// The header line the simulator puts first in the body of message `index` (counted from 1), by
// which it knows the message again in what a server accepted. A fuzz target that sends a message as
// the simulator's client does puts the same line first.
std::string message_tag(std::size_t index);

enum class FaultKind { reset, stall, truncate };
const char* to_string(FaultKind k);
std::optional<FaultKind> parse_fault(std::string_view name);

struct FaultSpec {
  FaultKind kind = FaultKind::reset;
  bool client_to_server = true;  // the direction whose byte count triggers it
  std::uint64_t after_bytes = 0; // fires once this many bytes went that way
  int connection = 1;            // which connection of the run (1 = the first)
};

struct NetworkSpec {
  Duration latency_min = milliseconds(1);
  Duration latency_max = milliseconds(20);
  std::size_t segment_min = 1;     // segment sizes drawn in [min, max]; 0 and 0: as sent
  std::size_t segment_max = 1460;
  MeddlerKind meddler = MeddlerKind::none;
};

struct RetrySpec {
  std::vector<Duration> backoff;  // delays before the 2nd, 3rd, ... attempt; empty: one attempt
  Duration lifetime = std::chrono::hours(24 * 5);  // a message still deferred past it bounces
};

// Another client, modeled by the bytes it sends; it stands for other software and for attackers.
// With `wait`, each chunk goes out once the server's answer to the previous one ended at a line end
// (the first after the greeting); without, the chunks go out at once, one segment each. With
// `tls`, a chunk holding a STARTTLS line waits for the reply, and after a 220 the script runs a real
// TLS handshake and sends the rest inside TLS.
struct ScriptSpec {
  std::vector<std::string> send;
  bool wait = true;
  bool tls = false;
};

// A server modeled by its replies, in place of the real one: the first chunk is the greeting, each
// next one answers client bytes that ended at a line end. With `tls`, a chunk starting with 220 that
// answers a STARTTLS line is followed by a real TLS handshake (the healthy certificate), and the
// chunks after it go inside TLS. When the chunks run out, it closes.
struct ServerScriptSpec {
  std::vector<std::string> replies;
  bool tls = true;
};

struct Scenario {
  std::string name = "scenario";
  ServerSpec server;
  ClientSpec client;
  std::vector<MessageSpec> messages{MessageSpec{}};
  NetworkSpec network;
  std::vector<FaultSpec> faults;
  RetrySpec retry;
  std::vector<ScriptSpec> scripts;
  std::optional<ServerScriptSpec> server_script;  // replaces the real server for the queued messages
  std::optional<Outcome> expect;  // the outcome every message must reach
  std::optional<int> expect_script_messages;  // messages the server must accept from the scripts
};

}  // namespace tlschan::sim

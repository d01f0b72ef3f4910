// The input format of the session targets, and the simulator scenario each input stands for, so
// that a crashing input can be run by the simulator and kept as a transcript that `tlschan replay`
// replays.
//
// An input is one header octet, then chunks separated by the octets FE FF:
//   server_session_fuzzer: the chunks are what a client sends, one segment each, without waiting
//   for replies (sim::ScriptSpec with wait = false, tls = true): a chunk holding "STARTTLS\r\n"
//   waits for the reply, and after a 220 the client runs a real TLS handshake and sends the rest
//   inside TLS. Header: the server's policy, TLS health and tlsswitchchannel.
//   client_session_fuzzer: the chunks are a server's replies (sim::ServerScriptSpec with tls =
//   true): the first is the greeting, each next one answers client bytes that ended at a line
//   end; a chunk starting with 220 that answers a STARTTLS line is followed by a real handshake,
//   and the chunks after it go inside TLS. Header: the client's policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/policy.hpp"
#include "tlschan/sim/scenario.hpp"

namespace tlschan::fuzz {

inline constexpr std::string_view chunk_separator = "\xfe\xff";

struct SessionInput {
  std::uint8_t header = 0;
  std::vector<std::string_view> chunks;  // views into the input
};

SessionInput split_session_input(const std::uint8_t* data, std::size_t size);

// What the header octet of server_session_fuzzer chooses.
struct ServerChoice {
  Policy policy = Policy::no;
  sim::Health health = sim::Health::ok;
  bool switch_channel = false;  // tlsswitchchannel tcp_tls
};
ServerChoice server_choice(std::uint8_t header);

// What the header octet of client_session_fuzzer chooses.
struct ClientChoice {
  Policy policy = Policy::no;
};
ClientChoice client_choice(std::uint8_t header);

// The names the session targets and their scenarios share.
inline constexpr const char* fuzz_server_name = "mx.tlschan.test";
inline constexpr const char* fuzz_client_name = "client.tlschan.test";
inline constexpr const char* fuzz_incoming_channel = "tcp_local";
inline constexpr const char* fuzz_switch_channel = "tcp_tls";

// The one message client_session_fuzzer's client delivers (its scenario's [[message]]): two
// recipients, and a line that needs dot-stuffing.
sim::MessageSpec fuzz_message();

// The scripted client of a server_session_fuzzer input (sim::ScriptSpec: the chunks, no wait, tls):
// the target drives it against a ServerSession, and its scenario holds the same.
sim::ScriptSpec server_session_script(const SessionInput& input);
// The scripted server of a client_session_fuzzer input (sim::ServerScriptSpec: the chunks, tls).
sim::ServerScriptSpec client_session_script(const SessionInput& input);

// What a session target does first with an input: splits it, writes the transcript of
// `scenario_of(input)` when TLSCHAN_TRANSCRIPT asks for one, and seeds the deterministic RAND from
// the input (the same seed the transcript's run used).
SessionInput start_session_input(const std::uint8_t* data, std::size_t size,
                                 sim::Scenario (*scenario_of)(const SessionInput&));

// The scenario of a server_session_fuzzer input: the real server, one scripted client.
sim::Scenario server_session_scenario(const SessionInput& input);

// The scenario of a client_session_fuzzer input: the real client with fuzz_message(), a scripted
// server.
sim::Scenario client_session_scenario(const SessionInput& input);

}  // namespace tlschan::fuzz

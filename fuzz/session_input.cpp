#include "session_input.hpp"

#include "fuzz_environment.hpp"
#include "tlschan/sim/deterministic_tls.hpp"

namespace tlschan::fuzz {

namespace {

constexpr Policy policies[] = {Policy::no, Policy::may, Policy::must};

// Scripts run as sent: no segmentation beyond the chunks, no meddler, no faults.
sim::NetworkSpec plain_network() {
  sim::NetworkSpec n;
  n.latency_min = n.latency_max = milliseconds(1);
  n.segment_min = n.segment_max = 0;
  n.meddler = sim::MeddlerKind::none;
  return n;
}

std::vector<std::string> owned(const std::vector<std::string_view>& chunks) {
  return std::vector<std::string>(chunks.begin(), chunks.end());
}

}  // namespace

SessionInput split_session_input(const std::uint8_t* data, std::size_t size) {
  SessionInput in;
  if (size == 0) return in;
  in.header = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (true) {
    const std::size_t at = rest.find(chunk_separator);
    in.chunks.push_back(rest.substr(0, at));
    if (at == std::string_view::npos) break;
    rest.remove_prefix(at + chunk_separator.size());
  }
  return in;
}

ServerChoice server_choice(std::uint8_t header) {
  constexpr sim::Health healths[] = {sim::Health::ok, sim::Health::unavailable, sim::Health::broken};
  ServerChoice c;
  c.policy = policies[header % 3];
  c.health = healths[(header / 3) % 3];
  c.switch_channel = (header / 9) % 2 == 1;
  return c;
}

ClientChoice client_choice(std::uint8_t header) {
  return ClientChoice{policies[header % 3]};
}

sim::MessageSpec fuzz_message() {
  sim::MessageSpec m;
  m.from = "alice@client.tlschan.test";
  m.to = {"bob@mx.tlschan.test", "carol@mx.tlschan.test"};
  m.body = "Subject: fuzz\r\n\r\n.a line that starts with a dot\r\nHello.\r\n";
  return m;
}

sim::ScriptSpec server_session_script(const SessionInput& input) {
  sim::ScriptSpec script;
  script.send = owned(input.chunks);
  if (script.send.empty()) script.send.emplace_back();  // a script sends at least one chunk
  script.wait = false;
  script.tls = true;
  return script;
}

sim::ServerScriptSpec client_session_script(const SessionInput& input) {
  sim::ServerScriptSpec script;
  script.replies = owned(input.chunks);
  script.tls = true;
  return script;
}

sim::Scenario server_session_scenario(const SessionInput& input) {
  const ServerChoice choice = server_choice(input.header);
  sim::Scenario s;
  s.name = "server_session_fuzzer input";
  s.server.name = fuzz_server_name;
  s.server.channel = fuzz_incoming_channel;
  s.server.policy = choice.policy;
  s.server.health = choice.health;
  if (choice.switch_channel) s.server.switch_target = fuzz_switch_channel;
  s.messages.clear();
  s.network = plain_network();
  s.scripts.push_back(server_session_script(input));
  return s;
}

sim::Scenario client_session_scenario(const SessionInput& input) {
  sim::Scenario s;
  s.name = "client_session_fuzzer input";
  s.client.name = fuzz_client_name;
  s.client.policy = client_choice(input.header).policy;
  s.messages = {fuzz_message()};
  s.network = plain_network();
  s.server_script = client_session_script(input);
  return s;
}

SessionInput start_session_input(const std::uint8_t* data, std::size_t size,
                                 sim::Scenario (*scenario_of)(const SessionInput&)) {
  SessionInput input = split_session_input(data, size);
  const std::uint64_t seed = input_seed(data, size);
  if (!transcript_request().empty()) write_transcript_if_requested(scenario_of(input), seed);
  sim::seed_deterministic_rand(seed);
  return input;
}

}  // namespace tlschan::fuzz

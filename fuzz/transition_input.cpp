#include "transition_input.hpp"

namespace tlschan::fuzz {

std::string ascii(std::string_view raw) {
  std::string out(raw);
  for (char& c : out) c = static_cast<char>(static_cast<unsigned char>(c) & 0x7f);
  return out;
}

std::string sanitize_body(std::string_view raw) {
  std::string out;
  std::size_t line = 0;
  for (const char c : ascii(raw)) {
    if (c == '\n') {
      out += "\r\n";
      line = 0;
      continue;
    }
    if (line == 998) {
      out += "\r\n";
      line = 0;
    }
    out += c == '\r' || c == '\0' ? ' ' : c;
    ++line;
  }
  if (line > 0) out += "\r\n";
  return out;
}

TransitionInput read_transition_input(FuzzedDataProvider& in) {
  constexpr Policy policies[] = {Policy::no, Policy::may, Policy::must};
  constexpr sim::Health healths[] = {sim::Health::ok, sim::Health::unavailable, sim::Health::broken};
  constexpr sim::FaultKind faults[] = {sim::FaultKind::reset, sim::FaultKind::stall,
                                       sim::FaultKind::truncate};
  TransitionInput t;
  sim::Scenario& s = t.scenario;
  s.name = "starttls_transition_fuzzer input";
  t.seed = in.ConsumeIntegral<std::uint64_t>();
  s.client.policy = policies[in.ConsumeIntegralInRange<std::uint8_t>(0, 2)];
  s.server.policy = policies[in.ConsumeIntegralInRange<std::uint8_t>(0, 2)];
  s.server.health = healths[in.ConsumeIntegralInRange<std::uint8_t>(0, 2)];
  s.network.meddler =
      sim::all_meddlers[in.ConsumeIntegralInRange<std::uint8_t>(0, std::size(sim::all_meddlers) - 1)];
  const std::uint8_t flags = in.ConsumeIntegral<std::uint8_t>();
  if (flags & 1) s.server.switch_target = "tcp_tls";
  if ((flags & 2) && s.client.policy != Policy::no) {
    // Implicit TLS: the client connects to the TLS port; no plaintext for a meddler to act on.
    s.server.tls_port = true;
    s.client.implicit_tls = true;
    s.network.meddler = sim::MeddlerKind::none;
  }
  s.network.latency_min = milliseconds(in.ConsumeIntegralInRange<std::uint8_t>(0, 50));
  s.network.latency_max =
      s.network.latency_min + milliseconds(in.ConsumeIntegralInRange<std::uint8_t>(0, 100));
  // Segment sizes: mostly as sent or in full-size segments, sometimes down to one octet (where
  // every octet is an event of the simulator, so a run costs many times more).
  constexpr std::size_t segment_max[] = {0, 0, 0, 0, 0, 0, 1460, 1460, 1460, 1460, 536, 64, 16, 7, 3, 1};
  s.network.segment_max = segment_max[in.ConsumeIntegralInRange<std::uint8_t>(0, std::size(segment_max) - 1)];
  s.network.segment_min = s.network.segment_max == 0 ? 0 : 1;

  s.messages.clear();
  // Mostly one message (one handshake: the target's speed is the handshake's), sometimes two or three.
  const std::uint8_t message_octet = in.ConsumeIntegral<std::uint8_t>();
  const int messages = message_octet < 192 ? 1 : message_octet < 240 ? 2 : 3;
  for (int i = 0; i < messages; ++i) {
    sim::MessageSpec m;
    m.to.clear();
    const int rcpts = in.ConsumeIntegralInRange<int>(1, 3);
    for (int r = 0; r < rcpts; ++r) m.to.push_back("rcpt" + std::to_string(r) + "@mx.tlschan.test");
    m.body = sanitize_body(in.ConsumeRandomLengthString(max_body));
    s.messages.push_back(std::move(m));
  }
  const int fault_count = in.ConsumeIntegralInRange<int>(0, 2);
  for (int i = 0; i < fault_count; ++i) {
    sim::FaultSpec f;
    f.kind = faults[in.ConsumeIntegralInRange<std::uint8_t>(0, 2)];
    f.client_to_server = in.ConsumeBool();
    f.after_bytes = in.ConsumeIntegralInRange<std::uint16_t>(0, 4000);
    f.connection = in.ConsumeIntegralInRange<int>(1, 3);
    s.faults.push_back(f);
  }
  // Now and then a retry schedule (every attempt is another handshake).
  if (in.ConsumeIntegral<std::uint8_t>() >= 224) {
    s.retry.backoff = {seconds(600)};
    s.retry.lifetime = seconds(3600);
  }
  // Scripted clients against the same server: they send their own bytes (injections, smuggling,
  // pipelines behind STARTTLS) while the queued messages are delivered.
  const std::uint8_t script_octet = in.ConsumeIntegral<std::uint8_t>();
  const int scripts = script_octet < 128 ? 0 : script_octet < 224 ? 1 : 2;
  for (int i = 0; i < scripts; ++i) {
    sim::ScriptSpec script;
    script.wait = in.ConsumeBool();
    script.tls = in.ConsumeBool();
    const int chunks = in.ConsumeIntegralInRange<int>(1, 4);
    for (int c = 0; c < chunks; ++c)
      script.send.push_back(ascii(in.ConsumeRandomLengthString(max_script_chunk)));
    s.scripts.push_back(std::move(script));
  }
  return t;
}

}  // namespace tlschan::fuzz

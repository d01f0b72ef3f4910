#include "scenario_gen.hpp"

namespace tlschan::props {

rc::Gen<Policy> gen_policy() { return rc::gen::element(Policy::no, Policy::may, Policy::must); }

rc::Gen<sim::Health> gen_health() {
  return rc::gen::element(sim::Health::ok, sim::Health::unavailable, sim::Health::broken);
}

rc::Gen<sim::MeddlerKind> gen_meddler() {
  return rc::gen::element(sim::MeddlerKind::none, sim::MeddlerKind::strip, sim::MeddlerKind::refuse,
                          sim::MeddlerKind::tamper, sim::MeddlerKind::inject_command, sim::MeddlerKind::inject_response);
}

// Where a STARTTLS handshake's bytes go on a first connection: client to server after EHLO and
// STARTTLS (about 30 octets) up to the end of its Finished; server to client after the greeting,
// the EHLO reply and the 220 (about 190) up to the end of its flight with the certificate.
rc::Gen<std::uint64_t> gen_handshake_offset(bool client_to_server) {
  return client_to_server ? rc::gen::inRange<std::uint64_t>(25, 700) : rc::gen::inRange<std::uint64_t>(150, 2200);
}

rc::Gen<sim::FaultSpec> gen_fault() {
  return rc::gen::exec([] {
    sim::FaultSpec f;
    f.kind = *rc::gen::element(sim::FaultKind::reset, sim::FaultKind::stall, sim::FaultKind::truncate);
    f.client_to_server = *rc::gen::arbitrary<bool>();
    f.connection = *rc::gen::inRange(1, 3);
    // Anywhere, or (with real weight) inside the first connection's TLS handshake.
    const bool in_handshake = *rc::gen::arbitrary<bool>();
    if (in_handshake) f.connection = 1;
    f.after_bytes = in_handshake ? *gen_handshake_offset(f.client_to_server) : *rc::gen::inRange<std::uint64_t>(0, 2500);
    return f;
  });
}

rc::Gen<sim::Scenario> gen_handshake_fault_scenario() {
  return rc::gen::exec([] {
    sim::Scenario s;
    s.name = "property scenario: a fault inside the TLS handshake";
    s.client.policy = *rc::gen::element(Policy::may, Policy::must);
    s.server.policy = *rc::gen::element(Policy::may, Policy::must);
    s.server.health = *rc::gen::element(sim::Health::ok, sim::Health::broken);
    s.network.meddler = *rc::gen::element(sim::MeddlerKind::none, sim::MeddlerKind::inject_command,
                                          sim::MeddlerKind::inject_response);
    const std::size_t segment = *rc::gen::element<std::size_t>(0, 1, 7, 64, 1460);
    s.network.segment_min = segment == 0 ? 0 : 1;
    s.network.segment_max = segment;
    s.messages.assign(*rc::gen::inRange<std::size_t>(1, 3), sim::MessageSpec{});
    sim::FaultSpec f;
    f.kind = *rc::gen::element(sim::FaultKind::reset, sim::FaultKind::truncate, sim::FaultKind::stall);
    f.client_to_server = *rc::gen::arbitrary<bool>();
    f.after_bytes = *gen_handshake_offset(f.client_to_server);
    f.connection = 1;
    s.faults.push_back(f);
    return s;
  });
}

rc::Gen<sim::Scenario> gen_scenario() {
  return rc::gen::exec([] {
    sim::Scenario s;
    s.name = "property scenario";
    s.client.policy = *gen_policy();
    s.server.policy = *gen_policy();
    s.server.health = *gen_health();
    s.network.meddler = *gen_meddler();
    if (*rc::gen::arbitrary<bool>()) s.server.switch_target = "tcp_tls";
    const std::size_t segment = *rc::gen::element<std::size_t>(0, 1, 3, 16, 200, 1460);
    s.network.segment_min = segment == 0 ? 0 : 1;
    s.network.segment_max = segment;
    const auto lo = *rc::gen::inRange<std::int64_t>(0, 10);
    s.network.latency_min = milliseconds(lo);
    s.network.latency_max = milliseconds(lo + *rc::gen::inRange<std::int64_t>(0, 100));
    s.messages.assign(*rc::gen::inRange<std::size_t>(1, 4), sim::MessageSpec{});
    if (*rc::gen::weightedElement<bool>({{3, false}, {1, true}})) s.faults.push_back(*gen_fault());
    return s;
  });
}

}  // namespace tlschan::props

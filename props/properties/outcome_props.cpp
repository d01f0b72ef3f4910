// Properties over whole simulated deliveries: outcomes against the oracle with the invariants,
// tlsswitchchannel, and determinism.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "failure_transcript.hpp"
#include "scenario_gen.hpp"
#include "tlschan/matrix/explore.hpp"
#include "tlschan/oracle/outcome_oracle.hpp"
#include "tlschan/sim/simulation.hpp"

namespace tlschan::props {
namespace {

const sim::Simulator& simulator() {
  static const sim::Simulator s = std::move(*sim::Simulator::create());
  return s;
}

// 1. The outcome is the oracle's (under a fault: the cell's, deferred, or a failed handshake's),
// and nothing is lost, duplicated outside the RFC 1047 window, or sent in clear under must.
RC_GTEST_PROP(Outcome, MatchesTheOracleAndKeepsTheInvariants, ()) {
  const sim::Scenario s = *gen_scenario();
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  RecordOnFailure record("Outcome.MatchesTheOracleAndKeepsTheInvariants", s, seed);
  const sim::RunResult r = simulator().run(s, seed);
  RC_ASSERT(r.completed);
  const auto problems = matrix::check_run(s, r);
  RC_ASSERT(problems.empty());
}

// 1b. A reset, a clean close or a stall inside the TLS handshake: the cell's outcome or deferred,
// never a plaintext delivery the cell does not allow (a reset is a lost connection, not a TLS
// failure to fall back from), and the invariants hold.
RC_GTEST_PROP(Faults, InsideTheHandshakeGiveTheCellOrDeferred, ()) {
  const sim::Scenario s = *gen_handshake_fault_scenario();
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  RecordOnFailure record("Faults.InsideTheHandshakeGiveTheCellOrDeferred", s, seed);
  const sim::RunResult r = simulator().run(s, seed);
  RC_ASSERT(r.completed);
  const auto problems = matrix::check_run(s, r);
  RC_ASSERT(problems.empty());
}

// 6. A message received after TLS records the switch target as its source channel, one received
// without TLS the incoming channel; on the regular port and on the TLS port.
RC_GTEST_PROP(SwitchChannel, SourceChannelIsTheTargetIffTls, ()) {
  sim::Scenario s;
  s.client.policy = *rc::gen::element(Policy::no, Policy::may, Policy::must);
  s.server.policy = *rc::gen::element(Policy::may, Policy::must);
  s.server.health = *gen_health();
  s.server.channel = "tcp_local";
  s.server.switch_target = *rc::gen::element<std::string>("tcp_tls", "tcp_secure", "l");
  s.server.tls_port = s.client.policy != Policy::no && *rc::gen::arbitrary<bool>();
  s.client.implicit_tls = s.server.tls_port;
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  RecordOnFailure record("SwitchChannel.SourceChannelIsTheTargetIffTls", s, seed);
  const sim::RunResult r = simulator().run(s, seed);
  const sim::MessageResult& m = r.messages.front();
  if (m.disposition == Disposition::delivered) {
    const std::string want = oracle::expected_source_channel(
        m.tls ? oracle::Outcome::delivered_tls : oracle::Outcome::delivered_plain, "tcp_local", *s.server.switch_target);
    RC_ASSERT(m.channel == want);
  }
  RC_ASSERT(matrix::check_run(s, r).empty());
}

// 7. The same seed twice gives identical transcripts.
RC_GTEST_PROP(Determinism, SameSeedSameTranscript, ()) {
  const sim::Scenario s = *gen_scenario();
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  std::string a, b;
  simulator().run(s, seed, &a);
  simulator().run(s, seed, &b);
  RC_ASSERT(a == b);
}

}  // namespace
}  // namespace tlschan::props

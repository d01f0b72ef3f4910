// What the simulator's tests share: one Simulator (its TLS contexts are built once per test binary).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>

#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/simulation.hpp"
#include "tlschan/sim/transcript.hpp"

namespace tlschan::sim::testing {

inline const Simulator& shared_simulator() {
  static const Simulator s = [] {
    auto made = Simulator::create();
    EXPECT_TRUE(made.has_value()) << (made ? "" : made.error());
    return std::move(*made);
  }();
  return s;
}

// `tlschan replay`: the transcript file written for `body` (a run of `s` under `seed`) alone re-runs
// to the same transcript, the scenario read back from the file.
inline void expect_transcript_replays(const Scenario& s, std::uint64_t seed, const std::string& body) {
  TranscriptFile f;
  f.seed = seed;
  f.openssl = openssl_version();
  f.scenario_toml = print_scenario(s);
  f.body = body;
  auto parsed = parse_transcript(format_transcript(f), "test.transcript");
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  auto scenario = parse_scenario(parsed->scenario_toml, "test.transcript (embedded scenario)");
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  std::string again;
  shared_simulator().run(*scenario, parsed->seed, &again);
  const Divergence d = compare_runs(parsed->body, again, true);
  EXPECT_TRUE(d.identical) << "line " << d.line << "\n  recorded: " << d.recorded
                           << "\n  replayed: " << d.replayed;
}

}  // namespace tlschan::sim::testing

// Whole STARTTLS transitions through the simulator, checked against the oracle: the input
// (transition_input.hpp, read with FuzzedDataProvider) is a scenario — client and server policies,
// server TLS health, a meddler (strip, refuse, tamper, inject-command, inject-response), the TLS
// port, tlsswitchchannel, latency, segmentation down to one byte, faults, retries, messages, and
// scripted clients that send their own bytes — and the seed it runs under. Every run is checked
// with tlschan::matrix::check_run: the outcome the oracle (semantics.md section 5) allows, the
// source channel, and the invariants (nothing lost, no duplicate outside the RFC 1047 window, a
// must side never carries mail in plaintext). A semantic bug is a crash, not only a memory error.
//
// TLSCHAN_TRANSCRIPT=FILE writes the run's transcript to FILE (`tlschan replay FILE`).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_environment.hpp"
#include "tlschan/matrix/explore.hpp"
#include "tlschan/sim/scenario_file.hpp"
#include "transition_input.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tlschan::fuzz::initialize(tlschan::fuzz::WithSimulator::yes);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider provider(data, size);
  const tlschan::fuzz::TransitionInput input = tlschan::fuzz::read_transition_input(provider);
  tlschan::fuzz::write_transcript_if_requested(input.scenario, input.seed);
  const tlschan::sim::RunResult result = tlschan::fuzz::simulator().run(input.scenario, input.seed);
  const std::vector<std::string> problems = tlschan::matrix::check_run(input.scenario, result);
  if (problems.empty()) return 0;
  std::fprintf(stderr, "\n==tlschan fuzz check failed== the run disagrees with the oracle (seed %llu)\n",
               static_cast<unsigned long long>(input.seed));
  for (const std::string& p : problems) std::fprintf(stderr, "  %s\n", p.c_str());
  std::fprintf(stderr, "--- scenario ---\n%s", tlschan::sim::print_scenario(input.scenario).c_str());
  std::fflush(stderr);
  std::abort();
}

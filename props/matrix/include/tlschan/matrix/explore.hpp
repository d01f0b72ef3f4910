// Random scenarios, faults and meddlers, each run checked against the oracle and the spec's
// invariants; failures saved as transcripts that replay them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tlschan/sim/simulation.hpp"
#include "tlschan/sim/transcript.hpp"

namespace tlschan::matrix {

// The scenario seed N stands for (policies, health, meddler, segmentation, latency, faults,
// messages), all drawn from N.
sim::Scenario random_scenario(std::uint64_t seed);

// What the run broke: an outcome the oracle does not allow, a broken invariant, a failed
// expectation. Empty: the run is right.
std::vector<std::string> check_run(const sim::Scenario& scenario, const sim::RunResult& result);

struct ExploreOptions {
  std::uint64_t first_seed = 1;
  std::uint64_t seeds = 100;
  unsigned jobs = 1;
  std::string out_dir;  // where failing runs' transcripts go; empty: not saved
  bool list_runs = false;  // keep every run's seed and outcome in ExploreResult::listed
  std::string transcripts_dir;  // where every run's transcript goes, passing or not; empty: none
};

// Shard `index` (0 to count-1) of the seeds [first_seed, first_seed + seeds): `count` contiguous
// ranges that together hold every seed once, the first `seeds % count` of them one seed longer.
struct SeedRange {
  std::uint64_t first_seed = 1;
  std::uint64_t seeds = 0;
};
SeedRange shard_range(std::uint64_t first_seed, std::uint64_t seeds, std::uint64_t index, std::uint64_t count);

struct ExploreFailure {
  std::uint64_t seed = 0;
  std::vector<std::string> reasons;
  std::string transcript_path;  // empty when not saved
};

struct ExploreRun {
  std::uint64_t seed = 0;
  std::string outcomes;  // every message's outcome word, space-separated
};

struct ExploreResult {
  std::uint64_t runs = 0;
  std::vector<ExploreFailure> failures;  // in seed order
  std::vector<ExploreRun> listed;        // with list_runs: every run, in seed order
};

// `progress(done, total, failures)` is called from the worker threads, serialized.
ExploreResult explore(const ExploreOptions& options,
                      const std::function<void(std::uint64_t, std::uint64_t, std::size_t)>& progress = {});

// The head of a run's transcript file: the format version, the seed, the OpenSSL version and the
// scenario; the run's body goes in its `body`.
sim::TranscriptFile transcript_head(const sim::Scenario& scenario, std::uint64_t seed);

// Runs the scenario again with a transcript and writes it to `path` (the file alone replays it).
bool save_transcript(const sim::Simulator& simulator, const sim::Scenario& scenario, std::uint64_t seed,
                     const std::string& path, std::string* error);

}  // namespace tlschan::matrix

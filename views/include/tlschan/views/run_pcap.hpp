// The pcapng of a simulator run re-created from its scenario and seed (a run with a recorder is the
// same run: the seed alone decides it): what `explore` writes beside each failure's transcript.
#pragma once

#include <cstdint>
#include <string>

#include "tlschan/expected.hpp"
#include "tlschan/sim/simulation.hpp"

namespace tlschan::views {

struct RecordedRun {
  std::string pcapng;   // the run's TCP streams with its TLS key log inside
  std::string key_log;  // the same key log in SSLKEYLOGFILE form
};

// Runs `scenario` under `seed` once more, recording it.
RecordedRun record_run(const sim::Simulator& simulator, const sim::Scenario& scenario, std::uint64_t seed);

// The pcapng beside a transcript: the same path with the extension .pcapng
// ("out/explore-seed-7.transcript" gives "out/explore-seed-7.pcapng").
std::string pcapng_path_beside(const std::string& transcript_path);

// Writes the pcapng of the run beside its transcript; the path written, or an error naming it.
Expected<std::string, std::string> write_pcapng_beside(const sim::Simulator& simulator,
                                                       const sim::Scenario& scenario, std::uint64_t seed,
                                                       const std::string& transcript_path);

// Writes `bytes` to `path` (created or truncated); an error naming the file.
Expected<std::string, std::string> write_bytes(const std::string& path, const std::string& bytes);

}  // namespace tlschan::views

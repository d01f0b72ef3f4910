// Transcript files: a run a person can read and the tool can replay. The file embeds the format
// version, the seed, the OpenSSL version and the scenario, so that it alone reproduces the run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tlschan/expected.hpp"
#include "tlschan/sim/scenario.hpp"

namespace tlschan::sim {

inline constexpr int transcript_version = 1;

struct TranscriptFile {
  int version = transcript_version;
  std::uint64_t seed = 0;
  std::string openssl;        // the OpenSSL version that recorded it
  std::string scenario_toml;  // the scenario, as print_scenario wrote it
  std::string body;           // the run, one event per line
};

std::string openssl_version();

std::string format_transcript(const TranscriptFile& t);
// Errors name the file and line: "FILE:LINE:1: error: ...".
Expected<TranscriptFile, std::string> parse_transcript(std::string_view text, const std::string& file_name);

struct Divergence {
  bool identical = true;
  bool tls_compared = true;   // false: another OpenSSL recorded it; TLS byte lines were skipped
  std::size_t line = 0;       // the body line (1-based) where the runs first differ
  std::string recorded;
  std::string replayed;
};

// Compares two run bodies line by line; without compare_tls, the lines of TLS bytes are skipped.
Divergence compare_runs(std::string_view recorded, std::string_view replayed, bool compare_tls);

}  // namespace tlschan::sim

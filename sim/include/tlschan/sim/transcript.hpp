// Transcript files: a run a person can read and the tool can replay. The file embeds the format
// version, the seed, the OpenSSL version and the scenario, so that it alone reproduces the run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/expected.hpp"
#include "tlschan/sim/scenario.hpp"

namespace tlschan::sim {

// v2 adds the `meddler` lines (what a meddler did: the bytes it changed, injected, dropped or
// answered itself); nothing else differs from v1, which is still read and replayed.
inline constexpr int transcript_version = 2;
inline constexpr int oldest_transcript_version = 1;

struct TranscriptFile {
  int version = transcript_version;
  std::uint64_t seed = 0;
  std::string openssl;        // the OpenSSL version that recorded it
  std::string scenario_toml;  // the scenario, as print_scenario wrote it
  std::string body;           // the run, one event per line
};

std::string openssl_version();

// The lines of a text, as views into it, without their line ends; a last line without one counts.
// (What the transcript reader and the views that read transcripts split on.)
std::vector<std::string_view> text_lines(std::string_view text);

std::string format_transcript(const TranscriptFile& t);
// Errors name the file and line: "FILE:LINE:1: error: ...".
Expected<TranscriptFile, std::string> parse_transcript(std::string_view text, const std::string& file_name);

struct Divergence {
  bool identical = true;
  bool tls_compared = true;   // false: another OpenSSL recorded it; TLS byte lines were skipped
  std::size_t line = 0;       // the body line (1-based) where the runs first differ
  std::size_t replayed_line = 0;  // the same place in the replayed body (TLS lines may be skipped)
  std::string recorded;
  std::string replayed;
};

// A run body as format `version` writes it: the lines of later versions left out (a v1 body has no
// `meddler` lines). Replaying a v1 file compares against this.
std::string body_in_version(std::string_view body, int version);

// Compares two run bodies line by line; without compare_tls, the lines of TLS bytes are skipped.
Divergence compare_runs(std::string_view recorded, std::string_view replayed, bool compare_tls);

}  // namespace tlschan::sim

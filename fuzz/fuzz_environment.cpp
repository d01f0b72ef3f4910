#include "fuzz_environment.hpp"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>

#include "fuzz_check.hpp"
#include "tlschan/matrix/explore.hpp"
#include "tlschan/sim/deterministic_tls.hpp"

namespace tlschan::fuzz {

void initialize() {
  std::string why;
  TLSCHAN_FUZZ_CHECK(sim::install_deterministic_rand(&why), "cannot make OpenSSL deterministic: " + why);
}

const sim::Simulator& simulator() {
  static const sim::Simulator instance = [] {
    auto created = sim::Simulator::create();
    TLSCHAN_FUZZ_CHECK(created.has_value(), "cannot create the simulator: " + created.error());
    return std::move(*created);
  }();
  return instance;
}

std::uint64_t input_seed(const std::uint8_t* data, std::size_t size) {
  // The standard library's hash is not instrumented, so this costs the target nothing.
  return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(data), size));
}

std::string transcript_request() {
  const char* path = std::getenv("TLSCHAN_TRANSCRIPT");
  return path != nullptr ? std::string(path) : std::string();
}

void write_transcript_if_requested(const sim::Scenario& scenario, std::uint64_t seed) {
  const std::string path = transcript_request();
  if (path.empty()) return;
  std::string error;
  if (matrix::save_transcript(simulator(), scenario, seed, path, &error)) {
    std::fprintf(stderr, "transcript: %s (replay: tlschan replay %s)\n", path.c_str(), path.c_str());
  } else {
    std::fprintf(stderr, "transcript: %s\n", error.c_str());
  }
}

}  // namespace tlschan::fuzz

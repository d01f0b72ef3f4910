// What every fuzz target sets up once: OpenSSL made deterministic (a seeded RAND provider installed
// before any SSL_CTX, the system openssl.cnf not loaded), and the simulator's TLS contexts (pinned
// options, the embedded test certificate), built once and reused by every input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tlschan/sim/scenario.hpp"
#include "tlschan/sim/simulation.hpp"

namespace tlschan::fuzz {

// From LLVMFuzzerInitialize: installs the deterministic RAND provider; aborts if OpenSSL refuses.
// With the simulator: also creates the simulator now, not inside the first input's run.
enum class WithSimulator : bool { no, yes };
void initialize(WithSimulator with = WithSimulator::no);

// The simulator, created on first use: its contexts are the healthy server (server_tls(ok)), the
// broken one that speaks only TLS 1.1 (server_tls(broken)) and the client (client_tls()).
const sim::Simulator& simulator();

// A seed for OpenSSL's randomness taken from the input, so that an input replays byte for byte.
std::uint64_t input_seed(const std::uint8_t* data, std::size_t size);

// The file named by TLSCHAN_TRANSCRIPT, or empty.
std::string transcript_request();

// When TLSCHAN_TRANSCRIPT names a file: runs the scenario the input stands for through the
// simulator and writes its transcript there (`tlschan replay FILE` replays it). Reports on stderr.
void write_transcript_if_requested(const sim::Scenario& scenario, std::uint64_t seed);

}  // namespace tlschan::fuzz

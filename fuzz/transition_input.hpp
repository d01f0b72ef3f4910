// The input of starttls_transition_fuzzer, read with FuzzedDataProvider: a whole simulator scenario
// (policies, TLS health, meddler, tlsswitchchannel, TLS port, latency, segmentation, messages,
// faults, retries, and scripted clients that inject their own bytes) and the seed it runs under.
// fuzz/make_seeds.py writes seeds in this layout; keep the two in step.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "tlschan/sim/scenario.hpp"

namespace tlschan::fuzz {

// Bounds that keep one run short: every scenario ends within a few thousand simulator events.
inline constexpr std::size_t max_body = 2048;
inline constexpr std::size_t max_script_chunk = 512;

struct TransitionInput {
  std::uint64_t seed = 0;
  sim::Scenario scenario;
};

TransitionInput read_transition_input(FuzzedDataProvider& in);

// A message body the client can send: CRLF line ends, no bare CR, bare LF or NUL, lines of at
// most 998 octets, ASCII (a scenario file holds its strings as UTF-8).
std::string sanitize_body(std::string_view raw);

// Bytes a scenario file can hold: every octet over 0x7f folded into ASCII.
std::string ascii(std::string_view raw);

}  // namespace tlschan::fuzz

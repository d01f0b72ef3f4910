// The simulator's own PRNG and range mapping. No standard-library distribution is used: their
// output differs between standard libraries, and the same seed must give the same run everywhere.
#pragma once

#include <cstdint>
#include <string_view>

namespace tlschan::sim {

// xoshiro256** seeded through splitmix64 (Blackman and Vigna).
class Prng {
 public:
  explicit Prng(std::uint64_t seed);

  std::uint64_t next();
  // Uniform in [0, bound), bound > 0 (Lemire's multiply-and-reject, exact).
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [lo, hi], lo <= hi.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi);
  // True with probability numerator/denominator.
  bool chance(std::uint64_t numerator, std::uint64_t denominator);

  // An independent generator for one purpose, derived from this one's seed and a label, so that
  // adding draws for one purpose never shifts another's.
  static Prng derive(std::uint64_t seed, std::string_view label);

 private:
  std::uint64_t s_[4];
};

// splitmix64 step, also a good 64-bit mixing function.
std::uint64_t splitmix64(std::uint64_t& state);

}  // namespace tlschan::sim

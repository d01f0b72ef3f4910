#include "tlschan/sim/prng.hpp"

#include <cstdio>
#include <cstdlib>

#include "tlschan/sim/check.hpp"

namespace tlschan::sim {

void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "tlschan simulator check failed: %s (%s:%d)\n", what, file, line);
  std::abort();
}

namespace {

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Prng::Prng(std::uint64_t seed) {
  std::uint64_t sm = seed;
  for (auto& s : s_) s = splitmix64(sm);
}

std::uint64_t Prng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Prng::below(std::uint64_t bound) {
  TLSCHAN_SIM_CHECK(bound > 0, "Prng::below with a bound of 0");
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * bound;
  auto low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::uint64_t Prng::between(std::uint64_t lo, std::uint64_t hi) {
  TLSCHAN_SIM_CHECK(lo <= hi, "Prng::between with lo above hi");
  if (hi - lo == ~0ULL) return next();
  return lo + below(hi - lo + 1);
}

bool Prng::chance(std::uint64_t numerator, std::uint64_t denominator) { return below(denominator) < numerator; }

Prng Prng::derive(std::uint64_t seed, std::string_view label) {
  // FNV-1a over the label, mixed with the seed.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : label) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  std::uint64_t state = seed ^ h;
  return Prng(splitmix64(state));
}

}  // namespace tlschan::sim

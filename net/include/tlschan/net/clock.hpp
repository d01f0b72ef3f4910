// The engine's time on real sockets: std::chrono::steady_clock, as a tlschan::Time (milliseconds
// since the steady clock's epoch). The engine's deadlines become real timers through these two.
#pragma once

#include <chrono>

#include "tlschan/time.hpp"

namespace tlschan::net {

inline Time steady_now() {
  return at(std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch()));
}

inline std::chrono::steady_clock::time_point to_steady(Time t) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(since_epoch(t)));
}

}  // namespace tlschan::net

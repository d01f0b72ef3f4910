// What the simulator's tests share: one Simulator (its TLS contexts are built once per test binary).
#pragma once

#include <gtest/gtest.h>

#include <utility>

#include "tlschan/sim/simulation.hpp"

namespace tlschan::sim::testing {

inline const Simulator& shared_simulator() {
  static const Simulator s = [] {
    auto made = Simulator::create();
    EXPECT_TRUE(made.has_value()) << (made ? "" : made.error());
    return std::move(*made);
  }();
  return s;
}

}  // namespace tlschan::sim::testing

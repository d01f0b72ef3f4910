// The whole outcome matrix through the simulator agrees with the oracle.
#include <gtest/gtest.h>

#include "tlschan/matrix/outcome_matrix.hpp"

namespace tlschan::matrix {
namespace {

const sim::Simulator& simulator() {
  static const sim::Simulator s = [] {
    auto made = sim::Simulator::create();
    EXPECT_TRUE(made.has_value()) << (made ? "" : made.error());
    return std::move(*made);
  }();
  return s;
}

TEST(OutcomeMatrix, EveryCellAgreesWithTheOracle) {
  const MatrixResult m = run_matrix(simulator(), 1);
  ASSERT_EQ(m.cells.size(), 126u);
  for (const auto& c : m.cells) {
    EXPECT_TRUE(c.agrees) << "client=" << to_string(c.client) << " server=" << to_string(c.server)
                          << " health=" << sim::to_string(c.health) << " meddler=" << sim::to_string(c.meddler)
                          << ": got " << c.outcome << ", want " << c.expected << " seed " << c.seed
                          << (c.violations.empty() ? "" : " violation: " + c.violations.front());
  }
  for (const auto& e : m.extra) EXPECT_TRUE(e.agrees) << e.name << ": got " << e.outcome << ", want " << e.expected;
}

}  // namespace
}  // namespace tlschan::matrix

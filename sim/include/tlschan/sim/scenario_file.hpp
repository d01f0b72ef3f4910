// Scenarios as TOML files (corpus/scenarios/). Errors name the file, the line, the column and the
// key at fault.
#pragma once

#include <string>
#include <string_view>

#include "tlschan/expected.hpp"
#include "tlschan/sim/scenario.hpp"

namespace tlschan::sim {

struct ScenarioError {
  std::string message;  // "FILE:LINE:COL: error: KEY: what was found, what was expected"
};

Expected<Scenario, ScenarioError> parse_scenario(std::string_view text, const std::string& file_name);
Expected<Scenario, ScenarioError> load_scenario(const std::string& path);

// TOML that parse_scenario reads back to the same scenario.
std::string print_scenario(const Scenario& scenario);

}  // namespace tlschan::sim

#pragma once

#include <CLI/CLI.hpp>

namespace tlschan::cli {

// `tlschan run`, `tlschan explore` and `tlschan replay`: the simulator on scenarios, on random
// scenarios, and on saved transcripts.
void add_simulation_commands(CLI::App& app, int& exit_code);

}  // namespace tlschan::cli

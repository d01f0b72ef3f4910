#pragma once

#include <CLI/CLI.hpp>

namespace tlschan::cli {

// `tlschan matrix`: every cell of the outcome matrix under every meddler through the simulator,
// checked against the oracle.
void add_matrix_command(CLI::App& app, int& exit_code);

}  // namespace tlschan::cli

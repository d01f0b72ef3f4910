#pragma once

#include <CLI/CLI.hpp>

namespace tlschan::cli {

// `tlschan pairs`: a client session against a server session in memory for every pair of policies
// and server TLS health, printing the outcome table.
void add_pairs_command(CLI::App& app, int& exit_code);

}  // namespace tlschan::cli

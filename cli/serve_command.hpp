#pragma once

#include <CLI/CLI.hpp>

namespace tlschan::cli {

// `tlschan serve`: a real SMTP server on the channel table (tlschan::net::run_serve).
void add_serve_command(CLI::App& app, int& exit_code);

}  // namespace tlschan::cli

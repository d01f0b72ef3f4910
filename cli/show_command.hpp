#pragma once

#include <CLI/CLI.hpp>

namespace tlschan::cli {

// `tlschan show FILE`: a transcript as a sequence diagram (text, SVG or one HTML page).
void add_show_command(CLI::App& app, int& exit_code);

}  // namespace tlschan::cli

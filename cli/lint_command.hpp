#pragma once

#include <CLI/CLI.hpp>

namespace tlschan::cli {

// `tlschan lint DIR`: checks DIR/imta.cnf and DIR/dispatcher.cnf, prints every error and warning,
// then a table of the channels. Exit 0 without errors (warnings allowed), 1 with errors.
void add_lint_command(CLI::App& app, int& exit_code);

}  // namespace tlschan::cli

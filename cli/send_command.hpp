#pragma once

#include <CLI/CLI.hpp>

namespace tlschan::cli {

// `tlschan send`: one real delivery attempt under a channel's client policy (tlschan::net::deliver).
void add_send_command(CLI::App& app, int& exit_code);

}  // namespace tlschan::cli

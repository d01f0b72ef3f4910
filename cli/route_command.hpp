#pragma once

#include <CLI/CLI.hpp>

namespace tlschan::cli {

// `tlschan route DOMAIN [--config DIR]`: the outgoing channel the rewrite rules give DOMAIN, and
// its client policy. Without --config, the embedded default configuration.
void add_route_command(CLI::App& app, int& exit_code);

}  // namespace tlschan::cli

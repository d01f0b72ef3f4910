#pragma once

#include <CLI/CLI.hpp>

namespace tlschan::cli {

// `tlschan probe HOST:PORT`: grades a real SMTP server, one check per connection (tlschan::audit).
void add_probe_command(CLI::App& app, int& exit_code);

}  // namespace tlschan::cli

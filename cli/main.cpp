// tlschan: simulation and fuzzing harness for the TLS semantics of SMTP channels.
#include <CLI/CLI.hpp>

#include "client_check_command.hpp"
#include "lint_command.hpp"
#include "matrix_command.hpp"
#include "pairs_command.hpp"
#include "probe_command.hpp"
#include "route_command.hpp"
#include "send_command.hpp"
#include "serve_command.hpp"
#include "show_command.hpp"
#include "simulation_commands.hpp"
#include "tlschan/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tlschan: simulation and fuzzing harness for the TLS semantics of SMTP channels"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tlschan ") + tlschan::version);
  int exit_code = 0;
  tlschan::cli::add_pairs_command(app, exit_code);
  tlschan::cli::add_lint_command(app, exit_code);
  tlschan::cli::add_route_command(app, exit_code);
  tlschan::cli::add_matrix_command(app, exit_code);
  tlschan::cli::add_simulation_commands(app, exit_code);
  tlschan::cli::add_show_command(app, exit_code);
  tlschan::cli::add_serve_command(app, exit_code);
  tlschan::cli::add_send_command(app, exit_code);
  tlschan::cli::add_probe_command(app, exit_code);
  tlschan::cli::add_client_check_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    // Usage errors exit 64 (EX_USAGE); --help and --version exit 0.
    return rc == 0 ? 0 : 64;
  }
  return exit_code;
}

#include "matrix_command.hpp"

#include <iostream>
#include <memory>

#include "tlschan/sim/default_config.hpp"
#include "tlschan/matrix/outcome_matrix.hpp"

namespace tlschan::cli {

namespace {

struct MatrixOptions {
  bool json = false;
  std::uint64_t seed = 1;
  std::string config;  // empty: the embedded default configuration
};

int run_matrix_command(const MatrixOptions& o) {
  auto config = o.config.empty() ? parse_config(sim::default_config_text()) : load_config(o.config);
  if (!config) {
    for (const auto& d : config.error()) std::cerr << format_diagnostic(d) << "\n";
    return 1;
  }
  auto simulator = sim::Simulator::create();
  if (!simulator) {
    std::cerr << "tlschan matrix: " << simulator.error() << "\n";
    return 1;
  }
  if (!o.json) {
    std::cout << "tlschan matrix: seed " << o.seed << ", configuration "
              << (o.config.empty() ? "embedded default (corpus/configs/default)" : o.config) << "\n\n";
  }
  const matrix::MatrixResult m = matrix::run_matrix(*simulator, o.seed, [&](std::size_t done, std::size_t total) {
    if (!o.json && (done % 22 == 0 || done == total)) std::cerr << "  " << done << "/" << total << " runs\r" << std::flush;
  }, &*config);
  if (!o.json) std::cerr << "\n";
  std::cout << (o.json ? matrix::to_json(m) : matrix::to_table(m));
  if (!m.all_agree() && !o.json) {
    std::cout << "reproduce a cell: tlschan matrix --seed " << o.seed << " (each cell's own seed is in --json)\n";
  }
  return m.all_agree() ? 0 : 1;
}

}  // namespace

void add_matrix_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<MatrixOptions>();
  auto* cmd = app.add_subcommand(
      "matrix",
      "Run every cell of the outcome matrix (client policy x server policy x server TLS health) under "
      "every meddler (none, strip, refuse, tamper, inject-command, inject-response) through the "
      "simulator, plus the TLS-port and tlsswitchchannel rows, and check each against the oracle. "
      "Exit 0 iff all agree.");
  cmd->add_flag("--json", options->json, "Print {\"cells\": [...], \"extra\": [...]} instead of the table");
  cmd->add_option("--seed", options->seed, "Seed the cells' seeds derive from")->capture_default_str();
  cmd->add_option("--config", options->config,
                  "Configuration folder (imta.cnf, dispatcher.cnf) whose services and channels add rows; "
                  "default: the embedded corpus/configs/default")
      ->check(CLI::ExistingDirectory);
  cmd->callback([options, &exit_code] { exit_code = run_matrix_command(*options); });
}

}  // namespace tlschan::cli

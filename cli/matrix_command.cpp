#include "matrix_command.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "exit_status.hpp"
#include "tlschan/matrix/outcome_matrix.hpp"
#include "tlschan/sim/default_config.hpp"
#include "tlschan/views/matrix_page.hpp"

namespace tlschan::cli {

namespace {

struct MatrixOptions {
  bool json = false;
  std::uint64_t seed = 1;
  std::string config;  // empty: the embedded default configuration
  std::string html;    // where the page goes; empty: no page
};

// The page's title and the lines under it: what ran, and how to run it again.
views::MatrixPage matrix_page(const matrix::MatrixResult& m, const MatrixOptions& o) {
  views::MatrixPage page = matrix::to_page(m);
  page.title = "tlschan outcome matrix, seed " + std::to_string(o.seed);
  page.facts.push_back("Every cell of the outcome matrix (client policy x server policy x server TLS health) under every "
                       "meddler, run through the simulator and checked against the oracle (semantics.md section 5).");
  page.facts.push_back("configuration: " + (o.config.empty() ? std::string("embedded default (corpus/configs/default)") : o.config));
  page.facts.push_back("run it again: tlschan matrix --seed " + std::to_string(o.seed) +
                       (o.config.empty() ? "" : " --config " + o.config) + " --html OUT (the same page, byte for byte)");
  return page;
}

int run_matrix_command(const MatrixOptions& o) {
  auto config = o.config.empty() ? parse_config(sim::default_config_text()) : load_config(o.config);
  if (!config) {
    for (const auto& d : config.error()) std::cerr << format_diagnostic(d) << "\n";
    return 1;
  }
  // The page's file is opened before the runs, so that a path that cannot be written fails at once.
  std::ofstream page_file;
  if (!o.html.empty()) {
    page_file.open(o.html, std::ios::binary | std::ios::trunc);
    if (!page_file) {
      std::cerr << "tlschan matrix: cannot write the page to " << o.html << ": " << std::strerror(errno) << "\n";
      return exit_cant_create;
    }
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
  }, &*config, o.html.empty() ? matrix::Transcripts::drop : matrix::Transcripts::keep);
  if (!o.json) std::cerr << "\n";
  std::cout << (o.json ? matrix::to_json(m) : matrix::to_table(m));
  if (!o.html.empty()) {
    const std::string html = views::matrix_page_html(matrix_page(m, o));
    page_file.write(html.data(), static_cast<std::streamsize>(html.size()));
    if (!page_file.flush()) {
      std::cerr << "tlschan matrix: cannot write the page to " << o.html << ": " << std::strerror(errno) << "\n";
      return exit_cant_create;
    }
    page_file.close();
    if (!o.json) std::cout << "page: " << o.html << " (each cell opens its run)\n";
  }
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
      "Exit 0 iff all agree, 1 if a cell or row disagrees (or the configuration is wrong), 73 if the "
      "--html page cannot be written.");
  cmd->add_flag("--json", options->json, "Print {\"cells\": [...], \"extra\": [...]} instead of the table");
  cmd->add_option("--seed", options->seed, "Seed the cells' seeds derive from")->capture_default_str();
  cmd->add_option("--config", options->config,
                  "Configuration folder (imta.cnf, dispatcher.cnf) whose services and channels add rows; "
                  "default: the embedded corpus/configs/default")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--html", options->html,
                  "Also write the matrix as one self-contained HTML page (no script, no fetched file): a grid "
                  "per meddler, cells coloured by outcome, each opening its run's transcript; then the other rows")
      ->type_name("OUT");
  cmd->callback([options, &exit_code] { exit_code = run_matrix_command(*options); });
}

}  // namespace tlschan::cli

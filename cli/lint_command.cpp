#include "lint_command.hpp"

#include <algorithm>
#include <array>
#include <iostream>
#include <string>
#include <vector>

#include "tlschan/config.hpp"
#include "tlschan/config_lint.hpp"

namespace tlschan::cli {

namespace {

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out.empty() ? "-" : out;
}

void print_channel_table(const std::vector<ChannelSummary>& rows) {
  using Row = std::array<std::string, 6>;
  std::vector<Row> cells{{"channel", "server", "client", "switch", "tag", "reached by"}};
  for (const ChannelSummary& r : rows) {
    cells.push_back({r.name, to_string(r.server), to_string(r.client), r.switch_target.value_or("-"), r.tag,
                     joined(r.reached_by)});
  }
  std::array<std::size_t, 6> width{};
  for (const Row& row : cells) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const Row& row : cells) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

int run_lint(const std::string& dir) {
  const auto config = load_config(dir);
  if (!config) {
    for (const Diagnostic& d : config.error()) std::cout << format_diagnostic(d) << "\n";
    return 1;
  }
  for (const Diagnostic& d : config->warnings) std::cout << format_diagnostic(d) << "\n";
  if (!config->warnings.empty()) std::cout << "\n";
  print_channel_table(summarize_channels(*config));
  return 0;
}

}  // namespace

void add_lint_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "lint",
      "Check DIR/imta.cnf and DIR/dispatcher.cnf (optional): print each error and warning as "
      "FILE:LINE:COL: error|warning: ..., then each channel with its server and client policy, switch "
      "target, tag and what leads to it");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("DIR", *dir, "Configuration folder holding imta.cnf and dispatcher.cnf")->required();
  cmd->footer(
      "Exit status: 0 no errors (warnings allowed), 1 errors (also a missing DIR or imta.cnf), 64 usage.\n");
  cmd->callback([&exit_code, dir] { exit_code = run_lint(*dir); });
}

}  // namespace tlschan::cli

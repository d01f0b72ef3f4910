#include "route_command.hpp"
#include "exit_status.hpp"

#include <iostream>
#include <memory>
#include <string>

#include "tlschan/sim/default_config.hpp"
#include "tlschan/config.hpp"

namespace tlschan::cli {

namespace {

constexpr int exit_unroutable = 1;

int run_route(const std::string& domain, const std::string& dir) {
  const auto config = dir.empty() ? parse_config(sim::default_config_text()) : load_config(dir);
  if (!config) {
    for (const Diagnostic& d : config.error()) std::cerr << format_diagnostic(d) << "\n";
    return exit_config;
  }
  const auto route = config->table.route(domain);
  if (!route) {
    std::cerr << "tlschan route: " << route.error() << "\n";
    return exit_unroutable;
  }
  const RewriteRule& rule = *route->rule;
  std::cout << "channel: " << route->channel->name.text << "\n"
            << "client policy: " << to_string(route->channel->policy.client) << "\n"
            << "tag: " << route->channel->tag.text << "\n"
            << "rule: " << rule.pattern.text << "  " << rule.rewrite.text << " (" << config->table.file()
            << ":" << format_position(rule.pattern.position) << ")\n";
  return 0;
}

}  // namespace

void add_route_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "route",
      "Print the outgoing channel the rewrite rules of imta.cnf give DOMAIN (the most specific rule "
      "wins: exact domain, then .parent domains from the longest, then $*), and its client policy");
  auto domain = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  cmd->add_option("DOMAIN", *domain, "Domain (or address) to route")->required();
  cmd->add_option("--config", *dir, "Configuration folder holding imta.cnf (default: the embedded default)");
  cmd->footer(
      "Exit status: 0 routed, 1 not a domain or no rule matches, 64 usage, 78 configuration error.\n");
  cmd->callback([&exit_code, domain, dir] { exit_code = run_route(*domain, *dir); });
}

}  // namespace tlschan::cli

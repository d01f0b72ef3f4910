// A whole configuration folder: imta.cnf (required) and dispatcher.cnf (optional), checked
// together. A configuration with an error is never half-applied: either everything loads, or the
// caller gets the errors.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tlschan/channel_table.hpp"
#include "tlschan/config_diagnostics.hpp"
#include "tlschan/dispatcher_config.hpp"
#include "tlschan/expected.hpp"

namespace tlschan {

struct Config {
  ChannelTable table;
  std::optional<DispatcherConfig> dispatcher;  // absent when the folder has no dispatcher.cnf
  std::vector<Diagnostic> warnings;            // what `tlschan lint` warns about (config_lint.hpp)
};

// The texts of a configuration and the names their diagnostics use.
struct ConfigText {
  std::string imta_cnf;
  std::string imta_cnf_name = "imta.cnf";
  std::optional<std::string> dispatcher_cnf;
  std::string dispatcher_cnf_name = "dispatcher.cnf";
};

// Parses both files, checks that every service's incoming channel is a channel of the table, and
// collects the warnings. On failure: every error of both files.
Expected<Config, std::vector<Diagnostic>> parse_config(const ConfigText& text);

// What parse_config does once both files are parsed (it is parse_imta_cnf, parse_dispatcher_cnf,
// then this): a caller that has parsed them already (a fuzz target, which checks each file's own
// result first) gets the same result without parsing them again. The names are those the files
// were parsed under.
Expected<Config, std::vector<Diagnostic>> assemble_config(
    Expected<ChannelTable, std::vector<Diagnostic>> table,
    std::optional<Expected<DispatcherConfig, std::vector<Diagnostic>>> dispatcher,
    const std::string& imta_cnf_name, const std::string& dispatcher_cnf_name);

// Reads DIR/imta.cnf and, if present, DIR/dispatcher.cnf; diagnostics name the files by their path.
// A missing folder or imta.cnf, or an unreadable file, is one error naming it.
Expected<Config, std::vector<Diagnostic>> load_config(const std::filesystem::path& dir);

// The channel a service hands its connections to (it exists in a loaded Config).
const Channel& incoming_channel(const Config& config, const DispatcherService& service);

}  // namespace tlschan

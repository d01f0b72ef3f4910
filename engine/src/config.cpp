#include "tlschan/config.hpp"

#include <cassert>
#include <fstream>
#include <system_error>

#include "config_lines.hpp"
#include "tlschan/config_lint.hpp"

namespace tlschan {

namespace {

constexpr std::uintmax_t max_file_size = 64u * 1024 * 1024;

void append(std::vector<Diagnostic>& to, const std::vector<Diagnostic>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

Diagnostic file_error(const std::filesystem::path& path, std::string message) {
  return {path.string(), {}, Severity::error, std::move(message)};
}

// The content of a file, or the error naming it.
Expected<std::string, Diagnostic> read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return unexpected(file_error(path, "not found, expected a file"));
  if (!std::filesystem::is_regular_file(path, ec)) {
    return unexpected(file_error(path, "found something other than a file, expected a file"));
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return unexpected(file_error(path, "cannot be read: " + ec.message()));
  if (size > max_file_size) {
    return unexpected(file_error(
        path, "found " + std::to_string(size) + " bytes, expected at most " + std::to_string(max_file_size)));
  }
  std::ifstream in(path, std::ios::binary);
  std::string content(static_cast<std::size_t>(size), '\0');
  if (!in || !in.read(content.data(), static_cast<std::streamsize>(size))) {
    return unexpected(file_error(path, "cannot be read"));
  }
  return content;
}

}  // namespace

Expected<Config, std::vector<Diagnostic>> parse_config(const ConfigText& text) {
  auto table = parse_imta_cnf(text.imta_cnf, text.imta_cnf_name);
  std::optional<Expected<DispatcherConfig, std::vector<Diagnostic>>> dispatcher;
  if (text.dispatcher_cnf) dispatcher = parse_dispatcher_cnf(*text.dispatcher_cnf, text.dispatcher_cnf_name);
  return assemble_config(std::move(table), std::move(dispatcher), text.imta_cnf_name,
                         text.dispatcher_cnf_name);
}

Expected<Config, std::vector<Diagnostic>> assemble_config(
    Expected<ChannelTable, std::vector<Diagnostic>> table,
    std::optional<Expected<DispatcherConfig, std::vector<Diagnostic>>> dispatcher,
    const std::string& imta_cnf_name, const std::string& dispatcher_cnf_name) {
  std::vector<Diagnostic> errors;
  if (!table) append(errors, table.error());
  if (dispatcher && !*dispatcher) append(errors, dispatcher->error());
  if (table && dispatcher && *dispatcher) {
    for (const DispatcherService& service : (*dispatcher)->services) {
      if (table->find_by_name(service.channel.text) != nullptr) continue;
      const bool defaulted = service.channel.position.line == 0;
      errors.push_back({dispatcher_cnf_name,
                        defaulted ? service.name.position : service.channel.position, Severity::error,
                        "found service " + config_text::in_quotes(service.name.text) +
                            " handing connections to channel " +
                            config_text::in_quotes(service.channel.text) +
                            (defaulted ? " (the default of PARAMETER=CHANNEL=)" : "") +
                            ", expected a channel of " + imta_cnf_name});
    }
  }
  if (!errors.empty()) return unexpected(std::move(errors));

  Config config{std::move(table).value(), std::nullopt, {}};
  if (dispatcher) config.dispatcher = std::move(*dispatcher).value();
  config.warnings = config_warnings(config.table, config.dispatcher ? &*config.dispatcher : nullptr);
  return config;
}

Expected<Config, std::vector<Diagnostic>> load_config(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return unexpected(std::vector{file_error(dir, "no such folder, expected a folder holding imta.cnf")});
  }
  const std::filesystem::path imta = dir / "imta.cnf";
  const std::filesystem::path dispatcher = dir / "dispatcher.cnf";
  ConfigText text;
  text.imta_cnf_name = imta.string();
  text.dispatcher_cnf_name = dispatcher.string();
  auto imta_text = read_file(imta);
  if (!imta_text) return unexpected(std::vector{imta_text.error()});
  text.imta_cnf = std::move(imta_text).value();
  if (std::filesystem::exists(dispatcher, ec)) {
    auto dispatcher_text = read_file(dispatcher);
    if (!dispatcher_text) return unexpected(std::vector{dispatcher_text.error()});
    text.dispatcher_cnf = std::move(dispatcher_text).value();
  }
  return parse_config(text);
}

const Channel& incoming_channel(const Config& config, const DispatcherService& service) {
  const Channel* channel = config.table.find_by_name(service.channel.text);
  assert(channel != nullptr);  // parse_config checked it
  return *channel;
}

}  // namespace tlschan

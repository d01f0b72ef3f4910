// parse_dispatcher_cnf on arbitrary text, then parse_config with the default channel table
// (semantics.md section 6). dispatcher.cnf has no printer, so there is no round trip; checks, for
// every input:
// - a refused file comes with errors, each at a line and column of the file;
// - every service has a name and an incoming channel, every port is 1..65535;
// - with the default channel table, either the configuration loads and every service's incoming
//   channel is a channel of the table, or one of the errors names dispatcher.cnf;
// - the lint checks (config_warnings, summarize_channels) run on every configuration that loads.
// The configuration is parse_config's, assembled (assemble_config) from the dispatcher.cnf parsed
// once per input and the default imta.cnf parsed once per process: the same result without
// parsing the input twice and the same fixed text every time.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config_diagnostics_check.hpp"
#include "default_channel_table.hpp"
#include "fuzz_check.hpp"
#include "tlschan/config.hpp"
#include "tlschan/config_lint.hpp"
#include "tlschan/dispatcher_config.hpp"

namespace {

const std::string default_imta_cnf = tlschan::fuzz::embedded::default_imta_cnf;

// The default imta.cnf, parsed once: each input gets a copy.
const tlschan::Expected<tlschan::ChannelTable, std::vector<tlschan::Diagnostic>>& default_table() {
  static const auto table = tlschan::parse_imta_cnf(default_imta_cnf, "imta.cnf");
  return table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto dispatcher = tlschan::parse_dispatcher_cnf(text, "dispatcher.cnf");
  if (!dispatcher) {
    tlschan::fuzz::check_diagnostics(dispatcher.error(), {{"dispatcher.cnf", text}}, /*refused=*/true);
    return 0;
  }
  for (const auto& service : dispatcher->services) {
    TLSCHAN_FUZZ_CHECK(!service.channel.text.empty(),
                       "service " + service.name.text + " without an incoming channel");
    for (const auto& port : service.ports)
      TLSCHAN_FUZZ_CHECK(port.number != 0, "port 0 in service " + service.name.text);
    for (const auto& port : service.tls_ports)
      TLSCHAN_FUZZ_CHECK(port.number != 0, "TLS port 0 in service " + service.name.text);
  }

  auto config =
      tlschan::assemble_config(default_table(), std::move(dispatcher), "imta.cnf", "dispatcher.cnf");
  const auto files = {tlschan::fuzz::ConfigFile{"imta.cnf", default_imta_cnf},
                      tlschan::fuzz::ConfigFile{"dispatcher.cnf", text}};
  if (!config) {
    tlschan::fuzz::check_diagnostics(config.error(), files, /*refused=*/true);
    bool names_dispatcher = false;
    for (const auto& d : config.error()) names_dispatcher = names_dispatcher || d.file == "dispatcher.cnf";
    TLSCHAN_FUZZ_CHECK(names_dispatcher, "the default imta.cnf is refused, or an error names no file");
    return 0;
  }
  TLSCHAN_FUZZ_CHECK(config->dispatcher.has_value(), "the dispatcher.cnf given was lost");
  for (const auto& service : config->dispatcher->services) {
    const tlschan::Channel& channel = tlschan::incoming_channel(*config, service);
    TLSCHAN_FUZZ_CHECK(config->table.find_by_name(channel.name.text) == &channel,
                       "service " + service.name.text + " hands connections to a channel not in the table");
  }
  tlschan::fuzz::check_diagnostics(config->warnings, files, /*refused=*/false);
  const auto summary = tlschan::summarize_channels(*config);
  TLSCHAN_FUZZ_CHECK(summary.size() == config->table.channels().size(),
                     "the lint summary has another number of channels");
  return 0;
}

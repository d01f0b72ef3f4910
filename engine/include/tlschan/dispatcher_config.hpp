// The services of a `dispatcher.cnf` file (semantics.md section 6): `option=value` lines, `!`
// comments, global options before the first `[SERVICE=name]` section, and per service `PORT=`,
// `TLS_PORT=` (comma-separated lists of ports) and `PARAMETER=CHANNEL=name`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/config_diagnostics.hpp"
#include "tlschan/expected.hpp"

namespace tlschan {

// The incoming channel of a service without PARAMETER=CHANNEL=.
inline constexpr std::string_view default_incoming_channel = "tcp_local";

struct DispatcherOption {
  Token name;   // as written (options compare without regard to case)
  Token value;  // the text after '=', trimmed; its position is where it starts
};

struct ServicePort {
  std::uint16_t number = 0;
  SourcePosition position;
};

struct DispatcherService {
  Token name;                                                // from `[SERVICE=name]`
  std::vector<ServicePort> ports;                            // PORT: STARTTLS on the regular port
  std::vector<ServicePort> tls_ports;                        // TLS_PORT: implicit TLS (RFC 8314)
  Token channel{std::string(default_incoming_channel), {}};  // incoming channel; line 0: the default
  std::vector<DispatcherOption> options;                     // every option line of the section, as written
};

struct DispatcherConfig {
  std::string file;
  // Options before the first section. They apply to every service that does not set them itself;
  // PORT, TLS_PORT and PARAMETER are inherited that way.
  std::vector<DispatcherOption> global_options;
  std::vector<DispatcherService> services;
};

// Parses a dispatcher.cnf text. Either the whole configuration or every error found (at most 100).
// Whether a service's channel exists is checked against a channel table by parse_config.
Expected<DispatcherConfig, std::vector<Diagnostic>> parse_dispatcher_cnf(std::string_view text,
                                                                         std::string file_name);

}  // namespace tlschan

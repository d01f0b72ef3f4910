// `tlschan serve`: the configuration's services (or --listen / --tls-listen) as listeners, TLS from
// --cert/--key (without them, or when they fail to load, TLS is unavailable: semantics.md 3.3), the
// spool, the connection limit, and SIGINT/SIGTERM as a graceful shutdown. Started without a
// configuration folder it needs no file at all: the built-in configuration, a throw-away
// certificate made in memory, free ports for the ones it may not bind, and a new spool folder.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tlschan/config.hpp"
#include "tlschan/net/spool.hpp"
#include "tlschan/time.hpp"

namespace tlschan::net {

struct ServeSettings {
  std::filesystem::path config_dir;
  std::vector<std::string> listen;         // A:P, STARTTLS; replace the services' PORTs
  std::vector<std::string> tls_listen;     // A:P, implicit TLS; replace the services' TLS_PORTs
  std::string channel;                     // the incoming channel of --listen / --tls-listen (default below)
  std::string bind_address = "127.0.0.1";  // where the services' own ports are bound
  std::string cert_file;
  std::string key_file;
  std::filesystem::path spool_dir;        // empty: a new folder under the temporary folder
  SpoolSync spool_sync = SpoolSync::file_system;  // how a batch of messages is synced
  // Used when config_dir is empty (the tlschan command passes its embedded default). Then, and
  // only then, no --cert means a throw-away self-signed certificate made in memory, and a
  // dispatcher port that cannot be bound (privileged, taken) is replaced by a free one.
  std::optional<ConfigText> builtin_config;
  std::size_t max_connections = 1000;
  std::string hostname;  // empty: the machine's host name
  Duration idle_timeout = minutes(5);
  Duration shutdown_grace = seconds(30);
};

// Exit status of run_serve.
inline constexpr int serve_exit_ok = 0;
inline constexpr int serve_exit_failure = 1;  // cannot listen, cannot open the spool
inline constexpr int serve_exit_usage = 64;
inline constexpr int serve_exit_config = 78;

// Runs until SIGINT or SIGTERM and every connection is closed. `out` gets the bound addresses, then
// one line per connection and per message; `err` gets configuration messages and errors.
int run_serve(const ServeSettings& settings, std::ostream& out, std::ostream& err);

}  // namespace tlschan::net

#include "serve_command.hpp"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tlschan/net/serve.hpp"
#include "tlschan/sim/default_config.hpp"

namespace tlschan::cli {

namespace {

struct ServeOptions {
  std::string config_dir;
  std::string spool_dir;
  std::string spool_sync = "file-system";
  std::vector<std::string> listen;
  std::vector<std::string> tls_listen;
  std::string cert_file;
  std::string key_file;
  std::string channel;
  std::string bind_address = "127.0.0.1";
  std::size_t max_connections = 1000;
  std::string hostname;
  double idle_timeout_s = 300;
  double shutdown_grace_s = 30;
};

tlschan::Duration from_seconds(double s) {
  return tlschan::Duration(static_cast<std::int64_t>(s * 1000));
}

int run(const ServeOptions& o) {
  net::ServeSettings s;
  s.config_dir = o.config_dir;
  if (o.config_dir.empty()) s.builtin_config = sim::default_config_text();
  s.spool_dir = o.spool_dir;
  s.spool_sync = o.spool_sync == "each-file" ? net::SpoolSync::each_file : net::SpoolSync::file_system;
  s.listen = o.listen;
  s.tls_listen = o.tls_listen;
  s.cert_file = o.cert_file;
  s.key_file = o.key_file;
  s.channel = o.channel;
  s.bind_address = o.bind_address;
  s.max_connections = o.max_connections;
  s.hostname = o.hostname;
  s.idle_timeout = from_seconds(o.idle_timeout_s);
  s.shutdown_grace = from_seconds(o.shutdown_grace_s);
  try {
    return net::run_serve(s, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "tlschan serve: " << e.what() << "\n";
    return net::serve_exit_failure;
  }
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Run a real SMTP server on the channel table: the dispatcher services' ports (PORT: STARTTLS, "
      "TLS_PORT: implicit TLS), each connection handed to its service's incoming channel; accepted "
      "messages are written to the spool and synced before the 250");
  auto o = std::make_shared<ServeOptions>();
  cmd->add_option("--config", o->config_dir,
                  "Configuration folder (imta.cnf, dispatcher.cnf); without it the built-in default, a "
                  "throw-away certificate unless --cert, and free ports for those it may not bind");
  cmd->add_option("--spool", o->spool_dir,
                  "Spool folder: <id>.eml and <id>.json per message (created if missing; default: a new "
                  "folder under $TMPDIR or /tmp, printed)");
  cmd->add_option("--spool-sync", o->spool_sync,
                  "How a batch of messages is synced before its 250s: file-system (one syncfs of the "
                  "spool's file system per batch; it also writes what other programs left unwritten "
                  "there) or each-file (an fsync of each file, several at once, for a file system "
                  "shared with heavy writers; a failed sync fails that message alone)")
      ->check(CLI::IsMember({"file-system", "each-file"}))
      ->capture_default_str();
  cmd->add_option("--listen", o->listen,
                  "A:P for STARTTLS (repeatable); replaces the services' PORTs; port 0: a free port");
  cmd->add_option("--tls-listen", o->tls_listen,
                  "A:P for implicit TLS (repeatable); replaces the services' TLS_PORTs");
  auto* cert =
      cmd->add_option("--cert", o->cert_file,
                      "Server certificate (PEM); without it TLS is unavailable (with --config) or a "
                      "throw-away one is made in memory (without --config)");
  auto* key = cmd->add_option("--key", o->key_file, "Server private key (PEM)");
  cert->needs(key);
  key->needs(cert);
  cmd->add_option(
      "--channel", o->channel,
      "Incoming channel of --listen/--tls-listen (default: that of the first service with such a port)");
  cmd->add_option("--bind", o->bind_address, "Address the services' own ports are bound to")
      ->capture_default_str();
  cmd->add_option("--max-connections", o->max_connections,
                  "Concurrent connections; at the limit accepting pauses")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--hostname", o->hostname, "Name in the greeting and EHLO reply (default: the host name)");
  cmd->add_option("--idle-timeout", o->idle_timeout_s, "Seconds without a byte before 421 4.4.2 and close")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--shutdown-grace", o->shutdown_grace_s,
                  "Seconds sessions in flight may go on after SIGINT/SIGTERM")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->footer(
      "Prints `listening MODE ADDRESS:PORT ...` per listener, then one line per connection and per "
      "message; without --config first `config:`, `tls:` and `spool:` lines saying what it made.\nExit status: 0 after SIGINT/SIGTERM, 1 cannot listen or open the spool, 64 usage, 78 "
      "configuration error.\n");
  cmd->callback([&exit_code, o] { exit_code = run(*o); });
}

}  // namespace tlschan::cli

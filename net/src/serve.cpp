#include "tlschan/net/serve.hpp"

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/host_name.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "tlschan/config.hpp"
#include "tlschan/net/endpoint.hpp"
#include "tlschan/net/server.hpp"
#include "tlschan/net/spool.hpp"
#include "tlschan/net/throwaway_cert.hpp"

namespace tlschan::net {

namespace {

struct ServeError {
  int exit_code;
  std::string message;
};

// Descriptors serve needs besides one per connection: listeners, stdio, OpenSSL, and the spool's
// files (two per message of a batch, one batch per spool thread).
const rlim_t spare_descriptors = 64 + 2 * Spool::max_batch * Spool::max_batches_in_flight;

// Raises RLIMIT_NOFILE to fit max_connections; returns the number of connections it fits.
std::size_t fit_descriptor_limit(std::size_t max_connections, std::ostream& out) {
  const rlim_t need = static_cast<rlim_t>(max_connections) + spare_descriptors;
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return max_connections;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
    rlimit want = lim;
    want.rlim_cur = need;
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < need) want.rlim_max = need;  // works as root
    if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
      want.rlim_max = lim.rlim_max;
      want.rlim_cur = lim.rlim_max;
      setrlimit(RLIMIT_NOFILE, &want);
    }
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
    const std::size_t fits =
        lim.rlim_cur > spare_descriptors ? static_cast<std::size_t>(lim.rlim_cur - spare_descriptors) : 1;
    out << "limits: the open-file limit is " << lim.rlim_cur << "; at most " << fits
        << " connections instead of " << max_connections << std::endl;
    return fits;
  }
  return max_connections;
}

Expected<boost::asio::ip::tcp::endpoint, ServeError> numeric_endpoint(const std::string& text,
                                                                      const char* option) {
  const auto hp = parse_host_port(text);
  if (!hp) return unexpected(ServeError{serve_exit_usage, std::string(option) + ": " + hp.error()});
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(hp->host, ec);
  if (ec) {
    return unexpected(ServeError{
        serve_exit_usage, std::string(option) + ": found '" + hp->host + "', expected a numeric IP address"});
  }
  return boost::asio::ip::tcp::endpoint(address, hp->port);
}

ServerConfig session_config(const Channel& channel, const ServeSettings& settings,
                            const std::optional<TlsContext>& tls, ServerMode mode) {
  ServerConfig c;
  c.hostname = settings.hostname;
  c.channel = channel.name.text;
  c.policy = channel.policy.server;
  c.switch_target = channel.policy.switch_target;
  c.tls = tls;
  c.limits.idle_timeout = settings.idle_timeout;
  c.mode = mode;
  c.acknowledge_messages = true;
  return c;
}

// The incoming channel of --listen / --tls-listen: --channel, else that of the first service with
// such a port, else of the first service, else tcp_local.
Expected<const Channel*, ServeError> override_channel(const Config& config, const ServeSettings& settings,
                                                      bool tls_port) {
  std::string name = settings.channel;
  if (name.empty() && config.dispatcher) {
    for (const auto& s : config.dispatcher->services) {
      if (!(tls_port ? s.tls_ports : s.ports).empty()) {
        name = s.channel.text;
        break;
      }
    }
    if (name.empty() && !config.dispatcher->services.empty())
      name = config.dispatcher->services.front().channel.text;
  }
  if (name.empty()) name = std::string(default_incoming_channel);
  const Channel* channel = config.table.find_by_name(name);
  if (!channel) {
    const int code = settings.channel.empty() ? serve_exit_config : serve_exit_usage;
    return unexpected(ServeError{code, "found the incoming channel '" + name +
                                           "', expected the name of a channel of " + config.table.file()});
  }
  return channel;
}

Expected<std::vector<Listener>, ServeError> make_listeners(const Config& config,
                                                           const ServeSettings& settings,
                                                           const std::optional<TlsContext>& tls) {
  std::vector<Listener> listeners;
  for (const bool tls_port : {false, true}) {
    const auto mode = tls_port ? ServerMode::tls_port : ServerMode::regular_port;
    const auto& overrides = tls_port ? settings.tls_listen : settings.listen;
    if (!overrides.empty()) {
      const auto channel = override_channel(config, settings, tls_port);
      if (!channel) return unexpected(channel.error());
      for (const auto& text : overrides) {
        const auto endpoint = numeric_endpoint(text, tls_port ? "--tls-listen" : "--listen");
        if (!endpoint) return unexpected(endpoint.error());
        listeners.push_back({*endpoint, session_config(**channel, settings, tls, mode),
                             tls_port ? "--tls-listen" : "--listen"});
      }
      continue;
    }
    if (!config.dispatcher) continue;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(settings.bind_address, ec);
    if (ec)
      return unexpected(ServeError{
          serve_exit_usage, "--bind: found '" + settings.bind_address + "', expected a numeric IP address"});
    for (const auto& service : config.dispatcher->services) {
      const Channel& channel = incoming_channel(config, service);
      for (const auto& port : tls_port ? service.tls_ports : service.ports) {
        listeners.push_back({boost::asio::ip::tcp::endpoint(address, port.number),
                             session_config(channel, settings, tls, mode), service.name.text});
      }
    }
  }
  if (listeners.empty()) {
    return unexpected(ServeError{serve_exit_usage,
                                 "no port to listen on: give --listen or --tls-listen, or a "
                                 "dispatcher.cnf whose services have PORT or TLS_PORT"});
  }
  return listeners;
}

// A new, empty folder under the temporary folder ($TMPDIR or /tmp), for a start without --spool.
Expected<std::filesystem::path, std::string> new_spool_folder() {
  std::error_code ec;
  const auto base = std::filesystem::temp_directory_path(ec);
  if (ec) return unexpected("cannot find the temporary folder: " + ec.message());
  std::string name = (base / "tlschan-spool-XXXXXX").string();
  if (::mkdtemp(name.data()) == nullptr)
    return unexpected("cannot make a spool folder " + name + ": " + std::strerror(errno));
  return std::filesystem::path(name);
}

// The built-in configuration without --cert: a throw-away certificate, made in memory and said so.
std::optional<TlsContext> throwaway_tls(const ServeSettings& settings, std::string& why_unavailable,
                                        std::ostream& out) {
  const auto cert = make_throwaway_certificate(settings.hostname);
  if (!cert) {
    why_unavailable = cert.error().message;
    return std::nullopt;
  }
  auto ctx = TlsContext::server_from_pem(cert->cert_pem, cert->key_pem);
  if (!ctx) {
    why_unavailable = ctx.error().message;
    return std::nullopt;
  }
  out << "tls: a throw-away self-signed certificate made in memory for this run (CN=" << settings.hostname
      << ", SHA-256 " << cert->fingerprint << "), never written; give --cert and --key to keep one"
      << std::endl;
  return *ctx;
}

// TLS for every channel (semantics.md 2); unavailable without --cert/--key or when they do not load.
std::optional<TlsContext> server_tls(const ServeSettings& settings, std::string& why_unavailable) {
  if (settings.cert_file.empty() || settings.key_file.empty()) {
    why_unavailable = "no --cert and --key given";
    return std::nullopt;
  }
  auto ctx = TlsContext::server_from_files(settings.cert_file, settings.key_file);
  if (!ctx) {
    why_unavailable = ctx.error().message;
    return std::nullopt;
  }
  return *ctx;
}

}  // namespace

int run_serve(const ServeSettings& given, std::ostream& out, std::ostream& err) {
  ServeSettings settings = given;
  if (settings.hostname.empty()) settings.hostname = boost::asio::ip::host_name();
  if (settings.max_connections == 0) {
    err << "tlschan serve: --max-connections: expected at least 1\n";
    return serve_exit_usage;
  }

  const bool builtin = settings.config_dir.empty();
  if (builtin && !settings.builtin_config) {
    err << "tlschan serve: no configuration folder given\n";
    return serve_exit_usage;
  }
  const auto config = builtin ? parse_config(*settings.builtin_config) : load_config(settings.config_dir);
  if (!config) {
    for (const Diagnostic& d : config.error()) err << format_diagnostic(d) << "\n";
    return serve_exit_config;
  }
  for (const Diagnostic& d : config->warnings) err << format_diagnostic(d) << "\n";
  if (builtin) {
    out << "config: the built-in default configuration (" << settings.builtin_config->imta_cnf_name;
    if (settings.builtin_config->dispatcher_cnf) out << ", " << settings.builtin_config->dispatcher_cnf_name;
    out << "); give --config to use a folder" << std::endl;
  }

  std::string why_unavailable;
  const std::optional<TlsContext> tls = builtin && settings.cert_file.empty()
                                            ? throwaway_tls(settings, why_unavailable, out)
                                            : server_tls(settings, why_unavailable);
  auto listeners = make_listeners(*config, settings, tls);
  if (!listeners) {
    err << "tlschan serve: " << listeners.error().message << "\n";
    return listeners.error().exit_code;
  }
  if (settings.spool_dir.empty()) {
    const auto dir = new_spool_folder();
    if (!dir) {
      err << "tlschan serve: " << dir.error() << "\n";
      return serve_exit_failure;
    }
    settings.spool_dir = *dir;
    out << "spool: " << settings.spool_dir.string() << " (a new folder; give --spool to choose one)" << std::endl;
  }
  auto spool = Spool::open(settings.spool_dir, {}, settings.spool_sync);
  if (!spool) {
    err << "tlschan serve: " << spool.error().message << "\n";
    return serve_exit_failure;
  }

  if (!tls) {
    // Logged once (semantics.md 3.3): the server still starts, and fails closed.
    out << "tls: unavailable (" << why_unavailable
        << "): STARTTLS gets 454 4.7.1, must channels refuse mail with 530, TLS ports close at once"
        << std::endl;
  }

  ServerOptions options;
  options.max_connections = fit_descriptor_limit(settings.max_connections, out);
  options.shutdown_grace = settings.shutdown_grace;

  boost::asio::io_context io(1);
  Server server(io, *spool, options, out);
  for (auto& l : *listeners) {
    const std::string mode = l.session.mode == ServerMode::tls_port ? "tls-port" : "regular";
    const std::string channel = l.session.channel;
    const Policy policy = l.session.policy;
    const auto target = l.session.switch_target;
    const std::string service = l.service;
    const auto wanted = l.endpoint.port();
    // The built-in configuration's own ports may be privileged or taken: free ones then.
    const bool may_move = builtin && service != "--listen" && service != "--tls-listen";
    std::string why_moved;
    const auto bound = may_move ? server.add_listener_or_free_port(std::move(l), why_moved)
                                : server.add_listener(std::move(l));
    if (!bound) {
      err << "tlschan serve: " << bound.error() << "\n";
      return serve_exit_failure;
    }
    if (!why_moved.empty())
      out << "port " << wanted << " of service " << service << ": " << why_moved << "; a free port instead"
          << std::endl;
    const auto a = bound->address();
    out << "listening " << mode << " " << (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) << ":"
        << bound->port() << " service=" << service << " channel=" << channel
        << " server-policy=" << to_string(policy) << " switch=" << target.value_or("-") << std::endl;
  }
  out << "ready: spool " << spool->dir().string() << " (synced "
      << (spool->mode() == SpoolSync::file_system ? "by file system" : "file by file") << "), at most "
      << options.max_connections << " connections" << std::endl;

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  bool all_closed = false;
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    out << "signal " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << ": shutting down" << std::endl;
    server.shutdown([&] {
      all_closed = true;
      boost::system::error_code ignored;
      signals.cancel(ignored);
    });
    // A second signal cuts the grace short.
    if (!all_closed) signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  server.start();
  io.run();

  const ServerCounters& c = server.counters();
  out << "stopped: " << c.accepted << " connections, " << c.messages_stored << " messages stored, "
      << c.store_failures << " not stored, at most " << c.peak_active << " connections at once" << std::endl;
  return serve_exit_ok;
}

}  // namespace tlschan::net

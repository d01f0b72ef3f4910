// `tlschan serve` on Boost.Asio: listeners hand each accepted TCP connection to a ServerSession of
// the listener's incoming channel, and a connection moves bytes between its socket and its session
// unchanged. The session's idle deadline is a real timer; there is one outbound write at a time per
// connection; every accepted message is stored in the spool (on a worker thread, synced) before the
// session is allowed to reply 250.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "tlschan/expected.hpp"
#include "tlschan/net/spool.hpp"
#include "tlschan/server_session.hpp"

namespace tlschan::net {

struct Listener {
  boost::asio::ip::tcp::endpoint endpoint;  // port 0: a free port
  ServerConfig session;                     // the incoming channel's side; its mode: regular or TLS port
  std::string service;                      // the dispatcher service, for the log
};

struct ServerOptions {
  std::size_t max_connections = 1000;  // at the limit, accepting pauses (the kernel's backlog holds the rest)
  Duration shutdown_grace = seconds(30);        // after SIGINT/SIGTERM, how long sessions in flight may go on
  Duration close_linger = seconds(5);           // how long a finished session's last bytes may take to leave
  std::size_t max_pending_output = 256 * 1024;  // past this much unsent output, reading pauses
  std::size_t spool_threads = 0;  // batches stored at once; 0: Spool::batches_in_flight()
};

struct ServerCounters {
  std::uint64_t accepted = 0;
  std::uint64_t closed = 0;
  std::uint64_t messages_stored = 0;
  std::uint64_t store_failures = 0;
  std::size_t active = 0;
  std::size_t peak_active = 0;
};

// Keeps an accepted message in place of the spool. It runs on the io thread, so it must not block;
// it returns the message's id, or why the message was not kept (the session then replies 451).
using MessageSink = std::function<Expected<std::string, SpoolError>(const MessageAccepted& message)>;

struct ServerCore;

class Server {
 public:
  // `log` receives one line per connection and per message. The spool outlives the server.
  Server(boost::asio::io_context& io, Spool& spool, ServerOptions options, std::ostream& log);
  // Accepted messages go to `sink` instead: nothing on disk and no worker thread, so the server and
  // its clients can share one thread (bench/asio_bench.cpp). spool_threads is not used.
  Server(boost::asio::io_context& io, MessageSink sink, ServerOptions options, std::ostream& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; returns the bound endpoint (with the port chosen when it was 0).
  Expected<boost::asio::ip::tcp::endpoint, std::string> add_listener(Listener listener);
  // As add_listener; when its port cannot be bound (privileged, taken), a free port of the same
  // address instead, and `why` says why the port was not bound (empty when it was).
  Expected<boost::asio::ip::tcp::endpoint, std::string> add_listener_or_free_port(Listener listener,
                                                                                  std::string& why);

  // Starts accepting on every listener.
  void start();

  // The first call stops accepting and lets sessions in flight go on for shutdown_grace; then the
  // ones left get the session's own timeout reply and are closed. A second call does that at once.
  // io_context::run() returns once every connection is closed; `all_closed` is called then.
  void shutdown(std::function<void()> all_closed = {});

  const ServerCounters& counters() const;

 private:
  std::unique_ptr<boost::asio::thread_pool> pool_;  // the spool's worker threads; none with a sink
  std::shared_ptr<ServerCore> impl_;
};

}  // namespace tlschan::net

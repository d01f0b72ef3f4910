// What the listeners and the connections of one Server share. Private to net/.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "tlschan/net/server.hpp"

namespace tlschan::net {

class ServerConnection;

// An endpoint as `A:P` (IPv6 in brackets), as the server's log and errors write it.
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e);

struct ServerCore : std::enable_shared_from_this<ServerCore> {
  struct Acceptor {
    Acceptor(boost::asio::io_context& io, Listener l) : acceptor(io), listener(std::move(l)) {}
    boost::asio::ip::tcp::acceptor acceptor;
    Listener listener;
    std::string name;  // the bound address
    bool accepting = false;
  };

  // Either a spool and its worker threads, or a sink.
  ServerCore(boost::asio::io_context& io, Spool* spool, boost::asio::thread_pool* pool, MessageSink sink,
             ServerOptions options, std::ostream& log);

  void accept(Acceptor& a);
  void resume_accepting();
  void shutdown(std::function<void()> all_closed);
  void stop_connections_now();
  void abort_connections();

  // Called by a connection once its socket is closed.
  void connection_closed(std::uint64_t number, const std::string& log_line);
  // Stores `message` on the spool's worker thread (or gives it to the sink), then calls
  // connection->on_stored on the io thread. Spool messages wait in store_queue while every worker
  // is busy; a worker that becomes free takes all of them (up to Spool::max_batch) as one batch,
  // whose syncs they share: a group commit.
  void store(std::shared_ptr<ServerConnection> connection, MessageAccepted message);
  void start_batches();
  void log_line(const std::string& line);

  boost::asio::io_context& io;
  Spool* spool;
  boost::asio::thread_pool* pool;
  MessageSink sink;
  struct Queued {
    std::shared_ptr<ServerConnection> connection;
    MessageAccepted message;
    std::chrono::system_clock::time_point received_at;
  };
  std::vector<Queued> store_queue;  // io thread only
  std::size_t batches_in_flight = 0;
  std::size_t max_batches_in_flight = 1;  // the spool's worker threads
  ServerOptions options;
  std::ostream& log;
  // Sessions run on one thread, so one buffer serves every socket's reads: an idle connection holds
  // no read buffer of its own.
  std::vector<char> read_buffer;
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::map<std::uint64_t, std::weak_ptr<ServerConnection>> connections;
  ServerCounters counters;
  std::uint64_t next_connection = 1;
  int shutdown_calls = 0;
  std::function<void()> all_closed;
  boost::asio::steady_timer grace_timer;
  boost::asio::steady_timer retry_timer;  // accepting again after running out of file descriptors
  bool retry_pending = false;
};

}  // namespace tlschan::net

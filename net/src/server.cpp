#include "tlschan/net/server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cassert>
#include <algorithm>
#include <cerrno>
#include <iterator>
#include <chrono>
#include <utility>

#include "server_connection.hpp"
#include "server_core.hpp"
#include "tlschan/net/endpoint.hpp"

namespace tlschan::net {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
  return format_host_port(HostPort{e.address().to_string(), e.port()});
}

namespace {

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == boost::asio::error::no_descriptors || ec == boost::asio::error::no_buffer_space ||
         ec == boost::asio::error::no_memory || ec.value() == ENFILE;
}

// Posted, never called in place: the spool's thread is not the io thread, and a sink runs while the
// connection is still handling its session's events.
void hand_back(boost::asio::io_context& io, std::shared_ptr<ServerConnection> connection,
               Expected<std::string, SpoolError> id, MessageAccepted message) {
  StoreResult result{std::move(id), std::move(message), 0};
  result.size = result.message.data.size();
  std::string().swap(result.message.data);
  boost::asio::post(io, [connection = std::move(connection), result = std::move(result)]() mutable {
    connection->on_stored(std::move(result));
  });
}

}  // namespace

ServerCore::ServerCore(boost::asio::io_context& io_context, Spool* s, boost::asio::thread_pool* p,
                       MessageSink k, ServerOptions o, std::ostream& l)
    : io(io_context),
      spool(s),
      pool(p),
      sink(std::move(k)),
      options(std::move(o)),
      log(l),
      read_buffer(65536),
      grace_timer(io_context),
      retry_timer(io_context) {}

void ServerCore::log_line(const std::string& line) {
  log << line << std::endl;
}

void ServerCore::accept(Acceptor& a) {
  if (a.accepting || shutdown_calls > 0 || !a.acceptor.is_open()) return;
  if (counters.active >= options.max_connections) return;  // resumed when a connection closes
  a.accepting = true;
  a.acceptor.async_accept([self = shared_from_this(), &a](const boost::system::error_code& ec,
                                                          boost::asio::ip::tcp::socket socket) {
    a.accepting = false;
    if (self->shutdown_calls > 0) return;  // the socket closes as it goes out of scope
    if (ec) {
      if (ec == boost::asio::error::operation_aborted) return;
      if (out_of_descriptors(ec)) {
        self->log_line("accept on " + a.name + ": " + ec.message() + "; accepting again in 100 ms");
        if (!self->retry_pending) {
          self->retry_pending = true;
          self->retry_timer.expires_after(std::chrono::milliseconds(100));
          self->retry_timer.async_wait([self](const boost::system::error_code& e) {
            self->retry_pending = false;
            if (!e) self->resume_accepting();
          });
        }
        return;
      }
      return self->accept(a);  // a connection reset before it was accepted, and the like
    }
    const std::uint64_t number = self->next_connection++;
    auto connection = std::make_shared<ServerConnection>(self, std::move(socket), a.listener, a.name, number);
    self->connections.emplace(number, connection);
    ++self->counters.accepted;
    ++self->counters.active;
    if (self->counters.active > self->counters.peak_active)
      self->counters.peak_active = self->counters.active;
    connection->start();
    self->accept(a);
  });
}

void ServerCore::resume_accepting() {
  if (retry_pending) return;
  for (auto& a : acceptors) accept(*a);
}

void ServerCore::connection_closed(std::uint64_t number, const std::string& line) {
  connections.erase(number);
  --counters.active;
  ++counters.closed;
  log_line(line);
  if (shutdown_calls > 0) {
    if (counters.active == 0) {
      grace_timer.cancel();
      log_line("shutdown: every connection is closed");
      if (all_closed) std::exchange(all_closed, nullptr)();
    }
    return;
  }
  resume_accepting();
}

void ServerCore::store(std::shared_ptr<ServerConnection> connection, MessageAccepted message) {
  if (sink) {
    auto id = sink(message);
    return hand_back(io, std::move(connection), std::move(id), std::move(message));
  }
  store_queue.push_back({std::move(connection), std::move(message), std::chrono::system_clock::now()});
  start_batches();
}

void ServerCore::start_batches() {
  while (!store_queue.empty() && batches_in_flight < max_batches_in_flight) {
    ++batches_in_flight;
    const std::size_t n = std::min(store_queue.size(), Spool::max_batch);
    auto batch = std::make_shared<std::vector<Queued>>(std::make_move_iterator(store_queue.begin()),
                                                       std::make_move_iterator(store_queue.begin() + n));
    store_queue.erase(store_queue.begin(), store_queue.begin() + n);
    // The work guard keeps io_context::run() going while the batch is on the spool's thread.
    boost::asio::post(*pool, [self = shared_from_this(), batch, work = boost::asio::make_work_guard(io)]() mutable {
      std::vector<SpoolEntry> entries;
      entries.reserve(batch->size());
      for (const Queued& q : *batch) entries.push_back({&q.message, q.received_at});
      auto results = self->spool->store_batch(entries);
      // Every message's result goes back to the io thread; none before the whole batch is synced.
      boost::asio::post(self->io, [self, batch, results = std::move(results)]() mutable {
        --self->batches_in_flight;
        for (std::size_t i = 0; i < batch->size(); ++i) {
          Queued& q = (*batch)[i];
          StoreResult result{std::move(results[i]), std::move(q.message), 0};
          result.size = result.message.data.size();
          std::string().swap(result.message.data);
          q.connection->on_stored(std::move(result));
        }
        self->start_batches();
      });
    });
  }
}

void ServerCore::stop_connections_now() {
  std::vector<std::shared_ptr<ServerConnection>> live;
  for (auto& [number, weak] : connections) {
    if (auto c = weak.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) c->stop_now();
}

void ServerCore::abort_connections() {
  std::vector<std::shared_ptr<ServerConnection>> live;
  for (auto& [number, weak] : connections) {
    if (auto c = weak.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) c->abort();
}

void ServerCore::shutdown(std::function<void()> when_all_closed) {
  ++shutdown_calls;
  if (when_all_closed) all_closed = std::move(when_all_closed);
  if (shutdown_calls == 1) {
    boost::system::error_code ec;
    for (auto& a : acceptors) a->acceptor.close(ec);
    retry_timer.cancel();
    log_line(
        "shutdown: no longer accepting; " + std::to_string(counters.active) + " connection(s) in flight, " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(options.shutdown_grace).count()) +
        " s to finish");
    if (counters.active == 0) {
      if (all_closed) std::exchange(all_closed, nullptr)();
      return;
    }
    grace_timer.expires_after(options.shutdown_grace);
  } else {
    grace_timer.expires_after(std::chrono::milliseconds(0));
  }
  grace_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->counters.active == 0) return;
    self->log_line("shutdown: grace over; closing " + std::to_string(self->counters.active) +
                   " connection(s)");
    self->stop_connections_now();
    if (self->counters.active == 0) return;
    // What is still open after its timeout reply had its chance to leave is cut.
    self->grace_timer.expires_after(self->options.close_linger);
    self->grace_timer.async_wait([self](const boost::system::error_code& e) {
      if (!e) self->abort_connections();
    });
  });
}

Server::Server(boost::asio::io_context& io, Spool& spool, ServerOptions options, std::ostream& log) {
  const std::size_t threads = options.spool_threads == 0 ? spool.batches_in_flight() : options.spool_threads;
  pool_ = std::make_unique<boost::asio::thread_pool>(threads);
  impl_ = std::make_shared<ServerCore>(io, &spool, pool_.get(), MessageSink(), std::move(options), log);
  impl_->max_batches_in_flight = threads;
}

Server::Server(boost::asio::io_context& io, MessageSink sink, ServerOptions options, std::ostream& log) {
  assert(sink);
  impl_ = std::make_shared<ServerCore>(io, nullptr, nullptr, std::move(sink), std::move(options), log);
}

Server::~Server() {
  // Messages on the spool's threads finish before anything they refer to goes away.
  if (pool_) pool_->join();
}

Expected<boost::asio::ip::tcp::endpoint, std::string> Server::add_listener(Listener listener) {
  auto a = std::make_unique<ServerCore::Acceptor>(impl_->io, std::move(listener));
  const auto& endpoint = a->listener.endpoint;
  boost::system::error_code ec;
  const auto fail = [&](const char* step) {
    return unexpected("cannot " + std::string(step) + " " + endpoint_text(endpoint) + ": " + ec.message());
  };
  a->acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  a->acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR on");
  a->acceptor.bind(endpoint, ec);
  if (ec) return fail("listen on");
  a->acceptor.listen(1024, ec);
  if (ec) return fail("listen on");
  const auto bound = a->acceptor.local_endpoint(ec);
  if (ec) return fail("read the address of");
  a->name = endpoint_text(bound);
  impl_->acceptors.push_back(std::move(a));
  return bound;
}

Expected<boost::asio::ip::tcp::endpoint, std::string> Server::add_listener_or_free_port(Listener listener,
                                                                                        std::string& why) {
  why.clear();
  const bool any_port = listener.endpoint.port() == 0;
  Listener free_port = listener;
  free_port.endpoint.port(0);
  auto bound = add_listener(std::move(listener));
  if (bound || any_port) return bound;
  why = bound.error();
  return add_listener(std::move(free_port));
}

void Server::start() {
  for (auto& a : impl_->acceptors) impl_->accept(*a);
}

void Server::shutdown(std::function<void()> all_closed) {
  impl_->shutdown(std::move(all_closed));
}

const ServerCounters& Server::counters() const {
  return impl_->counters;
}

}  // namespace tlschan::net

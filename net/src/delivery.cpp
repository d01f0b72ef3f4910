#include "tlschan/net/delivery.hpp"

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <map>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "tlschan/net/clock.hpp"

namespace tlschan::net {

namespace {

using boost::asio::ip::tcp;

// How long the last bytes of a finished connection (QUIT, close_notify) may take to leave.
constexpr Duration close_linger = seconds(5);

// Where the key log of the session's handshakes goes: the observer, under the connection that is
// up (a session's connections follow each other, so its handshake belongs to the current one).
struct KeyLogRoute {
  DeliveryObserver* observer = nullptr;
  int connection = 0;
};

// The session's key log goes to the observer (set before the session is made from the config).
std::shared_ptr<KeyLogRoute> route_key_log(DeliveryRequest& request) {
  if (request.observer == nullptr) return nullptr;
  auto route = std::make_shared<KeyLogRoute>();
  route->observer = request.observer;
  request.client.key_log = [route](std::string_view line) { route->observer->key_log(route->connection, line); };
  return route;
}

// Every pending handler holds the driver: it lives until the attempt is over and its last handler ran.
class DeliveryDriver : public std::enable_shared_from_this<DeliveryDriver> {
 public:
  DeliveryDriver(boost::asio::io_context& io, DeliveryRequest request, ClientSession session,
                 std::function<void(DeliveryResult)> done, std::shared_ptr<KeyLogRoute> route)
      : request_(std::move(request)),
        route_(std::move(route)),
        session_(std::move(session)),
        io_(io),
        socket_(io_),
        timer_(io_),
        started_(steady_now()),
        done_(std::move(done)) {}

  void start() {
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    endpoints_ = resolver.resolve(request_.host, std::to_string(request_.port), ec);
    if (ec) resolve_error_ = "cannot resolve " + request_.host + ": " + ec.message();
    connect();
  }

  // Once every connection is closed: the outcomes.
  DeliveryResult finish() {
    result_.outcomes = session_.outcomes();
    result_.disposition = session_.message_disposition();
    // A recipient that a connection's failure to open decided reads better with why it did not open.
    for (const auto& [index, why] : decided_by_connect_error_) {
      if (index < result_.outcomes.size()) result_.outcomes[index].reason = why;
    }
    return std::move(result_);
  }

 private:
  void note(std::string event) {
    result_.transcript.push_back({TranscriptEntry::Kind::event, result_.connections, steady_now() - started_,
                                  false, 0, std::move(event)});
  }

  void record(TranscriptEntry::Kind kind, std::string_view bytes) {
    if (request_.observer) request_.observer->bytes(result_.connections, kind == TranscriptEntry::Kind::client_bytes, bytes);
    TranscriptEntry e{kind, result_.connections, steady_now() - started_, tls_, bytes.size(), {}};
    if (!tls_) e.text = std::string(bytes);
    result_.transcript.push_back(std::move(e));
  }

  void connect() {
    ++result_.connections;
    const int connection = result_.connections;
    if (route_) route_->connection = connection;
    tls_ = request_.client.mode == ClientMode::implicit_tls;
    linger_until_.reset();
    socket_ = tcp::socket(io_);
    if (!resolve_error_.empty()) {
      boost::asio::post(io_, [this, self = shared_from_this(), connection] {
        on_connected(connection, boost::asio::error::host_not_found, tcp::endpoint());
      });
      return;
    }
    boost::asio::async_connect(socket_, endpoints_,
                               [this, self = shared_from_this(), connection](
                                   const boost::system::error_code& ec, const tcp::endpoint& e) {
                                 on_connected(connection, ec, e);
                               });
    arm_timer();
  }

  void on_connected(int connection, const boost::system::error_code& ec, const tcp::endpoint& endpoint) {
    if (connection != result_.connections) return;
    const Time now = steady_now();
    if (connection > 1) session_.reconnected(now);
    if (ec) {
      connect_error_ = !resolve_error_.empty() ? resolve_error_
                                               : "cannot connect to " + request_.host + ":" +
                                                     std::to_string(request_.port) + ": " + ec.message();
      note("connect-failed " + connect_error_);
      // The session takes it as a lost connection; the recipients that this decides are the ones
      // whose outcome it changes.
      const std::vector<RecipientOutcome> before = session_.outcomes();
      session_.on_peer_closed(now, true);
      const std::vector<RecipientOutcome>& after = session_.outcomes();
      for (std::size_t i = 0; i < after.size() && i < before.size(); ++i) {
        if (after[i].disposition != before[i].disposition || after[i].reason != before[i].reason)
          decided_by_connect_error_[i] = connect_error_;
      }
      return pump();
    }
    connected_ = true;
    connect_error_.clear();
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    note("connected " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()) +
         (tls_ ? " (implicit TLS)" : ""));
    if (request_.observer) {
      const tcp::endpoint local = socket_.local_endpoint(ignored);
      request_.observer->opened(connection, local.address().to_string(), local.port(), endpoint.address().to_string(),
                                endpoint.port());
    }
    start_read();
    pump();
  }

  void start_read() {
    const int connection = result_.connections;
    socket_.async_read_some(
        boost::asio::buffer(read_buf_),
        [this, self = shared_from_this(), connection](const boost::system::error_code& ec, std::size_t n) {
          on_read(connection, ec, n);
        });
  }

  void on_read(int connection, const boost::system::error_code& ec, std::size_t n) {
    if (connection != result_.connections || !connected_) return;
    const Time now = steady_now();
    if (ec) {
      if (ec == boost::asio::error::operation_aborted) return;
      if (!session_.connection_finished()) {
        note(ec == boost::asio::error::eof ? "peer-closed" : "peer-reset " + ec.message());
        session_.on_peer_closed(now, ec != boost::asio::error::eof);
      }
      if (request_.observer) {
        if (ec == boost::asio::error::eof) {
          request_.observer->closed(connection, false);
        } else {
          request_.observer->reset(connection, false);
        }
      }
      peer_gone_ = true;
      return pump();
    }
    const std::string_view bytes(read_buf_.data(), n);
    record(TranscriptEntry::Kind::server_bytes, bytes);
    session_.receive(bytes, now);
    pump();
    if (connected_ && !session_.connection_finished()) start_read();
  }

  void drain_events() {
    while (auto event = session_.next_event()) {
      std::visit(
          [&](auto& e) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, TlsEstablished>) {
              note("tls-established " + e.version + " " + e.cipher);
            } else if constexpr (std::is_same_v<E, PlaintextDiscarded>) {
              // The 220 to STARTTLS: what follows on this connection is TLS both ways.
              tls_ = true;
              note("plaintext-discarded " + std::to_string(e.bytes));
            } else if constexpr (std::is_same_v<E, TlsFallback>) {
              result_.tls_fallback = true;
              note("tls-fallback " + e.reason);
            } else if constexpr (std::is_same_v<E, Closed>) {
              note(std::string("closed ") + to_string(e.reason) + (e.detail.empty() ? "" : " " + e.detail));
            }
          },
          *event);
    }
  }

  void start_write() {
    if (writing_ || !connected_ || peer_gone_) return;
    const std::string_view out = session_.output();
    if (out.empty()) return;
    write_buf_.assign(out);
    session_.consume(out.size());
    record(TranscriptEntry::Kind::client_bytes, write_buf_);
    writing_ = true;
    const int connection = result_.connections;
    boost::asio::async_write(
        socket_, boost::asio::buffer(write_buf_),
        [this, self = shared_from_this(), connection](const boost::system::error_code& ec, std::size_t) {
          on_written(connection, ec);
        });
  }

  void on_written(int connection, const boost::system::error_code& ec) {
    if (connection != result_.connections) return;
    writing_ = false;
    if (ec && connected_) {
      if (!session_.connection_finished()) {
        note("write-failed " + ec.message());
        session_.on_peer_closed(steady_now(), true);
      }
      peer_gone_ = true;
    }
    pump();
  }

  void pump() {
    drain_events();
    start_write();
    if (session_.connection_finished()) {
      const bool flushed = !writing_ && (session_.output().empty() || !connected_ || peer_gone_);
      if (!flushed) {
        if (!linger_until_) linger_until_ = steady_now() + close_linger;
        return arm_timer();
      }
      close_socket();
      if (session_.wants_reconnect()) return connect();
      ++timer_generation_;
      timer_.cancel();
      if (done_) std::exchange(done_, nullptr)(finish());
      return;
    }
    arm_timer();
  }

  void close_socket() {
    if (!connected_) return;
    connected_ = false;
    peer_gone_ = false;
    if (request_.observer) request_.observer->closed(result_.connections, true);
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  void arm_timer() {
    const std::optional<Time> due = session_.connection_finished() ? linger_until_ : session_.deadline();
    if (!due) return;
    const std::uint64_t generation = ++timer_generation_;
    timer_.expires_at(to_steady(*due));
    timer_.async_wait([this, self = shared_from_this(), generation](const boost::system::error_code& ec) {
      if (ec || generation != timer_generation_) return;
      if (session_.connection_finished()) {
        note("close-linger-expired");
        writing_ = false;
        close_socket();  // the pending write ends with an error; pump goes on without it
        return pump();
      }
      session_.on_deadline(steady_now());
      pump();
    });
  }

  DeliveryRequest request_;
  std::shared_ptr<KeyLogRoute> route_;
  ClientSession session_;
  boost::asio::io_context& io_;
  tcp::socket socket_;
  boost::asio::steady_timer timer_;
  tcp::resolver::results_type endpoints_;
  std::string resolve_error_;
  std::string connect_error_;
  std::map<std::size_t, std::string> decided_by_connect_error_;  // recipient index -> why
  Time started_;
  std::optional<Time> linger_until_;
  std::uint64_t timer_generation_ = 0;
  bool connected_ = false;
  bool writing_ = false;
  bool peer_gone_ = false;
  bool tls_ = false;
  std::string write_buf_;
  std::array<char, 16384> read_buf_{};
  DeliveryResult result_;
  std::function<void(DeliveryResult)> done_;
};

}  // namespace

std::string lf_to_crlf(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 32);
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) out.push_back('\r');
    out.push_back(data[i]);
  }
  return out;
}

Expected<DeliveryResult, UsageError> deliver(DeliveryRequest request) {
  auto route = route_key_log(request);
  auto session = ClientSession::create(request.client, request.message, steady_now());
  if (!session) return unexpected(session.error());
  boost::asio::io_context io(1);
  const auto driver =
      std::make_shared<DeliveryDriver>(io, std::move(request), std::move(*session), nullptr, std::move(route));
  driver->start();
  io.run();
  return driver->finish();
}

std::optional<UsageError> start_delivery(boost::asio::io_context& io, DeliveryRequest request,
                                         std::function<void(DeliveryResult)> done) {
  auto route = route_key_log(request);
  auto session = ClientSession::create(request.client, request.message, steady_now());
  if (!session) return session.error();
  std::make_shared<DeliveryDriver>(io, std::move(request), std::move(*session), std::move(done), std::move(route))
      ->start();
  return std::nullopt;
}

}  // namespace tlschan::net

#include "server_connection.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <sstream>
#include <type_traits>
#include <variant>

#include "tlschan/escape.hpp"
#include "tlschan/net/clock.hpp"

namespace tlschan::net {

namespace {

std::string recipients_text(const std::vector<std::string>& rcpts) {
  std::string out;
  for (const auto& r : rcpts) out += (out.empty() ? "<" : ",<") + r + ">";
  return out;
}

}  // namespace

ServerConnection::ServerConnection(std::shared_ptr<ServerCore> core, boost::asio::ip::tcp::socket socket,
                                   const Listener& listener, std::string listener_name, std::uint64_t number)
    : core_(std::move(core)),
      socket_(std::move(socket)),
      timer_(core_->io),
      session_(listener.session, steady_now()),
      number_(number),
      listener_name_(std::move(listener_name)),
      tls_port_(listener.session.mode == ServerMode::tls_port),
      started_(steady_now()) {
  boost::system::error_code ec;
  const auto remote = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("?") : endpoint_text(remote);
}

void ServerConnection::start() {
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  pump();
}

void ServerConnection::pump() {
  if (closed_) return;
  handle_events();
  start_write();
  if (session_.finished()) {
    if (!linger_until_) linger_until_ = steady_now() + core_->options.close_linger;
    if (!writing_ && session_.output().empty()) return close_socket();
  } else {
    wait_readable();
  }
  arm_timer();
}

void ServerConnection::handle_events() {
  while (auto event = session_.next_event()) {
    std::visit(
        [&](auto& e) {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, MessageAccepted>) {
            storing_ = true;
            ++messages_;
            core_->store(shared_from_this(), std::move(e));
          } else if constexpr (std::is_same_v<E, TlsEstablished>) {
            tls_ = e.version + "/" + e.cipher;
          } else if constexpr (std::is_same_v<E, PlaintextDiscarded>) {
            discarded_ += e.bytes;
          } else if constexpr (std::is_same_v<E, ChannelSwitched>) {
            // The session's channel() tells the log where it ended up.
          } else if constexpr (std::is_same_v<E, Closed>) {
            close_reason_ = to_string(e.reason);
          }
        },
        *event);
  }
}

void ServerConnection::start_write() {
  if (writing_ || closed_) return;
  const std::string_view out = session_.output();
  if (out.empty()) return;
  write_buf_.assign(out);
  session_.consume(out.size());
  writing_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(write_buf_),
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                             self->on_written(ec, n);
                           });
}

void ServerConnection::on_written(const boost::system::error_code& ec, std::size_t n) {
  writing_ = false;
  bytes_out_ += n;
  if (write_buf_.capacity() > 16384) {
    std::string().swap(write_buf_);  // an idle connection keeps no large buffer
  } else {
    write_buf_.clear();
  }
  if (closed_) return;
  if (ec) {
    session_.on_peer_closed(steady_now());
    handle_events();
    return close_socket();
  }
  pump();
}

void ServerConnection::wait_readable() {
  if (reading_ || storing_ || closed_) return;
  // Backpressure: a client that sends without reading its replies stops being read; its idle
  // deadline then closes it.
  if (session_.output().size() + write_buf_.size() > core_->options.max_pending_output) return;
  reading_ = true;
  socket_.async_wait(
      boost::asio::ip::tcp::socket::wait_read,
      [self = shared_from_this()](const boost::system::error_code& ec) { self->on_readable(ec); });
}

void ServerConnection::on_readable(const boost::system::error_code& ec) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    return peer_closed(true);
  }
  std::vector<char>& buf = core_->read_buffer;
  for (int round = 0; round < 4; ++round) {
    boost::system::error_code rec;
    const std::size_t n = socket_.read_some(boost::asio::buffer(buf), rec);
    if (rec == boost::asio::error::would_block || rec == boost::asio::error::try_again) break;
    if (rec) return peer_closed(rec != boost::asio::error::eof);
    bytes_in_ += n;
    session_.receive(std::string_view(buf.data(), n), steady_now());
    // A message waiting for the spool (no deadline then) or a finished session reads no further.
    if (n < buf.size() || !session_.deadline()) break;
  }
  pump();
}

void ServerConnection::peer_closed(bool reset) {
  session_.on_peer_closed(steady_now());
  if (reset) {
    handle_events();
    return close_socket();  // nothing more can be sent
  }
  pump();
}

void ServerConnection::on_stored(StoreResult result) {
  storing_ = false;
  if (result.id) {
    ++core_->counters.messages_stored;
  } else {
    ++core_->counters.store_failures;
  }
  const MessageAccepted& m = result.message;
  std::ostringstream line;
  line << "msg " << (result.id ? *result.id : std::string("-")) << " conn=" << number_ << " from=<"
       << escape_bytes(m.envelope.mail_from, Escape::log_word) << "> to=" << escape_bytes(recipients_text(m.envelope.rcpt_to), Escape::log_word)
       << " channel=" << m.channel << " tls=" << (m.tls ? m.tls_version : std::string("no"))
       << " size=" << result.size;
  if (result.id) {
    line << " stored";
  } else {
    line << " not-stored reply=451 error=\"" << result.id.error().message << "\"";
  }
  core_->log_line(line.str());
  if (closed_) return;
  session_.acknowledge(result.id.has_value(), steady_now());
  if (stopping_) session_.shutdown(steady_now());
  pump();
}

void ServerConnection::arm_timer() {
  const std::optional<Time> target = session_.finished() ? linger_until_ : session_.deadline();
  if (!target) return;
  if (timer_pending_ && timer_at_ <= *target) return;  // it fires first; on_timer re-arms
  timer_pending_ = true;
  timer_at_ = *target;
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_at(to_steady(*target));
  timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
    self->on_timer(generation, ec);
  });
}

void ServerConnection::on_timer(std::uint64_t generation, const boost::system::error_code& ec) {
  if (closed_ || generation != timer_generation_) return;
  timer_pending_ = false;
  if (ec) return;
  const Time now = steady_now();
  if (session_.finished()) {
    if (linger_until_ && now >= *linger_until_) return close_socket();
  } else {
    session_.on_deadline(now);  // a deadline that moved later does nothing; pump re-arms
  }
  pump();
}

// The server stops: 421 4.3.2 now, or, for a message past its final dot, once it is stored and
// answered (on_stored).
void ServerConnection::stop_now() {
  stopping_ = true;
  if (closed_ || session_.finished()) return;
  session_.shutdown(steady_now());
  pump();
}

void ServerConnection::abort() {
  if (closed_) return;
  if (!session_.finished()) {
    session_.on_peer_closed(steady_now());
    handle_events();
  }
  close_socket();
}

void ServerConnection::close_socket() {
  if (closed_) return;
  closed_ = true;
  ++timer_generation_;
  boost::system::error_code ec;
  timer_.cancel();
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  core_->connection_closed(number_, summary());
}

std::string ServerConnection::summary() const {
  std::ostringstream line;
  line << "conn " << number_ << " peer=" << peer_ << " on=" << listener_name_
       << " mode=" << (tls_port_ ? "tls-port" : "regular") << " channel=" << session_.channel()
       << " tls=" << (tls_.empty() ? std::string("no") : tls_) << " messages=" << messages_
       << " discarded=" << discarded_ << " in=" << bytes_in_ << " out=" << bytes_out_
       << " close=" << close_reason_ << " ms=" << (steady_now() - started_).count();
  return line.str();
}

}  // namespace tlschan::net

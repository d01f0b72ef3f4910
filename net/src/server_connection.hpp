// One accepted TCP connection and its ServerSession. Private to net/.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "server_core.hpp"
#include "tlschan/server_session.hpp"

namespace tlschan::net {

// What a connection hands the spool and gets back: the message, and afterwards its id or the error.
struct StoreResult {
  Expected<std::string, SpoolError> id;
  MessageAccepted message;  // without its data (already stored), for the log line
  std::size_t size = 0;     // of the data
};

class ServerConnection : public std::enable_shared_from_this<ServerConnection> {
 public:
  ServerConnection(std::shared_ptr<ServerCore> core, boost::asio::ip::tcp::socket socket,
                   const Listener& listener, std::string listener_name, std::uint64_t number);

  void start();
  // The shutdown grace is over: the session gets 421 4.3.2 and closes (a message past its final
  // dot is stored and answered first).
  void stop_now();
  // The last bytes did not leave in time either: close the socket.
  void abort();
  void on_stored(StoreResult result);

 private:
  void pump();
  void handle_events();
  void start_write();
  void on_written(const boost::system::error_code& ec, std::size_t n);
  void wait_readable();
  void on_readable(const boost::system::error_code& ec);
  void peer_closed(bool reset);
  void arm_timer();
  void on_timer(std::uint64_t generation, const boost::system::error_code& ec);
  void close_socket();
  std::string summary() const;

  std::shared_ptr<ServerCore> core_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  ServerSession session_;
  std::uint64_t number_;
  std::string peer_;
  std::string listener_name_;
  bool tls_port_;

  std::string write_buf_;  // the one write in flight
  bool writing_ = false;
  bool reading_ = false;
  bool storing_ = false;  // a MessageAccepted is on the spool's thread; its 250 waits
  bool closed_ = false;
  bool stopping_ = false;  // the server stops: the session ends with 421 4.3.2
  std::optional<Time> linger_until_;  // set once the session is finished

  bool timer_pending_ = false;
  Time timer_at_{};
  std::uint64_t timer_generation_ = 0;

  Time started_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  std::uint64_t messages_ = 0;
  std::uint64_t discarded_ = 0;
  std::string tls_;  // "TLSv1.3/TLS_AES_256_GCM_SHA384" once established
  std::string close_reason_ = "open";
};

}  // namespace tlschan::net

// The SMTP server side of one connection, sans-IO: bytes and the current time in, bytes to send,
// events and the next deadline out (semantics.md sections 3 and 7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "tlschan/command_line.hpp"
#include "tlschan/data_reader.hpp"
#include "tlschan/events.hpp"
#include "tlschan/policy.hpp"
#include "tlschan/replies.hpp"
#include "tlschan/session_core.hpp"
#include "tlschan/time.hpp"
#include "tlschan/tls.hpp"

namespace tlschan {

struct ServerLimits {
  std::uint64_t max_message_size = 10485760;  // advertised as SIZE
  int max_errors = 20;                        // error replies before 421 4.7.0
  std::size_t max_recipients = 1000;
  Duration idle_timeout = minutes(5);
};

enum class ServerMode {
  regular_port,  // plaintext greeting, STARTTLS
  tls_port,      // implicit TLS: the handshake first, the greeting inside TLS
};

struct ServerConfig {
  std::string hostname = "localhost";
  std::string channel = "tcp_local";          // the incoming channel
  Policy policy = Policy::no;                 // its server policy
  std::optional<std::string> switch_target;   // its tlsswitchchannel
  std::optional<TlsContext> tls;              // empty: TLS unavailable (3.3)
  ServerLimits limits;
  ServerMode mode = ServerMode::regular_port;
  // When set, the session waits after each MessageAccepted until the driver calls acknowledge()
  // (a durable spool syncs the message first) before it replies and reads on.
  bool acknowledge_messages = false;
};

struct MessageAccepted {
  std::uint64_t id = 0;  // 1, 2, ... within the session
  Envelope envelope;
  std::string data;      // dot-unstuffed, as received
  std::string channel;   // the source channel: the switch target once TLS is up
  bool tls = false;
  std::string tls_version;
  std::string cipher;
};

using ServerEvent =
    std::variant<MessageAccepted, TlsEstablished, PlaintextDiscarded, ChannelSwitched, Closed>;

class ServerSession {
 public:
  ServerSession(ServerConfig config, Time now);

  // Bytes that arrived from the client.
  void receive(std::string_view bytes, Time now);
  // The client closed or reset the connection.
  void on_peer_closed(Time now);
  // The driver's timer for deadline() fired.
  void on_deadline(Time now);
  // The server stops (semantics.md section 7): an open session gets 421 4.3.2 and is closed; a
  // message in DATA is not accepted. A session waiting for its message's acknowledge() is left to
  // answer it first: call shutdown again after acknowledging.
  void shutdown(Time now);
  std::optional<Time> deadline() const;

  // With acknowledge_messages: the last MessageAccepted is stored (or could not be).
  void acknowledge(bool stored, Time now);

  // Bytes to send; consume(n) once n of them were sent.
  std::string_view output() const { return core_.output(); }
  void consume(std::size_t n) { core_.consume(n); }

  std::optional<ServerEvent> next_event() { return core_.next_event(); }

  // True once the session is over: the driver sends what output() still holds, then closes.
  bool finished() const { return phase_ == Phase::closed; }
  bool tls_active() const { return core_.tls_active(); }
  const std::string& channel() const { return channel_; }

 private:
  enum class Phase { handshake, command, data, awaiting_ack, closed };
  enum class Verb { ehlo, helo, mail, rcpt, data, rset, noop, quit, vrfy, expn, help, starttls };

  void process();
  void pump_tls();
  void on_tls(TlsState state);
  void on_tls_established();
  void handle_line(const CommandLineView& line);
  void handle_command(Verb verb, std::string_view args);
  void handle_starttls(std::string_view args);
  void handle_mail(std::string_view args);
  void handle_rcpt(std::string_view args);
  void finish_message(const DataResult& result);
  void purge_after_starttls();
  void reply(ReplyId id, std::string_view detail = {});
  void send_reply(ReplyId id, std::string_view detail);  // the reply table's wire form, sent
  void ehlo_reply();
  void reset_transaction();
  void close(CloseReason reason, std::string detail = {});

  ServerConfig config_;
  std::string channel_;
  Phase phase_ = Phase::command;
  bool switched_ = false;

  detail::SessionCore<ServerEvent> core_;  // the inbox, TLS, the output, the events
  CommandLineParser lines_;
  DataReader data_;

  std::optional<std::string> helo_;
  std::optional<std::string> mail_from_;
  std::vector<std::string> rcpt_to_;
  int errors_ = 0;
  std::uint64_t messages_ = 0;

  Time last_activity_{};
};

}  // namespace tlschan

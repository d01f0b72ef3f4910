// The SMTP client side of one delivery attempt of one message, sans-IO (semantics.md sections 4
// and 8). The attempt may span two connections: under a may policy a failed TLS handshake asks the
// driver for a fresh connection, which the same session then runs in plaintext without STARTTLS.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tlschan/events.hpp"
#include "tlschan/expected.hpp"
#include "tlschan/outcome.hpp"
#include "tlschan/policy.hpp"
#include "tlschan/reply.hpp"
#include "tlschan/session_core.hpp"
#include "tlschan/time.hpp"
#include "tlschan/tls.hpp"

namespace tlschan {

enum class ClientMode {
  starttls,      // the regular port: plaintext greeting, STARTTLS as the policy says
  implicit_tls,  // a TLS port: the handshake first, no plaintext fallback
};

// RFC 5321 4.5.3.2, in the driver's time.
struct ClientTimeouts {
  Duration greeting = minutes(5);
  Duration command = minutes(5);  // EHLO, HELO, MAIL, RCPT, STARTTLS and the handshake, QUIT
  Duration data_start = minutes(2);
  Duration data_end = minutes(10);
};

struct ClientConfig {
  std::string helo_name = "localhost";
  Policy policy = Policy::no;      // the outgoing channel's client policy
  std::optional<TlsContext> tls;   // empty: TLS unavailable on this client
  ClientMode mode = ClientMode::starttls;
  ClientTimeouts timeouts;
  // Hears the TLS key log of each of this session's handshakes, and of no other session's (the
  // context may be shared); empty: not asked for.
  TlsContext::KeyLogSink key_log;
};

struct OutgoingMessage {
  Envelope envelope;
  std::string data;  // CRLF line ends, not dot-stuffed (the session stuffs it on the wire)
};


struct RecipientOutcome {
  std::string recipient;
  Disposition disposition = Disposition::deferred;
  bool tls = false;          // delivered over TLS
  std::optional<int> code;   // the reply that decided it, when a reply did
  std::string reason;        // the reply text, or why the attempt ended
};

// The may policy gave up on TLS after a failed handshake and will deliver in plaintext.
struct TlsFallback {
  std::string reason;
};

using ClientEvent = std::variant<TlsEstablished, PlaintextDiscarded, TlsFallback, Closed>;

struct UsageError {
  std::string message;
};

// Why a session of `config` could not send `message`, or nothing: no recipient; implicit TLS on a
// channel whose client policy is no; a HELO name or an envelope address holding CR, LF or NUL (it
// would end the command line early and smuggle commands of its own onto the wire).
std::optional<UsageError> client_usage_error(const ClientConfig& config, const OutgoingMessage& message);

class ClientSession {
 public:
  // A usage error (client_usage_error) instead of a session.
  static Expected<ClientSession, UsageError> create(ClientConfig config, OutgoingMessage message,
                                                    Time now);

  void receive(std::string_view bytes, Time now);
  // The server closed the connection (reset = true: it was reset or lost, not closed cleanly).
  void on_peer_closed(Time now, bool reset = false);
  void on_deadline(Time now);
  std::optional<Time> deadline() const;

  std::string_view output() const { return core_.output(); }
  void consume(std::size_t n) { core_.consume(n); }

  std::optional<ClientEvent> next_event() { return core_.next_event(); }

  // This connection is over: the driver sends what output() holds, then closes it.
  bool connection_finished() const { return phase_ == Phase::closed; }
  // The may fallback: the driver closes this connection, opens a fresh one and calls reconnected().
  bool wants_reconnect() const { return wants_reconnect_; }
  void reconnected(Time now);
  // The attempt is over and outcomes() is final.
  bool done() const { return phase_ == Phase::closed && !wants_reconnect_; }

  const std::vector<RecipientOutcome>& outcomes() const { return outcomes_; }
  // One word for the message: deferred if any recipient is, else bounced if any is, else delivered.
  Disposition message_disposition() const;
  bool tls_active() const { return core_.tls_active(); }

 private:
  enum class Phase { handshake, greeting, ehlo, helo, starttls, mail, rcpt, data, data_end, quit, closed };

  ClientSession(ClientConfig config, OutgoingMessage message, Time now);
  void start_connection(Time now);
  void process();
  void pump_tls();
  void on_tls(TlsState state);
  void handle_reply(const Reply& r);
  void after_hello(const Capabilities& caps);
  void start_mail();
  void send_rcpt();
  void send_command(Phase next, std::string_view line);
  void enter(Phase next);
  void handshake_failed(std::string why);
  void quit(Disposition rest, std::string reason, std::optional<int> code = std::nullopt,
            CloseReason why = CloseReason::quit);
  void settle(Disposition d, std::string reason, std::optional<int> code = std::nullopt);
  void settle_accepted(Disposition d, const Reply& r);
  void fail_connection(CloseReason why, std::string reason);
  void close_connection(CloseReason why, std::string detail = {});
  bool expects_reply() const;

  ClientConfig config_;
  OutgoingMessage message_;
  std::string wire_data_;  // the message dot-stuffed, with the final ".CRLF"
  std::vector<RecipientOutcome> outcomes_;
  std::vector<bool> settled_;
  std::vector<std::size_t> accepted_;  // recipients the server took with 250/251
  std::size_t next_rcpt_ = 0;

  Phase phase_ = Phase::greeting;
  Time now_{};          // the latest time the driver gave
  Time phase_since_{};  // when the current phase began (its timeout runs from there)
  bool plaintext_only_ = false;  // the fallback connection: no STARTTLS
  CloseReason quit_reason_ = CloseReason::quit;  // why the QUIT was sent
  bool wants_reconnect_ = false;
  bool rfc1047_window_ = false;  // this connection ended in the RFC 1047 window
  bool tls_confirmed_ = false;   // a complete SMTP reply was read over TLS
  Capabilities caps_;

  detail::SessionCore<ClientEvent> core_;  // the inbox, TLS, the output, the events
  ReplyParser replies_;
};

}  // namespace tlschan

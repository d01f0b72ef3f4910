// One SMTP client connection to the server under test, driven step by step by a check: blocking
// sockets, every wait capped by the timeout, the engine's ReplyParser for replies and its TlsSession
// (over memory BIOs) for STARTTLS and implicit TLS. Every byte goes into the check's Exchange.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/audit/exchange.hpp"
#include "tlschan/reply.hpp"
#include "tlschan/tls.hpp"

namespace tlschan::audit {

struct Target {
  std::string host;
  std::uint16_t port = 25;
  // The port the evidence pcapng shows the server on (views::service_port); 0: as for STARTTLS.
  std::uint16_t shown_port = 0;
};

// What the server's certificate says (filled during the handshake; nothing is verified).
struct CertificateInfo {
  bool seen = false;
  std::string subject;
  std::string issuer;
  std::string not_after;  // "Jan  1 00:00:00 2030 GMT"
  bool expired = false;
  bool self_signed = false;
};

enum class ReadStatus {
  reply,      // a complete reply
  timeout,    // the cap passed with no complete reply
  closed,     // the server closed the connection (or reset it)
  malformed,  // not an SMTP reply (the parser's error)
  tls_error,  // a TLS record error inside TLS
};

struct ReadResult {
  ReadStatus status = ReadStatus::timeout;
  Reply reply;
  std::string error;  // for malformed and tls_error
  bool ok() const { return status == ReadStatus::reply; }
  int code() const { return ok() ? reply.code : 0; }
};

// "250 2.0.0 Ok" (the first line, and "(+N lines)" when there are more); the status otherwise.
std::string describe(const ReadResult& r);
std::string describe(const Reply& r);

enum class HandshakeStatus { established, failed, timeout, closed };

struct HandshakeResult {
  HandshakeStatus status = HandshakeStatus::failed;
  std::string error;
  bool ok() const { return status == HandshakeStatus::established; }
};

class Connection {
 public:
  // Connects (capped by `timeout`); nullptr with `error` set when it cannot.
  static std::unique_ptr<Connection> open(const Target& target, Exchange& exchange, Duration timeout,
                                          std::string& error);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends the bytes in one write (inside TLS once TLS is up). False when the connection is gone.
  bool send(std::string_view bytes);

  // The next complete reply, waiting at most the timeout.
  ReadResult read_reply();
  ReadResult read_reply(Duration timeout);

  // Replies until a 221, the server closes, a read times out or one is malformed; how it ended is
  // in `end` (closed after a 221).
  std::vector<Reply> read_until_closed(ReadStatus& end);

  // TLS: the ClientHello goes out now (after `glued`, in the same write, when given), then the
  // handshake runs to its end or the timeout.
  HandshakeResult start_tls(std::string_view glued = {});
  bool tls_active() const { return tls_ && tls_->state() == TlsState::established; }
  std::string tls_version() const;
  std::string tls_cipher() const;
  const CertificateInfo& certificate() const { return *cert_; }

  // Bytes that arrived as plaintext where the server's handshake was due.
  const std::string& handshake_plaintext() const { return handshake_plaintext_; }
  // Plaintext that arrived after the last reply read and is not part of a reply yet.
  const std::string& pending() const { return pending_; }
  // Drops what arrived and was not read (a client discarding plaintext at the TLS boundary).
  void discard_pending();

  // Waits up to `timeout` for anything from the server; true if bytes (or a close) arrived.
  bool wait_for_input(Duration timeout);
  bool closed() const { return peer_closed_; }

  void close();
  Duration timeout() const { return timeout_; }

 private:
  Connection(int fd, int number, Exchange& exchange, Duration timeout);
  // Reads what the socket holds (waiting up to `until`); false on timeout.
  bool receive(std::chrono::steady_clock::time_point until);
  bool write_all(std::string_view bytes);
  void flush_tls();

  int fd_ = -1;
  int number_ = 0;  // the connection's number in the exchange
  Exchange& exchange_;
  Duration timeout_;
  ReplyParser parser_;
  std::string handshake_plaintext_;
  std::string pending_;  // plaintext (decrypted once TLS is up) not yet parsed
  std::optional<TlsContext> tls_context_;
  std::optional<TlsSession> tls_;
  std::unique_ptr<CertificateInfo> cert_;
  bool peer_closed_ = false;
  bool server_tls_seen_ = false;
  int last_code_ = 0;  // of the last reply read
};

}  // namespace tlschan::audit

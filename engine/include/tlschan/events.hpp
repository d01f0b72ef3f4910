// What sessions report to their driver, besides the bytes they want sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace tlschan {

struct Envelope {
  std::string mail_from;             // the reverse-path without angle brackets ("" = null sender)
  std::vector<std::string> rcpt_to;  // forward-paths without angle brackets
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

enum class CloseReason {
  quit,               // QUIT answered (server) or the attempt ended with QUIT (client)
  error_limit,        // too many error replies: 421 4.7.0
  idle_timeout,       // no bytes for the idle time: 421 4.4.2 (server), or a client timeout
  tls_failed,         // handshake failure, TLS alert or record error
  tls_port_refused,   // a TLS-port connection to a channel that cannot do TLS: closed at once
  peer_closed,        // the peer closed or reset the connection
  protocol_error,     // the client read something it cannot accept (spec section 8)
  tls_required,       // a must client found no way to TLS and quit
  shutdown,           // the server stops: 421 4.3.2
};

const char* to_string(CloseReason r);

struct TlsEstablished {
  std::string version;
  std::string cipher;
};

// Plaintext received or buffered after a STARTTLS line (server), or after the 220 reply to
// STARTTLS (client), thrown away unread.
struct PlaintextDiscarded {
  std::size_t bytes = 0;
};

struct ChannelSwitched {
  std::string from;
  std::string to;
};

struct Closed {
  CloseReason reason = CloseReason::quit;
  std::string detail;
  // The client lost the connection between the final dot and its reply (a timeout, a close or a
  // reset): the RFC 1047 window, in which the server may have taken the message.
  bool rfc1047_window = false;
};

}  // namespace tlschan

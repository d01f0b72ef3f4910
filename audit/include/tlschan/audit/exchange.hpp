// The exchange record of a check: every byte both ways on each of its connections, with the time
// since the check started, and the events that explain them. Plaintext is kept as it was; TLS bytes
// are kept as their length and digest, with the SMTP text carried inside them beside it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/time.hpp"
#include "tlschan/views/wire_capture.hpp"

namespace tlschan::audit {

struct ExchangeEntry {
  enum class Kind {
    client_bytes,      // plaintext from the client (the prober, or the client under test)
    server_bytes,      // plaintext from the server
    client_tls,        // TLS records from the client: length and digest only
    server_tls,        // TLS records from the server: length and digest only
    client_inside_tls, // the SMTP text the client sent inside TLS
    server_inside_tls, // the SMTP text the server sent inside TLS
    event,             // open, close, timeout, handshake done, ...
  };
  Kind kind = Kind::event;
  int connection = 1;  // counts from 1 within one check
  Duration at{};       // since the check started
  std::string text;    // the bytes (plaintext kinds), the event, or the digest (TLS kinds)
  std::size_t length = 0;
};

const char* direction(ExchangeEntry::Kind kind);  // "c>s", "s>c" or "" for events

class Exchange {
 public:
  Exchange();

  // A new connection: later entries carry its number.
  int open_connection(std::string_view what);
  void bytes(ExchangeEntry::Kind kind, std::string_view bytes);
  void event(std::string_view what);

  const std::vector<ExchangeEntry>& entries() const { return entries_; }
  int connections() const { return connection_; }

  // The wire of the check's connections, for its evidence pcapng: the real ends of the current
  // connection (the server shown on `shown_port`), its FINs and resets, and the TLS key log of one
  // connection's handshake. bytes() feeds the wire too (the plaintext and TLS kinds; not the text
  // inside TLS). None of it changes the transcript.
  void wire_opened(std::string_view client_address, std::uint16_t client_port, std::string_view server_address,
                   std::uint16_t server_port, std::uint16_t shown_port);
  void wire_closed(int connection, bool by_client) { wire_.closed(connection, by_client); }
  void wire_reset(int connection, bool by_client) { wire_.reset(connection, by_client); }
  void key_log(int connection, std::string_view line) { wire_.key_log(connection, line); }
  const views::WireCapture& wire() const { return wire_; }

  // The body of a transcript in the simulator's format: one line per entry, "      12ms c1 c>s
  // EHLO x\r\n", TLS as "c1 s>c tls 517 bytes sha256:...", text inside TLS as "c1 s>c in-tls ...".
  std::string transcript_body() const;

 private:
  Duration since_start() const;
  std::chrono::steady_clock::time_point started_;
  std::vector<ExchangeEntry> entries_;
  int connection_ = 0;
  views::WireCapture wire_;
};

}  // namespace tlschan::audit

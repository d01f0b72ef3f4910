// A server played by hand by a test, for ClientSession: the test chooses every reply byte (including
// ones a real ServerSession never sends) when it likes and reads exactly what the client put on the
// wire. It is not a script: the simulator's scripted server (sim::ScriptedServer), which the
// simulator and the fuzz targets share, answers on its own from a list; these tests test the engine
// alone, below the simulator. Once the client has been told 220 to STARTTLS (or connects to a TLS
// port), the test can stand up a real server-side TlsSession and move the ciphertext between it and
// the client itself, writing the replies inside TLS. Owned by client_session_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "tlschan/client_session.hpp"
#include "tlschan/tls.hpp"

#ifndef TLSCHAN_TEST_CERTS
#error "TLSCHAN_TEST_CERTS must be the absolute path of corpus/certs"
#endif

namespace tlschan::by_hand {

inline TlsContext server_context(const TlsOptions& options = {}) {
  auto ctx = TlsContext::server_from_files(TLSCHAN_TEST_CERTS "/server.crt", TLSCHAN_TEST_CERTS "/server.key", options);
  if (!ctx) ADD_FAILURE() << ctx.error().message;
  return *ctx;
}

// A server context that shares no protocol version with any client here (TLS 1.1 only).
inline TlsContext tls11_only_server_context() { return server_context(broken_server_options()); }

inline TlsContext client_context(const TlsOptions& options = {}) {
  auto ctx = TlsContext::client(options);
  if (!ctx) ADD_FAILURE() << ctx.error().message;
  return *ctx;
}

inline ClientSession make_client(ClientConfig config, OutgoingMessage message, Time now = {}) {
  auto created = ClientSession::create(std::move(config), std::move(message), now);
  if (!created) ADD_FAILURE() << "ClientSession::create: " << created.error().message;
  return std::move(created).value();
}

// True when `bytes` starts with a TLS handshake record (a ClientHello on a fresh connection).
inline bool starts_with_tls_handshake_record(std::string_view bytes) {
  return bytes.size() >= 6 && static_cast<unsigned char>(bytes[0]) == 0x16 &&
         static_cast<unsigned char>(bytes[1]) == 0x03 && static_cast<unsigned char>(bytes[5]) == 0x01;  // ClientHello
}

class ServerByHand {
 public:
  explicit ServerByHand(ClientSession& client, Time now = {}) : now(now), client_(client) {}

  Time now;

  // --- plaintext --------------------------------------------------------------------------------

  // Bytes from the server, delivered to the client as they are (one receive()).
  void say(std::string_view bytes) {
    client_.receive(bytes, now);
    collect();
  }

  // What the client put on the wire since the last call (raw: ciphertext once TLS is on).
  std::string heard() {
    std::string bytes(client_.output());
    client_.consume(bytes.size());
    wire_ += bytes;
    collect();
    return bytes;
  }

  // Every byte the client sent, on every connection, as on the wire.
  const std::string& wire() {
    heard();
    return wire_;
  }

  // The server closes (reset = false) or the connection is reset/lost (reset = true).
  void close(bool reset = false) {
    client_.on_peer_closed(now, reset);
    collect();
  }

  void fire_deadline(Time at) {
    now = at;
    client_.on_deadline(at);
    collect();
  }

  // The driver closes this connection and opens a fresh one (the may fallback).
  void reconnect() {
    heard();
    tls_.reset();
    tls_plain_.clear();
    client_.reconnected(now);
    collect();
  }

  // --- TLS --------------------------------------------------------------------------------------

  // From now on, bytes from the client go to a real server TlsSession.
  void accept_tls(const TlsContext& server_ctx) {
    tls_.emplace(server_ctx);
    tls_plain_.clear();
  }

  // Moves ciphertext both ways until neither side has anything to say; returns the server side's
  // TLS state.
  TlsState pump() {
    for (int round = 0; round < 64; ++round) {
      const std::string from_client = heard();
      if (!from_client.empty()) tls_->feed(from_client);
      tls_->advance(tls_plain_);
      std::string from_server;
      tls_->take_output(from_server);
      if (!from_server.empty() && !client_.connection_finished()) {
        client_.receive(from_server, now);
        collect();
      }
      if (from_client.empty() && from_server.empty()) return tls_->state();
    }
    ADD_FAILURE() << "the TLS pump did not settle";
    return tls_->state();
  }

  // One client flight into the server TlsSession and the server's answer back, without looping.
  void pump_once_client_to_server() {
    const std::string from_client = heard();
    if (!from_client.empty()) tls_->feed(from_client);
    tls_->advance(tls_plain_);
  }
  std::string take_server_ciphertext() {
    std::string out;
    tls_->take_output(out);
    return out;
  }
  void deliver_ciphertext(std::string_view ciphertext) {
    client_.receive(ciphertext, now);
    collect();
  }

  // A reply from the server inside TLS.
  void say_tls(std::string_view text) {
    tls_->write(text);
    pump();
  }

  // The plaintext the client sent inside TLS since the last call.
  std::string heard_tls() {
    pump();
    return std::exchange(tls_plain_, std::string());
  }

  TlsSession& server_tls() { return *tls_; }

  // --- events -----------------------------------------------------------------------------------

  const std::vector<ClientEvent>& events() {
    collect();
    return events_;
  }

  template <class E>
  std::vector<E> events_of() {
    collect();
    std::vector<E> out;
    for (const auto& e : events_) {
      if (const auto* x = std::get_if<E>(&e)) out.push_back(*x);
    }
    return out;
  }

 private:
  void collect() {
    while (auto e = client_.next_event()) events_.push_back(std::move(*e));
  }

  ClientSession& client_;
  std::string wire_;
  std::optional<TlsSession> tls_;
  std::string tls_plain_;
  std::vector<ClientEvent> events_;
};

}  // namespace tlschan::by_hand

// Drives a real ServerSession from the client's side with raw bytes, with a real client TlsSession
// once STARTTLS (or the TLS port) calls for one. Replies come back as plaintext text.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tlschan/server_session.hpp"

namespace tlschan::test {

inline TlsContext server_tls(const TlsOptions& options = {}) {
  auto ctx = TlsContext::server_from_files(TLSCHAN_TEST_CERTS "/server.crt", TLSCHAN_TEST_CERTS "/server.key", options);
  if (!ctx) ADD_FAILURE() << ctx.error().message;
  return *ctx;
}

inline TlsContext client_tls(const TlsOptions& options = {}) {
  auto ctx = TlsContext::client(options);
  if (!ctx) ADD_FAILURE() << ctx.error().message;
  return *ctx;
}

// A server TLS context whose handshakes always fail: TLS 1.1 only, which no client here offers.
inline TlsContext broken_server_tls() { return server_tls(broken_server_options()); }

inline ServerConfig server_config(Policy policy, bool tls_available = true) {
  ServerConfig c;
  c.hostname = "mx.tlschan.test";
  c.channel = "tcp_local";
  c.policy = policy;
  if (tls_available) c.tls = server_tls();
  return c;
}

class ServerHarness {
 public:
  explicit ServerHarness(ServerConfig config) : server_(std::move(config), now_) {}

  static ServerHarness tls_port(ServerConfig config) {
    config.mode = ServerMode::tls_port;
    ServerHarness h(std::move(config));
    h.start_tls();
    return h;
  }

  // Sends bytes (inside TLS once it is up) and returns everything the server answered.
  std::string send(std::string_view bytes) {
    if (tls_) {
      tls_->write(bytes);
      std::string cipher;
      tls_->take_output(cipher);
      server_.receive(cipher, now_);
    } else {
      server_.receive(bytes, now_);
    }
    return read();
  }

  // What the server has sent since the last read, decrypted when TLS is up.
  std::string read() {
    std::string wire(server_.output());
    server_.consume(wire.size());
    if (!tls_) return wire;
    tls_->feed(wire);
    std::string plain;
    tls_->advance(plain);
    flush_tls();
    return plain;
  }

  // Runs the client side of a TLS handshake with the server until it ends; returns true on success.
  bool start_tls(const TlsContext& ctx = client_tls()) {
    tls_.emplace(ctx);
    std::string ignored;
    for (int i = 0; i < 20; ++i) {
      tls_->advance(ignored);
      flush_tls();
      std::string wire(server_.output());
      server_.consume(wire.size());
      if (!wire.empty()) tls_->feed(wire);
      tls_->advance(greeting_);
      flush_tls();
      if (tls_->state() == TlsState::failed) return false;
      if (tls_->state() == TlsState::established && server_.tls_active()) return true;
      if (server_.finished()) return false;
    }
    return false;
  }

  // Plaintext the server sent together with its last handshake flight (the TLS-port greeting).
  std::string take_greeting() {
    std::string g = std::move(greeting_);
    greeting_.clear();
    g += read();
    return g;
  }

  std::vector<ServerEvent> events() {
    std::vector<ServerEvent> all;
    while (auto e = server_.next_event()) all.push_back(std::move(*e));
    return all;
  }

  template <class E>
  std::vector<E> events_of() {
    std::vector<E> out;
    for (auto& e : events()) {
      if (auto* x = std::get_if<E>(&e)) out.push_back(*x);
    }
    return out;
  }

  ServerSession& server() { return server_; }
  Time& now() { return now_; }
  TlsSession* client_tls_session() { return tls_ ? &*tls_ : nullptr; }

 private:
  void flush_tls() {
    std::string cipher;
    tls_->take_output(cipher);
    if (!cipher.empty()) server_.receive(cipher, now_);
  }

  Time now_{};
  ServerSession server_;
  std::optional<TlsSession> tls_;
  std::string greeting_;
};

}  // namespace tlschan::test

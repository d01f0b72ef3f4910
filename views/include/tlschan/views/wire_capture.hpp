// A capture of real connections (sockets) as a pcapng file Wireshark decrypts with no setting: what
// `send --pcap` and the evidence folders of `probe` and `client-check` write. Each connection is
// one TCP stream of the bytes the program really sent and received, in the order it saw them, with
// real-clock timestamps; the TLS key log of each connection's handshakes in a Decryption Secrets
// Block right before the connection's first packet.
//
// Addresses are made up: every real client address becomes one of 192.0.2.0/24 and every real
// server address one of 198.51.100.0/24 (the documentation networks of RFC 5737), numbered in the
// order they first appear; the client keeps its real port, the server is shown on its service's
// well-known port (service_port()). The SYN of each stream carries a packet comment with the real
// addresses and ports. Sequence numbers are made up per connection; segment boundaries are the
// program's writes and reads (what the kernel cut on the wire is not seen from a socket).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "tlschan/views/tcp_streams.hpp"

namespace tlschan::views {

class WireCapture {
 public:
  // Microseconds since 1970.
  using Clock = std::function<std::uint64_t()>;
  static std::uint64_t real_clock();

  explicit WireCapture(Clock clock = real_clock) : clock_(std::move(clock)) {}

  // Connection `id` is up between the client and the server (real addresses as text, real ports);
  // the server is shown on `shown_port`.
  void opened(int id, std::string_view client_address, std::uint16_t client_port,
              std::string_view server_address, std::uint16_t server_port, std::uint16_t shown_port);
  // Bytes on the wire of connection `id`: from the client (`from_client`) or from the server.
  void bytes(int id, bool from_client, std::string_view bytes);
  // One side closed its end (FIN), or reset the connection.
  void closed(int id, bool by_client);
  void reset(int id, bool by_client);
  // One key log line (NSS SSLKEYLOGFILE form, no line end) of a handshake on connection `id`.
  void key_log(int id, std::string_view line);

  bool empty() const { return streams_.empty(); }
  // The pcapng file of what was captured so far.
  std::string pcapng() const;
  // The key log of one connection, and of all of them (connection by connection), one line each.
  std::string key_log_lines(int id) const;
  std::string key_log_lines() const;
  // The made-up address (host order) a real one is shown as; 0 when none was given.
  std::uint32_t shown_client(std::string_view real) const;
  std::uint32_t shown_server(std::string_view real) const;

 private:
  std::uint64_t now() const { return clock_(); }
  Clock clock_;
  TcpStreams streams_;
  std::map<std::string, std::uint32_t, std::less<>> clients_, servers_;
  std::map<int, std::string> keys_;
};

// The address in dotted form ("192.0.2.1").
std::string dotted(std::uint32_t ip);

}  // namespace tlschan::views

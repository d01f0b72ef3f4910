// The observer of a simulator run that records it as a pcapng file Wireshark decrypts with no
// setting: one TCP stream per connection (made-up IPv4 addresses, one per simulated host, stable
// per seed; the server on its service's well-known port), a three-way handshake, each segment as
// the receiving side got it with its acknowledgement, the close or reset the run had, the
// timestamps of the virtual clock, and the TLS key log of the run in a Decryption Secrets Block
// ahead of the packets. A meddler's acts are comments on the packets they touched.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/sim/run_observer.hpp"

namespace tlschan::views {

inline constexpr std::uint16_t smtp_port = 25;
inline constexpr std::uint16_t smtps_port = 465;  // SMTP over implicit TLS (the TLS port)

class PcapRecorder final : public sim::RunObserver {
 public:
  explicit PcapRecorder(std::uint64_t seed) : seed_(seed) {}

  void connection_opened(int id, std::string_view client, std::string_view server, bool tls_port, Time at) override;
  void segment(int id, bool c2s, std::string_view bytes, Time at, std::string_view meddled) override;
  void closed(int id, bool c2s, Time at) override;
  void reset(int id, Time at) override;
  void key_log(std::string_view line) override;

  // The pcapng file of what was recorded so far.
  std::string pcapng() const;
  // The key log in SSLKEYLOGFILE form (one line each, line feeds).
  const std::string& key_log_lines() const { return key_log_; }
  // The address given to a host (host order), 0 when no connection named it.
  std::uint32_t address_of(std::string_view host) const;

 private:
  struct Side {
    std::uint32_t ip = 0;
    std::uint16_t port = 0;
    std::uint32_t next_seq = 0;  // the next sequence number it sends
    std::uint16_t ip_id = 0;
    bool fin = false;
  };
  struct Stream {
    Side client, server;
    bool over = false;  // reset
  };
  struct Packet {
    std::uint64_t microseconds = 0;
    std::string data;
    std::string comment;
  };
  std::uint32_t host(std::string_view name);
  void send(Side& from, Side& to, std::uint8_t flags, std::string_view payload, Time at, std::string_view comment = {});

  std::uint64_t seed_;
  std::map<std::string, std::uint32_t, std::less<>> hosts_;
  std::map<int, Stream> streams_;
  std::vector<Packet> packets_;
  std::string key_log_;
};

}  // namespace tlschan::views

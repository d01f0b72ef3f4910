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

#include "tlschan/sim/run_observer.hpp"
#include "tlschan/views/tcp_streams.hpp"

namespace tlschan::views {

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
  std::uint32_t host(std::string_view name);

  std::uint64_t seed_;
  std::map<std::string, std::uint32_t, std::less<>> hosts_;
  TcpStreams streams_;
  std::string key_log_;
};

}  // namespace tlschan::views

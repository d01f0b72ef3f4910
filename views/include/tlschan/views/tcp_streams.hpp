// TCP streams as the packets of a pcapng file: what the simulator's recorder and the capture of
// real sockets share. Each stream opens with a three-way handshake; each payload is acknowledged by
// the other side at once; FINs and RSTs end it; sequence and acknowledgement numbers and both
// checksums are right, so that Wireshark reports no retransmission, lost segment or malformed packet.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tlschan::views {

// The well-known ports a pcapng shows an SMTP server on, so that Wireshark dissects SMTP (and
// follows STARTTLS, or TLS from the start) with no "Decode As".
inline constexpr std::uint16_t smtp_port = 25;
inline constexpr std::uint16_t submission_port = 587;
inline constexpr std::uint16_t smtps_port = 465;  // SMTP over implicit TLS (the TLS port, RFC 8314)

// The port a server is shown on, whatever port it really used: 465 when the connection is TLS
// from its first octet (implicit TLS), 587 when the server is a submission service (it was reached
// on 587), else 25.
constexpr std::uint16_t service_port(bool implicit_tls, std::uint16_t real_port) {
  if (implicit_tls) return smtps_port;
  return real_port == submission_port ? submission_port : smtp_port;
}

// One end of a stream: its address (IPv4, host order), its port, its initial sequence number and
// the first IPv4 identification it sends.
struct TcpEnd {
  std::uint32_t ip = 0;
  std::uint16_t port = 0;
  std::uint32_t isn = 0;
  std::uint16_t ip_id = 0;
};

class TcpStreams {
 public:
  // Stream `id` opens at `microseconds` (since 1970): SYN, SYN-ACK, ACK; `comment` on the SYN.
  void open(int id, const TcpEnd& client, const TcpEnd& server, std::uint64_t microseconds,
            std::string_view comment = {});
  // Payload one side sent (`c2s`: the client), in as many packets as it needs, each acknowledged;
  // `comment` on each. Nothing once the stream was reset or the sending side sent its FIN.
  void data(int id, bool c2s, std::string_view bytes, std::uint64_t microseconds,
            std::string_view comment = {});
  // The FIN of one side (once), acknowledged.
  void fin(int id, bool c2s, std::uint64_t microseconds);
  // A RST from one side; the stream carries nothing more.
  void reset(int id, bool c2s, std::uint64_t microseconds);
  bool has(int id) const { return streams_.count(id) != 0; }
  bool empty() const { return packets_.empty(); }

  // The pcapng file (raw IPv4): `leading_secrets` (a TLS key log) in a Decryption Secrets Block
  // ahead of every packet when not empty, and each stream's own `stream_secrets` in a block right
  // before that stream's first packet (so before every packet they decrypt).
  std::string pcapng(std::string_view leading_secrets,
                     const std::map<int, std::string>& stream_secrets = {}) const;

 private:
  struct Side {
    TcpEnd end;
    std::uint32_t next_seq = 0;
    bool fin = false;
  };
  struct Stream {
    Side client, server;
    bool over = false;  // reset
  };
  struct Packet {
    int stream = 0;
    std::uint64_t microseconds = 0;
    std::string data;
    std::string comment;
  };
  void send(int id, Side& from, Side& to, std::uint8_t flags, std::string_view payload,
            std::uint64_t microseconds, std::string_view comment = {});

  std::map<int, Stream> streams_;
  std::vector<Packet> packets_;
};

}  // namespace tlschan::views

// A pcapng writer (the file format of Wireshark and tshark), small and only what tlschan needs: one
// section, one interface, Enhanced Packet Blocks with an optional comment, and Decryption Secrets
// Blocks carrying a TLS key log, so that Wireshark decrypts the TLS in the file with no setting.
// Every block is written little-endian (the Section Header Block's byte-order magic says so).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tlschan::views {

// Link types of the Interface Description Block.
inline constexpr std::uint16_t linktype_ethernet = 1;
inline constexpr std::uint16_t linktype_raw_ipv4 = 101;  // each packet starts with its IPv4 header

// Block types.
inline constexpr std::uint32_t block_section_header = 0x0A0D0D0A;
inline constexpr std::uint32_t block_interface_description = 0x00000001;
inline constexpr std::uint32_t block_enhanced_packet = 0x00000006;
inline constexpr std::uint32_t block_decryption_secrets = 0x0000000A;
inline constexpr std::uint32_t secrets_tls_key_log = 0x544c534b;  // "TLSK": NSS key log lines

// Builds a pcapng file in memory; bytes() is the file so far.
class PcapngWriter {
 public:
  // Writes the Section Header Block (with `application` as shb_userappl when not empty) and one
  // Interface Description Block of `linktype` (timestamps in microseconds, the default resolution).
  explicit PcapngWriter(std::uint16_t linktype = linktype_raw_ipv4, std::string_view application = "tlschan");

  // A Decryption Secrets Block of the TLS key log `lines` (SSLKEYLOGFILE lines, each ending in a
  // line feed). Wireshark applies it to the packets after it.
  void secrets(std::string_view key_log_lines);
  // An Enhanced Packet Block on interface 0; `comment` (opt_comment) when not empty.
  void packet(std::uint64_t microseconds, std::string_view data, std::string_view comment = {});

  const std::string& bytes() const { return out_; }

 private:
  void block(std::uint32_t type, std::string_view body);
  std::string out_;
};

// The Internet checksum (RFC 1071) of `data`, continuing from the partial sum `sum`.
std::uint16_t internet_checksum(std::string_view data, std::uint32_t sum = 0);

struct TcpSegment {
  std::uint32_t src = 0, dst = 0;  // IPv4 addresses, host order
  std::uint16_t sport = 0, dport = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = 0;  // tcp_fin, tcp_syn, ...
  std::uint16_t ip_id = 0;
  std::string_view payload;
};
inline constexpr std::uint8_t tcp_fin = 0x01, tcp_syn = 0x02, tcp_rst = 0x04, tcp_psh = 0x08, tcp_ack = 0x10;
// The largest payload one IPv4 packet with 20-octet IP and TCP headers carries.
inline constexpr std::size_t max_tcp_payload = 65535 - 40;

// An IPv4 packet holding one TCP segment (no options), both checksums filled in.
std::string ipv4_tcp_packet(const TcpSegment& s);

}  // namespace tlschan::views

#include "tlschan/views/pcapng.hpp"

#include <stdexcept>

namespace tlschan::views {

namespace {

void put16(std::string& s, std::uint16_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void pad4(std::string& s) {
  while (s.size() % 4 != 0) s.push_back('\0');
}
// One option: code, length, value padded to 32 bits.
void option(std::string& s, std::uint16_t code, std::string_view value) {
  if (value.size() > 0xffff) value = value.substr(0, 0xffff);
  put16(s, code);
  put16(s, static_cast<std::uint16_t>(value.size()));
  s.append(value);
  pad4(s);
}
void end_of_options(std::string& s) { put32(s, 0); }

// Network byte order, for the packet headers.
void be16(std::string& s, std::uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xff));
}
void be32(std::string& s, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void set_be16(std::string& s, std::size_t at, std::uint16_t v) {
  s[at] = static_cast<char>(v >> 8);
  s[at + 1] = static_cast<char>(v & 0xff);
}

}  // namespace

PcapngWriter::PcapngWriter(std::uint16_t linktype, std::string_view application) {
  std::string shb;
  put32(shb, 0x1A2B3C4D);  // byte-order magic
  put16(shb, 1);           // version 1.0
  put16(shb, 0);
  put32(shb, 0xffffffff);  // section length: not given
  put32(shb, 0xffffffff);
  if (!application.empty()) {
    option(shb, 4, application);  // shb_userappl
    end_of_options(shb);
  }
  block(block_section_header, shb);
  std::string idb;
  put16(idb, linktype);
  put16(idb, 0);  // reserved
  put32(idb, 0);  // snap length: no limit
  block(block_interface_description, idb);
}

void PcapngWriter::block(std::uint32_t type, std::string_view body) {
  const auto total = static_cast<std::uint32_t>(12 + body.size());
  if (body.size() % 4 != 0) throw std::logic_error("pcapng block body not padded to 32 bits");
  put32(out_, type);
  put32(out_, total);
  out_.append(body);
  put32(out_, total);
}

void PcapngWriter::secrets(std::string_view key_log_lines) {
  std::string dsb;
  put32(dsb, secrets_tls_key_log);
  put32(dsb, static_cast<std::uint32_t>(key_log_lines.size()));
  dsb.append(key_log_lines);
  pad4(dsb);
  block(block_decryption_secrets, dsb);
}

void PcapngWriter::packet(std::uint64_t microseconds, std::string_view data, std::string_view comment) {
  std::string epb;
  put32(epb, 0);  // interface 0
  put32(epb, static_cast<std::uint32_t>(microseconds >> 32));
  put32(epb, static_cast<std::uint32_t>(microseconds & 0xffffffff));
  put32(epb, static_cast<std::uint32_t>(data.size()));  // captured
  put32(epb, static_cast<std::uint32_t>(data.size()));  // on the wire
  epb.append(data);
  pad4(epb);
  if (!comment.empty()) {
    option(epb, 1, comment);  // opt_comment
    end_of_options(epb);
  }
  block(block_enhanced_packet, epb);
}

std::uint16_t internet_checksum(std::string_view data, std::uint32_t sum) {
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += (static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 8) | static_cast<unsigned char>(data[i + 1]);
  }
  if (i < data.size()) sum += static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::string ipv4_tcp_packet(const TcpSegment& s) {
  if (s.payload.size() > max_tcp_payload) throw std::length_error("TCP payload too large for one IPv4 packet");
  const auto total = static_cast<std::uint16_t>(40 + s.payload.size());
  std::string p;
  p.reserve(total);
  // IPv4 header.
  p.push_back(0x45);  // version 4, 5 words
  p.push_back(0);     // DSCP/ECN
  be16(p, total);
  be16(p, s.ip_id);
  be16(p, 0x4000);  // don't fragment
  p.push_back(64);  // TTL
  p.push_back(6);   // TCP
  be16(p, 0);       // checksum, below
  be32(p, s.src);
  be32(p, s.dst);
  set_be16(p, 10, internet_checksum(std::string_view(p).substr(0, 20)));
  // TCP header.
  be16(p, s.sport);
  be16(p, s.dport);
  be32(p, s.seq);
  be32(p, s.ack);
  p.push_back(0x50);  // 5 words, no options
  p.push_back(static_cast<char>(s.flags));
  be16(p, 65535);  // window
  be16(p, 0);      // checksum, below
  be16(p, 0);      // urgent pointer
  p.append(s.payload);
  // The pseudo-header: source, destination, protocol, TCP length.
  std::uint32_t sum = (s.src >> 16) + (s.src & 0xffff) + (s.dst >> 16) + (s.dst & 0xffff) + 6 +
                      static_cast<std::uint32_t>(20 + s.payload.size());
  set_be16(p, 36, internet_checksum(std::string_view(p).substr(20), sum));
  return p;
}

}  // namespace tlschan::views

// The pcapng writer: block framing, the Decryption Secrets Block, the packet comment, and the IPv4
// and TCP headers with their checksums.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tlschan/views/pcapng.hpp"
#include "views_test_support.hpp"

namespace tlschan::views {
namespace {

using test::Block;
using test::blocks;
using test::le32;
using test::be16_at;
using test::be32_at;

TEST(Pcapng, SectionAndInterfaceOpenTheFile) {
  const PcapngWriter w(linktype_raw_ipv4, "tlschan");
  const std::vector<Block> b = blocks(w.bytes());
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].type, block_section_header);
  EXPECT_EQ(le32(b[0].body, 0), 0x1A2B3C4Du);  // byte-order magic
  EXPECT_EQ(b[0].body[4], 1);                  // major version 1
  EXPECT_EQ(b[0].body[6], 0);                  // minor version 0
  EXPECT_NE(b[0].body.find("tlschan"), std::string::npos);
  EXPECT_EQ(b[1].type, block_interface_description);
  EXPECT_EQ(static_cast<unsigned char>(b[1].body[0]), linktype_raw_ipv4);
  EXPECT_EQ(b[1].body.size(), 8u);
}

TEST(Pcapng, BlocksAreFramedAndPaddedToFourOctets) {
  PcapngWriter w;
  w.secrets("CLIENT_RANDOM 00 11\n");  // 20 octets
  w.secrets("X\n");                    // 2 octets: 2 of padding
  w.packet(1, "abc");                  // 3 octets: 1 of padding
  w.packet(2, "abcd", "odd comment");  // an 11-octet comment: 1 of padding
  // blocks() checks each block's two lengths agree, are a multiple of 4 and fit the file.
  const std::vector<Block> b = blocks(w.bytes());
  ASSERT_EQ(b.size(), 6u);
  EXPECT_EQ(w.bytes().size() % 4, 0u);
  for (const Block& x : b) EXPECT_EQ(x.total % 4, 0u);
  EXPECT_EQ(b[3].total, 12u + 8u + 4u);  // "X\n" padded to 4
}

TEST(Pcapng, DecryptionSecretsBlockHoldsTheKeyLog) {
  PcapngWriter w;
  const std::string keys = "CLIENT_HANDSHAKE_TRAFFIC_SECRET 0102 0a0b\nSERVER_HANDSHAKE_TRAFFIC_SECRET 0102 0c0d\n";
  w.secrets(keys);
  const std::vector<Block> b = blocks(w.bytes());
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[2].type, 0x0000000Au);
  EXPECT_EQ(le32(b[2].body, 0), 0x544c534bu);  // "TLSK"
  ASSERT_EQ(le32(b[2].body, 4), keys.size());
  EXPECT_EQ(b[2].body.substr(8, keys.size()), keys);
  // Padding only after it, in zeros.
  for (std::size_t i = 8 + keys.size(); i < b[2].body.size(); ++i) EXPECT_EQ(b[2].body[i], '\0');
}

TEST(Pcapng, EnhancedPacketBlockCarriesTimeLengthsDataAndComment) {
  PcapngWriter w;
  const std::uint64_t us = (std::uint64_t{3} << 32) + 7;
  w.packet(us, "hello", "meddler strip: overwrote STARTTLS");
  const std::vector<Block> b = blocks(w.bytes());
  ASSERT_EQ(b.size(), 3u);
  const std::string& e = b[2].body;
  EXPECT_EQ(b[2].type, block_enhanced_packet);
  EXPECT_EQ(le32(e, 0), 0u);   // interface
  EXPECT_EQ(le32(e, 4), 3u);   // timestamp, high
  EXPECT_EQ(le32(e, 8), 7u);   // timestamp, low
  EXPECT_EQ(le32(e, 12), 5u);  // captured
  EXPECT_EQ(le32(e, 16), 5u);  // original
  EXPECT_EQ(e.substr(20, 5), "hello");
  // Options after the data padded to 8: opt_comment (1), its length, the text, then opt_endofopt.
  const std::string comment = "meddler strip: overwrote STARTTLS";
  EXPECT_EQ(static_cast<unsigned char>(e[28]) | (static_cast<unsigned char>(e[29]) << 8), 1);
  EXPECT_EQ(static_cast<unsigned char>(e[30]) | (static_cast<unsigned char>(e[31]) << 8), static_cast<int>(comment.size()));
  EXPECT_EQ(e.substr(32, comment.size()), comment);
  const std::size_t end = 32 + (comment.size() + 3) / 4 * 4;
  ASSERT_EQ(e.size(), end + 4);
  EXPECT_EQ(le32(e, end), 0u);
}

TEST(Pcapng, NoCommentNoOptions) {
  PcapngWriter w;
  w.packet(0, "12345678");
  const std::vector<Block> b = blocks(w.bytes());
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[2].body.size(), 20u + 8u);
}

TEST(Checksum, KnownIpv4Header) {
  // A header whose checksum is 0xb861 (the usual worked example).
  const std::string h("\x45\x00\x00\x73\x00\x00\x40\x00\x40\x11\x00\x00\xc0\xa8\x00\x01\xc0\xa8\x00\xc7", 20);
  EXPECT_EQ(internet_checksum(h), 0xb861);
  std::string with = h;
  with[10] = '\xb8';
  with[11] = '\x61';
  EXPECT_EQ(internet_checksum(with), 0);
  EXPECT_EQ(internet_checksum(std::string("\x01", 1)), 0xfeff);  // an odd octet is padded with zero
}

TEST(Checksum, TcpPacketVerifies) {
  TcpSegment s;
  s.src = 0x0a000001;
  s.dst = 0x0a000002;
  s.sport = 50000;
  s.dport = 25;
  s.seq = 0x01020304;
  s.ack = 0xa0b0c0d0;
  s.flags = tcp_psh | tcp_ack;
  s.ip_id = 9;
  s.payload = "EHLO x\r\n\x01";  // odd length
  const std::string p = ipv4_tcp_packet(s);
  ASSERT_EQ(p.size(), 40u + s.payload.size());
  EXPECT_EQ(be16_at(p, 2), p.size());
  EXPECT_EQ(be32_at(p, 12), s.src);
  EXPECT_EQ(be32_at(p, 16), s.dst);
  EXPECT_EQ(internet_checksum(p.substr(0, 20)), 0);  // the header checksum checks
  EXPECT_EQ(be16_at(p, 20), 50000u);
  EXPECT_EQ(be16_at(p, 22), 25u);
  EXPECT_EQ(be32_at(p, 24), s.seq);
  EXPECT_EQ(be32_at(p, 28), s.ack);
  EXPECT_EQ(static_cast<unsigned char>(p[33]), tcp_psh | tcp_ack);
  EXPECT_EQ(p.substr(40), s.payload);
  // The TCP checksum over the pseudo-header and the segment comes out at zero.
  std::string pseudo = p.substr(12, 8);
  pseudo += std::string("\x00\x06", 2);
  pseudo.push_back(static_cast<char>((p.size() - 20) >> 8));
  pseudo.push_back(static_cast<char>((p.size() - 20) & 0xff));
  EXPECT_EQ(internet_checksum(pseudo + p.substr(20)), 0);
  // One changed payload octet breaks it.
  std::string broken = p;
  broken[41] ^= 1;
  EXPECT_NE(internet_checksum(pseudo + broken.substr(20)), 0);
}

TEST(Checksum, OversizedPayloadIsRefused) {
  TcpSegment s;
  const std::string big(max_tcp_payload + 1, 'x');
  s.payload = big;
  EXPECT_THROW(ipv4_tcp_packet(s), std::length_error);
}

}  // namespace
}  // namespace tlschan::views

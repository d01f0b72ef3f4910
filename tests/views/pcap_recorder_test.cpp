// The observer of a simulator run: the same seed gives the same file, the transcript does not
// change when one watches, the key log lands in a block ahead of every packet, and each TCP stream
// is continuous.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/simulation.hpp"
#include "tlschan/views/pcap_recorder.hpp"
#include "tlschan/views/pcapng.hpp"
#include "views_test_support.hpp"

namespace tlschan::views {
namespace {

using test::be16_at;
using test::be32_at;
using test::blocks;

struct Recorded {
  std::string transcript;
  std::string pcapng;
  std::string keys;
};

Recorded record(const std::string& scenario_file, std::uint64_t seed) {
  auto sim = sim::Simulator::create();
  EXPECT_TRUE(sim.has_value());
  auto sc = sim::load_scenario(TLSCHAN_SOURCE_DIR "/corpus/scenarios/" + scenario_file);
  EXPECT_TRUE(sc.has_value());
  PcapRecorder rec(seed);
  Recorded r;
  sim->run(*sc, seed, &r.transcript, &rec);
  r.pcapng = rec.pcapng();
  r.keys = rec.key_log_lines();
  return r;
}

TEST(PcapRecorder, SameSeedSameFileAndTranscriptUnchanged) {
  const Recorded a = record("inject-command.toml", 7);
  const Recorded b = record("inject-command.toml", 7);
  EXPECT_EQ(a.pcapng, b.pcapng);
  auto sim = sim::Simulator::create();
  ASSERT_TRUE(sim.has_value());
  auto sc = sim::load_scenario(TLSCHAN_SOURCE_DIR "/corpus/scenarios/inject-command.toml");
  ASSERT_TRUE(sc.has_value());
  std::string unobserved;
  sim->run(*sc, 7, &unobserved);
  EXPECT_EQ(a.transcript, unobserved);
  EXPECT_NE(a.pcapng, record("inject-command.toml", 8).pcapng);
}

TEST(PcapRecorder, KeyLogBlockComesFirstAndStreamsAreContinuous) {
  const Recorded r = record("starttls-may-to-must.toml", 3);
  ASSERT_NE(r.keys.find("CLIENT_HANDSHAKE_TRAFFIC_SECRET "), std::string::npos);
  ASSERT_NE(r.keys.find("CLIENT_TRAFFIC_SECRET_0 "), std::string::npos);
  const auto b = blocks(r.pcapng);
  ASSERT_GT(b.size(), 4u);
  EXPECT_EQ(b[2].type, block_decryption_secrets);
  EXPECT_EQ(b[2].body.substr(8, r.keys.size()), r.keys);
  // Per direction (source address and port), each segment starts where the last one ended.
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> next;
  int data_segments = 0, fins = 0;
  for (std::size_t i = 3; i < b.size(); ++i) {
    ASSERT_EQ(b[i].type, block_enhanced_packet);
    const std::string p = b[i].body.substr(20, test::le32(b[i].body, 12));
    const auto key = std::make_pair(be32_at(p, 12), be16_at(p, 20));
    const std::uint32_t seq = be32_at(p, 24);
    const auto flags = static_cast<unsigned char>(p[33]);
    const auto len = static_cast<std::uint32_t>(p.size() - 40);
    if (flags & tcp_syn) {
      EXPECT_EQ(next.count(key), 0u);
    } else {
      ASSERT_EQ(next.count(key), 1u);
      EXPECT_EQ(seq, next[key]) << "packet " << i - 2;
    }
    if (len > 0) ++data_segments;
    if (flags & tcp_fin) ++fins;
    EXPECT_EQ(be16_at(p, 22) == smtp_port || be16_at(p, 20) == smtp_port, true);
    next[key] = seq + len + ((flags & (tcp_syn | tcp_fin)) ? 1 : 0);
  }
  EXPECT_GT(data_segments, 10);
  EXPECT_EQ(fins, 2);
}

TEST(PcapRecorder, TlsPortStreamsUseTheTlsPort) {
  PcapRecorder rec(1);
  rec.connection_opened(1, "client", "server", true, Time{});
  rec.segment(1, true, "x", Time{} + Duration(5), "");
  const auto b = blocks(rec.pcapng());
  ASSERT_EQ(b.size(), 2u + 5u);  // no key log: no secrets block; SYN, SYN+ACK, ACK, data, ACK
  const std::string syn = b[2].body.substr(20, 40);
  EXPECT_EQ(be16_at(syn, 22), smtps_port);
  EXPECT_NE(rec.address_of("client"), rec.address_of("server"));
  EXPECT_EQ(rec.address_of("client") >> 24, 10u);
  EXPECT_EQ(test::le32(b[5].body, 8), 5000u);  // 5 ms of virtual time, in microseconds
}

}  // namespace
}  // namespace tlschan::views

// The capture of real connections (send --pcap, the evidence of probe and client-check): the port
// a server is shown on, the key log of each TLS session kept apart when sessions share a context,
// each connection's secrets right before its first packet, made-up addresses with the real ones in
// a comment, and the pcapng explore writes beside a failure's transcript.
#include "tlschan/views/wire_capture.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/simulation.hpp"
#include "tlschan/tls.hpp"
#include "tlschan/views/pcap_recorder.hpp"
#include "tlschan/views/pcapng.hpp"
#include "tlschan/views/run_pcap.hpp"
#include "views_test_support.hpp"

namespace tlschan::views {
namespace {

using test::be16_at;
using test::be32_at;
using test::blocks;

TEST(ServicePort, ImplicitTlsIs465SubmissionIs587ElseSmtp) {
  EXPECT_EQ(service_port(true, 2525), 465);
  EXPECT_EQ(service_port(true, 587), 465);
  EXPECT_EQ(service_port(true, 465), 465);
  EXPECT_EQ(service_port(false, 587), 587);
  EXPECT_EQ(service_port(false, 25), 25);
  EXPECT_EQ(service_port(false, 2525), 25);
  EXPECT_EQ(service_port(false, 465), 25);  // STARTTLS on 465 is not SMTPS: shown as SMTP
}

// Moves what each side has to send to the other until neither has anything.
void pump(TlsSession& client, TlsSession& server) {
  std::string plain;
  for (int round = 0; round < 20; ++round) {
    std::string c2s, s2c;
    client.advance(plain);
    client.take_output(c2s);
    if (!c2s.empty()) server.feed(c2s);
    server.advance(plain);
    server.take_output(s2c);
    if (!s2c.empty()) client.feed(s2c);
    if (c2s.empty() && s2c.empty()) return;
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The client random of an NSS key log line ("LABEL CLIENT_RANDOM SECRET").
std::string client_random(const std::string& line) {
  const auto a = line.find(' ');
  const auto b = line.find(' ', a + 1);
  return line.substr(a + 1, b - a - 1);
}

TEST(SessionKeyLog, EachSessionHearsItsOwnHandshakeOnlyThoughTheContextsAreShared) {
  auto server_ctx = TlsContext::server_from_files(TLSCHAN_SOURCE_DIR "/corpus/certs/server.crt",
                                                  TLSCHAN_SOURCE_DIR "/corpus/certs/server.key");
  auto client_ctx = TlsContext::client();
  ASSERT_TRUE(server_ctx.has_value()) << server_ctx.error().message;
  ASSERT_TRUE(client_ctx.has_value()) << client_ctx.error().message;
  std::string every;  // the client context's own sink hears every handshake
  client_ctx->set_key_log([&](std::string_view line) { every.append(line).push_back('\n'); });

  // Two connections whose handshakes interleave, all four sessions on two shared contexts.
  TlsSession c1(*client_ctx), c2(*client_ctx), s1(*server_ctx), s2(*server_ctx);
  std::string k_c1, k_c2, k_s1, k_s2;
  const auto sink = [](std::string& into) {
    return [&into](std::string_view line) { into.append(line).push_back('\n'); };
  };
  c1.set_key_log(sink(k_c1));
  c2.set_key_log(sink(k_c2));
  s1.set_key_log(sink(k_s1));
  s2.set_key_log(sink(k_s2));
  std::string plain, hello1, hello2;
  c1.advance(plain);
  c2.advance(plain);
  c1.take_output(hello1);
  c2.take_output(hello2);
  s2.feed(hello2);
  s1.feed(hello1);
  pump(c2, s2);
  pump(c1, s1);
  ASSERT_EQ(c1.state(), TlsState::established);
  ASSERT_EQ(c2.state(), TlsState::established);

  for (const std::string* keys : {&k_c1, &k_c2}) {
    const auto lines = lines_of(*keys);
    ASSERT_EQ(lines.size(), 5u) << *keys;  // TLS 1.3: two handshake, two traffic, one exporter secret
    std::set<std::string> randoms;
    for (const auto& l : lines) randoms.insert(client_random(l));
    EXPECT_EQ(randoms.size(), 1u) << "one session's lines name one handshake: " << *keys;
  }
  // The random in each ClientHello (after the 5-octet record and 4-octet handshake headers and
  // the 2-octet version) is the one in that session's own lines.
  const auto hex = [](std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (const char c : bytes) {
      out.push_back(digits[static_cast<unsigned char>(c) >> 4]);
      out.push_back(digits[static_cast<unsigned char>(c) & 15]);
    }
    return out;
  };
  EXPECT_EQ(client_random(lines_of(k_c1).front()), hex(std::string_view(hello1).substr(11, 32)));
  EXPECT_EQ(client_random(lines_of(k_c2).front()), hex(std::string_view(hello2).substr(11, 32)));
  EXPECT_NE(client_random(lines_of(k_c1).front()), client_random(lines_of(k_c2).front()));
  // Each server session logged the same secrets as its own client, and none of the other's.
  const auto as_set = [](const std::string& keys) {
    const auto l = lines_of(keys);
    return std::set<std::string>(l.begin(), l.end());
  };
  EXPECT_EQ(as_set(k_s1), as_set(k_c1));
  EXPECT_EQ(as_set(k_s2), as_set(k_c2));
  EXPECT_EQ(lines_of(every).size(), 10u);
  client_ctx->set_key_log({});
}

TEST(SessionKeyLog, AContextSinkTurnedOffLeavesTheSessionsSinks) {
  auto server_ctx = TlsContext::server_from_files(TLSCHAN_SOURCE_DIR "/corpus/certs/server.crt",
                                                  TLSCHAN_SOURCE_DIR "/corpus/certs/server.key");
  auto client_ctx = TlsContext::client();
  ASSERT_TRUE(server_ctx.has_value());
  ASSERT_TRUE(client_ctx.has_value());
  TlsSession c(*client_ctx), s(*server_ctx);
  std::string own;
  c.set_key_log([&](std::string_view line) { own.append(line).push_back('\n'); });
  client_ctx->set_key_log([](std::string_view) {});
  client_ctx->set_key_log({});
  pump(c, s);
  ASSERT_EQ(c.state(), TlsState::established);
  EXPECT_EQ(lines_of(own).size(), 5u);
}

constexpr std::uint64_t fixed_clock_value = 1'700'000'000'000'000;

TEST(WireCapture, EachConnectionsSecretsComeRightBeforeItsFirstPacket) {
  std::uint64_t tick = 0;
  WireCapture w([&] { return fixed_clock_value + 1000 * tick++; });
  w.opened(1, "127.0.0.1", 40001, "127.0.0.1", 2525, service_port(false, 2525));
  w.bytes(1, false, "220 hi\r\n");
  w.key_log(1, "CLIENT_TRAFFIC_SECRET_0 aa 11");
  w.bytes(1, true, "QUIT\r\n");
  w.closed(1, true);
  w.closed(1, false);
  w.opened(2, "127.0.0.1", 40002, "::1", 2525, service_port(true, 2525));
  w.key_log(2, "CLIENT_TRAFFIC_SECRET_0 bb 22");
  w.bytes(2, true, "\x16\x03\x01");
  w.reset(2, false);
  EXPECT_EQ(w.key_log_lines(1), "CLIENT_TRAFFIC_SECRET_0 aa 11\n");
  EXPECT_EQ(w.key_log_lines(2), "CLIENT_TRAFFIC_SECRET_0 bb 22\n");
  EXPECT_EQ(w.key_log_lines(), "CLIENT_TRAFFIC_SECRET_0 aa 11\nCLIENT_TRAFFIC_SECRET_0 bb 22\n");
  EXPECT_EQ(dotted(w.shown_client("127.0.0.1")), "192.0.2.1");
  EXPECT_EQ(dotted(w.shown_server("127.0.0.1")), "198.51.100.1");
  EXPECT_EQ(dotted(w.shown_server("::1")), "198.51.100.2");

  const auto b = blocks(w.pcapng());
  // SHB, IDB, secrets 1, 3 handshake + data + ack + data + ack + fin + ack + fin + ack, secrets 2,
  // 3 handshake + data + ack + rst.
  ASSERT_EQ(b.size(), 2u + 1 + 11 + 1 + 6);
  EXPECT_EQ(b[2].type, block_decryption_secrets);
  EXPECT_EQ(b[2].body.substr(8, 30), "CLIENT_TRAFFIC_SECRET_0 aa 11\n");
  EXPECT_EQ(b[14].type, block_decryption_secrets);
  EXPECT_EQ(b[14].body.substr(8, 30), "CLIENT_TRAFFIC_SECRET_0 bb 22\n");
  const auto packet = [&](std::size_t i) { return b[i].body.substr(20, test::le32(b[i].body, 12)); };
  const std::string syn1 = packet(3);
  EXPECT_EQ(be32_at(syn1, 12), (192u << 24) | (2u << 8) | 1u);
  EXPECT_EQ(be32_at(syn1, 16), (198u << 24) | (51u << 16) | (100u << 8) | 1u);
  EXPECT_EQ(be16_at(syn1, 20), 40001u);
  EXPECT_EQ(be16_at(syn1, 22), smtp_port);
  EXPECT_NE(b[3].body.find("real addresses: client 127.0.0.1:40001, server 127.0.0.1:2525"),
            std::string::npos);
  EXPECT_EQ(be16_at(packet(15), 22), smtps_port);
  EXPECT_NE(b[15].body.find("server [::1]:2525"), std::string::npos);
  EXPECT_EQ(test::le32(b[3].body, 8), static_cast<std::uint32_t>(fixed_clock_value & 0xffffffff));
  EXPECT_EQ(static_cast<unsigned char>(packet(20)[33]) & tcp_rst, tcp_rst);
  // Per direction, each segment starts where the last one ended.
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> next;
  for (std::size_t i = 2; i < b.size(); ++i) {
    if (b[i].type != block_enhanced_packet) continue;
    const std::string p = packet(i);
    const auto key = std::make_pair(be32_at(p, 12), be16_at(p, 20));
    const auto flags = static_cast<unsigned char>(p[33]);
    if (!(flags & tcp_syn)) {
      EXPECT_EQ(be32_at(p, 24), next[key]) << "block " << i;
    }
    next[key] =
        be32_at(p, 24) + static_cast<std::uint32_t>(p.size() - 40) + ((flags & (tcp_syn | tcp_fin)) ? 1 : 0);
  }
}

TEST(WireCapture, NothingFollowsAReset) {
  WireCapture w([] { return fixed_clock_value; });
  w.opened(1, "10.1.1.1", 5000, "10.2.2.2", 25, 25);
  w.reset(1, true);
  w.bytes(1, false, "late");
  w.closed(1, false);
  EXPECT_EQ(blocks(w.pcapng()).size(), 2u + 3 + 1);
}

TEST(ExplorePcapng, WrittenBesideTheTranscriptAsTheSameRunRecorded) {
  EXPECT_EQ(pcapng_path_beside("out/explore-seed-7.transcript"), "out/explore-seed-7.pcapng");
  auto sim = sim::Simulator::create();
  ASSERT_TRUE(sim.has_value());
  auto sc = sim::load_scenario(TLSCHAN_SOURCE_DIR "/corpus/scenarios/inject-command.toml");
  ASSERT_TRUE(sc.has_value());
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("tlschan-explore-pcap-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::create_directories(dir);
  const std::string transcript = (dir / "explore-seed-9.transcript").string();
  const auto written = write_pcapng_beside(*sim, *sc, 9, transcript);
  ASSERT_TRUE(written.has_value()) << written.error();
  EXPECT_EQ(*written, (dir / "explore-seed-9.pcapng").string());
  std::ifstream in(*written, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PcapRecorder again(9);
  sim->run(*sc, 9, nullptr, &again);
  EXPECT_EQ(file, again.pcapng());
  EXPECT_NE(file.find("CLIENT_TRAFFIC_SECRET_0"), std::string::npos);
  EXPECT_FALSE(
      write_pcapng_beside(*sim, *sc, 9, (dir / "no-such-folder" / "x.transcript").string()).has_value());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tlschan::views

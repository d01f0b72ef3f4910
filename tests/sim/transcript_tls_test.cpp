// Where the transcript switches a direction from text to TLS: where its sender started TLS (a
// session's handshake, a script's), whatever the segmentation and whatever the other side sends,
// and the transcript replays byte for byte.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/simulation.hpp"
#include "tlschan/sim/transcript.hpp"

#include "sim_test_support.hpp"

namespace tlschan::sim {
namespace {

const Simulator& simulator() { return testing::shared_simulator(); }

// Reverses the transcript's escaping of plaintext (\r, \n, \\, \xHH).
std::string unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    const char e = text[++i];
    if (e == 'r') {
      out += '\r';
    } else if (e == 'n') {
      out += '\n';
    } else if (e == 'x' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += e;
    }
  }
  return out;
}

// One direction of one connection, as its transcript shows it.
struct Direction {
  std::string text;             // the bytes shown as text, unescaped, in order
  std::size_t tls_bytes = 0;    // the bytes shown as TLS
  bool text_after_tls = false;  // a text line came after a TLS line
};

// The two directions of connection `conn`: [0] client to server, [1] server to client.
std::pair<Direction, Direction> directions(const std::string& transcript, int conn) {
  Direction d[2];
  const std::string prefix = " c" + std::to_string(conn) + " ";
  std::size_t at = 0;
  while (at < transcript.size()) {
    const std::size_t lf = transcript.find('\n', at);
    const std::string_view line = std::string_view(transcript).substr(at, lf - at);
    at = lf + 1;
    const std::size_t p = line.find(prefix);
    if (p == std::string_view::npos) continue;
    const std::string_view rest = line.substr(p + prefix.size());
    const int k = rest.starts_with("c>s ") ? 0 : rest.starts_with("s>c ") ? 1 : -1;
    if (k < 0) continue;
    const std::string_view payload = rest.substr(4);
    if (payload == "close") continue;
    if (payload.starts_with("tls ") && payload.find(" bytes sha256:") != std::string_view::npos) {
      d[k].tls_bytes += std::stoul(std::string(payload.substr(4)));
    } else {
      if (d[k].tls_bytes > 0) d[k].text_after_tls = true;
      d[k].text += unescape(payload);
    }
  }
  return {d[0], d[1]};
}

// `tlschan replay`: the transcript file alone re-runs to the same transcript.
void expect_replays_identically(const Scenario& s, std::uint64_t seed, const std::string& body) {
  testing::expect_transcript_replays(s, seed, body);
}

const std::vector<std::pair<std::size_t, std::size_t>> segmentations{{1, 1}, {1, 2},  {1, 5},    {2, 3},
                                                                     {7, 7}, {1, 64}, {1, 1460}, {0, 0}};

TEST(TranscriptTls, PipeliningScriptWithoutWait_TheTlsPartIsMarkedAtAnySegmentation) {
  // The script sends EHLO and STARTTLS at once: the EHLO reply arrives between its STARTTLS and
  // the 220, and the 220 may arrive one byte at a time.
  Scenario s;
  s.messages.clear();
  s.server.policy = Policy::may;
  s.scripts = {
      ScriptSpec{{"EHLO a\r\n", "STARTTLS\r\n", "EHLO a\r\n", "MAIL FROM:<a@b.test>\r\n",
                  "RCPT TO:<c@mx.tlschan.test>\r\n", "DATA\r\n", "Subject: x\r\n\r\nhi\r\n.\r\n", "QUIT\r\n"},
                 false,
                 true}};
  std::string reference;  // what the server sends in clear, the same however it is cut
  for (const auto& [lo, hi] : segmentations) {
    for (const std::uint64_t seed : {1u, 2u, 3u}) {
      s.network.segment_min = lo;
      s.network.segment_max = hi;
      std::string t;
      const RunResult r = simulator().run(s, seed, &t);
      const std::string where =
          "segment [" + std::to_string(lo) + ", " + std::to_string(hi) + "] seed " + std::to_string(seed);
      EXPECT_EQ(r.script_messages, 1) << where << "\n" << t;
      EXPECT_NE(t.find("c1 script tls-established"), std::string::npos) << where;
      const auto [c2s, s2c] = directions(t, 1);
      EXPECT_EQ(c2s.text, "EHLO a\r\nSTARTTLS\r\n") << where << "\n" << t;
      EXPECT_TRUE(s2c.text.starts_with("220 mx.tlschan.test ")) << where << "\n" << t;
      EXPECT_TRUE(s2c.text.ends_with("250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n")) << where << "\n"
                                                                                          << t;
      if (reference.empty()) reference = s2c.text;
      EXPECT_EQ(s2c.text, reference) << where;
      EXPECT_GT(c2s.tls_bytes, 0u) << where;
      EXPECT_GT(s2c.tls_bytes, 0u) << where;
      EXPECT_FALSE(c2s.text_after_tls) << where << "\n" << t;
      EXPECT_FALSE(s2c.text_after_tls) << where << "\n" << t;
      expect_replays_identically(s, seed, t);
    }
  }
}

TEST(TranscriptTls, RealSessions_A220CutIntoPieces_TheSwitchStaysAfterIt) {
  for (const MeddlerKind meddler :
       {MeddlerKind::none, MeddlerKind::inject_response, MeddlerKind::inject_command}) {
    for (const auto& [lo, hi] : segmentations) {
      Scenario s;
      s.network.meddler = meddler;
      s.network.segment_min = lo;
      s.network.segment_max = hi;
      std::string t;
      const RunResult r = simulator().run(s, 7, &t);
      const std::string where = std::string(to_string(meddler)) + " segment [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "]";
      ASSERT_EQ(r.messages.size(), 1u);
      EXPECT_EQ(outcome_word(r.messages[0]), "delivered-tls") << where;
      const auto [c2s, s2c] = directions(t, 1);
      const std::string injected =
          meddler == MeddlerKind::inject_command
              ? "NOOP\r\nMAIL FROM:<injected@meddler.test>\r\nRCPT TO:<victim@meddler.test>\r\n"
              : "";
      EXPECT_EQ(c2s.text, "EHLO client.tlschan.test\r\nSTARTTLS\r\n" + injected) << where << "\n" << t;
      // The replies a meddler injects behind the 220 are plaintext, shown as text.
      const std::string after_220 =
          meddler == MeddlerKind::inject_response ? "250-fake.meddler.test\r\n250 AUTH PLAIN\r\n" : "";
      EXPECT_TRUE(s2c.text.ends_with("\r\n220 2.0.0 Ready to start TLS\r\n" + after_220)) << where << "\n"
                                                                                          << t;
      EXPECT_GT(c2s.tls_bytes, 0u) << where;
      EXPECT_GT(s2c.tls_bytes, 0u) << where;
      EXPECT_FALSE(c2s.text_after_tls) << where << "\n" << t;
      EXPECT_FALSE(s2c.text_after_tls) << where << "\n" << t;
      expect_replays_identically(s, 7, t);
    }
  }
}

TEST(TranscriptTls, ScriptedServer_ItsRepliesAfterThe220AreTls) {
  Scenario s;
  s.client.policy = Policy::must;
  s.server_script = ServerScriptSpec{
      {"220 s ESMTP\r\n", "250-s\r\n250 STARTTLS\r\n", "220 go\r\n", "250-s\r\n250 8BITMIME\r\n",
       "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 queued\r\n", "221 bye\r\n"},
      true};
  for (const auto& [lo, hi] : segmentations) {
    s.network.segment_min = lo;
    s.network.segment_max = hi;
    std::string t;
    const RunResult r = simulator().run(s, 5, &t);
    const std::string where = "segment [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    EXPECT_EQ(outcome_word(r.messages[0]), "delivered-tls") << where << "\n" << t;
    const auto [c2s, s2c] = directions(t, 1);
    EXPECT_EQ(c2s.text, "EHLO client.tlschan.test\r\nSTARTTLS\r\n") << where << "\n" << t;
    EXPECT_EQ(s2c.text, "220 s ESMTP\r\n250-s\r\n250 STARTTLS\r\n220 go\r\n") << where << "\n" << t;
    EXPECT_FALSE(c2s.text_after_tls) << where;
    EXPECT_FALSE(s2c.text_after_tls) << where;
    expect_replays_identically(s, 5, t);
  }
}

TEST(TranscriptTls, AClientThatNeverStartsTls_StaysText_TheServerThatDidIsTls) {
  // An attacker pipelines commands behind STARTTLS and sends more after the 220 without a
  // handshake: all it sends is plaintext; the must server answered 220, so what it sends next is TLS.
  auto s = load_scenario(TLSCHAN_SOURCE_DIR "/corpus/scenarios/scripted-injection-must-server.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  std::string sent;
  for (const auto& chunk : s->scripts[0].send) sent += chunk;
  for (const auto& [lo, hi] : segmentations) {
    s->network.segment_min = lo;
    s->network.segment_max = hi;
    std::string t;
    simulator().run(*s, 2, &t);
    const std::string where = "segment [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    const auto [c2s, s2c] = directions(t, 1);
    EXPECT_EQ(c2s.text, sent) << where << "\n" << t;
    EXPECT_EQ(c2s.tls_bytes, 0u) << where << "\n" << t;
    EXPECT_TRUE(s2c.text.ends_with("\r\n220 2.0.0 Ready to start TLS\r\n")) << where << "\n" << t;
    EXPECT_FALSE(s2c.text_after_tls) << where << "\n" << t;
    expect_replays_identically(*s, 2, t);
  }
}

TEST(TranscriptTls, TlsPort_EverythingIsTlsFromTheFirstByte) {
  Scenario s;
  s.server.tls_port = true;
  s.client.implicit_tls = true;
  s.network.segment_min = 1;
  s.network.segment_max = 7;
  std::string t;
  const RunResult r = simulator().run(s, 3, &t);
  EXPECT_EQ(outcome_word(r.messages[0]), "delivered-tls") << t;
  const auto [c2s, s2c] = directions(t, 1);
  EXPECT_EQ(c2s.text, "");
  EXPECT_EQ(s2c.text, "");
  EXPECT_GT(c2s.tls_bytes, 0u);
  EXPECT_GT(s2c.tls_bytes, 0u);
  expect_replays_identically(s, 3, t);

  // A plaintext client at the TLS port: its bytes are text, the server's TLS.
  Scenario plain;
  plain.messages.clear();
  plain.server.tls_port = true;
  plain.scripts = {ScriptSpec{{"EHLO a\r\n"}, false, false}};
  std::string u;
  simulator().run(plain, 3, &u);
  const auto [pc2s, ps2c] = directions(u, 1);
  EXPECT_EQ(pc2s.text, "EHLO a\r\n") << u;
  EXPECT_EQ(ps2c.text, "") << u;
  expect_replays_identically(plain, 3, u);
}

}  // namespace
}  // namespace tlschan::sim

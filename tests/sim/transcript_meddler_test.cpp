// Transcript format v2: what each meddler did is a `meddler` line (the bytes and where), v1 files
// still read, and a v1 recording replays equal to the run as v1 writes it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sim_test_support.hpp"
#include "tlschan/matrix/outcome_matrix.hpp"

namespace tlschan::sim {
namespace {

const Simulator& simulator() { return testing::shared_simulator(); }

std::string transcript_of(MeddlerKind meddler, Policy client, std::uint64_t seed) {
  std::string t;
  simulator().run(matrix::cell_scenario(client, Policy::may, Health::ok, meddler), seed, &t);
  return t;
}

std::vector<std::string> meddler_lines(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) {
    if (l.find(" meddler ") != std::string::npos && l.find(" seed ") == std::string::npos) out.push_back(l);
  }
  return out;
}

// The bytes of direction `dir` ("c>s " or "s>c ") the transcript shows before `line_end`, as text.
std::size_t plain_bytes_before(const std::string& body, const std::string& dir, std::size_t line_end) {
  std::size_t n = 0;
  std::istringstream in(body.substr(0, line_end));
  for (std::string l; std::getline(in, l);) {
    const auto at = l.find(" c1 " + dir);
    if (at == std::string::npos || l.find(" meddler ") != std::string::npos) continue;
    std::string text = l.substr(at + 4 + dir.size());
    for (std::size_t k = 0; k < text.size(); ++k) {
      if (text[k] == '\\' && k + 1 < text.size()) ++k;
      ++n;
    }
  }
  return n;
}

TEST(TranscriptMeddler, InjectCommand_LineSaysWhatAndWhere) {
  const std::string t = transcript_of(MeddlerKind::inject_command, Policy::must, 2);
  const auto lines = meddler_lines(t);
  ASSERT_EQ(lines.size(), 1u) << t;
  const std::string injected = "NOOP\\r\\nMAIL FROM:<injected@meddler.test>\\r\\nRCPT TO:<victim@meddler.test>\\r\\n";
  const auto at = lines[0].find("c1 meddler inject-command c>s injected at ");
  ASSERT_NE(at, std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].substr(lines[0].size() - injected.size()), injected);
  // The offset is where the injected bytes start in the client's stream: after EHLO and STARTTLS.
  const std::string offset = lines[0].substr(at + 42, lines[0].find(':', at + 42) - at - 42);
  EXPECT_EQ(std::stoul(offset), plain_bytes_before(t, "c>s ", t.find("STARTTLS\\r\\nNOOP")) + 10) << t;
}

TEST(TranscriptMeddler, Strip_Refuse_Tamper_InjectResponse_EachRecorded) {
  const auto strip = meddler_lines(transcript_of(MeddlerKind::strip, Policy::may, 2));
  ASSERT_EQ(strip.size(), 1u);
  EXPECT_NE(strip[0].find("c1 meddler strip s>c changed 8 bytes at "), std::string::npos) << strip[0];
  EXPECT_NE(strip[0].find(": STARTTLS -> XXXXXXXA"), std::string::npos) << strip[0];

  const std::string refused = transcript_of(MeddlerKind::refuse, Policy::may, 2);
  const auto refuse = meddler_lines(refused);
  ASSERT_EQ(refuse.size(), 2u) << refused;
  EXPECT_NE(refuse[0].find("c1 meddler refuse c>s dropped: STARTTLS\\r\\n"), std::string::npos) << refuse[0];
  EXPECT_NE(refuse[1].find("c1 meddler refuse s>c answered: 454 4.7.0 TLS not available\\r\\n"), std::string::npos);
  // The STARTTLS never reaches the server; the answer does reach the client.
  EXPECT_EQ(refused.find("c1 c>s STARTTLS"), std::string::npos) << refused;
  EXPECT_NE(refused.find("c1 s>c 454 4.7.0 TLS not available"), std::string::npos) << refused;

  const auto tamper = meddler_lines(transcript_of(MeddlerKind::tamper, Policy::may, 8));
  ASSERT_EQ(tamper.size(), 1u);
  EXPECT_NE(tamper[0].find("c1 meddler tamper s>c tls changed 1 byte at "), std::string::npos) << tamper[0];

  const auto response = meddler_lines(transcript_of(MeddlerKind::inject_response, Policy::may, 2));
  ASSERT_EQ(response.size(), 1u);
  EXPECT_NE(response[0].find("c1 meddler inject-response s>c injected at "), std::string::npos);
  EXPECT_NE(response[0].find(": 250-fake.meddler.test\\r\\n250 AUTH PLAIN\\r\\n"), std::string::npos);

  EXPECT_TRUE(meddler_lines(transcript_of(MeddlerKind::none, Policy::may, 2)).empty());
}

TEST(TranscriptMeddler, MeddlerLinesAreTheOnlyChange_V1BodyDropsThem) {
  const std::string t = transcript_of(MeddlerKind::inject_command, Policy::must, 2);
  const std::string v1 = body_in_version(t, 1);
  EXPECT_TRUE(meddler_lines(v1).empty());
  EXPECT_EQ(v1.size() + meddler_lines(t)[0].size() + 1, t.size());
  EXPECT_EQ(body_in_version(t, 2), t);
}

TEST(TranscriptMeddler, FormatV2_RoundTrips_V1StillReads_V3Refused) {
  TranscriptFile f;
  f.seed = 9;
  f.openssl = "OpenSSL x";
  f.scenario_toml = "name = 'a'\n";
  f.body = "         0ms c1 meddler strip s>c changed 8 bytes at 3: STARTTLS -> XXXXXXXA\n";
  const std::string text = format_transcript(f);
  EXPECT_EQ(text.rfind("tlschan transcript v2\n", 0), 0u);
  auto back = parse_transcript(text, "f.t");
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(back->version, 2);
  EXPECT_EQ(format_transcript(*back), text);

  f.version = 1;
  f.body = "         0ms c1 c>s EHLO a\\r\\n\n";
  const std::string old = format_transcript(f);
  EXPECT_EQ(old.rfind("tlschan transcript v1\n", 0), 0u);
  auto v1 = parse_transcript(old, "old.t");
  ASSERT_TRUE(v1.has_value()) << v1.error();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(format_transcript(*v1), old);  // written back at its own version

  std::string v3 = text;
  v3[20] = '3';
  auto refused = parse_transcript(v3, "new.t");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), "new.t:1:1: error: transcript format v3, this tlschan reads v1 to v2");
}

TEST(TranscriptMeddler, V1RecordingOfAMeddledRunReplaysEqual) {
  std::ifstream in(TLSCHAN_SOURCE_DIR "/corpus/transcript_fuzzer/inject-command.transcript", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  auto t = parse_transcript(text.str(), "inject-command.transcript");
  ASSERT_TRUE(t.has_value()) << t.error();
  ASSERT_EQ(t->version, 1);
  auto scenario = parse_scenario(t->scenario_toml, "embedded");
  ASSERT_TRUE(scenario.has_value());
  std::string body;
  simulator().run(*scenario, t->seed, &body);
  ASSERT_FALSE(meddler_lines(body).empty());  // today's run has the v2 line
  const bool same_openssl = t->openssl == openssl_version();
  EXPECT_FALSE(compare_runs(t->body, body, same_openssl).identical);
  const Divergence d = compare_runs(t->body, body_in_version(body, t->version), same_openssl);
  EXPECT_TRUE(d.identical) << d.line << "\n" << d.recorded << "\n" << d.replayed;
}

}  // namespace
}  // namespace tlschan::sim

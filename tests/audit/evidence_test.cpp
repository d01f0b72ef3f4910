// The shared pieces of tlschan::audit: the exchange record in the simulator's transcript format, the
// evidence file and the JSON shape of a finding.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tlschan/audit/evidence.hpp"
#include "tlschan/audit/verdict.hpp"

namespace tlschan::audit {
namespace {

Finding sample() {
  Finding f{"smuggling-lf-dot-lf", "smuggling", fail("ended at \\n.\\n", "250 2.0.0 Ok"), {}};
  f.exchange.open_connection("127.0.0.1:25");
  f.exchange.bytes(ExchangeEntry::Kind::server_bytes, "220 mx\r\n");
  f.exchange.bytes(ExchangeEntry::Kind::client_bytes, std::string("x\n.\n\0\\", 6));
  f.exchange.bytes(ExchangeEntry::Kind::server_tls, std::string(517, '\x16'));
  f.exchange.bytes(ExchangeEntry::Kind::server_inside_tls, "250 ok\r\n");
  return f;
}

TEST(Exchange, TranscriptBody_UsesTheSimulatorsEscapingAndTlsLengths) {
  const std::string body = sample().exchange.transcript_body();
  EXPECT_NE(body.find(" c1 open 127.0.0.1:25\n"), std::string::npos) << body;
  EXPECT_NE(body.find(" c1 s>c 220 mx\\r\\n\n"), std::string::npos) << body;
  EXPECT_NE(body.find(" c1 c>s x\\n.\\n\\x00\\\\\n"), std::string::npos) << body;
  EXPECT_NE(body.find(" c1 s>c tls 517 bytes sha256:"), std::string::npos) << body;
  EXPECT_NE(body.find(" c1 s>c in-tls 250 ok\\r\\n\n"), std::string::npos) << body;
  EXPECT_EQ(body.find("\x16"), std::string::npos) << "TLS bytes are never written out";
}

TEST(Evidence, NamesTheCheckVerdictAndTarget) {
  const std::string text = evidence_text(sample(), "127.0.0.1:25");
  EXPECT_EQ(text.rfind("tlschan probe evidence v1\n", 0), 0u);
  EXPECT_NE(text.find("\ntarget 127.0.0.1:25\n"), std::string::npos);
  EXPECT_NE(text.find("\ncheck smuggling-lf-dot-lf (smuggling)\n"), std::string::npos);
  EXPECT_NE(text.find("\nverdict FAIL\n"), std::string::npos);
  EXPECT_NE(text.find("\ndecided-by 250 2.0.0 Ok\n"), std::string::npos);
  EXPECT_NE(text.find("\nrun\n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 4), "end\n");
}

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The pcapng beside the transcript holds the wire bytes (the TLS records whole, not the text
// inside TLS) and the connection's key log; a finding without a connection has none.
TEST(Evidence, WritesThePcapngOfTheCheckBesideItsTranscript) {
  Finding f = sample();
  f.exchange.wire_opened("127.0.0.1", 40000, "127.0.0.1", 2525, 25);
  f.exchange.bytes(ExchangeEntry::Kind::client_tls, std::string(300, '\x17'));
  f.exchange.key_log(1, "CLIENT_TRAFFIC_SECRET_0 00 11");
  f.exchange.bytes(ExchangeEntry::Kind::client_inside_tls, "QUIT-INSIDE\r\n");
  f.exchange.wire_closed(1, true);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tlschan-evidence-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::remove_all(dir);
  const auto written = write_evidence(dir.string(), f, "127.0.0.1:2525");
  ASSERT_TRUE(written.has_value()) << written.error();
  const std::string pcap = file_text(dir / "smuggling-lf-dot-lf.pcapng");
  EXPECT_EQ(pcap, f.exchange.wire().pcapng());
  EXPECT_EQ(pcap.substr(0, 4), "\x0a\x0d\x0d\x0a");
  EXPECT_NE(pcap.find("CLIENT_TRAFFIC_SECRET_0 00 11\n"), std::string::npos);
  EXPECT_NE(pcap.find(std::string(300, '\x17')), std::string::npos);
  EXPECT_EQ(pcap.find("QUIT-INSIDE"), std::string::npos) << "only what was on the wire";
  EXPECT_EQ(file_text(dir / "smuggling-lf-dot-lf.txt"), evidence_text(f, "127.0.0.1:2525"));

  Finding none{"must-530-mail", "must", skip("not run"), {}};
  ASSERT_TRUE(write_evidence(dir.string(), none, "127.0.0.1:2525").has_value());
  EXPECT_TRUE(std::filesystem::exists(dir / "must-530-mail.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir / "must-530-mail.pcapng"));
  std::filesystem::remove_all(dir);
}

TEST(FindingJson, HoldsIdGroupVerdictReasonAndExchange) {
  const auto j = finding_json(sample());
  EXPECT_EQ(j["id"], "smuggling-lf-dot-lf");
  EXPECT_EQ(j["group"], "smuggling");
  EXPECT_EQ(j["verdict"], "FAIL");
  EXPECT_EQ(j["decided_by"], "250 2.0.0 Ok");
  ASSERT_EQ(j["exchange"].size(), 5u);
  EXPECT_EQ(j["exchange"][1]["direction"], "s>c");
  EXPECT_EQ(j["exchange"][1]["text"], "220 mx\r\n");
  EXPECT_EQ(j["exchange"][3]["tls_bytes"], 517);
  EXPECT_FALSE(j["exchange"][3].contains("text"));
  EXPECT_EQ(j["exchange"][4]["inside_tls"], true);
}

TEST(Verdict, Names) {
  EXPECT_STREQ(to_string(Verdict::pass), "PASS");
  EXPECT_STREQ(to_string(Verdict::fail), "FAIL");
  EXPECT_STREQ(to_string(Verdict::warn), "WARN");
  EXPECT_STREQ(to_string(Verdict::info), "INFO");
  EXPECT_STREQ(to_string(Verdict::skip), "SKIP");
}

}  // namespace
}  // namespace tlschan::audit

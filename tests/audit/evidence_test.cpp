// The shared pieces of tlschan::audit: the exchange record in the simulator's transcript format, the
// evidence file and the JSON shape of a finding.
#include <gtest/gtest.h>

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

// The scripted peers driven directly, as the session fuzz targets drive them: what they send, and
// what their observers (on_read, on_reply_line) report.
#include "tlschan/sim/scripted_peers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "sim_test_support.hpp"

namespace tlschan::sim {
namespace {

using testing::shared_simulator;

std::string sent(std::vector<PeerAction> actions) {
  std::string out;
  for (const PeerAction& a : actions) {
    if (a.kind == PeerAction::Kind::send) out += a.bytes;
    if (a.kind == PeerAction::Kind::tls_starts) out += "<tls>";
    if (a.kind == PeerAction::Kind::close) out += "<close>";
  }
  return out;
}

TEST(ScriptedServer, StarttlsCutAcrossSegmentsInAnyCaseIsFollowedByTls) {
  ServerScriptSpec spec;
  spec.replies = {"220 hi\r\n", "220 go ahead\r\n"};
  spec.tls = true;
  ScriptedServer server(spec, shared_simulator().server_tls(Health::ok));
  std::vector<std::pair<std::string, bool>> read;
  server.on_read([&](std::string_view plain, bool inside_tls) { read.emplace_back(plain, inside_tls); });
  server.start();
  EXPECT_EQ(sent(server.take_actions()), "220 hi\r\n");
  server.receive("sTart");
  EXPECT_EQ(sent(server.take_actions()), "");  // no line end yet: no answer
  server.receive("tls\r\n");
  EXPECT_EQ(sent(server.take_actions()), "220 go ahead\r\n<tls>");
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0], std::make_pair(std::string("sTart"), false));
  EXPECT_EQ(read[1], std::make_pair(std::string("tls\r\n"), false));
}

TEST(ScriptedServer, StarttlsFollowedByOtherTextStartsNoTls) {
  ServerScriptSpec spec;
  spec.replies = {"220 hi\r\n", "220 not tls\r\n"};
  spec.tls = true;
  ScriptedServer server(spec, shared_simulator().server_tls(Health::ok));
  server.start();
  server.take_actions();
  server.receive("XSTARTTLS \r\n");
  EXPECT_EQ(sent(server.take_actions()), "220 not tls\r\n");
}

TEST(ScriptedClient, ReportsEveryReplyLineAndStartsTlsAfterThe220) {
  ScriptSpec spec;
  spec.send = {"EHLO x\r\n", "STARTTLS\r\n", "EHLO y\r\n"};
  spec.wait = false;
  spec.tls = true;
  ScriptedClient client(spec, shared_simulator().client_tls());
  std::vector<std::string> lines;
  client.on_reply_line([&](std::string_view line, bool inside_tls) {
    lines.push_back(std::string(line) + (inside_tls ? " (tls)" : ""));
  });
  client.start();
  EXPECT_EQ(sent(client.take_actions()), "EHLO x\r\nSTARTTLS\r\n");  // stops at the STARTTLS
  client.receive("220 greeting\r\n250-mx\r\n250 STARTTLS\r\n22");
  EXPECT_EQ(client.partial_reply_octets(), 2u);
  EXPECT_EQ(sent(client.take_actions()), "");
  client.receive("0 ready\r\n");
  const std::string after = sent(client.take_actions());
  EXPECT_EQ(after.rfind("<tls>", 0), 0u) << "the handshake starts right after the 220";
  EXPECT_GT(after.size(), 5u) << "a ClientHello follows";
  EXPECT_FALSE(client.tls_established());
  EXPECT_EQ(lines, (std::vector<std::string>{"220 greeting\r\n", "250-mx\r\n", "250 STARTTLS\r\n", "220 ready\r\n"}));
}

}  // namespace
}  // namespace tlschan::sim

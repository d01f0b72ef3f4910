// The simulator: determinism, transcripts and replay, faults, meddlers, retries and the RFC 1047
// window, against expectations written from semantics.md.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tlschan/matrix/explore.hpp"
#include "tlschan/matrix/outcome_matrix.hpp"
#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/transcript.hpp"

#include "sim_test_support.hpp"

namespace tlschan::sim {
namespace {

const Simulator& simulator() { return testing::shared_simulator(); }

Scenario cell(Policy client, Policy server, Health health = Health::ok, MeddlerKind meddler = MeddlerKind::none) {
  return matrix::cell_scenario(client, server, health, meddler);
}

std::string transcript_of(const Scenario& s, std::uint64_t seed) {
  std::string t;
  simulator().run(s, seed, &t);
  return t;
}

TEST(Simulation, SameSeedSameTranscript_OtherSeedOther) {
  Scenario s = cell(Policy::may, Policy::must);
  s.network.segment_min = 1;
  s.network.segment_max = 16;
  const std::string a = transcript_of(s, 11);
  EXPECT_EQ(a, transcript_of(s, 11));
  EXPECT_NE(a, transcript_of(s, 12));
  EXPECT_NE(a.find("tls-established"), std::string::npos);
}

TEST(Simulation, DeterministicAcrossInterleavedRuns) {
  // Another run in between must not change what a seed gives (no state leaks between runs).
  const Scenario s = cell(Policy::must, Policy::may);
  const std::string a = transcript_of(s, 5);
  transcript_of(cell(Policy::may, Policy::may, Health::broken), 99);
  EXPECT_EQ(a, transcript_of(s, 5));
}

TEST(Simulation, TranscriptShowsPlaintextAsTextAndTlsAsDigests) {
  const std::string t = transcript_of(cell(Policy::may, Policy::may), 3);
  EXPECT_NE(t.find("c>s EHLO client.tlschan.test\\r\\n"), std::string::npos) << t;
  EXPECT_NE(t.find("s>c 220 2.0.0 Ready to start TLS\\r\\n"), std::string::npos);
  EXPECT_NE(t.find("c>s tls "), std::string::npos);
  EXPECT_NE(t.find(" bytes sha256:"), std::string::npos);
  // Nothing of the message travels in clear.
  EXPECT_EQ(t.find("MAIL FROM"), std::string::npos);
  EXPECT_NE(t.find("outcome msg1 delivered-tls"), std::string::npos);
}

TEST(Simulation, TranscriptFileReplaysIdentically_AndAnEditedLineIsFound) {
  const Scenario s = cell(Policy::may, Policy::may, Health::broken);
  TranscriptFile f;
  f.seed = 21;
  f.openssl = openssl_version();
  f.scenario_toml = print_scenario(s);
  simulator().run(s, f.seed, &f.body);
  const std::string text = format_transcript(f);

  auto parsed = parse_transcript(text, "t.transcript");
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  auto scenario = parse_scenario(parsed->scenario_toml, "embedded");
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  std::string again;
  simulator().run(*scenario, parsed->seed, &again);
  EXPECT_TRUE(compare_runs(parsed->body, again, true).identical);

  // Edit the 5th line of the run: the replay reports exactly that line.
  std::string edited = parsed->body;
  std::size_t at = 0;
  for (int i = 0; i < 4; ++i) at = edited.find('\n', at) + 1;
  edited.insert(at, "X");
  const Divergence d = compare_runs(edited, again, true);
  EXPECT_FALSE(d.identical);
  EXPECT_EQ(d.line, 5u);
  EXPECT_EQ(d.recorded.substr(0, 1), "X");
}

TEST(Simulation, ReplayUnderAnotherOpenSslSkipsTlsBytesOnly) {
  const std::string a = transcript_of(cell(Policy::must, Policy::may), 4);
  std::string b = a;
  const auto tls_line = b.find(" bytes sha256:");
  ASSERT_NE(tls_line, std::string::npos);
  b[tls_line + 16] = b[tls_line + 16] == '0' ? '1' : '0';  // another digest
  EXPECT_FALSE(compare_runs(a, b, true).identical);
  const Divergence d = compare_runs(a, b, false);
  EXPECT_TRUE(d.identical);
  EXPECT_FALSE(d.tls_compared);
  std::string c = a;
  c.replace(c.find("EHLO"), 4, "HELO");
  EXPECT_FALSE(compare_runs(a, c, false).identical);  // plaintext is still compared
}

TEST(Simulation, TranscriptParseErrorsNameFileAndLine) {
  auto bad = parse_transcript("tlschan transcript v1\nseed x\n", "f.t");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().rfind("f.t:2:1: error:", 0), 0u) << bad.error();
  auto cut = parse_transcript("tlschan transcript v1\nseed 1\nopenssl x\nscenario 1 lines\nname='a'\nrun\nline\n", "f.t");
  ASSERT_FALSE(cut.has_value());
  EXPECT_NE(cut.error().find("cut short"), std::string::npos);
  EXPECT_FALSE(parse_transcript("hello", "f.t").has_value());
}

TEST(Simulation, InjectCommand_DiscardedByServer_NoExtraMessage) {
  const std::string t = transcript_of(cell(Policy::must, Policy::may, Health::ok, MeddlerKind::inject_command), 2);
  EXPECT_NE(t.find("STARTTLS\\r\\nNOOP\\r\\nMAIL FROM:<injected@meddler.test>"), std::string::npos) << t;
  EXPECT_NE(t.find("server plaintext-discarded 72"), std::string::npos) << t;
  EXPECT_EQ(t.find("s>c 250 2.0.0 Ok\\r\\n"), std::string::npos) << "the injected NOOP was answered";
  const RunResult r = simulator().run(cell(Policy::must, Policy::may, Health::ok, MeddlerKind::inject_command), 2);
  EXPECT_EQ(r.messages[0].deliveries, 1);
  EXPECT_TRUE(r.violations.empty());
}

TEST(Simulation, InjectResponse_DiscardedByClient) {
  const std::string t = transcript_of(cell(Policy::may, Policy::may, Health::ok, MeddlerKind::inject_response), 2);
  EXPECT_NE(t.find("250-fake.meddler.test\\r\\n250 AUTH PLAIN\\r\\n"), std::string::npos) << t;
  EXPECT_NE(t.find("client plaintext-discarded 39"), std::string::npos) << t;
  EXPECT_NE(t.find("outcome msg1 delivered-tls"), std::string::npos);
}

TEST(Simulation, Strip_MayDowngradedVisibly_MustDefers) {
  const std::string t = transcript_of(cell(Policy::may, Policy::may, Health::ok, MeddlerKind::strip), 2);
  EXPECT_NE(t.find("250 XXXXXXXA\\r\\n"), std::string::npos) << t;
  EXPECT_NE(t.find("c>s MAIL FROM"), std::string::npos);  // the weakness, shown
  EXPECT_NE(t.find("outcome msg1 delivered-plain"), std::string::npos);
  const RunResult r = simulator().run(cell(Policy::must, Policy::may, Health::ok, MeddlerKind::strip), 2);
  EXPECT_EQ(outcome_word(r.messages[0]), "deferred");
  EXPECT_EQ(r.messages[0].deliveries, 0);
}

TEST(Simulation, Tamper_FailsTheHandshake_MayFallsBack) {
  const RunResult r = simulator().run(cell(Policy::may, Policy::may, Health::ok, MeddlerKind::tamper), 8);
  EXPECT_TRUE(r.messages[0].fallback);
  EXPECT_EQ(outcome_word(r.messages[0]), "delivered-plain");
}

TEST(Simulation, Faults_OutcomeIsTheCellsOrDeferred_InvariantsHold) {
  for (const FaultKind kind : {FaultKind::reset, FaultKind::stall, FaultKind::truncate}) {
    for (const bool c2s : {true, false}) {
      for (std::uint64_t after : {0u, 40u, 150u, 400u, 900u}) {
        Scenario s = cell(Policy::must, Policy::may);
        s.faults.push_back(FaultSpec{kind, c2s, after, 1});
        const RunResult r = simulator().run(s, after + 1);
        const std::string got = outcome_word(r.messages[0]);
        EXPECT_TRUE(got == "delivered-tls" || got == "deferred") << to_string(kind) << " " << after << ": " << got;
        EXPECT_TRUE(r.violations.empty()) << r.violations.front();
        EXPECT_TRUE(r.completed);
      }
    }
  }
}

TEST(Simulation, StallEndsInTimeouts) {
  Scenario s = cell(Policy::no, Policy::no);
  s.faults.push_back(FaultSpec{FaultKind::stall, false, 10, 1});  // the greeting never completes
  const RunResult r = simulator().run(s, 1);
  EXPECT_EQ(outcome_word(r.messages[0]), "deferred");
  EXPECT_GE(r.end, Time{} + minutes(5));  // the 5-minute greeting timeout fired
}

TEST(Simulation, Rfc1047Window_RecordedNotCountedAsLoss) {
  auto s = load_scenario(TLSCHAN_SOURCE_DIR "/corpus/scenarios/rfc1047-window.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  std::string t;
  const RunResult r = simulator().run(*s, 3, &t);
  EXPECT_TRUE(r.messages[0].rfc1047_window);
  EXPECT_EQ(r.messages[0].deliveries, 2);
  EXPECT_TRUE(r.violations.empty());
  EXPECT_NE(t.find("RFC 1047"), std::string::npos);
}

TEST(Simulation, RetriesUntilLifetimeThenBounce) {
  Scenario s = cell(Policy::must, Policy::no);
  s.retry.backoff = {minutes(10), minutes(30)};
  s.retry.lifetime = minutes(120);
  const RunResult r = simulator().run(s, 1);
  EXPECT_EQ(outcome_word(r.messages[0]), "bounced");
  EXPECT_EQ(r.messages[0].attempts, 5);  // at 0, 10, 40, 70 and 100 minutes; the next would pass 120
  EXPECT_NE(r.messages[0].recipients[0].reason.find("queue lifetime expired"), std::string::npos);
}

TEST(Simulation, WithoutRetriesADeferredMessageStaysDeferred) {
  const RunResult r = simulator().run(cell(Policy::must, Policy::no), 1);
  EXPECT_EQ(outcome_word(r.messages[0]), "deferred");
  EXPECT_EQ(r.messages[0].attempts, 1);
}

TEST(Simulation, ManyMessagesConcurrently) {
  Scenario s = cell(Policy::may, Policy::may);
  s.messages.assign(200, MessageSpec{});
  const RunResult r = simulator().run(s, 9);
  ASSERT_EQ(r.messages.size(), 200u);
  for (const auto& m : r.messages) EXPECT_EQ(outcome_word(m), "delivered-tls");
  EXPECT_TRUE(r.violations.empty());
}

TEST(Scripts, PipelinedInjectionBehindStarttls_NothingAcceptedOrAnswered) {
  Scenario s = cell(Policy::no, Policy::must);
  s.messages.clear();
  s.scripts.push_back(ScriptSpec{{"EHLO a\r\n", "STARTTLS\r\nMAIL FROM:<x@y>\r\nRCPT TO:<v@w>\r\nDATA\r\nx\r\n.\r\n"}, true, false});
  std::string t;
  const RunResult r = simulator().run(s, 4, &t);
  EXPECT_EQ(r.script_messages, 0);
  EXPECT_NE(t.find("server plaintext-discarded 44"), std::string::npos) << t;
  EXPECT_EQ(t.find("250 2.1.0"), std::string::npos) << "an injected MAIL was answered";
}

TEST(Scripts, TlsScript_DeliversInsideTls_AfterTheSwitch) {
  Scenario s = cell(Policy::no, Policy::may);
  s.server.switch_target = "tcp_tls";
  s.messages.clear();
  s.scripts.push_back(ScriptSpec{{"EHLO a\r\n", "STARTTLS\r\n", "EHLO a\r\n", "MAIL FROM:<a@b>\r\n", "RCPT TO:<c@d>\r\n",
                                  "DATA\r\n", "hi\r\n.\r\n", "QUIT\r\n"},
                                 true, true});
  std::string t;
  const RunResult r = simulator().run(s, 4, &t);
  EXPECT_EQ(r.script_messages, 1);
  EXPECT_NE(t.find("message-accepted channel=tcp_tls tls"), std::string::npos) << t;
}

TEST(Scripts, NoWaitScriptSendsEverythingAtOnce) {
  Scenario s = cell(Policy::no, Policy::no);
  s.messages.clear();
  s.scripts.push_back(ScriptSpec{{"EHLO a\r\n", "MAIL FROM:<a@b>\r\n", "RCPT TO:<c@d>\r\n", "DATA\r\n", "x\r\n.\r\n"}, false, false});
  std::string t;
  const RunResult r = simulator().run(s, 4, &t);
  EXPECT_EQ(r.script_messages, 1);
  // The five chunks left at once: the last one arrives together with the greeting (same latency).
  const auto greeting = t.find("s>c 220 ");
  const auto data = t.find("c>s x\\r\\n.\\r\\n");
  ASSERT_NE(data, std::string::npos) << t;
  ASSERT_NE(greeting, std::string::npos) << t;
  const auto line_start = [&](std::size_t at) { return t.rfind('\n', at) + 1; };
  EXPECT_EQ(t.substr(line_start(data), 12), t.substr(line_start(greeting), 12)) << t;
}

TEST(Scripts, ScriptedServerResponseInjection_ClientReadsNoneOfIt) {
  Scenario s = cell(Policy::must, Policy::may);
  s.server_script = ServerScriptSpec{{"220 evil ESMTP\r\n", "250-evil\r\n250 STARTTLS\r\n",
                                      "220 2.0.0 go\r\n250-evil\r\n250 AUTH PLAIN\r\n", "250-evil\r\n250 8BITMIME\r\n",
                                      "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 queued\r\n", "221 bye\r\n"},
                                     true};
  std::string t;
  const RunResult r = simulator().run(s, 4, &t);
  EXPECT_EQ(outcome_word(r.messages[0]), "delivered-tls") << t;
  EXPECT_NE(t.find("client plaintext-discarded 26"), std::string::npos) << t;
}

TEST(Scripts, ScriptedServerThatNeverOffersStarttls_MustDefers) {
  Scenario s = cell(Policy::must, Policy::may);
  s.server_script = ServerScriptSpec{{"220 old ESMTP\r\n", "250 old\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n"}, true};
  std::string t;
  const RunResult r = simulator().run(s, 4, &t);
  EXPECT_EQ(outcome_word(r.messages[0]), "deferred");
  EXPECT_EQ(t.find("MAIL FROM"), std::string::npos) << t;
}

TEST(ScenarioFile, ConfigurationGivesServerAndClientTheirChannels) {
  auto s = parse_scenario(
      "config = \"default\"\n[server]\nservice = \"smtp_submit\"\nport = 465\n[[message]]\nto = [\"x@partner.example\"]\n",
      "c.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->server.channel, "tcp_submit");
  EXPECT_EQ(s->server.policy, Policy::must);
  EXPECT_TRUE(s->server.tls_port);
  EXPECT_EQ(s->client.channel, "tcp_tls");  // routed by partner.example
  EXPECT_EQ(s->client.policy, Policy::must);
  EXPECT_TRUE(s->client.implicit_tls);
  auto port25 = parse_scenario("config = \"default\"\n[server]\nservice = \"SMTP\"\n", "c.toml");
  ASSERT_TRUE(port25.has_value()) << port25.error().message;
  EXPECT_EQ(port25->server.channel, "tcp_local");
  EXPECT_EQ(port25->server.switch_target, std::optional<std::string>("tcp_tls"));
  EXPECT_FALSE(port25->server.tls_port);
}

TEST(ScenarioFile, ConfigurationErrorsNameTheKey) {
  auto bad_service = parse_scenario("config = \"default\"\n[server]\nservice = \"NOPE\"\n", "c.toml");
  ASSERT_FALSE(bad_service.has_value());
  EXPECT_EQ(bad_service.error().message.rfind("c.toml:3:", 0), 0u) << bad_service.error().message;
  EXPECT_NE(bad_service.error().message.find("server.service"), std::string::npos);
  auto bad_port = parse_scenario("config = \"default\"\n[server]\nservice = \"SMTP\"\nport = 26\n", "c.toml");
  ASSERT_FALSE(bad_port.has_value());
  EXPECT_NE(bad_port.error().message.find("server.port"), std::string::npos);
  auto no_config = parse_scenario("[server]\nservice = \"SMTP\"\n", "c.toml");
  ASSERT_FALSE(no_config.has_value());
  EXPECT_NE(no_config.error().message.find("needs a configuration"), std::string::npos);
  auto missing_dir = parse_scenario("config = \"nosuch\"\n", "/tmp/c.toml");
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_NE(missing_dir.error().message.find("config"), std::string::npos);
  auto both = parse_scenario("config = \"default\"\n[server]\nservice = \"SMTP\"\npolicy = \"no\"\n", "c.toml");
  ASSERT_FALSE(both.has_value());
}

TEST(ScenarioFile, PrintParseRoundTrip) {
  Scenario s = cell(Policy::must, Policy::may, Health::broken, MeddlerKind::refuse);
  s.server.switch_target = "tcp_tls";
  s.faults.push_back(FaultSpec{FaultKind::truncate, false, 77, 2});
  s.retry.backoff = {seconds(60)};
  s.messages[0].body = "Subject: x\r\n\r\n\"quoted\" \\ and 'single'\r\n";
  s.expect = Outcome::deferred;
  s.scripts.push_back(ScriptSpec{{"EHLO x\r\n", "STARTTLS\r\n"}, false, true});
  s.server_script = ServerScriptSpec{{"220 x\r\n", "250 ok\r\n"}, false};
  s.expect_script_messages = 0;
  const std::string text = print_scenario(s);
  auto back = parse_scenario(text, "x.toml");
  ASSERT_TRUE(back.has_value()) << back.error().message << "\n" << text;
  EXPECT_EQ(print_scenario(*back), text);
  EXPECT_EQ(back->messages[0].body, s.messages[0].body);
  EXPECT_EQ(back->faults.size(), 1u);
  EXPECT_EQ(back->faults[0].after_bytes, 77u);
  ASSERT_EQ(back->scripts.size(), 1u);
  EXPECT_FALSE(back->scripts[0].wait);
  EXPECT_TRUE(back->scripts[0].tls);
  ASSERT_TRUE(back->server_script.has_value());
  EXPECT_EQ(back->server_script->replies.size(), 2u);
  EXPECT_FALSE(back->server_script->tls);
}

TEST(ScenarioFile, ErrorsNameFileLineColumnAndKey) {
  auto bad_policy = parse_scenario("[server]\npolicy = \"maybe\"\n", "s.toml");
  ASSERT_FALSE(bad_policy.has_value());
  EXPECT_EQ(bad_policy.error().message.rfind("s.toml:2:", 0), 0u) << bad_policy.error().message;
  EXPECT_NE(bad_policy.error().message.find("server.policy"), std::string::npos);
  auto unknown = parse_scenario("[network]\nmedler = \"strip\"\n", "s.toml");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("network.medler: unknown key"), std::string::npos) << unknown.error().message;
  auto syntax = parse_scenario("[server\n", "s.toml");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().message.rfind("s.toml:1:", 0), 0u) << syntax.error().message;
  auto fault = parse_scenario("[[fault]]\nkind = \"explode\"\n", "s.toml");
  ASSERT_FALSE(fault.has_value());
  EXPECT_NE(fault.error().message.find("fault[0].kind"), std::string::npos);
}

TEST(ScenarioFile, EveryShippedScenarioParsesAndHoldsItsChecks) {
  for (const char* name : {"starttls-may-to-must", "strip-downgrades-may", "strip-must-defers", "broken-tls-fallback",
                           "inject-command", "rfc1047-window", "retry-until-lifetime", "scripted-injection-must-server",
                           "scripted-plaintext-to-must", "scripted-server-response-injection",
                           "scripted-starttls-client", "config-public-port-switch", "config-submission-tls-port",
                           "config-legacy-to-partner-port"}) {
    auto s = load_scenario(std::string(TLSCHAN_SOURCE_DIR "/corpus/scenarios/") + name + ".toml");
    ASSERT_TRUE(s.has_value()) << s.error().message;
    const RunResult r = simulator().run(*s, 1);
    const auto problems = matrix::check_run(*s, r);
    EXPECT_TRUE(problems.empty()) << name << ": " << problems.front();
  }
}

TEST(Explore, RandomScenariosAgreeWithTheOracle) {
  matrix::ExploreOptions o;
  o.seeds = 300;
  o.jobs = 2;
  const matrix::ExploreResult r = matrix::explore(o);
  EXPECT_EQ(r.runs, 300u);
  for (const auto& f : r.failures) ADD_FAILURE() << "seed " << f.seed << ": " << f.reasons.front();
}

TEST(Explore, CheckRunCatchesAWrongOutcome) {
  // The checker must be able to fail: a must client's plaintext delivery is not allowed.
  const Scenario s = cell(Policy::must, Policy::no);
  RunResult fake;
  fake.messages.resize(1);
  fake.messages[0].disposition = Disposition::delivered;
  fake.messages[0].deliveries = 1;
  fake.messages[0].channel = "tcp_local";
  EXPECT_FALSE(matrix::check_run(s, fake).empty());
}

}  // namespace
}  // namespace tlschan::sim

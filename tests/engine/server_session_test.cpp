// ServerSession against the tables of semantics.md sections 3 and 7, with exact reply texts where
// the spec fixes them. Expected replies are written from the spec, not from the engine's table.
#include <gtest/gtest.h>

#include <string>

#include "server_harness.hpp"

namespace tlschan::test {
namespace {

constexpr const char* k530 = "530 5.7.0 No STARTTLS command has been given.\r\n";
constexpr const char* k220tls = "220 2.0.0 Ready to start TLS\r\n";

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

// The harness after the greeting and an EHLO.
ServerHarness greeted(ServerConfig c) {
  ServerHarness h(std::move(c));
  EXPECT_TRUE(starts_with(h.read(), "220 mx.tlschan.test"));
  EXPECT_TRUE(starts_with(h.send("EHLO client.example\r\n"), "250-mx.tlschan.test\r\n"));
  return h;
}

bool lists_starttls(const std::string& ehlo_reply) {
  return ehlo_reply.find("250-STARTTLS\r\n") != std::string::npos ||
         ehlo_reply.find("250 STARTTLS\r\n") != std::string::npos;
}

// ---- 3.1 before TLS -------------------------------------------------------------------------

TEST(ServerBeforeTls, EhloListsStarttls_OnlyUnderMayAndMust) {
  for (const Policy p : {Policy::no, Policy::may, Policy::must}) {
    ServerHarness h(server_config(p));
    h.read();
    const std::string r = h.send("EHLO c\r\n");
    EXPECT_EQ(lists_starttls(r), p != Policy::no) << to_string(p) << "\n" << r;
  }
}

TEST(ServerBeforeTls, EhloListsTheFixedExtensions) {
  ServerHarness h(server_config(Policy::no));
  h.read();
  const std::string r = h.send("EHLO c\r\n");
  EXPECT_NE(r.find("250-PIPELINING\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("250-8BITMIME\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("ENHANCEDSTATUSCODES\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("SIZE 10485760\r\n"), std::string::npos) << r;
}

TEST(ServerBeforeTls, SizeLimitIsConfigurable) {
  ServerConfig c = server_config(Policy::no);
  c.limits.max_message_size = 2048;
  ServerHarness h = greeted(c);
  EXPECT_EQ(h.send("MAIL FROM:<a@b> SIZE=2049\r\n").substr(0, 10), "552 5.3.4 ");
  EXPECT_EQ(h.send("MAIL FROM:<a@b> SIZE=2048\r\n").substr(0, 10), "250 2.1.0 ");
}

TEST(ServerBeforeTls, HeloReplyCarriesNoExtensions) {
  ServerHarness h(server_config(Policy::must));
  h.read();
  const std::string r = h.send("HELO c\r\n");
  EXPECT_TRUE(starts_with(r, "250 ")) << r;
  EXPECT_EQ(r.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(r.find("250-"), std::string::npos);
}

TEST(ServerBeforeTls, Starttls_NoServer_502_MayMust_220) {
  {
    ServerHarness h = greeted(server_config(Policy::no));
    EXPECT_TRUE(starts_with(h.send("STARTTLS\r\n"), "502 5.5.1 "));
  }
  for (const Policy p : {Policy::may, Policy::must}) {
    ServerHarness h = greeted(server_config(p));
    EXPECT_EQ(h.send("STARTTLS\r\n"), k220tls);
  }
}

TEST(ServerBeforeTls, StarttlsWithArgument_NoServer_502_MayMust_501) {
  {
    ServerHarness h = greeted(server_config(Policy::no));
    EXPECT_TRUE(starts_with(h.send("STARTTLS now\r\n"), "502 5.5.1 "));
  }
  for (const Policy p : {Policy::may, Policy::must}) {
    ServerHarness h = greeted(server_config(p));
    EXPECT_EQ(h.send("STARTTLS now\r\n"), "501 5.5.4 Syntax: STARTTLS\r\n");
    EXPECT_FALSE(h.server().tls_active());
  }
}

TEST(ServerBeforeTls, NoAndMay_MailTransactionIsNormal) {
  for (const Policy p : {Policy::no, Policy::may}) {
    ServerHarness h = greeted(server_config(p));
    EXPECT_TRUE(starts_with(h.send("MAIL FROM:<alice@example.org>\r\n"), "250 2.1.0 "));
    EXPECT_TRUE(starts_with(h.send("RCPT TO:<bob@example.net>\r\n"), "250 2.1.5 "));
    EXPECT_TRUE(starts_with(h.send("DATA\r\n"), "354 "));
    EXPECT_TRUE(starts_with(h.send("Subject: x\r\n\r\nhi\r\n.\r\n"), "250 2.0.0 "));
    const auto msgs = h.events_of<MessageAccepted>();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].envelope.mail_from, "alice@example.org");
    EXPECT_EQ(msgs[0].envelope.rcpt_to, std::vector<std::string>{"bob@example.net"});
    EXPECT_EQ(msgs[0].data, "Subject: x\r\n\r\nhi\r\n");
    EXPECT_FALSE(msgs[0].tls);
    EXPECT_EQ(msgs[0].channel, "tcp_local");
  }
}

TEST(ServerBeforeTls, NormalRepliesOfTheOtherCommands) {
  ServerHarness h = greeted(server_config(Policy::no));
  EXPECT_TRUE(starts_with(h.send("VRFY bob\r\n"), "252 2.5.2 "));
  EXPECT_TRUE(starts_with(h.send("EXPN list\r\n"), "502 5.5.1 "));
  EXPECT_TRUE(starts_with(h.send("HELP\r\n"), "214 2.0.0 "));
  EXPECT_TRUE(starts_with(h.send("NOOP\r\n"), "250 2.0.0 "));
  EXPECT_TRUE(starts_with(h.send("RSET\r\n"), "250 2.0.0 "));
  EXPECT_TRUE(starts_with(h.send("QUIT\r\n"), "221 2.0.0 "));
  EXPECT_TRUE(h.server().finished());
  const auto closed = h.events_of<Closed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, CloseReason::quit);
}

TEST(ServerBeforeTls, Must_GatesMailRcptDataVrfyExpnHelp_With530) {
  ServerHarness h = greeted(server_config(Policy::must));
  for (const char* cmd : {"MAIL FROM:<a@b.c>\r\n", "RCPT TO:<b@c.d>\r\n", "DATA\r\n", "VRFY bob\r\n",
                          "EXPN list\r\n", "HELP\r\n"}) {
    EXPECT_EQ(h.send(cmd), k530) << cmd;
  }
  EXPECT_TRUE(h.events_of<MessageAccepted>().empty());
}

TEST(ServerBeforeTls, Must_LeavesEhloHeloNoopRsetQuitAlone) {
  ServerHarness h(server_config(Policy::must));
  h.read();
  EXPECT_TRUE(starts_with(h.send("EHLO c\r\n"), "250-"));
  EXPECT_TRUE(starts_with(h.send("HELO c\r\n"), "250 "));
  EXPECT_TRUE(starts_with(h.send("NOOP\r\n"), "250 2.0.0"));
  EXPECT_TRUE(starts_with(h.send("RSET\r\n"), "250 2.0.0"));
  EXPECT_TRUE(starts_with(h.send("QUIT\r\n"), "221 2.0.0"));
}

TEST(ServerBeforeTls, MailParameters) {
  ServerHarness h = greeted(server_config(Policy::no));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b> BODY=8BITMIME SIZE=10\r\n"), "250 2.1.0"));
  EXPECT_TRUE(starts_with(h.send("RSET\r\n"), "250"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b> BODY=7bit\r\n"), "250 2.1.0"));
  EXPECT_TRUE(starts_with(h.send("RSET\r\n"), "250"));
  // Arguments and keywords without their case (RFC 5321 2.4), letters only: an octet 0x20 from a
  // letter of "FROM:" is no letter and does not match.
  EXPECT_TRUE(starts_with(h.send("mail from:<a@b> size=10 body=8bitMIME\r\n"), "250 2.1.0"));
  EXPECT_TRUE(starts_with(h.send("rcpt to:<c@d>\r\n"), "250"));
  EXPECT_TRUE(starts_with(h.send("RSET\r\n"), "250"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM\x1a<a@b>\r\n"), "501"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b> AUTH=<>\r\n"), "555 5.5.4"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b> BODY=BINARYMIME\r\n"), "555 5.5.4"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b> SIZE=x\r\n"), "501 5.5.4"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b> SIZE=10485761\r\n"), "552 5.3.4"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:a@b\r\n"), "501 5.5.4"));
  EXPECT_TRUE(starts_with(h.send("MAIL TO:<a@b>\r\n"), "501 5.5.4"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<>\r\n"), "250 2.1.0"));
  EXPECT_TRUE(starts_with(h.send("RCPT TO:<>\r\n"), "501 5.5.4"));
  EXPECT_TRUE(starts_with(h.send("RCPT TO:<b@c> NOTIFY=NEVER\r\n"), "555 5.5.4"));
  EXPECT_TRUE(starts_with(h.send("RCPT TO:<postmaster>\r\n"), "250 2.1.5"));
}

// ---- which reply wins -------------------------------------------------------------------------

TEST(ServerPrecedence, LineErrorBeatsUnknownVerb) {
  ServerHarness h = greeted(server_config(Policy::must));
  EXPECT_TRUE(starts_with(h.send("XYZZY\n"), "500 5.5.2"));
  EXPECT_TRUE(starts_with(h.send("XYZZY\r\n"), "500 5.5.1"));
}

TEST(ServerPrecedence, StarttlsOnNoServerIs502WhateverFollows) {
  ServerHarness h = greeted(server_config(Policy::no));
  EXPECT_TRUE(starts_with(h.send("STARTTLS x y z\r\n"), "502 5.5.1"));
}

TEST(ServerPrecedence, SyntaxBeatsMustGate) {
  ServerHarness h = greeted(server_config(Policy::must));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:broken\r\n"), "501 5.5.4"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b> FOO=1\r\n"), "555 5.5.4"));
  EXPECT_TRUE(starts_with(h.send("DATA now\r\n"), "501 5.5.4"));
  EXPECT_TRUE(starts_with(h.send("VRFY\r\n"), "501 5.5.4"));
}

TEST(ServerPrecedence, SyntaxBeatsTlsUnavailable) {
  ServerHarness h = greeted(server_config(Policy::may, /*tls_available=*/false));
  EXPECT_EQ(h.send("STARTTLS x\r\n"), "501 5.5.4 Syntax: STARTTLS\r\n");
  EXPECT_EQ(h.send("STARTTLS\r\n"), "454 4.7.1 TLS library initialization failure\r\n");
}

TEST(ServerPrecedence, MustGateBeatsBadSequence) {
  {
    ServerHarness h = greeted(server_config(Policy::must));
    EXPECT_EQ(h.send("RCPT TO:<b@c>\r\n"), k530);
    EXPECT_EQ(h.send("DATA\r\n"), k530);
  }
  {
    ServerHarness h = greeted(server_config(Policy::may));
    EXPECT_TRUE(starts_with(h.send("RCPT TO:<b@c>\r\n"), "503 5.5.1"));
    EXPECT_TRUE(starts_with(h.send("DATA\r\n"), "503 5.5.1"));
  }
}

TEST(ServerPrecedence, MailBeforeHelloIsBadSequence) {
  ServerHarness h(server_config(Policy::no));
  h.read();
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b>\r\n"), "503 5.5.1"));
  EXPECT_TRUE(starts_with(h.send("HELO x\r\n"), "250"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b>\r\n"), "250 2.1.0"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b>\r\n"), "503 5.5.1"));
}

// ---- 3.2 the STARTTLS transition ------------------------------------------------------------

TEST(ServerStarttls, CommandInjection_PipelinedAfterStarttls_IsDiscardedUnanswered) {
  ServerHarness h = greeted(server_config(Policy::may));
  const std::string injected = "NOOP\r\nMAIL FROM:<x@evil>\r\n";
  EXPECT_EQ(h.send("STARTTLS\r\n" + injected), k220tls);
  const auto discarded = h.events_of<PlaintextDiscarded>();
  ASSERT_EQ(discarded.size(), 1u);
  EXPECT_EQ(discarded[0].bytes, injected.size());
  ASSERT_TRUE(h.start_tls());
  EXPECT_EQ(h.take_greeting(), "");  // nothing answers the injected NOOP, inside TLS or out
  const std::string r = h.send("EHLO c\r\n");
  EXPECT_TRUE(starts_with(r, "250-mx.tlschan.test\r\n")) << r;
  // The injected MAIL was never acted on: a MAIL now is the first of the TLS session.
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b>\r\n"), "250 2.1.0"));
}

TEST(ServerStarttls, PartialLineAfterStarttlsIsDiscardedToo) {
  ServerHarness h = greeted(server_config(Policy::may));
  EXPECT_EQ(h.send("STARTTLS\r\nNOO"), k220tls);
  const auto discarded = h.events_of<PlaintextDiscarded>();
  ASSERT_EQ(discarded.size(), 1u);
  EXPECT_EQ(discarded[0].bytes, 3u);
}

TEST(ServerStarttls, EveryStarttlsReplyDiscardsWhatFollows) {
  struct Case {
    Policy policy;
    bool tls;
    const char* line;
    const char* reply;
  };
  for (const Case c : {Case{Policy::no, true, "STARTTLS\r\n", "502 5.5.1"},
                       Case{Policy::may, true, "STARTTLS x\r\n", "501 5.5.4"},
                       Case{Policy::may, false, "STARTTLS\r\n", "454 4.7.1"}}) {
    ServerHarness h = greeted(server_config(c.policy, c.tls));
    const std::string r = h.send(std::string(c.line) + "NOOP\r\nNOOP\r\n");
    EXPECT_TRUE(starts_with(r, c.reply)) << r;
    EXPECT_EQ(r.find("250"), std::string::npos) << "an injected NOOP was answered: " << r;
    const auto discarded = h.events_of<PlaintextDiscarded>();
    ASSERT_EQ(discarded.size(), 1u);
    EXPECT_EQ(discarded[0].bytes, 12u);
    // The session goes on: a NOOP sent on its own is answered.
    EXPECT_TRUE(starts_with(h.send("NOOP\r\n"), "250 2.0.0"));
  }
  // 554 after TLS discards too.
  ServerHarness h = greeted(server_config(Policy::may));
  h.send("STARTTLS\r\n");
  ASSERT_TRUE(h.start_tls());
  const std::string r = h.send("STARTTLS\r\nNOOP\r\n");
  EXPECT_EQ(r, "554 5.5.1 TLS already active\r\n");
}

TEST(ServerStarttls, HandshakeFailure_ClosesAndAcceptsNothing) {
  ServerConfig c = server_config(Policy::may);
  c.tls = broken_server_tls();
  ServerHarness h = greeted(c);
  EXPECT_EQ(h.send("STARTTLS\r\n"), k220tls);
  EXPECT_FALSE(h.start_tls());
  EXPECT_TRUE(h.server().finished());
  const auto closed = h.events_of<Closed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, CloseReason::tls_failed);
  h.server().receive("MAIL FROM:<a@b>\r\n", h.now());
  EXPECT_TRUE(h.server().output().empty());
}

TEST(ServerStarttls, GarbageInsteadOfHandshake_Closes) {
  ServerHarness h = greeted(server_config(Policy::must));
  EXPECT_EQ(h.send("STARTTLS\r\n"), k220tls);
  h.server().receive("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n", h.now());
  EXPECT_TRUE(h.server().finished());
  EXPECT_TRUE(h.events_of<MessageAccepted>().empty());
}

TEST(ServerStarttls, SuccessResetsStateToAfterGreeting) {
  ServerHarness h = greeted(server_config(Policy::may));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b>\r\n"), "250 2.1.0"));
  EXPECT_EQ(h.send("STARTTLS\r\n"), k220tls);
  ASSERT_TRUE(h.start_tls());
  EXPECT_EQ(h.take_greeting(), "");  // no second greeting
  // The EHLO and the transaction from before TLS are forgotten.
  EXPECT_TRUE(starts_with(h.send("RCPT TO:<b@c>\r\n"), "503 5.5.1"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b>\r\n"), "503 5.5.1"));
  EXPECT_TRUE(starts_with(h.send("EHLO c\r\n"), "250-"));
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b>\r\n"), "250 2.1.0"));
  const auto est = h.events_of<TlsEstablished>();
  ASSERT_EQ(est.size(), 1u);
  EXPECT_FALSE(est[0].version.empty());
  EXPECT_FALSE(est[0].cipher.empty());
}

TEST(ServerStarttls, StarttlsWithoutEhloIsAccepted) {
  ServerHarness h(server_config(Policy::may));
  h.read();
  EXPECT_EQ(h.send("STARTTLS\r\n"), k220tls);
  EXPECT_TRUE(h.start_tls());
}

TEST(ServerStarttls, SwitchChannel_MessageAfterTlsCarriesTarget) {
  ServerConfig c = server_config(Policy::may);
  c.switch_target = "tcp_tls";
  ServerHarness h = greeted(c);
  h.send("STARTTLS\r\n");
  ASSERT_TRUE(h.start_tls());
  const auto sw = h.events_of<ChannelSwitched>();
  ASSERT_EQ(sw.size(), 1u);
  EXPECT_EQ(sw[0].from, "tcp_local");
  EXPECT_EQ(sw[0].to, "tcp_tls");
  h.send("EHLO c\r\n");
  h.send("MAIL FROM:<a@b>\r\n");
  h.send("RCPT TO:<c@d>\r\n");
  h.send("DATA\r\n");
  EXPECT_TRUE(starts_with(h.send("x\r\n.\r\n"), "250 2.0.0"));
  const auto msgs = h.events_of<MessageAccepted>();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].channel, "tcp_tls");
  EXPECT_TRUE(msgs[0].tls);
  EXPECT_FALSE(msgs[0].tls_version.empty());
  EXPECT_FALSE(msgs[0].cipher.empty());
  EXPECT_EQ(h.server().channel(), "tcp_tls");
}

TEST(ServerStarttls, SwitchChannel_MessageWithoutTlsCarriesIncomingChannel) {
  ServerConfig c = server_config(Policy::may);
  c.switch_target = "tcp_tls";
  ServerHarness h = greeted(c);
  h.send("MAIL FROM:<a@b>\r\n");
  h.send("RCPT TO:<c@d>\r\n");
  h.send("DATA\r\n");
  h.send("x\r\n.\r\n");
  const auto msgs = h.events_of<MessageAccepted>();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].channel, "tcp_local");
  EXPECT_FALSE(msgs[0].tls);
}

// ---- 3.3 TLS unavailable ----------------------------------------------------------------------

TEST(ServerTlsUnavailable, StillListed_Answers454_MustFailsClosed) {
  for (const Policy p : {Policy::may, Policy::must}) {
    ServerHarness h(server_config(p, /*tls_available=*/false));
    h.read();
    EXPECT_TRUE(lists_starttls(h.send("EHLO c\r\n")));
    EXPECT_EQ(h.send("STARTTLS\r\n"), "454 4.7.1 TLS library initialization failure\r\n");
    const std::string mail = h.send("MAIL FROM:<a@b>\r\n");
    if (p == Policy::must) {
      EXPECT_EQ(mail, k530);
    } else {
      EXPECT_TRUE(starts_with(mail, "250 2.1.0"));
    }
    EXPECT_FALSE(h.server().finished());
  }
}

// ---- 3.4 after TLS --------------------------------------------------------------------------

TEST(ServerAfterTls, NotListed_Starttls554_NothingGated) {
  ServerHarness h = greeted(server_config(Policy::must));
  h.send("STARTTLS\r\n");
  ASSERT_TRUE(h.start_tls());
  EXPECT_FALSE(lists_starttls(h.send("EHLO c\r\n")));
  EXPECT_EQ(h.send("STARTTLS\r\n"), "554 5.5.1 TLS already active\r\n");
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b>\r\n"), "250 2.1.0"));
  EXPECT_TRUE(starts_with(h.send("RCPT TO:<c@d>\r\n"), "250 2.1.5"));
  EXPECT_TRUE(starts_with(h.send("VRFY c\r\n"), "252 2.5.2"));
  EXPECT_TRUE(starts_with(h.send("HELP\r\n"), "214 2.0.0"));
  EXPECT_TRUE(starts_with(h.send("DATA\r\n"), "354"));
  EXPECT_TRUE(starts_with(h.send("hi\r\n.\r\n"), "250 2.0.0"));
  EXPECT_TRUE(starts_with(h.send("QUIT\r\n"), "221 2.0.0"));
  EXPECT_TRUE(h.server().finished());
}

// ---- 3.5 TLS port ---------------------------------------------------------------------------

TEST(ServerTlsPort, HandshakeFirst_GreetingInsideTls_SwitchApplies) {
  ServerConfig c = server_config(Policy::may);
  c.switch_target = "tcp_tls";
  c.mode = ServerMode::tls_port;
  ServerHarness h(c);
  EXPECT_TRUE(h.server().output().empty());  // no plaintext greeting
  ASSERT_TRUE(h.start_tls());
  EXPECT_TRUE(starts_with(h.take_greeting(), "220 mx.tlschan.test"));
  EXPECT_FALSE(lists_starttls(h.send("EHLO c\r\n")));
  EXPECT_EQ(h.send("STARTTLS\r\n"), "554 5.5.1 TLS already active\r\n");
  h.send("MAIL FROM:<a@b>\r\n");
  h.send("RCPT TO:<c@d>\r\n");
  h.send("DATA\r\n");
  h.send("x\r\n.\r\n");
  const auto msgs = h.events_of<MessageAccepted>();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].channel, "tcp_tls");
  EXPECT_TRUE(msgs[0].tls);
}

TEST(ServerTlsPort, MustChannel_NotGatedOnTlsPort) {
  ServerConfig c = server_config(Policy::must);
  c.mode = ServerMode::tls_port;
  ServerHarness h(c);
  ASSERT_TRUE(h.start_tls());
  h.take_greeting();
  h.send("EHLO c\r\n");
  EXPECT_TRUE(starts_with(h.send("MAIL FROM:<a@b>\r\n"), "250 2.1.0"));
}

TEST(ServerTlsPort, NoPolicyOrTlsUnavailable_ClosedAtOnceWithoutAByte) {
  for (const bool no_policy : {true, false}) {
    ServerConfig c = server_config(no_policy ? Policy::no : Policy::must, /*tls_available=*/no_policy);
    c.mode = ServerMode::tls_port;
    ServerHarness h(c);
    EXPECT_TRUE(h.server().finished());
    EXPECT_TRUE(h.server().output().empty());
    const auto closed = h.events_of<Closed>();
    ASSERT_EQ(closed.size(), 1u);
    EXPECT_EQ(closed[0].reason, CloseReason::tls_port_refused);
  }
}

// ---- 7 wire limits and bad input --------------------------------------------------------------

TEST(ServerWire, LineOf512OctetsIsAccepted_513IsTooLong_SessionGoesOn) {
  ServerHarness h = greeted(server_config(Policy::no));
  const std::string ok = "NOOP " + std::string(505, 'a') + "\r\n";  // 512 octets
  ASSERT_EQ(ok.size(), 512u);
  EXPECT_TRUE(starts_with(h.send(ok), "250 2.0.0"));
  const std::string tooLong = "NOOP " + std::string(506, 'a') + "\r\n";
  EXPECT_EQ(h.send(tooLong), "500 5.5.2 Line too long\r\n");
  EXPECT_TRUE(starts_with(h.send("NOOP\r\n"), "250 2.0.0"));
}

TEST(ServerWire, OverlongLineRestUpToLfIsSkipped) {
  ServerHarness h = greeted(server_config(Policy::no));
  // The tail of the over-long line holds what looks like a command; it must not run.
  const std::string r = h.send(std::string(600, 'x') + "QUIT\r\nNOOP\r\n");
  EXPECT_TRUE(starts_with(r, "500 5.5.2 Line too long\r\n")) << r;
  EXPECT_NE(r.find("250 2.0.0"), std::string::npos);
  EXPECT_FALSE(h.server().finished());
}

TEST(ServerWire, BareLfNulBareCr_500_5_5_2_NotExecuted) {
  for (const char* bad : {"QUIT\n", "QU\0IT\r\n", "QUIT\r\r\n", "QU\rIT\r\n"}) {
    ServerHarness h = greeted(server_config(Policy::no));
    const std::string line(bad, bad[2] == '\0' ? 8 : std::char_traits<char>::length(bad));
    EXPECT_TRUE(starts_with(h.send(line), "500 5.5.2")) << line;
    EXPECT_FALSE(h.server().finished()) << line;
  }
}

TEST(ServerWire, UnknownCommand_500_5_5_1) {
  ServerHarness h = greeted(server_config(Policy::no));
  EXPECT_TRUE(starts_with(h.send("FOO bar\r\n"), "500 5.5.1"));
  EXPECT_TRUE(starts_with(h.send("\r\n"), "500 5.5.1"));
}

TEST(ServerWire, DataSmugglingSequencesDoNotEndData_MessageRefused) {
  const char* sequences[] = {"\n.\n", "\r.\r", "\r.\n", "\n.\r", "\n.\r\n", "\r\n.\n",
                             "\r.\r\n", "\r\n.\r", "\r\n\0.\r\n", "\r\n.\0\r\n"};
  const std::size_t lengths[] = {3, 3, 3, 3, 4, 4, 4, 4, 6, 6};
  for (std::size_t i = 0; i < std::size(sequences); ++i) {
    ServerHarness h = greeted(server_config(Policy::no));
    h.send("MAIL FROM:<a@b>\r\n");
    h.send("RCPT TO:<c@d>\r\n");
    ASSERT_TRUE(starts_with(h.send("DATA\r\n"), "354"));
    const std::string smuggle = "hello" + std::string(sequences[i], lengths[i]) +
                                "MAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nevil\r\n";
    EXPECT_EQ(h.send(smuggle), "") << "data ended early at sequence " << i;
    EXPECT_TRUE(starts_with(h.send(".\r\n"), "550 5.6.0")) << i;
    EXPECT_TRUE(h.events_of<MessageAccepted>().empty()) << i;
  }
}

TEST(ServerWire, DataLineOver1000OctetsRefused) {
  ServerHarness h = greeted(server_config(Policy::no));
  h.send("MAIL FROM:<a@b>\r\n");
  h.send("RCPT TO:<c@d>\r\n");
  h.send("DATA\r\n");
  EXPECT_TRUE(starts_with(h.send(std::string(999, 'a') + "\r\n.\r\n"), "550 5.6.0"));
  h.send("MAIL FROM:<a@b>\r\n");
  h.send("RCPT TO:<c@d>\r\n");
  h.send("DATA\r\n");
  EXPECT_TRUE(starts_with(h.send(std::string(998, 'a') + "\r\n.\r\n"), "250 2.0.0"));
}

TEST(ServerWire, MessageOverSizeLimit_552_5_3_4) {
  ServerConfig c = server_config(Policy::no);
  c.limits.max_message_size = 100;
  ServerHarness h = greeted(c);
  h.send("MAIL FROM:<a@b>\r\n");
  h.send("RCPT TO:<c@d>\r\n");
  h.send("DATA\r\n");
  EXPECT_TRUE(starts_with(h.send(std::string(200, 'a') + "\r\n.\r\n"), "552 5.3.4"));
  EXPECT_TRUE(h.events_of<MessageAccepted>().empty());
}

TEST(ServerWire, DotStuffedDataIsUnstuffed) {
  ServerHarness h = greeted(server_config(Policy::no));
  h.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
  EXPECT_TRUE(starts_with(h.send("..leading dot\r\n...\r\n.\r\n"), "250 2.0.0"));
  const auto msgs = h.events_of<MessageAccepted>();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].data, ".leading dot\r\n..\r\n");
}

TEST(ServerWire, PipelinedGroupAnsweredInOrder) {
  ServerHarness h = greeted(server_config(Policy::no));
  const std::string r = h.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n");
  EXPECT_EQ(r.substr(0, 4), "250 ");
  EXPECT_NE(r.find("250 2.1.5"), std::string::npos);
  EXPECT_NE(r.find("354"), std::string::npos);
  EXPECT_TRUE(starts_with(h.send("x\r\n.\r\nQUIT\r\n").substr(0, 9), "250 2.0.0"));
  EXPECT_TRUE(h.server().finished());
  const auto msgs = h.events_of<MessageAccepted>();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].envelope.rcpt_to.size(), 2u);
}

TEST(ServerWire, TwentyErrorRepliesThen421AndClose) {
  ServerHarness h = greeted(server_config(Policy::no));
  for (int i = 1; i < 20; ++i) {
    EXPECT_TRUE(starts_with(h.send("BOGUS\r\n"), "500 5.5.1")) << i;
    ASSERT_FALSE(h.server().finished()) << i;
  }
  const std::string r = h.send("BOGUS\r\n");
  EXPECT_TRUE(starts_with(r, "500 5.5.1")) << r;
  EXPECT_NE(r.find("421 4.7.0"), std::string::npos) << r;
  EXPECT_TRUE(h.server().finished());
  const auto closed = h.events_of<Closed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, CloseReason::error_limit);
}

TEST(ServerWire, ErrorLimitCountsEveryErrorKind) {
  ServerHarness h = greeted(server_config(Policy::may));
  // 500, 501, 502 (EXPN), 503, 555: four rounds of five.
  for (int i = 0; i < 4; ++i) {
    h.send("BOGUS\r\n");
    h.send("STARTTLS x\r\n");
    h.send("EXPN x\r\n");
    h.send("RCPT TO:<a@b>\r\n");
    if (i < 3) {
      h.send("MAIL FROM:<a@b> X=1\r\n");
      EXPECT_FALSE(h.server().finished());
    }
  }
  EXPECT_FALSE(h.server().finished());
  EXPECT_NE(h.send("MAIL FROM:<a@b> X=1\r\n").find("421 4.7.0"), std::string::npos);
  EXPECT_TRUE(h.server().finished());
}

TEST(ServerWire, IdleTimeout_421_4_4_2) {
  ServerHarness h = greeted(server_config(Policy::no));
  ASSERT_TRUE(h.server().deadline().has_value());
  EXPECT_EQ(*h.server().deadline(), Time{} + minutes(5));
  h.now() = Time{} + minutes(3);
  h.send("NOOP\r\n");
  EXPECT_EQ(*h.server().deadline(), Time{} + minutes(8));
  h.server().on_deadline(Time{} + minutes(7));
  EXPECT_FALSE(h.server().finished());
  h.server().on_deadline(Time{} + minutes(8));
  EXPECT_TRUE(starts_with(h.read(), "421 4.4.2"));
  EXPECT_TRUE(h.server().finished());
  const auto closed = h.events_of<Closed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, CloseReason::idle_timeout);
}

TEST(ServerWire, Shutdown_421_4_3_2_AndClosed) {
  ServerHarness h = greeted(server_config(Policy::no));
  h.send("NOOP\r\n");
  h.server().shutdown(h.now());
  EXPECT_EQ(h.read(), "421 4.3.2 Service shutting down\r\n");
  EXPECT_TRUE(h.server().finished());
  const auto closed = h.events_of<Closed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, CloseReason::shutdown);
}

TEST(ServerWire, ShutdownDuringDataAcceptsNothing) {
  ServerHarness h = greeted(server_config(Policy::no));
  h.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
  h.send("half a message\r\n");
  h.read();
  h.server().shutdown(h.now());
  EXPECT_EQ(h.read(), "421 4.3.2 Service shutting down\r\n");
  EXPECT_TRUE(h.server().finished());
  EXPECT_TRUE(h.events_of<MessageAccepted>().empty());
}

TEST(ServerWire, ShutdownPastTheFinalDot_TheMessageIsAnsweredFirst) {
  ServerConfig c = server_config(Policy::no);
  c.acknowledge_messages = true;
  ServerHarness h = greeted(c);
  h.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
  h.send("x\r\n.\r\n");
  h.read();
  h.server().shutdown(h.now());  // waiting for the store: not yet
  EXPECT_FALSE(h.server().finished());
  EXPECT_EQ(h.read(), "");
  h.server().acknowledge(true, h.now());
  h.server().shutdown(h.now());
  const std::string r = h.read();
  EXPECT_TRUE(starts_with(r, "250 2.0.0")) << r;
  EXPECT_NE(r.find("\r\n421 4.3.2 Service shutting down\r\n"), std::string::npos) << r;
  EXPECT_TRUE(h.server().finished());
}

TEST(ServerWire, PeerCloseDuringDataAcceptsNothing) {
  ServerHarness h = greeted(server_config(Policy::no));
  h.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
  h.send("half a message\r\n");
  h.server().on_peer_closed(h.now());
  EXPECT_TRUE(h.server().finished());
  EXPECT_TRUE(h.events_of<MessageAccepted>().empty());
}

TEST(ServerWire, AcknowledgeMode_250OnlyAfterTheDriverStoredTheMessage) {
  ServerConfig c = server_config(Policy::no);
  c.acknowledge_messages = true;
  ServerHarness h = greeted(c);
  h.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
  EXPECT_EQ(h.send("x\r\n.\r\nNOOP\r\n"), "");
  EXPECT_EQ(h.events_of<MessageAccepted>().size(), 1u);
  EXPECT_FALSE(h.server().deadline().has_value());
  h.server().acknowledge(true, h.now());
  const std::string r = h.read();
  EXPECT_TRUE(starts_with(r, "250 2.0.0")) << r;
  EXPECT_NE(r.find("\r\n250 2.0.0"), std::string::npos) << "the pipelined NOOP is answered after: " << r;
  h.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
  h.send("y\r\n.\r\n");
  h.server().acknowledge(false, h.now());
  EXPECT_TRUE(starts_with(h.read(), "451 4.3.0"));
}

// A whole session fed at every split point gives the same replies and the same message.
TEST(ServerWire, SplitAnywhere_SameRepliesAndMessages) {
  const std::string input =
      "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nline one\r\n..dot\r\n.\r\nNOOP\r\nBAD\n"
      "RSET\r\nQUIT\r\n";
  auto run = [&](std::size_t split_a, std::size_t split_b) {
    ServerHarness h(server_config(Policy::no));
    std::string out = h.read();
    out += h.send(input.substr(0, split_a));
    out += h.send(input.substr(split_a, split_b - split_a));
    out += h.send(input.substr(split_b));
    std::string data;
    for (const auto& m : h.events_of<MessageAccepted>()) data += m.data + "|";
    return out + "#" + data;
  };
  const std::string whole = run(input.size(), input.size());
  EXPECT_NE(whole.find("221 2.0.0"), std::string::npos);
  EXPECT_NE(whole.find("line one\r\n.dot\r\n|"), std::string::npos);
  for (std::size_t a = 0; a <= input.size(); ++a) {
    EXPECT_EQ(run(a, input.size()), whole) << "split at " << a;
    EXPECT_EQ(run(a / 2, a), whole) << "split at " << a / 2 << " and " << a;
  }
}

}  // namespace
}  // namespace tlschan::test

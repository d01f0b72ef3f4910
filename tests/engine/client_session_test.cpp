// ClientSession against semantics.md sections 4, 5 and 8.
//
// Two drivers: a server played by hand by the test (server_by_hand.hpp), which feeds chosen reply bytes
// (many of which no real server sends) and reads the exact bytes the client writes, with a real
// server-side TlsSession moved by hand for the steps inside TLS; and the real pair, run_loopback with
// a ServerSession, for the outcome matrix of section 5 and the network meddlers. Expected outcomes
// are written from the spec, never read from the engine.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "server_by_hand.hpp"
#include "tlschan/client_session.hpp"
#include "tlschan/loopback.hpp"
#include "tlschan/server_session.hpp"

namespace tlschan::by_hand {
namespace {

// ---------------------------------------------------------------------------------------------
// Fixtures of the conversation

const std::string kHeloName = "client.tlschan.test";
const std::string kFrom = "sender@example.com";
const std::string kBody = "Subject: test\r\n\r\nHello, tlschan-body-marker\r\n";
const std::string kGreeting = "220 mx.tlschan.test ESMTP\r\n";
const std::string kEhlo = "EHLO " + kHeloName + "\r\n";
const std::string kHelo = "HELO " + kHeloName + "\r\n";
const std::string k220Tls = "220 2.0.0 Ready to start TLS\r\n";

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

const TlsContext& server_ctx() {
  static const TlsContext ctx = server_context();
  return ctx;
}

OutgoingMessage message(std::vector<std::string> rcpts = {"a@example.org"}, std::string data = kBody) {
  OutgoingMessage m;
  m.envelope.mail_from = kFrom;
  m.envelope.rcpt_to = std::move(rcpts);
  m.data = std::move(data);
  return m;
}

ClientConfig config(Policy policy, bool tls_available = true) {
  ClientConfig c;
  c.helo_name = kHeloName;
  c.policy = policy;
  if (tls_available) c.tls = client_context();
  return c;
}

// A 250 EHLO reply; STARTTLS and SIZE are listed as asked, in the middle of the list so that the
// line is "250-STARTTLS".
std::string ehlo_reply(bool starttls, bool size = false) {
  std::string r = "250-mx.tlschan.test\r\n250-PIPELINING\r\n";
  if (size) r += "250-SIZE 10485760\r\n";
  if (starttls) r += "250-STARTTLS\r\n";
  r += "250 8BITMIME\r\n";
  return r;
}

std::string mail_line(std::optional<std::size_t> size = std::nullopt) {
  std::string l = "MAIL FROM:<" + kFrom + ">";
  if (size) l += " SIZE=" + std::to_string(*size);
  return l + "\r\n";
}

std::string rcpt_line(const std::string& r) { return "RCPT TO:<" + r + ">\r\n"; }

// The server says `reply` (plaintext); returns what the client answered.
std::string talk(ServerByHand& s, std::string_view reply) {
  s.say(reply);
  return s.heard();
}

// The same inside TLS.
std::string talk_tls(ServerByHand& s, std::string_view reply) {
  s.say_tls(reply);
  return s.heard_tls();
}

void expect_outcome(const RecipientOutcome& o, const std::string& rcpt, Disposition d, bool tls,
                    std::optional<int> code) {
  EXPECT_EQ(o.recipient, rcpt);
  EXPECT_EQ(o.disposition, d) << rcpt << ": " << to_string(o.disposition) << " (" << o.reason << "), expected "
                              << to_string(d);
  EXPECT_EQ(o.tls, tls) << rcpt;
  EXPECT_EQ(o.code, code) << rcpt << ": " << o.reason;
}

void expect_all(const ClientSession& c, Disposition d, bool tls, std::optional<int> code) {
  ASSERT_FALSE(c.outcomes().empty());
  for (const auto& o : c.outcomes()) expect_outcome(o, o.recipient, d, tls, code);
}

// The one Closed event of the connection(s) so far must be the last event and carry `reason`.
void expect_closed(ServerByHand& s, CloseReason reason) {
  const auto closed = s.events_of<Closed>();
  ASSERT_FALSE(closed.empty()) << "no Closed event";
  EXPECT_EQ(closed.back().reason, reason) << "Closed(" << to_string(closed.back().reason) << ", "
                                          << closed.back().detail << "), expected " << to_string(reason);
  EXPECT_TRUE(std::holds_alternative<Closed>(s.events().back()));
}

// Runs the rest of a plaintext delivery from the reply to MAIL on, one RCPT per recipient, every
// reply positive; the QUIT is answered and the connection ends.
void finish_plain_delivery(ServerByHand& s, const OutgoingMessage& m, const std::string& wire_data) {
  for (std::size_t i = 0; i < m.envelope.rcpt_to.size(); ++i) {
    EXPECT_EQ(talk(s, i == 0 ? "250 2.1.0 Ok\r\n" : "250 2.1.5 Ok\r\n"), rcpt_line(m.envelope.rcpt_to[i]));
  }
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(talk(s, "354 End data with <CR><LF>.<CR><LF>\r\n"), wire_data);
  EXPECT_EQ(talk(s, "250 2.0.0 Ok: queued as 1\r\n"), "QUIT\r\n");
  EXPECT_EQ(talk(s, "221 2.0.0 Bye\r\n"), "");
}

void finish_tls_delivery(ServerByHand& s, const OutgoingMessage& m, const std::string& wire_data) {
  for (std::size_t i = 0; i < m.envelope.rcpt_to.size(); ++i) {
    EXPECT_EQ(talk_tls(s, i == 0 ? "250 2.1.0 Ok\r\n" : "250 2.1.5 Ok\r\n"), rcpt_line(m.envelope.rcpt_to[i]));
  }
  EXPECT_EQ(talk_tls(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(talk_tls(s, "354 End data with <CR><LF>.<CR><LF>\r\n"), wire_data);
  EXPECT_EQ(talk_tls(s, "250 2.0.0 Ok: queued as 1\r\n"), "QUIT\r\n");
  EXPECT_EQ(talk_tls(s, "221 2.0.0 Bye\r\n"), "");
}

// Greeting, EHLO listing STARTTLS, STARTTLS answered 220 and a TLS handshake with a real server
// TlsSession; the client's first words inside TLS must be EHLO.
void reach_tls(ServerByHand& s, ClientSession& c, bool pre_tls_size = false) {
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true, pre_tls_size)), "STARTTLS\r\n");
  s.say(k220Tls);
  const std::string hello = s.heard();
  EXPECT_TRUE(starts_with_tls_handshake_record(hello));
  s.accept_tls(server_ctx());
  s.server_tls().feed(hello);
  EXPECT_EQ(s.pump(), TlsState::established) << s.server_tls().error();
  EXPECT_TRUE(c.tls_active());
  EXPECT_EQ(s.heard_tls(), kEhlo);
}

// =============================================================================================
// Section 4: the client policy against what the server offers (scripted server)

TEST(ClientSessionPolicy, NoClient_ServerListsStarttls_NeverSendsStarttlsAndDeliversInPlaintext) {
  const OutgoingMessage m = message({"a@example.org"});
  ClientSession c = make_client(config(Policy::no), m);
  ServerByHand s(c);
  EXPECT_EQ(s.heard(), "");  // the client waits for the greeting
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true, true)), mail_line(kBody.size()));
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line("a@example.org"));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(talk(s, "354 End data with <CR><LF>.<CR><LF>\r\n"), kBody + ".\r\n");
  EXPECT_FALSE(c.done());
  EXPECT_EQ(talk(s, "250 2.0.0 Ok: queued as 1\r\n"), "QUIT\r\n");
  expect_all(c, Disposition::delivered, false, 250);
  EXPECT_FALSE(c.connection_finished());
  EXPECT_EQ(talk(s, "221 2.0.0 Bye\r\n"), "");
  EXPECT_TRUE(c.connection_finished());
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  EXPECT_FALSE(c.deadline().has_value());
  EXPECT_EQ(c.message_disposition(), Disposition::delivered);
  EXPECT_FALSE(contains(s.wire(), "STARTTLS"));
  ASSERT_EQ(s.events().size(), 1u);
  expect_closed(s, CloseReason::quit);
}

TEST(ClientSessionPolicy, MayClient_ServerWithoutStarttls_DeliversInPlaintext) {
  const OutgoingMessage m = message({"a@example.org", "b@example.org"});
  ClientSession c = make_client(config(Policy::may), m);
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  finish_plain_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, false, 250);
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(contains(s.wire(), "STARTTLS"));
  EXPECT_TRUE(s.events_of<TlsEstablished>().empty());
  EXPECT_TRUE(s.events_of<TlsFallback>().empty());
  expect_closed(s, CloseReason::quit);
}

TEST(ClientSessionPolicy, MayClient_ServerListsStarttls_SendsStarttlsAfterEhlo) {
  ClientSession c = make_client(config(Policy::may), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true, true)), "STARTTLS\r\n");
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
}

TEST(ClientSessionPolicy, MayClient_TlsUnavailableOnClient_DeliversInPlaintextWithoutStarttls) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(Policy::may, /*tls_available=*/false), m);
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true)), mail_line());
  finish_plain_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, false, 250);
  EXPECT_FALSE(contains(s.wire(), "STARTTLS"));
}

TEST(ClientSessionPolicy, MustClient_ServerWithoutStarttls_QuitsAndDefers) {
  ClientSession c = make_client(config(Policy::must), message({"a@example.org", "b@example.org"}));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false, true)), "QUIT\r\n");
  for (const auto& o : c.outcomes()) {
    EXPECT_EQ(o.disposition, Disposition::deferred);
    EXPECT_FALSE(o.tls);
    EXPECT_TRUE(contains(o.reason, "TLS")) << o.reason;
  }
  EXPECT_FALSE(c.connection_finished());
  EXPECT_EQ(talk(s, "221 2.0.0 Bye\r\n"), "");
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  EXPECT_EQ(c.message_disposition(), Disposition::deferred);
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
  EXPECT_FALSE(contains(s.wire(), "RCPT"));
}

TEST(ClientSessionPolicy, MustClient_TlsUnavailableOnClient_QuitsAndDefersNeverMail) {
  ClientSession c = make_client(config(Policy::must, /*tls_available=*/false), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true)), "QUIT\r\n");
  EXPECT_EQ(talk(s, "221 2.0.0 Bye\r\n"), "");
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.message_disposition(), Disposition::deferred);
  EXPECT_FALSE(contains(s.wire(), "STARTTLS"));
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
}

TEST(ClientSessionPolicy, MustClient_EhloRefusedThenHelo_QuitsAndDefersNeverMail) {
  // HELO replies carry no extensions, so a must client has no STARTTLS to use.
  ClientSession c = make_client(config(Policy::must), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, "502 5.5.1 Not implemented\r\n"), kHelo);
  EXPECT_EQ(talk(s, "250 mx.tlschan.test\r\n"), "QUIT\r\n");
  EXPECT_EQ(talk(s, "221 2.0.0 Bye\r\n"), "");
  EXPECT_TRUE(c.done());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
}

TEST(ClientSessionPolicy, MustClient_StarttlsOnlyAsTheServerNameLine_IsNotOffered) {
  // The first line of an EHLO reply is the server's name, never an extension.
  ClientSession c = make_client(config(Policy::must), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, "250 STARTTLS\r\n"), "QUIT\r\n");
  expect_all(c, Disposition::deferred, false, std::nullopt);
}

TEST(ClientSessionPolicy, MayClient_StarttlsKeywordIsCaseInsensitive) {
  ClientSession c = make_client(config(Policy::may), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, "250-mx.tlschan.test\r\n250 StartTLS\r\n"), "STARTTLS\r\n");
}

// events.hpp: CloseReason::tls_required is "a must client found no way to TLS and quit".
TEST(ClientSessionPolicy, MustClient_GivesUpOnTls_ClosedReasonIsTlsRequired) {
  struct Way {
    const char* name;
    bool client_tls;
    std::string ehlo;
    std::optional<std::string> starttls_reply;
  };
  const std::vector<Way> ways = {
      {"server does not list STARTTLS", true, ehlo_reply(false), std::nullopt},
      {"TLS unavailable on the client", false, ehlo_reply(true), std::nullopt},
      {"STARTTLS refused 454", true, ehlo_reply(true), "454 4.7.0 TLS not available\r\n"},
  };
  for (const Way& w : ways) {
    SCOPED_TRACE(w.name);
    ClientSession c = make_client(config(Policy::must, w.client_tls), message());
    ServerByHand s(c);
    EXPECT_EQ(talk(s, kGreeting), kEhlo);
    if (w.starttls_reply) {
      EXPECT_EQ(talk(s, w.ehlo), "STARTTLS\r\n");
      EXPECT_EQ(talk(s, *w.starttls_reply), "QUIT\r\n");
    } else {
      EXPECT_EQ(talk(s, w.ehlo), "QUIT\r\n");
    }
    EXPECT_EQ(talk(s, "221 2.0.0 Bye\r\n"), "");
    expect_closed(s, CloseReason::tls_required);
  }
}

// ---------------------------------------------------------------------------------------------
// STARTTLS refused with 4xx/5xx: may continues in plaintext on the same connection, must QUITs.

struct Refusal {
  const char* name;
  std::string reply;
  int code;
};

class ClientSessionStarttlsRefused : public ::testing::TestWithParam<Refusal> {};

TEST_P(ClientSessionStarttlsRefused, MayClient_ContinuesInPlaintextOnSameConnection) {
  const OutgoingMessage m = message({"a@example.org", "b@example.org"});
  ClientSession c = make_client(config(Policy::may), m);
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true, true)), "STARTTLS\r\n");
  // Same connection, so the capabilities of the EHLO reply (SIZE) still hold; no EHLO again.
  EXPECT_EQ(talk(s, GetParam().reply), mail_line(kBody.size()));
  finish_plain_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, false, 250);
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  EXPECT_TRUE(s.events_of<TlsFallback>().empty());
  EXPECT_TRUE(s.events_of<TlsEstablished>().empty());
  EXPECT_EQ(s.events_of<Closed>().size(), 1u);
}

TEST_P(ClientSessionStarttlsRefused, MustClient_QuitsAndDefers) {
  ClientSession c = make_client(config(Policy::must), message({"a@example.org", "b@example.org"}));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true)), "STARTTLS\r\n");
  EXPECT_EQ(talk(s, GetParam().reply), "QUIT\r\n");
  expect_all(c, Disposition::deferred, false, GetParam().code);
  EXPECT_EQ(talk(s, "221 2.0.0 Bye\r\n"), "");
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
  EXPECT_TRUE(s.events_of<TlsFallback>().empty());
}

INSTANTIATE_TEST_SUITE_P(Replies, ClientSessionStarttlsRefused,
                         ::testing::Values(Refusal{"454", "454 4.7.0 TLS not available due to temporary reason\r\n", 454},
                                           Refusal{"454_unavailable", "454 4.7.1 TLS library initialization failure\r\n", 454},
                                           Refusal{"502", "502 5.5.1 Not implemented\r\n", 502},
                                           Refusal{"501", "501 5.5.4 Syntax: STARTTLS\r\n", 501},
                                           Refusal{"554", "554 5.5.1 TLS already active\r\n", 554},
                                           Refusal{"450_multiline", "450-4.7.0 try\r\n450 4.7.0 later\r\n", 450}),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// STARTTLS answered with anything else but 220 (1xx, 2xx, 3xx): protocol error, close, deferred.

class ClientSessionStarttlsNot220
    : public ::testing::TestWithParam<std::tuple<Policy, std::pair<const char*, std::string>>> {};

TEST_P(ClientSessionStarttlsNot220, ProtocolErrorClosesAndDefers) {
  const auto& [policy, reply] = GetParam();
  ClientSession c = make_client(config(policy), message({"a@example.org", "b@example.org"}));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true)), "STARTTLS\r\n");
  const std::string after = talk(s, reply.second);
  EXPECT_FALSE(contains(after, "MAIL")) << after;
  EXPECT_FALSE(starts_with_tls_handshake_record(after));
  EXPECT_TRUE(c.connection_finished());
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  EXPECT_FALSE(c.tls_active());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
  EXPECT_TRUE(s.events_of<TlsFallback>().empty());
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
}

INSTANTIATE_TEST_SUITE_P(
    Replies, ClientSessionStarttlsNot220,
    ::testing::Combine(::testing::Values(Policy::may, Policy::must),
                       ::testing::Values(std::pair<const char*, std::string>{"354", "354 go ahead\r\n"},
                                         std::pair<const char*, std::string>{"250", "250 ok\r\n"},
                                         std::pair<const char*, std::string>{"221", "221 2.0.0 Bye\r\n"},
                                         std::pair<const char*, std::string>{"334", "334 VXNlcm5hbWU6\r\n"},
                                         std::pair<const char*, std::string>{"110", "110 wait\r\n"})),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) == Policy::may ? "May" : "Must") + "_" +
             std::get<1>(info.param).first;
    });

// ---------------------------------------------------------------------------------------------
// Response injection: plaintext after the 220 is discarded, the client's next bytes are TLS.

struct Injection {
  const char* name;
  std::string after_220;
};

class ClientSessionResponseInjection
    : public ::testing::TestWithParam<std::tuple<Policy, Injection>> {};

TEST_P(ClientSessionResponseInjection, InjectedRepliesDiscardedAndClientHelloFollows) {
  const auto& [policy, injection] = GetParam();
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(policy), m);
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true)), "STARTTLS\r\n");
  s.say(k220Tls + injection.after_220);  // one receive()
  const auto discarded = s.events_of<PlaintextDiscarded>();
  ASSERT_EQ(discarded.size(), 1u);
  EXPECT_EQ(discarded[0].bytes, injection.after_220.size());
  const std::string next = s.heard();
  EXPECT_TRUE(starts_with_tls_handshake_record(next)) << next;
  EXPECT_FALSE(contains(next, "MAIL"));
  EXPECT_FALSE(contains(next, "EHLO"));
  EXPECT_FALSE(c.connection_finished());

  // The handshake completes and the injected "250" was never read as the answer to anything: the
  // client's first words inside TLS are EHLO, and it waits for that reply.
  s.accept_tls(server_ctx());
  s.server_tls().feed(next);
  EXPECT_EQ(s.pump(), TlsState::established) << s.server_tls().error();
  EXPECT_TRUE(c.tls_active());
  EXPECT_EQ(s.heard_tls(), kEhlo);
  EXPECT_EQ(talk_tls(s, ehlo_reply(false)), mail_line());
  finish_tls_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, true, 250);
  EXPECT_TRUE(c.done());
}

INSTANTIATE_TEST_SUITE_P(
    Injections, ClientSessionResponseInjection,
    ::testing::Combine(::testing::Values(Policy::may, Policy::must),
                       ::testing::Values(Injection{"FakeEhloReply", "250-fake\r\n250 AUTH PLAIN\r\n"},
                                         Injection{"PartialLine", "250 partial"},
                                         Injection{"FakeMailOk", "250 2.1.0 Ok\r\n"},
                                         Injection{"Nothing", ""})),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) == Policy::may ? "May" : "Must") + "_" +
             std::get<1>(info.param).name;
    });

// =============================================================================================
// Section 8: wire limits and bad input

TEST(ClientSessionWire, TwoRepliesWhereOneExpected_AtGreeting_ProtocolErrorDefers) {
  ClientSession c = make_client(config(Policy::no), message());
  ServerByHand s(c);
  s.say(kGreeting + "250 2.0.0 unasked\r\n");
  s.heard();
  EXPECT_TRUE(c.connection_finished());
  EXPECT_TRUE(c.done());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
}

TEST(ClientSessionWire, TwoRepliesWhereOneExpected_AfterMail_ProtocolErrorDefersNoData) {
  ClientSession c = make_client(config(Policy::no), message({"a@example.org", "b@example.org"}));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  s.say("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");  // the second one answers a RCPT not yet sent
  s.heard();
  EXPECT_TRUE(c.connection_finished());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
  EXPECT_FALSE(contains(s.wire(), "DATA"));
  EXPECT_FALSE(contains(s.wire(), "tlschan-body-marker"));
}

TEST(ClientSessionWire, TwoRepliesWhereOneExpected_StarttlsReplyBeforeStarttls_MustNeverStartsTlsNorMails) {
  ClientSession c = make_client(config(Policy::must), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  s.say(ehlo_reply(true) + k220Tls);
  const std::string after = s.heard();
  EXPECT_FALSE(contains(after, "MAIL"));
  EXPECT_TRUE(c.connection_finished());
  EXPECT_TRUE(s.events_of<TlsEstablished>().empty());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
}

TEST(ClientSessionWire, TwoRepliesWhereOneExpected_InsideTls_ProtocolErrorDefers) {
  ClientSession c = make_client(config(Policy::must), message());
  ServerByHand s(c);
  reach_tls(s, c);
  s.say_tls(ehlo_reply(false) + "250 2.1.0 Ok\r\n");
  s.heard_tls();
  EXPECT_TRUE(c.connection_finished());
  EXPECT_FALSE(c.wants_reconnect());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
}

TEST(ClientSessionWire, ReplyLineOver512Octets_ProtocolErrorDefers) {
  // 513 octets with the CRLF.
  const std::string long_line = "250 " + std::string(507, 'x') + "\r\n";
  ASSERT_EQ(long_line.size(), 513u);
  ClientSession c = make_client(config(Policy::no), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, "250-mx.tlschan.test\r\n" + long_line), "");
  EXPECT_TRUE(c.connection_finished());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
}

TEST(ClientSessionWire, ReplyLineOver512OctetsWithoutLineEnd_ProtocolErrorAtOnce) {
  ClientSession c = make_client(config(Policy::no), message());
  ServerByHand s(c);
  s.say("220 " + std::string(600, 'x'));  // no LF ever comes
  EXPECT_EQ(s.heard(), "");
  EXPECT_TRUE(c.connection_finished());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
}

TEST(ClientSessionWire, ReplyLineOfExactly512Octets_IsAccepted) {
  const std::string line = "220 " + std::string(506, 'x') + "\r\n";
  ASSERT_EQ(line.size(), 512u);
  ClientSession c = make_client(config(Policy::no), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, line), kEhlo);
  EXPECT_FALSE(c.connection_finished());
}

class ClientSessionMalformedReply : public ::testing::TestWithParam<std::pair<const char*, std::string>> {};

TEST_P(ClientSessionMalformedReply, AtGreeting_ProtocolErrorDefers) {
  ClientSession c = make_client(config(Policy::no), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, GetParam().second), "");
  EXPECT_TRUE(c.connection_finished());
  EXPECT_TRUE(c.done());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
}

TEST_P(ClientSessionMalformedReply, AfterRcpt_ProtocolErrorDefersNoData) {
  ClientSession c = make_client(config(Policy::no), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line("a@example.org"));
  EXPECT_EQ(talk(s, GetParam().second), "");
  EXPECT_TRUE(c.connection_finished());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
  EXPECT_FALSE(contains(s.wire(), "DATA"));
}

INSTANTIATE_TEST_SUITE_P(
    Codes, ClientSessionMalformedReply,
    ::testing::Values(std::pair<const char*, std::string>{"LettersInCode", "2x0 hello\r\n"},
                      std::pair<const char*, std::string>{"TwoDigits", "25 hello\r\n"},
                      std::pair<const char*, std::string>{"FourDigits", "2500 hello\r\n"},
                      std::pair<const char*, std::string>{"FirstDigit6", "650 hello\r\n"},
                      std::pair<const char*, std::string>{"FirstDigit0", "050 hello\r\n"},
                      std::pair<const char*, std::string>{"SecondDigit6", "260 hello\r\n"},
                      std::pair<const char*, std::string>{"NoSeparator", "250hello\r\n"},
                      std::pair<const char*, std::string>{"LeadingSpace", " 250 hello\r\n"},
                      std::pair<const char*, std::string>{"EmptyLine", "\r\n"},
                      std::pair<const char*, std::string>{"NotSmtp", "HTTP/1.1 400 Bad Request\r\n"}),
    [](const auto& info) { return std::string(info.param.first); });

TEST(ClientSessionWire, MultilineReplyLinesDisagreeOnCode_ProtocolErrorDefers) {
  ClientSession c = make_client(config(Policy::may), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, "250-mx.tlschan.test\r\n251-PIPELINING\r\n250 STARTTLS\r\n"), "");
  EXPECT_TRUE(c.connection_finished());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
  EXPECT_FALSE(contains(s.wire(), "STARTTLS"));
}

TEST(ClientSessionWire, MultilineGreetingLinesDisagreeOnCode_ProtocolErrorDefers) {
  ClientSession c = make_client(config(Policy::no), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, "220-mx.tlschan.test\r\n421 closing\r\n"), "");
  EXPECT_TRUE(c.connection_finished());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::protocol_error);
}

TEST(ClientSessionWire, RepliesSplitAcrossManyReceives_AreReassembled) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(Policy::no), m);
  ServerByHand s(c);
  const std::string greeting = "220-mx.tlschan.test\r\n220 ESMTP\n";  // bare LF ends a reply line too
  for (char ch : greeting) s.say(std::string(1, ch));
  EXPECT_EQ(s.heard(), kEhlo);
  const std::string reply = ehlo_reply(false);
  for (char ch : reply) s.say(std::string(1, ch));
  EXPECT_EQ(s.heard(), mail_line());
  finish_plain_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, false, 250);
}

// =============================================================================================
// Reply codes per phase (section 4: 4xx defers, 5xx to MAIL/DATA bounces all, 5xx to RCPT one)

TEST(ClientSessionReplies, Greeting4xx_QuitsAndDefers) {
  ClientSession c = make_client(config(Policy::no), message({"a@example.org", "b@example.org"}));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, "421 4.3.2 mx.tlschan.test busy\r\n"), "QUIT\r\n");
  expect_all(c, Disposition::deferred, false, 421);
  EXPECT_FALSE(contains(s.wire(), "EHLO"));
}

TEST(ClientSessionReplies, Greeting5xx_QuitsAndDefers) {
  ClientSession c = make_client(config(Policy::no), message({"a@example.org", "b@example.org"}));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, "554 5.3.2 no service here\r\n"), "QUIT\r\n");
  expect_all(c, Disposition::deferred, false, 554);
  EXPECT_EQ(talk(s, "221 2.0.0 Bye\r\n"), "");
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(contains(s.wire(), "EHLO"));
}

TEST(ClientSessionReplies, Ehlo5xx_FallsBackToHeloAndDelivers) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(Policy::no), m);
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, "500 5.5.1 Command unrecognized\r\n"), kHelo);
  EXPECT_EQ(talk(s, "250 mx.tlschan.test\r\n"), mail_line());  // no extensions: no SIZE
  finish_plain_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, false, 250);
}

TEST(ClientSessionReplies, MayClient_Ehlo5xxThenHelo_DeliversInPlaintextWithoutStarttls) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(Policy::may), m);
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, "502 5.5.1 Not implemented\r\n"), kHelo);
  EXPECT_EQ(talk(s, "250 mx.tlschan.test\r\n"), mail_line());
  finish_plain_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, false, 250);
  EXPECT_FALSE(contains(s.wire(), "STARTTLS"));
}

TEST(ClientSessionReplies, Ehlo4xx_QuitsAndDefers) {
  ClientSession c = make_client(config(Policy::no), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, "421 4.7.0 try later\r\n"), "QUIT\r\n");
  expect_all(c, Disposition::deferred, false, 421);
  EXPECT_FALSE(contains(s.wire(), "HELO "));
}

TEST(ClientSessionReplies, Helo5xx_QuitsAndDefers) {
  ClientSession c = make_client(config(Policy::no), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, "500 5.5.1 what\r\n"), kHelo);
  EXPECT_EQ(talk(s, "550 5.7.1 go away\r\n"), "QUIT\r\n");
  expect_all(c, Disposition::deferred, false, 550);
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
}

TEST(ClientSessionReplies, Mail4xx_AllRecipientsDeferred) {
  const std::vector<std::string> rcpts = {"a@example.org", "b@example.org", "c@example.org"};
  ClientSession c = make_client(config(Policy::no), message(rcpts));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "451 4.3.0 Local error\r\n"), "QUIT\r\n");
  ASSERT_EQ(c.outcomes().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) expect_outcome(c.outcomes()[i], rcpts[i], Disposition::deferred, false, 451);
  EXPECT_EQ(c.message_disposition(), Disposition::deferred);
  EXPECT_FALSE(contains(s.wire(), "RCPT"));
}

TEST(ClientSessionReplies, Mail5xx_AllRecipientsBounced) {
  const std::vector<std::string> rcpts = {"a@example.org", "b@example.org", "c@example.org"};
  ClientSession c = make_client(config(Policy::no), message(rcpts));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "550 5.7.1 Sender rejected\r\n"), "QUIT\r\n");
  ASSERT_EQ(c.outcomes().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) expect_outcome(c.outcomes()[i], rcpts[i], Disposition::bounced, false, 550);
  EXPECT_EQ(c.message_disposition(), Disposition::bounced);
  EXPECT_EQ(talk(s, "221 2.0.0 Bye\r\n"), "");
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(contains(s.wire(), "RCPT"));
}

TEST(ClientSessionReplies, Rcpt5xx_OnlyThatRecipientBounced_OthersDelivered) {
  const std::vector<std::string> rcpts = {"a@example.org", "b@example.org", "c@example.org"};
  ClientSession c = make_client(config(Policy::no), message(rcpts));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line(rcpts[0]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), rcpt_line(rcpts[1]));
  EXPECT_EQ(talk(s, "550 5.1.1 No such user\r\n"), rcpt_line(rcpts[2]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(talk(s, "354 go\r\n"), kBody + ".\r\n");
  EXPECT_EQ(talk(s, "250 2.0.0 Ok: queued\r\n"), "QUIT\r\n");
  ASSERT_EQ(c.outcomes().size(), 3u);
  expect_outcome(c.outcomes()[0], rcpts[0], Disposition::delivered, false, 250);
  expect_outcome(c.outcomes()[1], rcpts[1], Disposition::bounced, false, 550);
  expect_outcome(c.outcomes()[2], rcpts[2], Disposition::delivered, false, 250);
  EXPECT_EQ(c.message_disposition(), Disposition::bounced);
}

TEST(ClientSessionReplies, Rcpt4xx_OnlyThatRecipientDeferred_OtherDelivered) {
  const std::vector<std::string> rcpts = {"a@example.org", "b@example.org"};
  ClientSession c = make_client(config(Policy::no), message(rcpts));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line(rcpts[0]));
  EXPECT_EQ(talk(s, "450 4.2.0 Mailbox busy\r\n"), rcpt_line(rcpts[1]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(talk(s, "354 go\r\n"), kBody + ".\r\n");
  EXPECT_EQ(talk(s, "250 2.0.0 Ok: queued\r\n"), "QUIT\r\n");
  expect_outcome(c.outcomes()[0], rcpts[0], Disposition::deferred, false, 450);
  expect_outcome(c.outcomes()[1], rcpts[1], Disposition::delivered, false, 250);
  EXPECT_EQ(c.message_disposition(), Disposition::deferred);
}

TEST(ClientSessionReplies, EveryRcptRefused_NoDataAndEachKeepsItsOwnOutcome) {
  const std::vector<std::string> rcpts = {"a@example.org", "b@example.org"};
  ClientSession c = make_client(config(Policy::no), message(rcpts));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line(rcpts[0]));
  EXPECT_EQ(talk(s, "550 5.1.1 No such user\r\n"), rcpt_line(rcpts[1]));
  EXPECT_EQ(talk(s, "451 4.3.0 Try later\r\n"), "QUIT\r\n");
  expect_outcome(c.outcomes()[0], rcpts[0], Disposition::bounced, false, 550);
  expect_outcome(c.outcomes()[1], rcpts[1], Disposition::deferred, false, 451);
  EXPECT_EQ(c.message_disposition(), Disposition::deferred);
  EXPECT_FALSE(contains(s.wire(), "DATA"));
}

TEST(ClientSessionReplies, Data4xx_AcceptedRecipientsDeferred_RefusedKeepTheirOutcome) {
  const std::vector<std::string> rcpts = {"a@example.org", "b@example.org", "c@example.org"};
  ClientSession c = make_client(config(Policy::no), message(rcpts));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line(rcpts[0]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), rcpt_line(rcpts[1]));
  EXPECT_EQ(talk(s, "550 5.1.1 No such user\r\n"), rcpt_line(rcpts[2]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(talk(s, "451 4.3.0 Not now\r\n"), "QUIT\r\n");
  expect_outcome(c.outcomes()[0], rcpts[0], Disposition::deferred, false, 451);
  expect_outcome(c.outcomes()[1], rcpts[1], Disposition::bounced, false, 550);
  expect_outcome(c.outcomes()[2], rcpts[2], Disposition::deferred, false, 451);
  EXPECT_FALSE(contains(s.wire(), "tlschan-body-marker"));
}

TEST(ClientSessionReplies, Data5xx_AllAcceptedRecipientsBounced) {
  const std::vector<std::string> rcpts = {"a@example.org", "b@example.org"};
  ClientSession c = make_client(config(Policy::no), message(rcpts));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line(rcpts[0]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), rcpt_line(rcpts[1]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(talk(s, "554 5.5.1 No valid recipients\r\n"), "QUIT\r\n");
  expect_all(c, Disposition::bounced, false, 554);
  EXPECT_EQ(c.message_disposition(), Disposition::bounced);
  EXPECT_FALSE(contains(s.wire(), "tlschan-body-marker"));
}

TEST(ClientSessionReplies, EndOfData4xx_AcceptedRecipientsDeferred) {
  const std::vector<std::string> rcpts = {"a@example.org", "b@example.org"};
  ClientSession c = make_client(config(Policy::no), message(rcpts));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line(rcpts[0]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), rcpt_line(rcpts[1]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(talk(s, "354 go\r\n"), kBody + ".\r\n");
  EXPECT_EQ(talk(s, "452 4.3.1 Insufficient system storage\r\n"), "QUIT\r\n");
  expect_all(c, Disposition::deferred, false, 452);
}

TEST(ClientSessionReplies, EndOfData5xx_AcceptedRecipientsBounced) {
  const std::vector<std::string> rcpts = {"a@example.org", "b@example.org"};
  ClientSession c = make_client(config(Policy::no), message(rcpts));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line(rcpts[0]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), rcpt_line(rcpts[1]));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(talk(s, "354 go\r\n"), kBody + ".\r\n");
  EXPECT_EQ(talk(s, "550 5.6.0 Message malformed\r\n"), "QUIT\r\n");
  expect_all(c, Disposition::bounced, false, 550);
  EXPECT_EQ(c.message_disposition(), Disposition::bounced);
}

// =============================================================================================
// Message encoding on the wire

TEST(ClientSessionData, LinesStartingWithDot_AreSentDoubled) {
  const std::string data = ".leading\r\nmiddle.dot\r\n.\r\n..two\r\nend\r\n";
  const OutgoingMessage m = message({"a@example.org"}, data);
  ClientSession c = make_client(config(Policy::no), m);
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  finish_plain_delivery(s, m, "..leading\r\nmiddle.dot\r\n..\r\n...two\r\nend\r\n.\r\n");
  expect_all(c, Disposition::delivered, false, 250);
}

TEST(ClientSessionData, DataNotEndingInCrlf_GetsCrlfBeforeTheDot) {
  for (const auto& [data, wire] : std::vector<std::pair<std::string, std::string>>{
           {"no line end", "no line end\r\n.\r\n"},
           {"a\r\n.b", "a\r\n..b\r\n.\r\n"},
           {".", "..\r\n.\r\n"},
           {"", ".\r\n"}}) {
    SCOPED_TRACE(data);
    const OutgoingMessage m = message({"a@example.org"}, data);
    ClientSession c = make_client(config(Policy::no), m);
    ServerByHand s(c);
    EXPECT_EQ(talk(s, kGreeting), kEhlo);
    EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
    finish_plain_delivery(s, m, wire);
  }
}

TEST(ClientSessionData, SizeParameter_SentWhenServerListsSize) {
  for (const bool listed : {true, false}) {
    SCOPED_TRACE(listed ? "SIZE listed" : "SIZE not listed");
    ClientSession c = make_client(config(Policy::no), message());
    ServerByHand s(c);
    EXPECT_EQ(talk(s, kGreeting), kEhlo);
    const std::string mail = talk(s, ehlo_reply(false, listed));
    if (listed) {
      EXPECT_EQ(mail, "MAIL FROM:<" + kFrom + "> SIZE=" + std::to_string(kBody.size()) + "\r\n");
    } else {
      EXPECT_EQ(mail, "MAIL FROM:<" + kFrom + ">\r\n");
    }
  }
}

TEST(ClientSessionData, BodyParameter_8BitMimeWhenAnOctetOfTheBodyHasItsHighBit_AndTheServerListsIt) {
  // Every length up to 20 and every position of the one 8-bit octet: the body is read eight octets
  // at a time and then octet by octet, so the octet is tried in a word and in the tail.
  const auto mail_of = [](const std::string& body, bool listed) {
    const OutgoingMessage m = message({"a@example.org"}, body);
    ClientSession c = make_client(config(Policy::no), m);
    ServerByHand s(c);
    EXPECT_EQ(talk(s, kGreeting), kEhlo);
    return talk(s, listed ? "250-mx.tlschan.test\r\n250 8BITMIME\r\n" : "250-mx.tlschan.test\r\n250 PIPELINING\r\n");
  };
  for (std::size_t length = 0; length <= 20; ++length) {
    const std::string seven_bit(length, '\x7f');
    EXPECT_EQ(mail_of(seven_bit, true), mail_line()) << "7-bit body of " << length << " octets";
    for (std::size_t at = 0; at < length; ++at) {
      std::string body(length, 'a');
      body[at] = static_cast<char>(at % 2 == 0 ? 0x80 : 0xff);
      SCOPED_TRACE("8-bit octet at " + std::to_string(at) + " of " + std::to_string(length));
      EXPECT_EQ(mail_of(body, true), "MAIL FROM:<" + kFrom + "> BODY=8BITMIME\r\n");
      EXPECT_EQ(mail_of(body, false), mail_line());
    }
  }
}

// =============================================================================================
// Timeouts (RFC 5321 4.5.3.2 through ClientTimeouts)

TEST(ClientSessionTimeouts, Deadlines_AreThePhaseStartPlusItsRfc5321Timeout) {
  const Time t0 = at(minutes(60));
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(Policy::must), m, t0);
  ServerByHand s(c, t0);
  EXPECT_EQ(c.deadline(), t0 + minutes(5));  // greeting
  s.now = t0 + seconds(1);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(c.deadline(), t0 + seconds(1) + minutes(5));  // EHLO
  s.now = t0 + seconds(2);
  EXPECT_EQ(talk(s, ehlo_reply(true)), "STARTTLS\r\n");
  EXPECT_EQ(c.deadline(), t0 + seconds(2) + minutes(5));  // STARTTLS reply
  s.now = t0 + seconds(3);
  s.say(k220Tls);
  EXPECT_EQ(c.deadline(), t0 + seconds(3) + minutes(5));  // handshake
  s.now = t0 + seconds(4);
  s.accept_tls(server_ctx());
  s.pump();
  EXPECT_EQ(s.heard_tls(), kEhlo);
  EXPECT_EQ(c.deadline(), t0 + seconds(4) + minutes(5));  // EHLO inside TLS
  s.now = t0 + seconds(5);
  EXPECT_EQ(talk_tls(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(c.deadline(), t0 + seconds(5) + minutes(5));  // MAIL
  s.now = t0 + seconds(6);
  EXPECT_EQ(talk_tls(s, "250 2.1.0 Ok\r\n"), rcpt_line("a@example.org"));
  EXPECT_EQ(c.deadline(), t0 + seconds(6) + minutes(5));  // RCPT
  s.now = t0 + seconds(7);
  EXPECT_EQ(talk_tls(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(c.deadline(), t0 + seconds(7) + minutes(2));  // DATA
  s.now = t0 + seconds(8);
  EXPECT_EQ(talk_tls(s, "354 go\r\n"), kBody + ".\r\n");
  EXPECT_EQ(c.deadline(), t0 + seconds(8) + minutes(10));  // end of data
  s.now = t0 + seconds(9);
  EXPECT_EQ(talk_tls(s, "250 2.0.0 Ok\r\n"), "QUIT\r\n");
  EXPECT_EQ(c.deadline(), t0 + seconds(9) + minutes(5));  // QUIT
  s.now = t0 + seconds(10);
  talk_tls(s, "221 2.0.0 Bye\r\n");
  EXPECT_FALSE(c.deadline().has_value());
  expect_all(c, Disposition::delivered, true, 250);
}

TEST(ClientSessionTimeouts, ConfiguredTimeouts_AreTheOnesUsed) {
  ClientConfig cfg = config(Policy::no);
  cfg.timeouts.greeting = seconds(11);
  cfg.timeouts.command = seconds(22);
  cfg.timeouts.data_start = seconds(33);
  cfg.timeouts.data_end = seconds(44);
  ClientSession c = make_client(cfg, message(), at(seconds(100)));
  ServerByHand s(c, at(seconds(100)));
  EXPECT_EQ(c.deadline(), at(seconds(111)));
  s.now = at(seconds(200));
  talk(s, kGreeting);
  EXPECT_EQ(c.deadline(), at(seconds(222)));
  talk(s, ehlo_reply(false));
  talk(s, "250 2.1.0 Ok\r\n");
  s.now = at(seconds(300));
  talk(s, "250 2.1.5 Ok\r\n");
  EXPECT_EQ(c.deadline(), at(seconds(333)));
  s.now = at(seconds(400));
  talk(s, "354 go\r\n");
  EXPECT_EQ(c.deadline(), at(seconds(444)));
}

enum class Phase { greeting, ehlo, starttls, handshake, mail, rcpt, data, data_end };

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::greeting: return "Greeting";
    case Phase::ehlo: return "Ehlo";
    case Phase::starttls: return "StarttlsReply";
    case Phase::handshake: return "Handshake";
    case Phase::mail: return "Mail";
    case Phase::rcpt: return "Rcpt";
    case Phase::data: return "Data";
    case Phase::data_end: return "EndOfData";
  }
  return "?";
}

class ClientSessionPhaseTimeout : public ::testing::TestWithParam<Phase> {};

TEST_P(ClientSessionPhaseTimeout, OnDeadlineBeforeItDoesNothing_AtItDefers) {
  const Phase phase = GetParam();
  const bool tls_phase = phase == Phase::starttls || phase == Phase::handshake;
  ClientSession c = make_client(config(tls_phase ? Policy::must : Policy::no), message({"a@example.org", "b@example.org"}));
  ServerByHand s(c, at(seconds(0)));
  Duration timeout = minutes(5);
  // Each step happens one second later than the one before, so that the phase start is known.
  auto step = [&](std::string_view reply) {
    s.now += seconds(1);
    return talk(s, reply);
  };
  if (phase != Phase::greeting) {
    EXPECT_EQ(step(kGreeting), kEhlo);
  }
  if (phase == Phase::starttls || phase == Phase::handshake) {
    EXPECT_EQ(step(ehlo_reply(true)), "STARTTLS\r\n");
  }
  if (phase == Phase::handshake) {
    EXPECT_TRUE(starts_with_tls_handshake_record(step(k220Tls)));
  }
  if (!tls_phase && phase != Phase::greeting && phase != Phase::ehlo) {
    EXPECT_EQ(step(ehlo_reply(false)), mail_line());
  }
  if (phase == Phase::rcpt || phase == Phase::data || phase == Phase::data_end) {
    EXPECT_EQ(step("250 2.1.0 Ok\r\n"), rcpt_line("a@example.org"));
  }
  if (phase == Phase::data || phase == Phase::data_end) {
    EXPECT_EQ(step("250 2.1.5 Ok\r\n"), rcpt_line("b@example.org"));
    EXPECT_EQ(step("250 2.1.5 Ok\r\n"), "DATA\r\n");
    timeout = minutes(2);
  }
  if (phase == Phase::data_end) {
    EXPECT_EQ(step("354 go\r\n"), kBody + ".\r\n");
    timeout = minutes(10);
  }
  const Time started = s.now;
  ASSERT_EQ(c.deadline(), started + timeout);

  s.fire_deadline(started + timeout - milliseconds(1));
  EXPECT_EQ(s.heard(), "");
  EXPECT_FALSE(c.connection_finished());
  EXPECT_TRUE(s.events_of<Closed>().empty());
  EXPECT_EQ(c.deadline(), started + timeout);

  s.fire_deadline(started + timeout);
  s.heard();
  EXPECT_TRUE(c.connection_finished());
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::idle_timeout);
  if (phase == Phase::data_end) {
    EXPECT_TRUE(contains(c.outcomes()[0].reason, "RFC 1047")) << c.outcomes()[0].reason;
  } else {
    EXPECT_FALSE(contains(c.outcomes()[0].reason, "RFC 1047")) << c.outcomes()[0].reason;
  }
  // The window is a field of the close, not only words of its text.
  EXPECT_EQ(s.events_of<Closed>().back().rfc1047_window, phase == Phase::data_end);
  if (tls_phase) {
    EXPECT_FALSE(contains(s.wire(), "MAIL"));
  }
}

INSTANTIATE_TEST_SUITE_P(Phases, ClientSessionPhaseTimeout,
                         ::testing::Values(Phase::greeting, Phase::ehlo, Phase::starttls, Phase::handshake, Phase::mail,
                                           Phase::rcpt, Phase::data, Phase::data_end),
                         [](const auto& info) { return std::string(phase_name(info.param)); });

class ClientSessionConnectionLost : public ::testing::TestWithParam<bool> {};

TEST_P(ClientSessionConnectionLost, AfterFinalDotBeforeReply_DeferredNamingRfc1047Window) {
  const OutgoingMessage m = message({"a@example.org", "b@example.org"});
  ClientSession c = make_client(config(Policy::no), m);
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line("a@example.org"));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), rcpt_line("b@example.org"));
  EXPECT_EQ(talk(s, "250 2.1.5 Ok\r\n"), "DATA\r\n");
  EXPECT_EQ(talk(s, "354 go\r\n"), kBody + ".\r\n");
  s.close(/*reset=*/GetParam());
  EXPECT_TRUE(c.connection_finished());
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  for (const auto& o : c.outcomes()) {
    EXPECT_TRUE(contains(o.reason, "RFC 1047")) << o.reason;
  }
  expect_closed(s, CloseReason::peer_closed);
  EXPECT_TRUE(contains(s.events_of<Closed>().back().detail, "RFC 1047"));
  EXPECT_TRUE(s.events_of<Closed>().back().rfc1047_window);
}

TEST_P(ClientSessionConnectionLost, BeforeFinalDot_DeferredWithoutRfc1047) {
  ClientSession c = make_client(config(Policy::no), message({"a@example.org", "b@example.org"}));
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(false)), mail_line());
  EXPECT_EQ(talk(s, "250 2.1.0 Ok\r\n"), rcpt_line("a@example.org"));
  s.close(/*reset=*/GetParam());
  EXPECT_TRUE(c.done());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  EXPECT_FALSE(contains(c.outcomes()[0].reason, "RFC 1047"));
  expect_closed(s, CloseReason::peer_closed);
  EXPECT_FALSE(s.events_of<Closed>().back().rfc1047_window);
}

INSTANTIATE_TEST_SUITE_P(ResetOrClose, ClientSessionConnectionLost, ::testing::Bool(),
                         [](const auto& info) { return std::string(info.param ? "Reset" : "CleanClose"); });

// =============================================================================================
// STARTTLS with a real server TlsSession moved by hand

TEST(ClientSessionTls, MayClient_AfterHandshake_EhloAgainBeforeMail_DeliversOverTls) {
  const OutgoingMessage m = message({"a@example.org", "b@example.org"});
  ClientSession c = make_client(config(Policy::may), m);
  ServerByHand s(c);
  reach_tls(s, c, /*pre_tls_size=*/true);
  const auto established = s.events_of<TlsEstablished>();
  ASSERT_EQ(established.size(), 1u);
  EXPECT_EQ(established[0].version, "TLSv1.3");
  EXPECT_FALSE(established[0].cipher.empty());
  // Pre-TLS capabilities are forgotten: the pre-TLS EHLO listed SIZE, this one does not.
  EXPECT_EQ(talk_tls(s, ehlo_reply(false, false)), mail_line());
  finish_tls_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, true, 250);
  EXPECT_TRUE(c.done());
  expect_closed(s, CloseReason::quit);
  // Nothing of the transaction went over the wire in plaintext.
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
  EXPECT_FALSE(contains(s.wire(), "RCPT"));
  EXPECT_FALSE(contains(s.wire(), "tlschan-body-marker"));
}

TEST(ClientSessionTls, MustClient_AfterHandshake_SizeFromPostTlsEhloIsUsed) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(Policy::must), m);
  ServerByHand s(c);
  reach_tls(s, c, /*pre_tls_size=*/false);
  EXPECT_EQ(talk_tls(s, ehlo_reply(false, true)), mail_line(kBody.size()));
  finish_tls_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, true, 250);
}

class ClientSessionTlsPolicy : public ::testing::TestWithParam<Policy> {};

TEST_P(ClientSessionTlsPolicy, StarttlsListedAgainAfterTls_IsIgnored) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(GetParam()), m);
  ServerByHand s(c);
  reach_tls(s, c);
  EXPECT_EQ(talk_tls(s, ehlo_reply(true)), mail_line());  // not a second STARTTLS
  finish_tls_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, true, 250);
  EXPECT_EQ(s.events_of<TlsEstablished>().size(), 1u);
}

TEST_P(ClientSessionTlsPolicy, Ehlo5xxInsideTls_HeloInsideTlsAndDelivers) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(GetParam()), m);
  ServerByHand s(c);
  reach_tls(s, c);
  EXPECT_EQ(talk_tls(s, "500 5.5.1 What\r\n"), kHelo);
  EXPECT_EQ(talk_tls(s, "250 mx.tlschan.test\r\n"), mail_line());
  finish_tls_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, true, 250);
}

// A handshake failure under may: TlsFallback, a fresh connection, and on it no STARTTLS at all.
void expect_fallback_then_plaintext(ServerByHand& s, ClientSession& c, const OutgoingMessage& m) {
  EXPECT_TRUE(c.connection_finished());
  EXPECT_TRUE(c.wants_reconnect());
  EXPECT_FALSE(c.done());
  EXPECT_FALSE(c.deadline().has_value());
  EXPECT_EQ(s.events_of<TlsFallback>().size(), 1u);
  expect_closed(s, CloseReason::tls_failed);
  const std::size_t first_connection = s.wire().size();

  s.now += seconds(1);
  s.reconnect();
  EXPECT_FALSE(c.wants_reconnect());
  EXPECT_FALSE(c.connection_finished());
  EXPECT_FALSE(c.tls_active());
  EXPECT_EQ(s.heard(), "");  // the client waits for the greeting of the new connection
  EXPECT_EQ(c.deadline(), s.now + minutes(5));
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true, true)), mail_line(m.data.size()));  // listed, not used
  finish_plain_delivery(s, m, m.data + ".\r\n");
  expect_all(c, Disposition::delivered, false, 250);
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  EXPECT_FALSE(contains(s.wire().substr(first_connection), "STARTTLS"));
  EXPECT_EQ(s.events_of<TlsFallback>().size(), 1u);
  expect_closed(s, CloseReason::quit);
}

void expect_deferred_no_reconnect(ServerByHand& s, ClientSession& c) {
  EXPECT_TRUE(c.connection_finished());
  EXPECT_FALSE(c.wants_reconnect());
  EXPECT_TRUE(c.done());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  EXPECT_TRUE(s.events_of<TlsFallback>().empty());
  EXPECT_FALSE(contains(s.wire(), "MAIL"));
  // A reconnect request that was never made changes nothing.
  s.reconnect();
  EXPECT_TRUE(c.connection_finished());
  EXPECT_TRUE(c.done());
}

// The handshake with a TLS 1.1-only server: the server TlsSession fails on the ClientHello; its
// alert (if any) goes to the client, then the server closes the connection.
void fail_handshake_no_shared_version(ServerByHand& s, ClientSession& c) {
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true)), "STARTTLS\r\n");
  s.say(k220Tls);
  s.accept_tls(tls11_only_server_context());
  EXPECT_EQ(s.pump(), TlsState::failed);
  EXPECT_TRUE(c.connection_finished()) << "the server's protocol_version alert ends the handshake";
  EXPECT_FALSE(c.tls_active());
}

TEST(ClientSessionTls, MayClient_HandshakeFailsNoSharedVersion_FallsBackToPlaintextWithoutStarttls) {
  const OutgoingMessage m = message({"a@example.org", "b@example.org"});
  ClientSession c = make_client(config(Policy::may), m);
  ServerByHand s(c);
  fail_handshake_no_shared_version(s, c);
  EXPECT_TRUE(s.events_of<TlsEstablished>().empty());
  expect_fallback_then_plaintext(s, c, m);
}

TEST(ClientSessionTls, MustClient_HandshakeFailsNoSharedVersion_DefersNeverReconnects) {
  ClientSession c = make_client(config(Policy::must), message({"a@example.org", "b@example.org"}));
  ServerByHand s(c);
  fail_handshake_no_shared_version(s, c);
  expect_closed(s, CloseReason::tls_failed);
  expect_deferred_no_reconnect(s, c);
}

TEST_P(ClientSessionTlsPolicy, GarbageInsteadOfServerHello_IsAHandshakeFailure) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(GetParam()), m);
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true)), "STARTTLS\r\n");
  EXPECT_TRUE(starts_with_tls_handshake_record(talk(s, k220Tls)));
  s.say("250 2.0.0 this is not TLS at all\r\n");
  EXPECT_TRUE(c.connection_finished());
  EXPECT_FALSE(c.tls_active());
  if (GetParam() == Policy::may) {
    expect_fallback_then_plaintext(s, c, m);
  } else {
    expect_closed(s, CloseReason::tls_failed);
    expect_deferred_no_reconnect(s, c);
  }
}

TEST_P(ClientSessionTlsPolicy, CleanCloseDuringHandshake_IsAHandshakeFailure) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(GetParam()), m);
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true)), "STARTTLS\r\n");
  EXPECT_TRUE(starts_with_tls_handshake_record(talk(s, k220Tls)));
  s.close(/*reset=*/false);
  if (GetParam() == Policy::may) {
    expect_fallback_then_plaintext(s, c, m);
  } else {
    expect_closed(s, CloseReason::tls_failed);
    expect_deferred_no_reconnect(s, c);
  }
}

TEST_P(ClientSessionTlsPolicy, ResetDuringHandshake_DefersWithoutFallback) {
  ClientSession c = make_client(config(GetParam()), message());
  ServerByHand s(c);
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true)), "STARTTLS\r\n");
  EXPECT_TRUE(starts_with_tls_handshake_record(talk(s, k220Tls)));
  s.close(/*reset=*/true);
  expect_closed(s, CloseReason::peer_closed);
  expect_deferred_no_reconnect(s, c);
}

// TLS 1.3: the client finishes its handshake when it has read the server's Finished, before the
// server has checked the client's. Until the first complete SMTP reply has been read over TLS, any
// TLS error, alert or end of stream is still a handshake failure.

// Runs the handshake up to the point where the client is established and has sent its Finished and
// EHLO, which the server has not read yet; returns that client flight.
std::string client_finished_flight(ServerByHand& s, ClientSession& c) {
  EXPECT_EQ(talk(s, kGreeting), kEhlo);
  EXPECT_EQ(talk(s, ehlo_reply(true)), "STARTTLS\r\n");
  s.say(k220Tls);
  s.accept_tls(server_ctx());
  s.pump_once_client_to_server();                       // ClientHello in
  s.deliver_ciphertext(s.take_server_ciphertext());     // ServerHello .. Finished out
  EXPECT_TRUE(c.tls_active());
  EXPECT_EQ(s.events_of<TlsEstablished>().size(), 1u);
  return s.heard();
}

TEST_P(ClientSessionTlsPolicy, AlertAfterClientFinishedBeforeFirstReply_IsAHandshakeFailure) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(GetParam()), m);
  ServerByHand s(c);
  std::string flight = client_finished_flight(s, c);
  // Corrupt the last byte of the first encrypted record (the client's Finished): the server's
  // record layer rejects it and answers with an alert.
  std::size_t at = 0;
  bool corrupted = false;
  while (at + 5 <= flight.size()) {
    const std::size_t len = (static_cast<unsigned char>(flight[at + 3]) << 8) | static_cast<unsigned char>(flight[at + 4]);
    if (static_cast<unsigned char>(flight[at]) == 0x17 && at + 5 + len <= flight.size()) {
      flight[at + 5 + len - 1] ^= 0x01;
      corrupted = true;
      break;
    }
    at += 5 + len;
  }
  ASSERT_TRUE(corrupted);
  s.server_tls().feed(flight);
  std::string ignored;
  EXPECT_EQ(s.server_tls().advance(ignored), TlsState::failed);
  const std::string alert = s.take_server_ciphertext();
  ASSERT_FALSE(alert.empty()) << "the server sent no alert";
  s.deliver_ciphertext(alert);
  if (GetParam() == Policy::may) {
    expect_fallback_then_plaintext(s, c, m);
  } else {
    expect_closed(s, CloseReason::tls_failed);
    expect_deferred_no_reconnect(s, c);
  }
}

TEST_P(ClientSessionTlsPolicy, CloseNotifyAfterHandshakeBeforeFirstReply_IsAHandshakeFailure) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(GetParam()), m);
  ServerByHand s(c);
  const std::string flight = client_finished_flight(s, c);
  s.server_tls().feed(flight);
  std::string plain;
  EXPECT_EQ(s.server_tls().advance(plain), TlsState::established);
  EXPECT_EQ(plain, kEhlo);
  s.server_tls().shutdown();  // close_notify instead of an EHLO reply
  s.deliver_ciphertext(s.take_server_ciphertext());
  if (GetParam() == Policy::may) {
    expect_fallback_then_plaintext(s, c, m);
  } else {
    expect_closed(s, CloseReason::tls_failed);
    expect_deferred_no_reconnect(s, c);
  }
}

TEST_P(ClientSessionTlsPolicy, CleanCloseAfterClientFinishedBeforeFirstReply_IsAHandshakeFailure) {
  const OutgoingMessage m = message();
  ClientSession c = make_client(config(GetParam()), m);
  ServerByHand s(c);
  client_finished_flight(s, c);
  s.close(/*reset=*/false);
  if (GetParam() == Policy::may) {
    expect_fallback_then_plaintext(s, c, m);
  } else {
    expect_closed(s, CloseReason::tls_failed);
    expect_deferred_no_reconnect(s, c);
  }
}

TEST_P(ClientSessionTlsPolicy, CleanCloseAfterFirstReplyOverTls_DefersWithoutFallback) {
  ClientSession c = make_client(config(GetParam()), message());
  ServerByHand s(c);
  reach_tls(s, c);
  EXPECT_EQ(talk_tls(s, ehlo_reply(false)), mail_line());  // a complete reply read over TLS
  s.close(/*reset=*/false);
  expect_closed(s, CloseReason::peer_closed);
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  EXPECT_TRUE(s.events_of<TlsFallback>().empty());
  expect_all(c, Disposition::deferred, false, std::nullopt);
}

TEST_P(ClientSessionTlsPolicy, CloseNotifyAfterFirstReplyOverTls_DefersWithoutFallback) {
  ClientSession c = make_client(config(GetParam()), message());
  ServerByHand s(c);
  reach_tls(s, c);
  EXPECT_EQ(talk_tls(s, ehlo_reply(false)), mail_line());
  s.server_tls().shutdown();
  s.pump();
  EXPECT_TRUE(c.connection_finished());
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  EXPECT_TRUE(s.events_of<TlsFallback>().empty());
  expect_all(c, Disposition::deferred, false, std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Policies, ClientSessionTlsPolicy, ::testing::Values(Policy::may, Policy::must),
                         [](const auto& info) { return std::string(info.param == Policy::may ? "May" : "Must"); });

// =============================================================================================
// Implicit TLS and usage errors

TEST(ClientSessionCreate, ImplicitTlsWithPolicyNo_IsAUsageError) {
  ClientConfig cfg = config(Policy::no);
  cfg.mode = ClientMode::implicit_tls;
  const auto created = ClientSession::create(cfg, message(), Time{});
  ASSERT_FALSE(created.has_value());
  EXPECT_FALSE(created.error().message.empty());
}

TEST(ClientSessionCreate, NoRecipients_IsAUsageError) {
  for (const Policy p : {Policy::no, Policy::may, Policy::must}) {
    const auto created = ClientSession::create(config(p), message({}), Time{});
    ASSERT_FALSE(created.has_value()) << to_string(p);
    EXPECT_FALSE(created.error().message.empty());
  }
}

// A CR, LF or NUL in the HELO name or an envelope address would end the command line early and
// put commands of its own on the wire (a must client would send RCPT in plaintext inside its EHLO).
TEST(ClientSessionCreate, LineEndInHeloNameOrAddress_IsAUsageError) {
  using namespace std::string_literals;
  for (const std::string& bad : {"x\r\nRCPT TO:<victim@example.org>"s, "x\nRSET"s, "x\rQUIT"s, "x\0y"s}) {
    SCOPED_TRACE(bad);
    ClientConfig cfg = config(Policy::must);
    cfg.helo_name = bad;
    EXPECT_FALSE(ClientSession::create(cfg, message(), Time{}).has_value());
    EXPECT_TRUE(client_usage_error(cfg, message()).has_value());

    OutgoingMessage from = message();
    from.envelope.mail_from = bad;
    EXPECT_FALSE(ClientSession::create(config(Policy::must), from, Time{}).has_value());

    OutgoingMessage rcpt = message({"a@example.org", bad});
    EXPECT_FALSE(ClientSession::create(config(Policy::must), rcpt, Time{}).has_value());
  }
  // A body may hold anything: it is dot-stuffed, not a command.
  EXPECT_TRUE(ClientSession::create(config(Policy::must), message({"a@example.org"}, "a\r\n.\r\nRSET\r\n"), Time{})
                  .has_value());
  EXPECT_FALSE(client_usage_error(config(Policy::must), message()).has_value());
}

TEST(ClientSessionCreate, ImplicitTlsWithMayOrMust_IsAccepted) {
  for (const Policy p : {Policy::may, Policy::must}) {
    ClientConfig cfg = config(p);
    cfg.mode = ClientMode::implicit_tls;
    EXPECT_TRUE(ClientSession::create(cfg, message(), Time{}).has_value()) << to_string(p);
  }
}

TEST_P(ClientSessionTlsPolicy, ImplicitTls_HandshakeFirstGreetingInsideTls_DeliversOverTls) {
  ClientConfig cfg = config(GetParam());
  cfg.mode = ClientMode::implicit_tls;
  const OutgoingMessage m = message();
  ClientSession c = make_client(cfg, m, at(minutes(1)));
  ServerByHand s(c, at(minutes(1)));
  EXPECT_EQ(c.deadline(), at(minutes(1)) + minutes(5));  // the handshake
  const std::string hello = s.heard();
  EXPECT_TRUE(starts_with_tls_handshake_record(hello));  // before any byte from the server
  s.accept_tls(server_ctx());
  s.server_tls().feed(hello);
  s.now = at(minutes(2));
  EXPECT_EQ(s.pump(), TlsState::established);
  EXPECT_TRUE(c.tls_active());
  EXPECT_EQ(s.heard_tls(), "");  // the server speaks first on a TLS port
  EXPECT_EQ(c.deadline(), at(minutes(2)) + minutes(5));  // the greeting
  EXPECT_EQ(talk_tls(s, kGreeting), kEhlo);
  EXPECT_EQ(talk_tls(s, ehlo_reply(true)), mail_line());  // STARTTLS listed: ignored
  finish_tls_delivery(s, m, kBody + ".\r\n");
  expect_all(c, Disposition::delivered, true, 250);
  EXPECT_FALSE(contains(s.wire(), "EHLO"));
}

TEST_P(ClientSessionTlsPolicy, ImplicitTls_HandshakeFails_DefersWithoutPlaintextFallback) {
  ClientConfig cfg = config(GetParam());
  cfg.mode = ClientMode::implicit_tls;
  ClientSession c = make_client(cfg, message());
  ServerByHand s(c);
  s.accept_tls(tls11_only_server_context());
  EXPECT_EQ(s.pump(), TlsState::failed);
  EXPECT_TRUE(c.connection_finished()) << "the server's protocol_version alert ends the handshake";
  expect_closed(s, CloseReason::tls_failed);
  expect_deferred_no_reconnect(s, c);
  EXPECT_FALSE(contains(s.wire(), "EHLO"));
}

TEST_P(ClientSessionTlsPolicy, ImplicitTls_ClientWithoutTls_DefersAndSendsNothing) {
  ClientConfig cfg = config(GetParam(), /*tls_available=*/false);
  cfg.mode = ClientMode::implicit_tls;
  ClientSession c = make_client(cfg, message());
  ServerByHand s(c);
  EXPECT_EQ(s.heard(), "");
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.wants_reconnect());
  expect_all(c, Disposition::deferred, false, std::nullopt);
  expect_closed(s, CloseReason::tls_required);
}

// =============================================================================================
// Section 8, last sentence: nothing the server sends can make a must client send mail in
// plaintext. A seeded random server: replies from a pool (several per segment at times), closes,
// resets and timeouts, in any order.

std::vector<std::string> random_reply_pool() {
  return {kGreeting,
          "421 4.3.2 busy\r\n",
          "554 5.3.2 no\r\n",
          ehlo_reply(true),
          ehlo_reply(false),
          ehlo_reply(true, true),
          "250 mx.tlschan.test\r\n",
          "250 2.1.0 Ok\r\n",
          "251 2.1.5 will forward\r\n",
          "354 go ahead\r\n",
          k220Tls,
          k220Tls + "250-fake\r\n250 AUTH PLAIN\r\n",
          "220 ready\r\n250 ok\r\n",
          "454 4.7.0 TLS not available\r\n",
          "502 5.5.1 Not implemented\r\n",
          "501 5.5.4 Syntax: STARTTLS\r\n",
          "554 5.5.1 TLS already active\r\n",
          "530 5.7.0 No STARTTLS command has been given.\r\n",
          "500 5.5.1 What\r\n",
          "451 4.3.0 later\r\n",
          "550 5.1.1 no\r\n",
          "221 2.0.0 Bye\r\n",
          "250-partial\r\n",
          "250 STARTTLS\r\n",
          "2x0 garbage\r\n",
          std::string("\x16\x03\x01\x00\x02\x02\x28", 7),
          "HTTP/1.1 400 Bad Request\r\n"};
}

// Drives `c` with random server behaviour; returns the number of connections used.
int random_server(ClientSession& c, ServerByHand& s, std::mt19937& rng, const std::vector<std::string>& pool) {
  int connections = 1;
  for (int step = 0; step < 16; ++step) {
    if (c.connection_finished()) {
      if (!c.wants_reconnect()) break;
      s.reconnect();
      ++connections;
    }
    const std::size_t action = rng() % (pool.size() + 3);
    if (action < pool.size()) {
      std::string segment = pool[action];
      if (rng() % 5 == 0) segment += pool[rng() % pool.size()];
      s.now += seconds(1);
      s.say(segment);
    } else if (action == pool.size()) {
      s.close(/*reset=*/false);
    } else if (action == pool.size() + 1) {
      s.close(/*reset=*/true);
    } else if (const auto due = c.deadline()) {
      s.fire_deadline(*due);
    }
    s.heard();
  }
  return connections;
}

TEST(ClientSessionInvariants, MustClient_RandomServer_NeverSendsMailOutsideTlsNeverReconnects) {
  const std::vector<std::string> pool = random_reply_pool();
  std::mt19937 rng(5321);
  for (int run = 0; run < 3000; ++run) {
    ClientSession c = make_client(config(Policy::must), message({"a@example.org", "b@example.org"}));
    ServerByHand s(c);
    const int connections = random_server(c, s, rng, pool);
    SCOPED_TRACE("run " + std::to_string(run));
    const std::string& wire = s.wire();
    ASSERT_FALSE(contains(wire, "MAIL FROM")) << wire;
    ASSERT_FALSE(contains(wire, "RCPT TO")) << wire;
    ASSERT_FALSE(contains(wire, "tlschan-body-marker")) << wire;
    ASSERT_EQ(connections, 1);
    ASSERT_FALSE(c.wants_reconnect());
    ASSERT_TRUE(s.events_of<TlsFallback>().empty());
    // Without a TLS session ever completed here, nothing can have been delivered or bounced.
    for (const auto& o : c.outcomes()) {
      ASSERT_EQ(o.disposition, Disposition::deferred) << o.reason;
      ASSERT_FALSE(o.tls);
    }
  }
}

TEST(ClientSessionInvariants, MayAndNoClients_RandomServer_StarttlsOnlyOnFirstMayConnection) {
  const std::vector<std::string> pool = random_reply_pool();
  std::mt19937 rng(3207);
  for (const Policy p : {Policy::no, Policy::may}) {
    for (int run = 0; run < 2000; ++run) {
      ClientSession c = make_client(config(p), message({"a@example.org", "b@example.org"}));
      ServerByHand s(c);
      std::size_t first_connection_end = std::string::npos;
      int connections = 1;
      for (int step = 0; step < 16; ++step) {
        if (c.connection_finished()) {
          if (!c.wants_reconnect()) break;
          first_connection_end = s.wire().size();
          s.reconnect();
          ++connections;
        }
        const std::size_t action = rng() % (pool.size() + 3);
        if (action < pool.size()) {
          s.now += seconds(1);
          s.say(pool[action]);
        } else if (action == pool.size()) {
          s.close(false);
        } else if (action == pool.size() + 1) {
          s.close(true);
        } else if (const auto due = c.deadline()) {
          s.fire_deadline(*due);
        }
        s.heard();
      }
      SCOPED_TRACE(std::string(to_string(p)) + " run " + std::to_string(run));
      const std::string& wire = s.wire();
      ASSERT_LE(connections, 2);
      ASSERT_LE(s.events_of<TlsFallback>().size(), 1u);
      if (p == Policy::no) {
        ASSERT_FALSE(contains(wire, "STARTTLS")) << wire;
        ASSERT_EQ(connections, 1);
      }
      if (first_connection_end != std::string::npos) {
        ASSERT_FALSE(contains(wire.substr(first_connection_end), "STARTTLS")) << wire;
      }
      for (const auto& o : c.outcomes()) ASSERT_FALSE(o.tls);
    }
  }
}

// =============================================================================================
// Section 5: the outcome matrix with the real pair (run_loopback + ServerSession)

enum class Expect { plain, tls, bounced530, deferred };

const char* health_name(Health h) {
  switch (h) {
    case Health::ok: return "Ok";
    case Health::unavailable: return "Unavailable";
    case Health::broken: return "Broken";
  }
  return "?";
}

const char* policy_name(Policy p) {
  switch (p) {
    case Policy::no: return "No";
    case Policy::may: return "May";
    case Policy::must: return "Must";
  }
  return "?";
}

const char* expect_name(Expect e) {
  switch (e) {
    case Expect::plain: return "plain";
    case Expect::tls: return "tls";
    case Expect::bounced530: return "530";
    case Expect::deferred: return "deferred";
  }
  return "?";
}

struct CellExpectation {
  Expect expect;
  bool fallback;  // the may client reconnects after a failed handshake
};

// The table of semantics.md section 5, typed in from the spec. A server whose policy is no never
// lists STARTTLS, so its TLS health does not matter: the "no" column holds for every health.
CellExpectation spec_cell(Policy client, Policy server, Health health) {
  constexpr Expect P = Expect::plain, T = Expect::tls, B = Expect::bounced530, D = Expect::deferred;
  //                                 no   may ok  may unav  may broken  must ok  must unav  must broken
  static const Expect table[3][7] = {{P, P, P, P, B, B, B},    // client no
                                     {P, T, P, P, T, B, B},    // client may
                                     {D, T, D, D, T, D, D}};   // client must
  int column = 0;
  if (server != Policy::no) column = (server == Policy::may ? 1 : 4) + static_cast<int>(health);
  const Expect e = table[static_cast<int>(client)][column];
  const bool fallback = client == Policy::may && server != Policy::no && health == Health::broken;
  return {e, fallback};
}

ServerConfig loop_server_config(Policy policy, Health health) {
  ServerConfig c;
  c.hostname = "mx.tlschan.test";
  c.policy = policy;
  if (health == Health::ok) c.tls = server_ctx();
  if (health == Health::broken) c.tls = tls11_only_server_context();
  return c;
}

std::function<ServerSession(Time)> server_factory(Policy policy, Health health) {
  const ServerConfig cfg = loop_server_config(policy, health);
  return [cfg](Time now) { return ServerSession(cfg, now); };
}

template <class E>
std::vector<E> client_events_of(const LoopbackResult& r) {
  std::vector<E> out;
  for (const auto& [conn, e] : r.client_events) {
    if (const auto* x = std::get_if<E>(&e)) out.push_back(*x);
  }
  return out;
}

const std::vector<std::string> kLoopRcpts = {"a@example.org", "b@example.org"};

// Checks one run against an expected cell outcome.
void expect_cell(const LoopbackResult& r, Policy client, Expect expect, bool fallback) {
  ASSERT_TRUE(r.finished) << "the loopback did not finish";
  ASSERT_EQ(r.outcomes.size(), kLoopRcpts.size());
  for (std::size_t i = 0; i < kLoopRcpts.size(); ++i) {
    const RecipientOutcome& o = r.outcomes[i];
    SCOPED_TRACE(o.recipient + ": " + to_string(o.disposition) + " tls=" + (o.tls ? "yes" : "no") + " code=" +
                 (o.code ? std::to_string(*o.code) : "none") + " reason=" + o.reason + "; expected " +
                 expect_name(expect));
    EXPECT_EQ(o.recipient, kLoopRcpts[i]);
    switch (expect) {
      case Expect::plain:
      case Expect::tls:
        EXPECT_EQ(o.disposition, Disposition::delivered);
        EXPECT_EQ(o.tls, expect == Expect::tls);
        EXPECT_EQ(o.code, 250);
        break;
      case Expect::bounced530:
        EXPECT_EQ(o.disposition, Disposition::bounced);
        EXPECT_EQ(o.code, 530);
        EXPECT_FALSE(o.tls);
        break;
      case Expect::deferred:
        EXPECT_EQ(o.disposition, Disposition::deferred);
        EXPECT_FALSE(o.tls);
        break;
    }
  }
  const bool delivered = expect == Expect::plain || expect == Expect::tls;
  EXPECT_EQ(r.disposition, delivered                      ? Disposition::delivered
                           : expect == Expect::bounced530 ? Disposition::bounced
                                                          : Disposition::deferred);
  // The server side agrees: exactly one message, over TLS or not, with the original envelope.
  if (delivered) {
    ASSERT_EQ(r.accepted.size(), 1u);
    EXPECT_EQ(r.accepted[0].tls, expect == Expect::tls);
    EXPECT_EQ(r.accepted[0].envelope.mail_from, kFrom);
    EXPECT_EQ(r.accepted[0].envelope.rcpt_to, kLoopRcpts);
    EXPECT_EQ(r.accepted[0].data, kBody);
  } else {
    EXPECT_TRUE(r.accepted.empty());
  }
  EXPECT_EQ(client_events_of<TlsEstablished>(r).empty(), expect != Expect::tls);
  EXPECT_EQ(r.connections, fallback ? 2 : 1);
  EXPECT_EQ(client_events_of<TlsFallback>(r).size(), fallback ? 1u : 0u);
  // A must client never carries mail in plaintext; a no client never says STARTTLS.
  if (client == Policy::must) {
    EXPECT_FALSE(contains(r.client_bytes, "MAIL FROM:<" + kFrom + ">"));
    for (const auto& rcpt : kLoopRcpts) {
      EXPECT_FALSE(contains(r.client_bytes, "RCPT TO:<" + rcpt + ">"));
    }
    EXPECT_FALSE(contains(r.client_bytes, "tlschan-body-marker"));
  }
  if (client == Policy::no) {
    EXPECT_FALSE(contains(r.client_bytes, "STARTTLS"));
  }
}

using MatrixParam = std::tuple<Policy, Policy, Health, std::size_t>;

class ClientSessionOutcomeMatrix : public ::testing::TestWithParam<MatrixParam> {};

TEST_P(ClientSessionOutcomeMatrix, MatchesSpecSection5) {
  const auto& [client_policy, server_policy, health, segment] = GetParam();
  const CellExpectation cell = spec_cell(client_policy, server_policy, health);
  ClientSession c = make_client(config(client_policy), message(kLoopRcpts));
  LoopbackOptions options;
  options.segment = segment;
  const LoopbackResult r = run_loopback(c, server_factory(server_policy, health), options);
  expect_cell(r, client_policy, cell.expect, cell.fallback);
}

INSTANTIATE_TEST_SUITE_P(
    Cells, ClientSessionOutcomeMatrix,
    ::testing::Combine(::testing::Values(Policy::no, Policy::may, Policy::must),
                       ::testing::Values(Policy::no, Policy::may, Policy::must),
                       ::testing::Values(Health::ok, Health::unavailable, Health::broken),
                       ::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{7})),
    [](const auto& info) {
      return std::string("Client") + policy_name(std::get<0>(info.param)) + "_Server" +
             policy_name(std::get<1>(info.param)) + health_name(std::get<2>(info.param)) + "_Segment" +
             std::to_string(std::get<3>(info.param));
    });

TEST(ClientSessionLoopback, LargeMessageOverTls_ArrivesIntactAtSegment7) {
  std::string body = "Subject: big\r\n\r\n";
  for (int i = 0; body.size() < 200000; ++i) {
    if (i % 7 == 0) body += '.';
    body += "line " + std::to_string(i) + " tlschan-body-marker\r\n";
  }
  ClientSession c = make_client(config(Policy::must), message(kLoopRcpts, body));
  LoopbackOptions options;
  options.segment = 7;
  const LoopbackResult r = run_loopback(c, server_factory(Policy::must, Health::ok), options);
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.accepted.size(), 1u);
  EXPECT_TRUE(r.accepted[0].tls);
  EXPECT_EQ(r.accepted[0].data, body);  // dot-stuffed on the wire, unstuffed by the server
  for (const auto& o : r.outcomes) {
    EXPECT_EQ(o.disposition, Disposition::delivered);
    EXPECT_TRUE(o.tls);
  }
  EXPECT_FALSE(contains(r.client_bytes, "tlschan-body-marker"));
}

// ---------------------------------------------------------------------------------------------
// Network meddlers between the pair

// Removes the STARTTLS line from an EHLO reply, keeping the reply well formed (when STARTTLS was
// its last line, the line before becomes the last). Returns whether it removed one.
bool strip_starttls(std::string& bytes) {
  if (const auto at = bytes.find("250-STARTTLS\r\n"); at != std::string::npos) {
    bytes.erase(at, 14);
    return true;
  }
  if (const auto at = bytes.find("250 STARTTLS\r\n"); at != std::string::npos) {
    bytes.erase(at, 14);
    const auto prev = bytes.rfind("250-", at == 0 ? 0 : at - 1);
    if (prev != std::string::npos) bytes[prev + 3] = ' ';
    return true;
  }
  return false;
}

struct MeddlerCell {
  Policy client;
  Policy server;
};

class ClientSessionMeddler : public ::testing::TestWithParam<MeddlerCell> {};

// strip / refuse: may goes on in plaintext (plain, or 530 from a must server); must defers.
Expect stripped_or_refused_outcome(Policy client, Policy server) {
  if (client == Policy::must) return Expect::deferred;
  return server == Policy::must ? Expect::bounced530 : Expect::plain;
}

TEST_P(ClientSessionMeddler, Strip_MayGoesPlaintext_MustDefers) {
  const auto [client_policy, server_policy] = GetParam();
  ClientSession c = make_client(config(client_policy), message(kLoopRcpts));
  int stripped = 0;
  LoopbackOptions options;
  options.meddle = [&](int, Direction d, std::string& bytes) {
    if (d == Direction::server_to_client && strip_starttls(bytes)) ++stripped;
  };
  const LoopbackResult r = run_loopback(c, server_factory(server_policy, Health::ok), options);
  EXPECT_EQ(stripped, 1);
  expect_cell(r, client_policy, stripped_or_refused_outcome(client_policy, server_policy), false);
  // The transcript shows the stripped reply: the client never saw STARTTLS listed.
  EXPECT_FALSE(contains(r.server_bytes, "250-STARTTLS"));
  EXPECT_FALSE(contains(r.server_bytes, "250 STARTTLS"));
  EXPECT_FALSE(contains(r.client_bytes, "STARTTLS"));
}

TEST_P(ClientSessionMeddler, Refuse_MayContinuesPlaintext_MustDefers) {
  const auto [client_policy, server_policy] = GetParam();
  ClientSession c = make_client(config(client_policy), message(kLoopRcpts));
  int refused = 0;
  bool answer_pending = false;
  LoopbackOptions options;
  options.meddle = [&](int, Direction d, std::string& bytes) {
    if (d == Direction::client_to_server && bytes == "STARTTLS\r\n") {
      bytes = "NOOP\r\n";  // the server never sees STARTTLS
      answer_pending = true;
    } else if (d == Direction::server_to_client && answer_pending && bytes.starts_with("250")) {
      bytes = "454 4.7.0 TLS not available\r\n";
      answer_pending = false;
      ++refused;
    }
  };
  const LoopbackResult r = run_loopback(c, server_factory(server_policy, Health::ok), options);
  EXPECT_EQ(refused, 1);
  expect_cell(r, client_policy, stripped_or_refused_outcome(client_policy, server_policy), false);
  EXPECT_TRUE(contains(r.server_bytes, "454 4.7.0 TLS not available\r\n"));
}

TEST_P(ClientSessionMeddler, InjectResponse_InjectedRepliesDiscarded_OutcomeIsTheCells) {
  const auto [client_policy, server_policy] = GetParam();
  ClientSession c = make_client(config(client_policy), message(kLoopRcpts));
  int injected = 0;
  LoopbackOptions options;
  options.meddle = [&](int, Direction d, std::string& bytes) {
    if (d == Direction::server_to_client && bytes == k220Tls) {
      bytes += "250-fake\r\n250 AUTH PLAIN\r\n";
      ++injected;
    }
  };
  const LoopbackResult r = run_loopback(c, server_factory(server_policy, Health::ok), options);
  EXPECT_EQ(injected, 1);
  expect_cell(r, client_policy, spec_cell(client_policy, server_policy, Health::ok).expect, false);
  const auto discarded = client_events_of<PlaintextDiscarded>(r);
  ASSERT_EQ(discarded.size(), 1u);
  EXPECT_EQ(discarded[0].bytes, 26u);
}

TEST_P(ClientSessionMeddler, InjectCommand_InjectedCommandsNeverActedOn_OutcomeIsTheCells) {
  const auto [client_policy, server_policy] = GetParam();
  ClientSession c = make_client(config(client_policy), message(kLoopRcpts));
  int injected = 0;
  LoopbackOptions options;
  options.meddle = [&](int, Direction d, std::string& bytes) {
    if (d == Direction::client_to_server && bytes == "STARTTLS\r\n") {
      bytes += "MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@attacker.test>\r\n";
      ++injected;
    }
  };
  const LoopbackResult r = run_loopback(c, server_factory(server_policy, Health::ok), options);
  EXPECT_EQ(injected, 1);
  expect_cell(r, client_policy, spec_cell(client_policy, server_policy, Health::ok).expect, false);
  // In plaintext the client heard the greeting, the EHLO reply and the 220, nothing that answers the
  // injected commands.
  const auto end_220 = r.server_bytes.find(k220Tls);
  ASSERT_NE(end_220, std::string::npos);
  const std::string plaintext = r.server_bytes.substr(0, end_220 + k220Tls.size());
  EXPECT_FALSE(contains(plaintext, "2.1.0")) << plaintext;
  EXPECT_FALSE(contains(plaintext, "530 ")) << plaintext;
  EXPECT_FALSE(contains(plaintext, "503 ")) << plaintext;
}

TEST_P(ClientSessionMeddler, Tamper_HandshakeBytesFlipped_AsBroken) {
  const auto [client_policy, server_policy] = GetParam();
  ClientSession c = make_client(config(client_policy), message(kLoopRcpts));
  int tampered = 0;
  bool after_220 = false;
  LoopbackOptions options;
  options.meddle = [&](int conn, Direction d, std::string& bytes) {
    if (conn != 0 || d != Direction::server_to_client) return;
    if (bytes == k220Tls) {
      after_220 = true;
    } else if (after_220 && bytes.size() > 20 && static_cast<unsigned char>(bytes[0]) == 0x16) {
      bytes[15] ^= 0x5a;  // inside the ServerHello's random, never a record header
      after_220 = false;
      ++tampered;
    }
  };
  const LoopbackResult r = run_loopback(c, server_factory(server_policy, Health::ok), options);
  EXPECT_EQ(tampered, 1);
  const CellExpectation cell = spec_cell(client_policy, server_policy, Health::broken);
  expect_cell(r, client_policy, cell.expect, cell.fallback);
}

INSTANTIATE_TEST_SUITE_P(Cells, ClientSessionMeddler,
                         ::testing::Values(MeddlerCell{Policy::may, Policy::may}, MeddlerCell{Policy::may, Policy::must},
                                           MeddlerCell{Policy::must, Policy::may},
                                           MeddlerCell{Policy::must, Policy::must}),
                         [](const auto& info) {
                           return std::string("Client") + policy_name(info.param.client) + "_Server" +
                                  policy_name(info.param.server);
                         });

}  // namespace
}  // namespace tlschan::by_hand

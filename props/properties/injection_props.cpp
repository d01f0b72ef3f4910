// 3. Segmentation invariance, 4. command injection after STARTTLS, 5. response injection after 220.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "engine/server_harness.hpp"
#include "failure_transcript.hpp"
#include "scenario_gen.hpp"
#include "tlschan/client_session.hpp"
#include "tlschan/matrix/explore.hpp"
#include "tlschan/sim/deterministic_tls.hpp"

namespace tlschan::props {
namespace {

// Pieces of a client byte stream: commands good and bad, a transaction with a body.
rc::Gen<std::string> gen_client_stream() {
  return rc::gen::exec([] {
    static const std::vector<std::string> pieces = {
        "EHLO c.example\r\n", "HELO c.example\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<c@d.example>\r\n",
        "DATA\r\nSubject: s\r\n\r\n..dot\r\nbody\r\n.\r\n", "DATA\r\nbad\n.\nstill data\r\n.\r\n", "RSET\r\n",
        "NOOP\r\n", "VRFY x\r\n", "BOGUS\r\n", "NOOP\n", std::string("NO\0OP\r\n", 7), "NOOP " + std::string(600, 'y') + "\r\n",
        "MAIL FROM:<a@b> X=1\r\n", "HELP\r\n", "EXPN x\r\n"};
    std::string stream;
    const auto n = *rc::gen::inRange(1, 25);
    for (int i = 0; i < n; ++i) stream += *rc::gen::elementOf(pieces);
    return stream;
  });
}

struct Observed {
  std::string replies;
  std::vector<std::string> messages;
  bool operator==(const Observed&) const = default;
};

Observed feed(Policy policy, const std::string& stream, const std::vector<std::size_t>& cuts) {
  test::ServerHarness h(test::server_config(policy));
  Observed o;
  o.replies = h.read();
  std::size_t at = 0;
  for (const std::size_t cut : cuts) {
    if (cut <= at || cut >= stream.size()) continue;
    o.replies += h.send(stream.substr(at, cut - at));
    at = cut;
  }
  o.replies += h.send(stream.substr(at));
  for (const auto& m : h.events_of<MessageAccepted>()) o.messages.push_back(m.envelope.mail_from + "|" + m.data);
  return o;
}

RC_GTEST_PROP(Segmentation, AnyCutGivesTheSameRepliesAndMessages, ()) {
  const Policy policy = *gen_policy();
  const std::string stream = *gen_client_stream();
  auto cuts = *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, stream.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  sim::Scenario s;
  s.server.policy = policy;
  s.messages.clear();
  s.scripts.push_back(sim::ScriptSpec{{stream}, false, false});
  RecordOnFailure record("Segmentation.AnyCutGivesTheSameRepliesAndMessages", s, 1);
  RC_ASSERT(feed(policy, stream, cuts) == feed(policy, stream, {}));
}

RC_GTEST_PROP(CommandInjection, BytesAfterStarttlsAreNeverAnsweredOrActedOn, ()) {
  const Policy policy = *rc::gen::element(Policy::may, Policy::must);
  const std::string injected = *rc::gen::oneOf(gen_client_stream(), rc::gen::arbitrary<std::string>());
  sim::Scenario s;
  s.server.policy = policy;
  s.messages.clear();
  s.scripts.push_back(sim::ScriptSpec{{"EHLO c\r\n", "STARTTLS\r\n" + injected, "EHLO c\r\n", "MAIL FROM:<a@b>\r\n"}, true, true});
  RecordOnFailure record("CommandInjection.BytesAfterStarttlsAreNeverAnsweredOrActedOn", s, 1);

  // The same session without the injection, to compare with.
  test::ServerHarness clean(test::server_config(policy));
  clean.read();
  const std::string clean_ehlo1 = clean.send("EHLO c\r\n");
  RC_ASSERT(clean.send("STARTTLS\r\n") == "220 2.0.0 Ready to start TLS\r\n");
  RC_ASSERT(clean.start_tls());
  const std::string clean_after = clean.send("EHLO c\r\n") + clean.send("MAIL FROM:<a@b>\r\n");

  test::ServerHarness h(test::server_config(policy));
  h.read();
  RC_ASSERT(h.send("EHLO c\r\n") == clean_ehlo1);
  RC_ASSERT(h.send("STARTTLS\r\n" + injected) == "220 2.0.0 Ready to start TLS\r\n");
  const auto discarded = h.events_of<PlaintextDiscarded>();
  RC_ASSERT(discarded.size() == 1u);
  RC_ASSERT(discarded[0].bytes == injected.size());
  RC_ASSERT(h.start_tls());
  RC_ASSERT(h.take_greeting().empty());
  RC_ASSERT(h.send("EHLO c\r\n") + h.send("MAIL FROM:<a@b>\r\n") == clean_after);
  RC_ASSERT(h.events_of<MessageAccepted>().empty());
}

// What a must client sends right after the 220 to its STARTTLS, given extra bytes after the 220.
struct AfterTwoTwenty {
  std::string sent;
  std::size_t discarded = 0;
};

AfterTwoTwenty client_after_220(const std::string& injected) {
  sim::seed_deterministic_rand(77);  // the same ClientHello bytes for the same randomness
  ClientConfig cc;
  cc.policy = Policy::must;
  cc.tls = test::client_tls(sim::pinned_tls_options());
  auto client = ClientSession::create(cc, OutgoingMessage{{"a@b", {"c@d"}}, "x\r\n"}, Time{});
  auto drain = [&] {
    std::string out(client->output());
    client->consume(out.size());
    return out;
  };
  client->receive("220 mx ESMTP\r\n", Time{});
  drain();
  client->receive("250-mx\r\n250 STARTTLS\r\n", Time{});
  drain();
  client->receive("220 2.0.0 Ready to start TLS\r\n" + injected, Time{});
  AfterTwoTwenty r;
  r.sent = drain();
  while (auto e = client->next_event()) {
    if (const auto* d = std::get_if<PlaintextDiscarded>(&*e)) r.discarded = d->bytes;
  }
  return r;
}

RC_GTEST_PROP(ResponseInjection, BytesAfterThe220NeverChangeWhatTheClientDoesNext, ()) {
  const std::string injected = *rc::gen::oneOf(
      rc::gen::element<std::string>("250-fake\r\n250 AUTH PLAIN\r\n", "250 ok\r\n", "530 no\r\n", "220 again\r\n"),
      rc::gen::arbitrary<std::string>());
  sim::Scenario s;
  s.client.policy = Policy::must;
  s.server_script = sim::ServerScriptSpec{{"220 mx ESMTP\r\n", "250-mx\r\n250 STARTTLS\r\n",
                                           "220 2.0.0 Ready to start TLS\r\n" + injected, "250 mx\r\n", "250 ok\r\n",
                                           "250 ok\r\n", "354 go\r\n", "250 queued\r\n", "221 bye\r\n"},
                                          true};
  RecordOnFailure record("ResponseInjection.BytesAfterThe220NeverChangeWhatTheClientDoesNext", s, 1);
  const AfterTwoTwenty clean = client_after_220("");
  const AfterTwoTwenty got = client_after_220(injected);
  RC_ASSERT(!clean.sent.empty());
  RC_ASSERT(got.sent == clean.sent);  // the same ClientHello, nothing else
  RC_ASSERT(got.discarded == injected.size());
}

}  // namespace
}  // namespace tlschan::props

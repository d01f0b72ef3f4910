// tlschan::net on loopback sockets, in one thread: a Server that hands accepted messages to an
// in-memory sink, and net::start_delivery sharing its io_context. (The interop tests drive the same
// code through `tlschan serve` and `tlschan send` against other mail software.)
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tlschan/net/delivery.hpp"
#include "tlschan/net/server.hpp"

namespace tlschan::net {
namespace {

struct Fixture {
  boost::asio::io_context io{1};
  std::ostream no_log{nullptr};
  std::vector<MessageAccepted> received;
  bool sink_fails = false;
  std::optional<Server> server;
  DeliveryRequest request;

  // A server on a free loopback port under `server_policy`, and a request to it under
  // `client_policy`.
  void start(Policy server_policy, Policy client_policy) {
    const auto server_tls = TlsContext::server_from_files(TLSCHAN_TEST_CERTS "/server.crt",
                                                          TLSCHAN_TEST_CERTS "/server.key", TlsOptions{});
    const auto client_tls = TlsContext::client(TlsOptions{});
    ASSERT_TRUE(server_tls.has_value());
    ASSERT_TRUE(client_tls.has_value());
    server.emplace(
        io,
        [this](const MessageAccepted& m) -> Expected<std::string, SpoolError> {
          if (sink_fails) return unexpected(SpoolError{"the sink is full"});
          received.push_back(m);
          return std::to_string(received.size());
        },
        ServerOptions{}, no_log);
    Listener listener;
    listener.endpoint = boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0);
    listener.session.hostname = "mx.tlschan.test";
    listener.session.channel = "tcp_local";
    listener.session.policy = server_policy;
    listener.session.tls = *server_tls;
    listener.session.acknowledge_messages = true;
    listener.service = "test";
    const auto bound = server->add_listener(std::move(listener));
    ASSERT_TRUE(bound.has_value()) << bound.error();
    server->start();

    request.host = "127.0.0.1";
    request.port = bound->port();
    request.client.helo_name = "client.tlschan.test";
    request.client.policy = client_policy;
    request.client.tls = *client_tls;
    request.message.envelope.mail_from = "alice@client.tlschan.test";
    request.message.envelope.rcpt_to = {"bob@mx.tlschan.test"};
    request.message.data = "Subject: loopback\r\n\r\n.a line with a dot\r\nbye\r\n";
  }

  // One attempt on the shared io_context, run until the client has its result and the server has
  // no connection left.
  DeliveryResult deliver_once() {
    std::optional<DeliveryResult> result;
    const auto error = start_delivery(io, request, [&](DeliveryResult r) { result = std::move(r); });
    EXPECT_FALSE(error.has_value()) << error->message;
    while (!error && (!result || server->counters().active > 0)) io.run_one();
    return result.value_or(DeliveryResult{});
  }

  ~Fixture() {
    if (server) {
      server->shutdown();
      io.run();
    }
  }
};

TEST(NetLoopback, StartTlsSessionOnOneThread_DeliversOverTlsToTheSink) {
  Fixture f;
  f.start(Policy::may, Policy::must);
  const DeliveryResult r = f.deliver_once();
  EXPECT_EQ(r.disposition, Disposition::delivered);
  EXPECT_EQ(r.connections, 1);
  ASSERT_EQ(r.outcomes.size(), 1u);
  EXPECT_TRUE(r.outcomes.front().tls);
  ASSERT_EQ(f.received.size(), 1u);
  EXPECT_EQ(f.received.front().data, f.request.message.data);
  EXPECT_TRUE(f.received.front().tls);
  EXPECT_EQ(f.received.front().tls_version, "TLSv1.3");
  EXPECT_EQ(f.received.front().envelope.rcpt_to, f.request.message.envelope.rcpt_to);
}

TEST(NetLoopback, PlaintextSessions_OneAfterAnotherOnOneServer) {
  Fixture f;
  f.start(Policy::no, Policy::no);
  for (int i = 0; i < 3; ++i) {
    const DeliveryResult r = f.deliver_once();
    EXPECT_EQ(r.disposition, Disposition::delivered);
    ASSERT_EQ(r.outcomes.size(), 1u);
    EXPECT_FALSE(r.outcomes.front().tls);
  }
  ASSERT_EQ(f.received.size(), 3u);
  for (const MessageAccepted& m : f.received) EXPECT_FALSE(m.tls);
  EXPECT_EQ(f.server->counters().messages_stored, 3u);
  EXPECT_EQ(f.server->counters().accepted, 3u);
  EXPECT_EQ(f.server->counters().active, 0u);
}

// A message the sink cannot keep is not acknowledged: the client is told to try later (451), and
// the message is not counted as delivered.
TEST(NetLoopback, SinkError_DefersTheMessage) {
  Fixture f;
  f.start(Policy::may, Policy::may);
  f.sink_fails = true;
  const DeliveryResult r = f.deliver_once();
  EXPECT_EQ(r.disposition, Disposition::deferred);
  EXPECT_TRUE(f.received.empty());
  EXPECT_EQ(f.server->counters().store_failures, 1u);
  EXPECT_EQ(f.server->counters().messages_stored, 0u);
}

TEST(NetLoopback, MustClientAgainstNoServer_DefersWithoutSendingMail) {
  Fixture f;
  f.start(Policy::no, Policy::must);
  const DeliveryResult r = f.deliver_once();
  EXPECT_EQ(r.disposition, Disposition::deferred);
  EXPECT_TRUE(f.received.empty());
}

TEST(NetLoopback, StartDeliveryWithoutRecipients_IsAUsageErrorAndSendsNothing) {
  Fixture f;
  f.start(Policy::may, Policy::may);
  f.request.message.envelope.rcpt_to.clear();
  bool called = false;
  const auto error = start_delivery(f.io, f.request, [&](DeliveryResult) { called = true; });
  ASSERT_TRUE(error.has_value());
  f.io.poll();
  EXPECT_FALSE(called);
  EXPECT_EQ(f.server->counters().accepted, 0u);
}

TEST(NetDelivery, NoListenerOnThePort_EveryRecipientDeferredWithWhyTheConnectionDidNotOpen) {
  // A port that was free a moment ago: bound, closed, and nothing listens there now.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(io, boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  DeliveryRequest request;
  request.host = "127.0.0.1";
  request.port = probe.local_endpoint().port();
  probe.close();
  request.client.helo_name = "client.tlschan.test";
  request.client.policy = Policy::may;
  request.message.envelope.mail_from = "alice@client.tlschan.test";
  request.message.envelope.rcpt_to = {"bob@mx.tlschan.test", "carol@mx.tlschan.test"};
  request.message.data = "Subject: nowhere\r\n\r\nbye\r\n";
  const auto result = deliver(request);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->disposition, Disposition::deferred);
  ASSERT_EQ(result->outcomes.size(), 2u);
  for (const RecipientOutcome& o : result->outcomes) {
    EXPECT_EQ(o.disposition, Disposition::deferred) << o.recipient;
    EXPECT_EQ(o.reason.rfind("cannot connect to 127.0.0.1:" + std::to_string(request.port) + ": ", 0), 0u)
        << o.recipient << ": " << o.reason;
  }
}

}  // namespace
}  // namespace tlschan::net

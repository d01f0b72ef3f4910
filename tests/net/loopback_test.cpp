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
#include <string_view>
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

// What an observer of an attempt sees: one connection's ends, bytes, closes and key log.
struct Recording final : DeliveryObserver {
  int opened_count = 0;
  std::uint16_t server_port = 0;
  std::string client_bytes, server_bytes;
  std::vector<int> key_log_connections;
  std::string keys;
  bool client_closed = false;
  void opened(int, const std::string&, std::uint16_t, const std::string&, std::uint16_t port) override {
    ++opened_count;
    server_port = port;
  }
  void bytes(int, bool from_client, std::string_view b) override { (from_client ? client_bytes : server_bytes) += b; }
  void closed(int, bool by_client) override { client_closed = client_closed || by_client; }
  void reset(int, bool) override {}
  void key_log(int connection, std::string_view line) override {
    key_log_connections.push_back(connection);
    keys.append(line).push_back('\n');
  }
};

std::vector<std::string> client_randoms(const std::string& keys) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < keys.size()) {
    const auto end = keys.find('\n', at);
    const auto a = keys.find(' ', at);
    const auto b = keys.find(' ', a + 1);
    out.push_back(keys.substr(a + 1, b - a - 1));
    at = end + 1;
  }
  return out;
}

// The ClientHello's random (after the 5-octet record, 4-octet handshake and 2-octet version
// headers) as hex, from the client's bytes after its STARTTLS.
std::string hello_random(const std::string& client_bytes) {
  const auto hello = client_bytes.find("\x16\x03");
  if (hello == std::string::npos || hello + 43 > client_bytes.size()) return "";
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = hello + 11; i < hello + 43; ++i) {
    out.push_back(digits[static_cast<unsigned char>(client_bytes[i]) >> 4]);
    out.push_back(digits[static_cast<unsigned char>(client_bytes[i]) & 15]);
  }
  return out;
}

// Two attempts at once on one io_context, one client TLS context: each observer gets the key log
// of its own connection's handshake only (the random of its own ClientHello), its real bytes both
// ways (the SMTP dialogue before STARTTLS in the clear) and the real server port.
TEST(NetLoopback, TwoAttemptsAtOnceSharingATlsContext_EachObserverHearsItsOwnKeyLog) {
  Fixture f;
  f.start(Policy::may, Policy::must);
  Recording first, second;
  std::optional<DeliveryResult> r1, r2;
  DeliveryRequest a = f.request, b = f.request;
  a.observer = &first;
  b.observer = &second;
  ASSERT_FALSE(start_delivery(f.io, a, [&](DeliveryResult r) { r1 = std::move(r); }).has_value());
  ASSERT_FALSE(start_delivery(f.io, b, [&](DeliveryResult r) { r2 = std::move(r); }).has_value());
  while (!r1 || !r2 || f.server->counters().active > 0) f.io.run_one();
  ASSERT_EQ(r1->disposition, Disposition::delivered);
  ASSERT_EQ(r2->disposition, Disposition::delivered);
  for (const Recording* rec : {&first, &second}) {
    EXPECT_EQ(rec->opened_count, 1);
    EXPECT_EQ(rec->server_port, f.request.port);
    EXPECT_EQ(rec->client_bytes.rfind("EHLO client.tlschan.test\r\n", 0), 0u);
    EXPECT_NE(rec->client_bytes.find("STARTTLS\r\n"), std::string::npos);
    EXPECT_EQ(rec->server_bytes.rfind("220 ", 0), 0u);
    EXPECT_TRUE(rec->client_closed);
    const auto randoms = client_randoms(rec->keys);
    ASSERT_EQ(randoms.size(), 5u) << rec->keys;  // TLS 1.3: five secrets per handshake
    for (const auto& r : randoms) EXPECT_EQ(r, hello_random(rec->client_bytes));
    EXPECT_EQ(rec->key_log_connections, std::vector<int>(5, 1));
  }
  EXPECT_NE(first.keys, second.keys);
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

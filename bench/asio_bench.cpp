// The net/ server and the net/ client over loopback TCP sockets: the reference for BM_SimSession
// (bench/session_bench.cpp). Each iteration is the same session as there (EHLO, STARTTLS, TLS 1.3
// handshake, EHLO, MAIL, RCPT, 1 KiB DATA, QUIT; or the same without STARTTLS), under the same
// policies, with the same certificate and the same pinned TLS parameters, and sessions run one after
// another in one thread: the server and the client share one io_context. What the simulator replaces
// is what this pays for: sockets, the kernel's loopback TCP, epoll and real timers.
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "tlschan/net/delivery.hpp"
#include "tlschan/net/server.hpp"
#include "tlschan/sim/deterministic_tls.hpp"

namespace {

using namespace tlschan;

// The message of BM_SimSession: the simulator's default envelope and the same 1 KiB body.
OutgoingMessage bench_message() {
  OutgoingMessage m;
  m.envelope.mail_from = "alice@client.tlschan.test";
  m.envelope.rcpt_to = {"bob@mx.tlschan.test"};
  m.data = "Subject: bench\r\n\r\n";
  for (int i = 0; i < 10; ++i) m.data += std::string(98, 'x') + "\r\n";  // 1 KiB
  return m;
}

// What the server accepted, checked in memory and dropped: the spool would add two synced files per
// session.
struct Received {
  std::uint64_t messages = 0;
  bool last_matches = false;  // the last message arrived whole, over TLS 1.3 exactly when it should
};

void BM_AsioLoopbackSession(benchmark::State& state) {
  const bool starttls = state.range(0) != 0;
  // BM_SimSession's contexts: corpus/certs/server.crt and .key, the simulator's pinned parameters
  // (TLS 1.3, X25519, ECDSA P-256, AES-128-GCM). OpenSSL's own randomness, not the simulator's.
  const TlsOptions pinned = sim::pinned_tls_options();
  const auto server_tls =
      TlsContext::server_from_files(TLSCHAN_CERTS_DIR "/server.crt", TLSCHAN_CERTS_DIR "/server.key", pinned);
  const auto client_tls = TlsContext::client(pinned);
  if (!server_tls || !client_tls) {
    state.SkipWithError(!server_tls ? server_tls.error().message.c_str()
                                    : client_tls.error().message.c_str());
    return;
  }

  net::DeliveryRequest request;
  request.host = "127.0.0.1";
  request.client.helo_name = "client.tlschan.test";
  request.client.policy = starttls ? Policy::must : Policy::no;  // as BM_SimSession's client
  request.client.tls = *client_tls;
  request.message = bench_message();

  boost::asio::io_context io(1);
  std::ostream no_log(nullptr);  // the server's log lines are formatted, then dropped
  Received received;
  const net::MessageSink sink = [&](const MessageAccepted& m) -> Expected<std::string, net::SpoolError> {
    ++received.messages;
    received.last_matches =
        m.data == request.message.data && m.tls == starttls && (!starttls || m.tls_version == "TLSv1.3");
    return std::to_string(received.messages);
  };
  net::Server server(io, sink, net::ServerOptions{}, no_log);

  net::Listener listener;
  listener.endpoint = boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0);
  listener.session.hostname = "mx.tlschan.test";
  listener.session.channel = "tcp_local";
  listener.session.policy = starttls ? Policy::may : Policy::no;  // as BM_SimSession's server
  listener.session.tls = *server_tls;
  listener.session.acknowledge_messages = true;  // as tlschan serve: the 250 waits for the sink
  listener.service = "bench";
  const auto bound = server.add_listener(std::move(listener));
  if (!bound) {
    state.SkipWithError(bound.error().c_str());
    return;
  }
  request.port = bound->port();
  server.start();

  for (auto _ : state) {
    const std::uint64_t before = received.messages;
    std::optional<net::DeliveryResult> result;
    if (const auto error =
            net::start_delivery(io, request, [&](net::DeliveryResult r) { result = std::move(r); })) {
      state.SkipWithError(error->message.c_str());
      break;
    }
    // The session is over once the client has its outcome and the server has closed its side too.
    while (!result || server.counters().active > 0) io.run_one();
    const bool delivered = result->disposition == Disposition::delivered && result->connections == 1 &&
                           result->outcomes.front().tls == starttls && received.messages == before + 1 &&
                           received.last_matches;
    if (!delivered) state.SkipWithError("not delivered");
  }

  server.shutdown();
  io.run();  // the listener's accept ends
}
BENCHMARK(BM_AsioLoopbackSession)
    ->Arg(1)
    ->Arg(0)
    ->ArgName("starttls")
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

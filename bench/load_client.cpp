// The load driver of bench/load_bench.py: MESSAGES deliveries of one 1 KiB message each, SESSIONS of
// them in flight at once, each its own connection with the net/ client (`tlschan send`'s machinery:
// EHLO, STARTTLS under the must policy, TLS handshake, EHLO, MAIL, RCPT, DATA, QUIT), all on one
// io_context in one thread. The same driver runs against every server compared, so the client's cost
// is the same on each side.
//
// Usage: tlschan_load_client HOST PORT SESSIONS MESSAGES [no|must]
// Prints one JSON object: messages, delivered, tls (delivered over TLS), seconds (wall), and the
// driver's own CPU seconds.
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

#include "tlschan/net/delivery.hpp"

namespace {

using namespace tlschan;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int usage() {
  std::cerr << "usage: tlschan_load_client HOST PORT SESSIONS MESSAGES [no|must]\n"
               "  MESSAGES deliveries of a 1 KiB message, SESSIONS connections at once, one io thread;\n"
               "  prints {messages, delivered, tls, seconds, client_cpu_s} as JSON\n";
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    usage();
    return 0;
  }
  if (argc < 5 || argc > 6) return usage();
  const std::string host = argv[1];
  const long port = std::strtol(argv[2], nullptr, 10);
  const long sessions = std::strtol(argv[3], nullptr, 10);
  const long messages = std::strtol(argv[4], nullptr, 10);
  const std::string policy = argc == 6 ? argv[5] : "must";
  if (port <= 0 || port > 65535 || sessions <= 0 || messages <= 0 || (policy != "no" && policy != "must"))
    return usage();

  const auto tls = TlsContext::client();
  if (!tls) {
    std::cerr << "tlschan_load_client: " << tls.error().message << "\n";
    return 1;
  }
  net::DeliveryRequest request;
  request.host = host;
  request.port = static_cast<std::uint16_t>(port);
  request.client.helo_name = "load.tlschan.test";
  request.client.policy = policy == "must" ? Policy::must : Policy::no;
  request.client.tls = *tls;
  request.message.envelope.mail_from = "load@client.tlschan.test";
  request.message.envelope.rcpt_to = {"bob@mx.tlschan.test"};
  request.message.data = "Subject: load\r\n\r\n";
  for (int i = 0; i < 10; ++i) request.message.data += std::string(98, 'x') + "\r\n";

  boost::asio::io_context io(1);
  long started = 0;
  long delivered = 0;
  long over_tls = 0;
  std::string first_failure;
  std::function<void()> next = [&] {
    if (started == messages) return;
    ++started;
    const auto error = net::start_delivery(io, request, [&](net::DeliveryResult r) {
      const auto& o = r.outcomes.front();
      if (r.disposition == Disposition::delivered) {
        ++delivered;
        if (o.tls) ++over_tls;
      } else if (first_failure.empty()) {
        first_failure = o.reason;
      }
      next();
    });
    if (error) {
      std::cerr << "tlschan_load_client: " << error->message << "\n";
      std::exit(1);
    }
  };
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < sessions; ++i) next();
  io.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::printf("{\"messages\": %ld, \"delivered\": %ld, \"tls\": %ld, \"seconds\": %.6f, \"client_cpu_s\": %.6f}\n",
              messages, delivered, over_tls, seconds, cpu);
  if (!first_failure.empty()) std::cerr << "tlschan_load_client: first failure: " << first_failure << "\n";
  return delivered == messages ? 0 : 1;
}

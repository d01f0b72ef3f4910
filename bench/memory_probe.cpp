// Peak memory of many simultaneous connections, one kind per process run, so that peak RSS speaks of
// that kind alone. Usage: tlschan_memory_probe KIND N
//   plain / starttls: one simulation with N concurrent connections (N messages, all started at once)
//   held-plain / held-tls: N client and server session pairs held open after EHLO (over TLS for
//     held-tls): what a connection costs the engine once established
//   ssl-pairs: N established SSL pairs on memory BIOs with SSL_MODE_RELEASE_BUFFERS (OpenSSL's own)
//   baseline: the process with the simulator set up and one connection run
// Prints "peak_rss_kib N".
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tlschan/client_session.hpp"
#include "tlschan/matrix/outcome_matrix.hpp"
#include "tlschan/server_session.hpp"
#include "tlschan/sim/simulation.hpp"

namespace {

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// A client (must or no) and a server (may) session, pumped until the server has the client's EHLO
// (inside TLS for `tls`) and answered it; then left alone.
struct HeldPair {
  std::optional<tlschan::ClientSession> client;
  std::optional<tlschan::ServerSession> server;
};

int hold(bool tls, std::size_t n) {
  using namespace tlschan;
  auto simulator = sim::Simulator::create();
  if (!simulator) return 1;
  std::vector<HeldPair> pairs(n);
  for (auto& p : pairs) {
    ClientConfig cc;
    cc.policy = tls ? Policy::must : Policy::no;
    cc.tls = simulator->client_tls();
    ServerConfig sc;
    sc.policy = Policy::may;
    sc.tls = simulator->server_tls(sim::Health::ok);
    auto made = ClientSession::create(cc, OutgoingMessage{{"a@b.example", {"c@d.example"}}, "x\r\n"}, Time{});
    if (!made) return 1;
    p.client.emplace(std::move(made).value());
    p.server.emplace(sc, Time{});
    int ehlos = 0;
    for (int round = 0; round < 20 && ehlos < (tls ? 2 : 1); ++round) {
      std::string s2c(p.server->output());
      p.server->consume(s2c.size());
      if (!s2c.empty()) p.client->receive(s2c, Time{});
      std::string c2s(p.client->output());
      p.client->consume(c2s.size());
      // Counts the EHLO lines the client sends in clear, and the TLS flight that carries its second.
      if (c2s.rfind("EHLO", 0) == 0 || (tls && p.server->tls_active())) ++ehlos;
      if (!c2s.empty()) p.server->receive(c2s, Time{});
      while (p.server->next_event()) {}
      while (p.client->next_event()) {}
    }
    if (p.server->tls_active() != tls) return 2;
  }
  std::printf("peak_rss_kib %ld\n", peak_rss_kib());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tlschan;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s plain|starttls|ssl-pairs|baseline N\n", argv[0]);
    return 64;
  }
  const std::string kind = argv[1];
  if (kind == "held-plain" || kind == "held-tls") return hold(kind == "held-tls", std::strtoul(argv[2], nullptr, 10));
  const std::size_t n = std::strtoul(argv[2], nullptr, 10);
  auto simulator = sim::Simulator::create();
  if (!simulator) return 1;
  if (kind == "ssl-pairs") {
    std::vector<std::unique_ptr<TlsSession>> sessions;
    sessions.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
      auto c = std::make_unique<TlsSession>(simulator->client_tls());
      auto s = std::make_unique<TlsSession>(simulator->server_tls(sim::Health::ok));
      std::string plain, wire;
      for (int k = 0; k < 8; ++k) {
        c->advance(plain);
        wire.clear();
        c->take_output(wire);
        s->feed(wire);
        s->advance(plain);
        wire.clear();
        s->take_output(wire);
        c->feed(wire);
      }
      sessions.push_back(std::move(c));
      sessions.push_back(std::move(s));
    }
    std::printf("peak_rss_kib %ld\n", peak_rss_kib());
    return 0;
  }
  const bool tls = kind == "starttls";
  sim::Scenario s = matrix::cell_scenario(tls ? Policy::must : Policy::no, tls ? Policy::may : Policy::no,
                                          sim::Health::ok, sim::MeddlerKind::none);
  s.network.segment_min = s.network.segment_max = 0;
  // A long latency keeps every connection open at once: all N are set up before the first ends.
  s.network.latency_min = s.network.latency_max = std::chrono::seconds(30);
  s.messages.assign(kind == "baseline" ? 1 : n, sim::MessageSpec{});
  const sim::RunResult r = simulator->run(s, 1);
  for (const auto& m : r.messages) {
    if (m.disposition != Disposition::delivered) return 2;
  }
  std::printf("peak_rss_kib %ld\n", peak_rss_kib());
  return 0;
}

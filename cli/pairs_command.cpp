#include "pairs_command.hpp"

#include <array>
#include <iostream>
#include <string>

#include "tlschan/loopback.hpp"
#include "tlschan/sim/simulation.hpp"

namespace tlschan::cli {

namespace {

struct ServerColumn {
  Policy policy;
  Health health;
};

constexpr std::array<ServerColumn, 7> columns{{
    {Policy::no, Health::ok},
    {Policy::may, Health::ok},
    {Policy::may, Health::unavailable},
    {Policy::may, Health::broken},
    {Policy::must, Health::ok},
    {Policy::must, Health::unavailable},
    {Policy::must, Health::broken},
}};

// One word for what happened, in the vocabulary of semantics.md section 5.
std::string outcome_word(const LoopbackResult& r) {
  bool fallback = false;
  for (const auto& [conn, e] : r.client_events) fallback = fallback || std::holds_alternative<TlsFallback>(e);
  const RecipientOutcome& o = r.outcomes.front();
  switch (r.disposition) {
    case Disposition::delivered: return std::string(o.tls ? "tls" : "plain") + (fallback ? " (fallback)" : "");
    case Disposition::bounced: return o.code ? std::to_string(*o.code) + (fallback ? " (after fallback)" : "") : "bounced";
    case Disposition::deferred: return "deferred";
  }
  return "?";
}

std::optional<TlsContext> server_context(Health health) {
  if (health == Health::unavailable) return std::nullopt;
  const TlsOptions options = health == Health::broken ? broken_server_options() : TlsOptions{};
  auto ctx = TlsContext::server_from_pem(sim::simulator_certificate_pem(), sim::simulator_key_pem(), options);
  if (!ctx) {
    std::cerr << "tlschan: " << ctx.error().message << "\n";
    return std::nullopt;
  }
  return *ctx;
}

int run_pairs() {
  auto client_tls = TlsContext::client();
  if (!client_tls) {
    std::cerr << "tlschan: " << client_tls.error().message << "\n";
    return 1;
  }
  std::cout << "client \\ server";
  for (const auto& c : columns) {
    std::cout << " | " << to_string(c.policy);
    if (c.policy != Policy::no) std::cout << " " << to_string(c.health);
  }
  std::cout << "\n";
  for (const Policy client_policy : {Policy::no, Policy::may, Policy::must}) {
    std::cout << to_string(client_policy);
    for (const auto& c : columns) {
      ClientConfig cc;
      cc.helo_name = "client.tlschan.test";
      cc.policy = client_policy;
      cc.tls = *client_tls;
      OutgoingMessage m{{"alice@client.tlschan.test", {"bob@mx.tlschan.test"}}, "Subject: demo\r\n\r\nHello.\r\n"};
      auto client = ClientSession::create(cc, m, Time{});
      ServerConfig sc;
      sc.hostname = "mx.tlschan.test";
      sc.policy = c.policy;
      sc.tls = server_context(c.health);
      const auto result = run_loopback(*client, [&](Time now) { return ServerSession(sc, now); });
      std::cout << " | " << outcome_word(result);
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

void add_pairs_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "pairs",
      "Run a client session against a server session in memory for every client policy, server "
      "policy and server TLS health, and print the outcome table (semantics.md section 5)");
  cmd->callback([&exit_code] { exit_code = run_pairs(); });
}

}  // namespace tlschan::cli

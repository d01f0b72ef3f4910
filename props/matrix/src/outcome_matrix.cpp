#include "tlschan/matrix/outcome_matrix.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <iomanip>
#include <sstream>

#include "oracle_words.hpp"
#include "tlschan/matrix/explore.hpp"
#include "tlschan/oracle/outcome_oracle.hpp"

namespace tlschan::matrix {

namespace {

struct Column {
  Policy server;
  sim::Health health;
};

constexpr Column columns[] = {
    {Policy::no, sim::Health::ok},           {Policy::may, sim::Health::ok},
    {Policy::may, sim::Health::unavailable}, {Policy::may, sim::Health::broken},
    {Policy::must, sim::Health::ok},         {Policy::must, sim::Health::unavailable},
    {Policy::must, sim::Health::broken},
};

constexpr Policy policies[] = {Policy::no, Policy::may, Policy::must};

// A column's heading in the table and on the page: the server policy, then its TLS health.
std::string column_label(Policy server, sim::Health health) {
  std::string head = to_string(server);
  if (server != Policy::no) head += std::string("/") + sim::to_string(health);
  return head;
}

std::uint64_t mix(std::uint64_t seed, std::uint64_t n) {
  std::uint64_t s = seed ^ (n * 0x9e3779b97f4a7c15ULL);
  return sim::splitmix64(s);
}

}  // namespace

bool MatrixResult::all_agree() const {
  for (const auto& c : cells) {
    if (!c.agrees) return false;
  }
  for (const auto& e : extra) {
    if (!e.agrees) return false;
  }
  return true;
}

sim::Scenario cell_scenario(Policy client, Policy server, sim::Health health, sim::MeddlerKind meddler) {
  sim::Scenario s;
  s.name = std::string("cell client=") + to_string(client) + " server=" + to_string(server) + " health=" +
           sim::to_string(health) + " meddler=" + sim::to_string(meddler);
  s.client.policy = client;
  s.server.policy = server;
  s.server.health = health;
  s.network.meddler = meddler;
  return s;
}

namespace {

// Runs one scenario; with Transcripts::keep, `transcript` gets the run's transcript file.
sim::RunResult run_one(const sim::Simulator& simulator, const sim::Scenario& sc, std::uint64_t seed,
                       Transcripts transcripts, std::string& transcript) {
  if (transcripts == Transcripts::drop) return simulator.run(sc, seed);
  sim::TranscriptFile file = transcript_head(sc, seed);
  sim::RunResult r = simulator.run(sc, seed, &file.body);
  transcript = sim::format_transcript(file);
  return r;
}

// One delivery of the configuration's rows, checked like the others.
ExtraResult config_row(const sim::Simulator& simulator, std::string name, const sim::Scenario& sc, std::uint64_t seed,
                       Transcripts transcripts) {
  ExtraResult e;
  e.name = std::move(name);
  e.seed = seed;
  const sim::RunResult r = run_one(simulator, sc, seed, transcripts, e.transcript);
  const auto& msg = r.messages.front();
  e.outcome = sim::outcome_word(msg) + (msg.disposition == Disposition::delivered ? " channel=" + msg.channel : "");
  const oracle::Outcome want =
      sc.server.tls_port ? oracle::expected_tls_port(to_oracle(sc.client.policy), to_oracle(sc.server.policy), oracle::Health::ok)
                         : oracle::expected({to_oracle(sc.client.policy), to_oracle(sc.server.policy), oracle::Health::ok, oracle::Adversary::none});
  e.expected = oracle::word(want);
  if (want == oracle::Outcome::delivered_tls || want == oracle::Outcome::delivered_plain) {
    e.expected += " channel=" + oracle::expected_source_channel(want, sc.server.channel, sc.server.switch_target.value_or(""));
  }
  e.agrees = e.outcome == e.expected && r.violations.empty();
  return e;
}

std::vector<sim::Scenario> config_scenarios(const Config& config, std::vector<std::string>& names) {
  std::vector<sim::Scenario> out;
  // Services: each port hands connections to its incoming channel.
  if (config.dispatcher) {
    for (const auto& service : config.dispatcher->services) {
      const Channel& ch = incoming_channel(config, service);
      auto add = [&](std::uint16_t port, bool tls_port) {
        for (const Policy client : policies) {
          if (tls_port && client == Policy::no) continue;  // implicit TLS needs a may or must client
          sim::Scenario sc = cell_scenario(client, ch.policy.server, sim::Health::ok, sim::MeddlerKind::none);
          sc.server.channel = ch.name.text;
          sc.server.switch_target = ch.policy.switch_target;
          sc.server.tls_port = tls_port;
          sc.client.implicit_tls = tls_port;
          names.push_back("service " + service.name.text + (tls_port ? " TLS_PORT " : " PORT ") + std::to_string(port) +
                          " -> " + ch.name.text + " (server " + to_string(ch.policy.server) +
                          (ch.policy.switch_target ? ", switch " + *ch.policy.switch_target : "") + ") client=" + to_string(client));
          out.push_back(std::move(sc));
        }
      };
      for (const auto& p : service.ports) add(p.number, false);
      for (const auto& p : service.tls_ports) add(p.number, true);
    }
  }
  // Outgoing channels: where the rewrite rules send mail, under each channel's client policy.
  std::vector<std::string> seen;
  for (const auto& rule : config.table.rules()) {
    const Channel* ch = config.table.find_by_tag(rule.tag);
    if (!ch || std::find(seen.begin(), seen.end(), ch->name.text) != seen.end()) continue;
    // Only SMTP channels speak STARTTLS (the local channel and the like deliver otherwise).
    const bool smtp = std::any_of(ch->keywords.begin(), ch->keywords.end(), [](const Token& t) {
      std::string k = t.text;
      for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return k == "smtp";
    });
    if (!smtp) continue;
    seen.push_back(ch->name.text);
    for (const Policy server : policies) {
      sim::Scenario sc = cell_scenario(ch->policy.client, server, sim::Health::ok, sim::MeddlerKind::none);
      sc.client.channel = ch->name.text;
      names.push_back("channel " + ch->name.text + " (client " + to_string(ch->policy.client) + ", routed by " +
                      rule.pattern.text + ") server=" + to_string(server));
      out.push_back(std::move(sc));
    }
  }
  return out;
}

}  // namespace

MatrixResult run_matrix(const sim::Simulator& simulator, std::uint64_t seed,
                        const std::function<void(std::size_t, std::size_t)>& progress, const Config* config,
                        Transcripts transcripts) {
  MatrixResult m;
  std::vector<std::string> config_names;
  const std::vector<sim::Scenario> config_runs = config ? config_scenarios(*config, config_names) : std::vector<sim::Scenario>{};
  const std::size_t total = std::size(policies) * std::size(columns) * std::size(sim::all_meddlers) + 6 + config_runs.size();
  std::uint64_t n = 0;
  auto tick = [&] {
    if (progress) progress(m.cells.size() + m.extra.size(), total);
  };
  for (const Policy client : policies) {
    for (const Column& col : columns) {
      for (const sim::MeddlerKind meddler : sim::all_meddlers) {
        const sim::Scenario sc = cell_scenario(client, col.server, col.health, meddler);
        CellResult c;
        c.client = client;
        c.server = col.server;
        c.health = col.health;
        c.meddler = meddler;
        c.seed = mix(seed, n++);
        const sim::RunResult r = run_one(simulator, sc, c.seed, transcripts, c.transcript);
        c.outcome = sim::outcome_word(r.messages.front());
        c.expected = oracle::word(oracle::expected({to_oracle(client), to_oracle(col.server), to_oracle(col.health), to_oracle(meddler)}));
        c.violations = r.violations;
        c.agrees = c.outcome == c.expected && r.violations.empty();
        m.cells.push_back(std::move(c));
        tick();
      }
    }
  }
  // The TLS port: the handshake first, no plaintext, no fallback.
  for (const Column& col : {columns[0], columns[1], columns[2], columns[3]}) {
    sim::Scenario sc = cell_scenario(Policy::must, col.server, col.health, sim::MeddlerKind::none);
    sc.server.tls_port = true;
    sc.client.implicit_tls = true;
    ExtraResult e;
    e.name = std::string("tls-port client=must server=") + to_string(col.server) +
             (col.server == Policy::no ? "" : std::string(" health=") + sim::to_string(col.health));
    e.seed = mix(seed, n++);
    const sim::RunResult r = run_one(simulator, sc, e.seed, transcripts, e.transcript);
    e.outcome = sim::outcome_word(r.messages.front());
    e.expected = oracle::word(oracle::expected_tls_port(oracle::Pol::must, to_oracle(col.server), to_oracle(col.health)));
    e.agrees = e.outcome == e.expected && r.violations.empty();
    m.extra.push_back(std::move(e));
    tick();
  }
  // tlsswitchchannel: the source channel is the target after TLS, the incoming channel without it.
  for (const Policy client : {Policy::must, Policy::no}) {
    sim::Scenario sc = cell_scenario(client, Policy::may, sim::Health::ok, sim::MeddlerKind::none);
    sc.server.switch_target = "tcp_tls";
    ExtraResult e;
    e.name = std::string("tlsswitchchannel tcp_local->tcp_tls client=") + to_string(client);
    e.seed = mix(seed, n++);
    const sim::RunResult r = run_one(simulator, sc, e.seed, transcripts, e.transcript);
    const auto& msg = r.messages.front();
    e.outcome = sim::outcome_word(msg) + " channel=" + msg.channel;
    const oracle::Outcome want = oracle::expected({to_oracle(client), oracle::Pol::may, oracle::Health::ok, oracle::Adversary::none});
    e.expected = std::string(oracle::word(want)) + " channel=" + oracle::expected_source_channel(want, "tcp_local", "tcp_tls");
    e.agrees = e.outcome == e.expected && r.violations.empty();
    m.extra.push_back(std::move(e));
    tick();
  }
  for (std::size_t i = 0; i < config_runs.size(); ++i) {
    m.extra.push_back(config_row(simulator, config_names[i], config_runs[i], mix(seed, n++), transcripts));
    tick();
  }
  return m;
}

std::string to_json(const MatrixResult& m) {
  nlohmann::json j;
  j["cells"] = nlohmann::json::array();
  for (const auto& c : m.cells) {
    j["cells"].push_back({{"client", to_string(c.client)},
                          {"server", to_string(c.server)},
                          {"health", sim::to_string(c.health)},
                          {"meddler", sim::to_string(c.meddler)},
                          {"outcome", c.outcome},
                          {"expected", c.expected},
                          {"agrees", c.agrees},
                          {"seed", c.seed}});
  }
  j["extra"] = nlohmann::json::array();
  for (const auto& e : m.extra) {
    j["extra"].push_back({{"name", e.name}, {"outcome", e.outcome}, {"expected", e.expected}, {"agrees", e.agrees}, {"seed", e.seed}});
  }
  return j.dump(2) + "\n";
}

std::string to_table(const MatrixResult& m) {
  std::ostringstream o;
  auto cell_text = [](const CellResult& c) {
    std::string s = c.outcome;
    if (!c.agrees) s = "!" + s + " (want " + c.expected + ")";
    return s;
  };
  constexpr int w = 17;
  for (const sim::MeddlerKind meddler : sim::all_meddlers) {
    o << "meddler: " << sim::to_string(meddler) << "\n";
    o << std::left << std::setw(8) << "client";
    for (const Column& col : columns) o << std::setw(w) << column_label(col.server, col.health);
    o << "\n";
    for (const Policy client : policies) {
      o << std::setw(8) << to_string(client);
      for (const Column& col : columns) {
        for (const auto& c : m.cells) {
          if (c.client == client && c.server == col.server && c.health == col.health && c.meddler == meddler) {
            o << std::setw(w) << cell_text(c);
          }
        }
      }
      o << "\n";
    }
    o << "\n";
  }
  for (const auto& e : m.extra) {
    o << (e.agrees ? "ok    " : "FAIL  ") << e.name << ": " << e.outcome;
    if (!e.agrees) o << " (want " << e.expected << ")";
    o << "\n";
  }
  std::size_t agree = 0;
  for (const auto& c : m.cells) agree += c.agrees ? 1 : 0;
  o << "\n" << agree << "/" << m.cells.size() << " cells agree with the oracle";
  std::size_t extra_ok = 0;
  for (const auto& e : m.extra) extra_ok += e.agrees ? 1 : 0;
  o << ", " << extra_ok << "/" << m.extra.size() << " extra rows\n";
  return o.str();
}

views::MatrixPage to_page(const MatrixResult& m) {
  views::MatrixPage page;
  // Cells in grid order: meddler, then client policy, then server column.
  for (const sim::MeddlerKind meddler : sim::all_meddlers) {
    for (const Policy client : policies) {
      for (const Column& col : columns) {
        for (const auto& c : m.cells) {
          if (c.meddler != meddler || c.client != client || c.server != col.server || c.health != col.health) continue;
          views::PageCell cell;
          cell.grid = sim::to_string(meddler);
          cell.row = to_string(client);
          cell.column = column_label(col.server, col.health);
          cell.key = std::string("meddler=") + sim::to_string(meddler) + " client=" + to_string(client) +
                     " server=" + to_string(col.server) + " health=" + sim::to_string(col.health);
          cell.run = {c.outcome, c.expected, c.agrees, c.violations, c.seed, c.transcript};
          page.cells.push_back(std::move(cell));
        }
      }
    }
  }
  for (const auto& e : m.extra) page.rows.push_back({e.name, {e.outcome, e.expected, e.agrees, {}, e.seed, e.transcript}});
  return page;
}

}  // namespace tlschan::matrix

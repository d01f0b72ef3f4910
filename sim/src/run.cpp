#include "run.hpp"

#include <array>
#include <utility>

#include "tlschan/replies.hpp"
#include "tlschan/sim/deterministic_tls.hpp"

namespace tlschan::sim::detail {

namespace {
constexpr std::uint64_t max_events = 5'000'000;
}

Run::Run(const Simulator& sim, const Scenario& sc, std::uint64_t seed, std::string* transcript, RunObserver* observer)
    : sim_(sim), observer_(observer), sc_(sc), seed_(seed), transcript_(transcript, loop_),
      net_(loop_, Prng::derive(seed, "network"), sc.network, sc.faults, transcript_, *this, observer),
      meddle_(Prng::derive(seed, "meddler")), ready_to_start_tls_(render(ReplyId::ready_to_start_tls)) {}

namespace {
// The observer hears the key log of every handshake of the run, and only of this run.
class KeyLogTap {
 public:
  KeyLogTap(const Simulator& sim, RunObserver* observer) : sim_(sim), on_(observer != nullptr) {
    if (!on_) return;
    const auto sink = [observer](std::string_view line) { observer->key_log(line); };
    for (const TlsContext* ctx : contexts()) ctx->set_key_log(sink);
  }
  ~KeyLogTap() {
    if (!on_) return;
    for (const TlsContext* ctx : contexts()) ctx->set_key_log({});
  }
  KeyLogTap(const KeyLogTap&) = delete;
  KeyLogTap& operator=(const KeyLogTap&) = delete;

 private:
  std::array<const TlsContext*, 3> contexts() const {
    return {&sim_.server_tls(Health::ok), &sim_.server_tls(Health::broken), &sim_.client_tls()};
  }
  const Simulator& sim_;
  bool on_;
};
}  // namespace

RunResult Run::go() {
  seed_deterministic_rand(seed_);
  const KeyLogTap key_log(sim_, observer_);
  if (transcript_.on()) {
    transcript_.line("seed " + std::to_string(seed_) + " latency=" + std::to_string(sc_.network.latency_min.count()) +
                     ".." + std::to_string(sc_.network.latency_max.count()) + "ms segment=" +
                     std::to_string(sc_.network.segment_min) + ".." + std::to_string(sc_.network.segment_max) +
                     " meddler=" + to_string(sc_.network.meddler) + " faults=" + std::to_string(sc_.faults.size()) +
                     " messages=" + std::to_string(sc_.messages.size()) + " scripts=" + std::to_string(sc_.scripts.size()));
  }
  RunResult r;
  r.seed = seed_;
  messages_.resize(sc_.messages.size());
  for (std::size_t i = 0; i < sc_.messages.size(); ++i) {
    messages_[i].spec = sc_.messages[i];
    messages_[i].spec.body = message_tag(i + 1) + messages_[i].spec.body;
    loop_.at(Time{}, [this, i] { start_attempt(i); });
  }
  for (std::size_t k = 0; k < sc_.scripts.size(); ++k) {
    loop_.at(Time{}, [this, k] { open_script(k); });
  }
  r.completed = loop_.run(max_events);
  if (!r.completed) invariants_.violation("the run did not end within " + std::to_string(max_events) + " events");
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    MessageState& m = messages_[i];
    if (!m.finished) invariants_.violation("message " + std::to_string(i + 1) + " never reached an outcome (lost)");
    invariants_.message_ended(i, m.result, sc_.server_script.has_value());
    if (transcript_.on()) {
      transcript_.line_at(m.finished_at, "outcome msg" + std::to_string(i + 1) + " " + outcome_word(m.result) +
                                             " attempts=" + std::to_string(m.result.attempts) + " deliveries=" +
                                             std::to_string(m.result.deliveries) +
                                             (m.result.rfc1047_window ? " rfc1047-window" : "") +
                                             (m.result.fallback ? " tls-fallback" : "") +
                                             (m.result.channel.empty() ? "" : " channel=" + m.result.channel));
    }
    r.messages.push_back(m.result);
  }
  if (!sc_.scripts.empty()) transcript_.line("outcome scripts messages-accepted=" + std::to_string(script_messages_));
  for (const auto& v : invariants_.violations()) transcript_.line("violation " + v);
  r.violations = invariants_.violations();
  r.script_messages = script_messages_;
  r.end = loop_.now();
  r.events = loop_.events_run();
  return r;
}

// ---- the client host's queue ----------------------------------------------------------------------

void Run::start_attempt(std::size_t i) {
  MessageState& m = messages_[i];
  if (m.result.attempts == 0) m.queued = loop_.now();
  auto client = start_attempt_session(sc_.client, sim_.client_tls(), m.spec, loop_.now());
  ++m.result.attempts;
  if (!client) {
    invariants_.violation("message " + std::to_string(i + 1) + ": " + client.error().message);
    m.result.disposition = Disposition::deferred;
    m.finished = true;
    return;
  }
  m.client.emplace(std::move(*client));
  transcript_.line("msg" + std::to_string(i + 1) + " attempt " + std::to_string(m.result.attempts));
  open_connection(i);
}

void Run::finish_attempt(std::size_t i) {
  if (const auto delay = end_attempt(messages_[i], i, sc_.retry, loop_.now(), transcript_)) {
    loop_.after(*delay, [this, i] { start_attempt(i); });
  }
}

// ---- connections -------------------------------------------------------------------------------

ServerConfig Run::server_config() const {
  ServerConfig scfg;
  scfg.hostname = sc_.server.name;
  scfg.channel = sc_.server.channel;
  scfg.policy = sc_.server.policy;
  scfg.switch_target = sc_.server.switch_target;
  if (sc_.server.health != Health::unavailable) scfg.tls = sim_.server_tls(sc_.server.health);
  scfg.mode = sc_.server.tls_port ? ServerMode::tls_port : ServerMode::regular_port;
  return scfg;
}

// A new connection to the server (a scripted one in place of the real one for queued messages when
// the scenario has it), with its lanes and its two deadline timers.
Connection& Run::add_connection(ClientPeer client) {
  const bool scripted_client = std::holds_alternative<ScriptedClient>(client);
  const Duration latency = net_.draw_latency();
  Meddler meddler = scripted_client ? Meddler(MeddlerKind::none, Prng(0), sc_.server.tls_port)
                                    : Meddler(sc_.network.meddler, Prng(meddle_.next()), sc_.server.tls_port);
  const bool scripted_server = sc_.server_script && !scripted_client;
  ServerPeer server = scripted_server
                          ? ServerPeer(std::in_place_type<ScriptedServer>, *sc_.server_script, sim_.server_tls(Health::ok))
                          : ServerPeer(std::in_place_type<ServerSession>, server_config(), loop_.now());
  conns_.push_back(std::make_unique<Connection>(++connections_, std::move(client), std::move(server), std::move(meddler)));
  Connection& c = *conns_.back();
  c.c2s.latency = c.s2c.latency = latency;
  return c;
}

void Run::open_connection(std::size_t i) {
  Connection& c = add_connection(RealClient{&*messages_[i].client});
  c.message = i;
  const bool tls_port = sc_.server.tls_port;
  if (sc_.client.implicit_tls) c.c2s.tls_at = 0;  // the client's handshake comes first
  if (transcript_.on()) {
    transcript_.connection(c.id, "open msg" + std::to_string(i + 1) + " " + sc_.client.name + " -> " + sc_.server.name +
                                     (tls_port ? " tls-port" : " port") + " latency=" +
                                     std::to_string(c.c2s.latency.count()) + "ms");
  }
  if (observer_) observer_->connection_opened(c.id, sc_.client.name, sc_.server.name, tls_port, loop_.now());
  net_.open(c);
  c.client_timer = loop_.timer([this, &c] {
    if (c.client_gone) return;
    c.real_client()->on_deadline(loop_.now());
    pump_client(c);
  });
  c.server_timer = loop_.timer([this, &c] {
    if (c.server_gone) return;
    c.real_server()->on_deadline(loop_.now());
    pump_server(c);
  });
  if (ScriptedServer* s = c.scripted_server()) {
    s->start();
    carry_out(c, *s, false);
  } else {
    if (tls_port) c.s2c.tls_at = 0;  // the server's handshake comes first
    pump_server(c);
  }
  pump_client(c);
}

void Run::open_script(std::size_t k) {
  Connection& c = add_connection(ClientPeer(std::in_place_type<ScriptedClient>, sc_.scripts[k], sim_.client_tls()));
  transcript_.connection(c.id, "open script" + std::to_string(k + 1) + " -> " + sc_.server.name);
  if (observer_) {
    observer_->connection_opened(c.id, "script" + std::to_string(k + 1), sc_.server.name, sc_.server.tls_port, loop_.now());
  }
  net_.open(c);
  // A scripted client faces the real server; neither has a deadline of the simulator's.
  c.client_timer = loop_.timer([] {});
  c.server_timer = loop_.timer([this, &c] {
    if (c.server_gone) return;
    c.real_server()->on_deadline(loop_.now());
    pump_server(c);
  });
  if (sc_.server.tls_port) c.s2c.tls_at = 0;
  pump_server(c);
  ScriptedClient& script = *c.scripted_client();
  script.start();
  carry_out(c, script, true);
}

void Run::maybe_end(Connection& c) {
  if (c.ended || !c.client_gone || !c.server_gone) return;
  // The client alone decides when its attempt is over; the server's close just has to arrive.
  c.ended = true;
  ClientSession* client = c.real_client();
  if (!client) return;
  if (client->wants_reconnect()) {
    loop_.at(loop_.now(), [this, i = c.message] {
      messages_[i].client->reconnected(loop_.now());
      open_connection(i);
    });
    return;
  }
  loop_.at(loop_.now(), [this, i = c.message] { finish_attempt(i); });
}

}  // namespace tlschan::sim::detail

#include "tlschan/sim/simulation.hpp"

#include <cassert>
#include <cctype>
#include <memory>

#include "embedded_certs.hpp"
#include "tlschan/replies.hpp"
#include "tlschan/server_session.hpp"
#include "tlschan/sim/deterministic_tls.hpp"
#include "tlschan/sim/event_loop.hpp"
#include "tlschan/sim/transcript_bytes.hpp"

namespace tlschan::sim {

namespace {

constexpr std::uint64_t max_events = 5'000'000;

// Whether `bytes` starts with `upper` (upper case) in any case, without a copy.
bool starts_upper(std::string_view bytes, std::string_view upper) {
  if (bytes.size() < upper.size()) return false;
  for (std::size_t i = 0; i < upper.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(bytes[i])) != upper[i]) return false;
  }
  return true;
}

// The envelope commands a must client never sends in clear: a command line (the client's output
// is whole lines, so a line starts the batch or follows an LF) that is MAIL FROM or RCPT TO. The
// same words inside another line (an EHLO name, say) are no command.
bool contains_mail_command(std::string_view bytes) {
  for (std::size_t at = 0; at < bytes.size();) {
    const std::string_view line = bytes.substr(at);
    if (starts_upper(line, "MAIL FROM") || starts_upper(line, "RCPT TO")) return true;
    const std::size_t lf = line.find('\n');
    if (lf == std::string_view::npos) break;
    at += lf + 1;
  }
  return false;
}

// The header line by which the simulator recognizes a message at the server.
std::string message_tag(std::size_t index) { return "X-Tlschan-Message: " + std::to_string(index) + "\r\n"; }

std::optional<std::size_t> read_message_tag(std::string_view data) {
  constexpr std::string_view key = "X-Tlschan-Message: ";
  const auto at = data.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t v = 0, i = at + key.size();
  bool any = false;
  while (i < data.size() && data[i] >= '0' && data[i] <= '9') {
    v = v * 10 + static_cast<std::size_t>(data[i++] - '0');
    any = true;
  }
  return any ? std::optional<std::size_t>(v) : std::nullopt;
}

class Run;

struct Pipe {
  EventLoop::Lane lane = 0;  // its deliveries and its close, in the order they arrive
  Duration latency{};
  Time last_arrival{};
  std::uint64_t sent = 0;
  // The bytes on their way, in order: each delivery event takes the next segment from the front.
  std::string flight;
  std::size_t flight_head = 0;
  std::uint64_t delivered = 0;  // the stream offset of flight_head
  bool fin_sent = false;
  bool stalled = false;
  // The stream offset from which the sender speaks TLS, set when it starts (semantics.md 3.2, 4):
  // the transcript shows the bytes before it as text, the bytes from it on as TLS.
  std::optional<std::uint64_t> tls_at;
};

struct Connection {
  int id = 0;
  std::size_t message = 0;
  ClientSession* client = nullptr;
  std::optional<ServerSession> server;
  Pipe c2s, s2c;
  std::unique_ptr<Meddler> meddler;
  bool client_gone = false;  // the client's side of the socket is closed
  bool server_gone = false;
  bool ended = false;
  EventLoop::Timer client_timer = 0;  // each side's deadline (ClientSession/ServerSession::deadline)
  EventLoop::Timer server_timer = 0;
  const ScriptSpec* script = nullptr;  // a scripted client instead of a ClientSession
  std::size_t script_next = 0;
  bool script_awaiting_220 = false;
  bool script_greeted = false;
  std::optional<TlsSession> script_tls;  // the scripted client's TLS, after a 220
  std::string script_reply;              // the reply line being read while awaiting the 220
  const ServerScriptSpec* server_script = nullptr;  // a scripted server instead of a ServerSession
  std::size_t server_next = 0;
  bool server_starttls_pending = false;
  std::string server_read_tail;          // the last octets the scripted server read, upper-cased
  std::optional<TlsSession> server_tls;  // the scripted server's TLS
};

struct MessageState {
  MessageSpec spec;
  std::optional<ClientSession> client;
  MessageResult result;
  Time queued{};
  Time finished_at{};
  bool finished = false;
};

class Run {
 public:
  Run(const Simulator& sim, const Scenario& sc, std::uint64_t seed, std::string* transcript)
      : sim_(sim), sc_(sc), seed_(seed), out_(transcript), net_(Prng::derive(seed, "network")),
        meddle_(Prng::derive(seed, "meddler")) {}

  RunResult go() {
    seed_deterministic_rand(seed_);
    log("seed " + std::to_string(seed_) + " latency=" + std::to_string(sc_.network.latency_min.count()) + ".." +
        std::to_string(sc_.network.latency_max.count()) + "ms segment=" + std::to_string(sc_.network.segment_min) + ".." +
        std::to_string(sc_.network.segment_max) + " meddler=" + to_string(sc_.network.meddler) +
        " faults=" + std::to_string(sc_.faults.size()) + " messages=" + std::to_string(sc_.messages.size()) +
        " scripts=" + std::to_string(sc_.scripts.size()));
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
    if (!r.completed) violation("the run did not end within " + std::to_string(max_events) + " events");
    for (std::size_t i = 0; i < messages_.size(); ++i) {
      MessageState& m = messages_[i];
      if (!m.finished) violation("message " + std::to_string(i + 1) + " never reached an outcome (lost)");
      check_invariants(i, m);
      log_at(m.finished_at, "outcome msg" + std::to_string(i + 1) + " " + outcome_word(m.result) + " attempts=" +
          std::to_string(m.result.attempts) + " deliveries=" + std::to_string(m.result.deliveries) +
          (m.result.rfc1047_window ? " rfc1047-window" : "") + (m.result.fallback ? " tls-fallback" : "") +
          (m.result.channel.empty() ? "" : " channel=" + m.result.channel));
      r.messages.push_back(m.result);
    }
    if (!sc_.scripts.empty()) log("outcome scripts messages-accepted=" + std::to_string(script_messages_));
    for (const auto& v : violations_) log("violation " + v);
    r.violations = violations_;
    r.script_messages = script_messages_;
    r.end = loop_.now();
    r.events = loop_.events_run();
    return r;
  }

 private:
  void log(const std::string& line) { log_at(loop_.now(), line); }
  void log_at(Time t, const std::string& line) {
    if (!out_) return;
    *out_ += time_stamp(t);
    *out_ += ' ';
    *out_ += line;
    *out_ += '\n';
  }
  void log_conn(const Connection& c, const std::string& line) {
    if (out_) log("c" + std::to_string(c.id) + " " + line);
  }
  void violation(std::string v) { violations_.push_back(std::move(v)); }

  void start_attempt(std::size_t i) {
    MessageState& m = messages_[i];
    ClientConfig cc;
    cc.helo_name = sc_.client.name;
    cc.policy = sc_.client.policy;
    cc.tls = sim_.client_tls();
    cc.mode = sc_.client.implicit_tls ? ClientMode::implicit_tls : ClientMode::starttls;
    auto client = ClientSession::create(cc, OutgoingMessage{{m.spec.from, m.spec.to}, m.spec.body}, loop_.now());
    ++m.result.attempts;
    if (!client) {
      violation("message " + std::to_string(i + 1) + ": " + client.error().message);
      m.result.disposition = Disposition::deferred;
      m.finished = true;
      return;
    }
    m.client.emplace(std::move(*client));
    log("msg" + std::to_string(i + 1) + " attempt " + std::to_string(m.result.attempts));
    open_connection(i);
  }

  void open_connection(std::size_t i) {
    auto c = std::make_unique<Connection>();
    c->id = ++connections_;
    c->message = i;
    c->client = &*messages_[i].client;
    c->c2s.latency = draw_latency();
    c->s2c.latency = c->c2s.latency;
    const bool tls_port = sc_.server.tls_port;
    if (sc_.client.implicit_tls) c->c2s.tls_at = 0;  // the client's handshake comes first
    c->meddler = std::make_unique<Meddler>(sc_.network.meddler, Prng(meddle_.next()), tls_port);
    log_conn(*c, "open msg" + std::to_string(i + 1) + " " + sc_.client.name + " -> " + sc_.server.name +
                     (tls_port ? " tls-port" : " port") + " latency=" + std::to_string(c->c2s.latency.count()) + "ms");
    Connection* raw = c.get();
    conns_.push_back(std::move(c));
    add_lanes_and_timers(*raw);
    start_server(*raw);
    pump_client(*raw);
  }

  ServerConfig server_config() const {
    ServerConfig scfg;
    scfg.hostname = sc_.server.name;
    scfg.channel = sc_.server.channel;
    scfg.policy = sc_.server.policy;
    scfg.switch_target = sc_.server.switch_target;
    if (sc_.server.health != Health::unavailable) scfg.tls = sim_.server_tls(sc_.server.health);
    scfg.mode = sc_.server.tls_port ? ServerMode::tls_port : ServerMode::regular_port;
    return scfg;
  }

  void open_script(std::size_t k) {
    auto c = std::make_unique<Connection>();
    c->id = ++connections_;
    c->script = &sc_.scripts[k];
    c->c2s.latency = c->s2c.latency = draw_latency();
    c->meddler = std::make_unique<Meddler>(MeddlerKind::none, Prng(0), sc_.server.tls_port);
    log_conn(*c, "open script" + std::to_string(k + 1) + " -> " + sc_.server.name);
    Connection* raw = c.get();
    conns_.push_back(std::move(c));
    add_lanes_and_timers(*raw);
    start_server(*raw);
    if (!raw->script->wait) script_send(*raw);
  }

  void add_lanes_and_timers(Connection& c) {
    c.c2s.lane = loop_.lane();
    c.s2c.lane = loop_.lane();
    c.client_timer = loop_.timer([this, &c] {
      if (c.client_gone) return;
      c.client->on_deadline(loop_.now());
      pump_client(c);
    });
    c.server_timer = loop_.timer([this, &c] {
      if (c.server_gone) return;
      c.server->on_deadline(loop_.now());
      pump_server(c);
    });
  }

  Duration draw_latency() {
    return Duration(static_cast<std::int64_t>(
        net_.between(static_cast<std::uint64_t>(sc_.network.latency_min.count()),
                     static_cast<std::uint64_t>(std::max(sc_.network.latency_min, sc_.network.latency_max).count()))));
  }

  void start_server(Connection& c) {
    if (sc_.server_script && !c.script) {
      c.server_script = &*sc_.server_script;
      script_server_reply(c);
      return;
    }
    c.server.emplace(server_config(), loop_.now());
    if (sc_.server.tls_port) c.s2c.tls_at = 0;  // the server's handshake comes first
    pump_server(c);
  }

  // ---- scripted clients ------------------------------------------------------------------------

  // Sends the script's next chunk (all of them without `wait`), stopping at a STARTTLS under `tls`.
  void script_send(Connection& c) {
    const ScriptSpec& sp = *c.script;
    while (c.script_next < sp.send.size() && !c.client_gone) {
      const std::string& chunk = sp.send[c.script_next++];
      if (c.script_tls) {
        c.script_tls->write(chunk);
        std::string wire;
        c.script_tls->take_output(wire);
        send(c, true, wire, true);
      } else {
        send(c, true, chunk, true);
      }
      if (sp.tls && !c.script_tls && chunk.find("STARTTLS\r\n") != std::string::npos) {
        c.script_awaiting_220 = true;
        c.script_reply.clear();
        return;
      }
      if (sp.wait) return;
    }
  }

  void script_close(Connection& c) {
    if (c.client_gone) return;
    c.client_gone = true;
    send_fin(c, true);
    maybe_end(c);
  }

  void script_received(Connection& c, const std::string& seg) {
    if (c.client_gone) return;
    std::string plain = seg;
    if (c.script_tls) {
      const bool was_up = c.script_tls->state() == TlsState::established;
      c.script_tls->feed(seg);
      plain.clear();
      const TlsState st = c.script_tls->advance(plain);
      std::string wire;
      c.script_tls->take_output(wire);
      send(c, true, wire, false);
      if (st == TlsState::failed || st == TlsState::closed) return script_close(c);
      if (st != TlsState::established) return;
      if (!was_up) {
        log_conn(c, "script tls-established " + c.script_tls->version());
        // After a handshake the client speaks first.
        if (c.script_next < c.script->send.size()) script_send(c);
      }
    }
    // Reads whole reply lines; a final line (code then space) ends a reply.
    c.script_reply += plain;
    std::size_t at = 0;
    while (!c.client_gone) {
      const auto lf = c.script_reply.find('\n', at);
      if (lf == std::string::npos) break;
      const std::string_view line = std::string_view(c.script_reply).substr(at, lf + 1 - at);
      at = lf + 1;
      if (line.size() >= 4 && line[3] == '-') continue;
      const bool greeting = !c.script_greeted;
      c.script_greeted = true;
      if (!greeting && c.script_awaiting_220 && line.substr(0, 4) == "220 ") {
        // The answer to STARTTLS: whatever came after it is not read; the handshake starts.
        c.script_awaiting_220 = false;
        c.script_reply.clear();
        at = 0;
        c.script_tls.emplace(sim_.client_tls());
        std::string ignored, wire;
        c.script_tls->advance(ignored);
        c.script_tls->take_output(wire);
        c.c2s.tls_at = c.c2s.sent;
        send(c, true, wire, false);
        return;
      }
      if (c.script_awaiting_220) continue;
      // Without `wait` the script leaves the connection open until the server closes it.
      if (!c.script->wait) continue;
      if (c.script_next < c.script->send.size()) {
        script_send(c);
      } else {
        script_close(c);
      }
    }
    c.script_reply.erase(0, at);
  }

  // ---- scripted server --------------------------------------------------------------------------

  void script_server_reply(Connection& c) {
    const ServerScriptSpec& sp = *c.server_script;
    if (c.server_next >= sp.replies.size()) {
      c.server_gone = true;
      send_fin(c, false);
      maybe_end(c);
      return;
    }
    const std::string& chunk = sp.replies[c.server_next++];
    if (c.server_tls) {
      c.server_tls->write(chunk);
      std::string wire;
      c.server_tls->take_output(wire);
      send(c, false, wire, true);
    } else {
      send(c, false, chunk, true);
    }
    if (sp.tls && !c.server_tls && c.server_starttls_pending && chunk.rfind("220", 0) == 0) {
      c.server_tls.emplace(sim_.server_tls(Health::ok));
      c.s2c.tls_at = c.s2c.sent;
    }
    c.server_starttls_pending = false;
  }

  void script_server_received(Connection& c, const std::string& seg) {
    if (c.server_gone) return;
    std::string plain = seg;
    if (c.server_tls) {
      const bool was_up = c.server_tls->state() == TlsState::established;
      c.server_tls->feed(seg);
      plain.clear();
      const TlsState st = c.server_tls->advance(plain);
      std::string wire;
      c.server_tls->take_output(wire);
      send(c, false, wire, false);
      if (st == TlsState::failed || st == TlsState::closed) {
        c.server_gone = true;
        send_fin(c, false);
        maybe_end(c);
        return;
      }
      if (st != TlsState::established) return;
      if (!was_up) log_conn(c, "script-server tls-established " + c.server_tls->version());
    }
    // A STARTTLS line may come cut across segments: the end of the previous one is read with it.
    std::string upper = c.server_read_tail + plain;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    constexpr std::string_view starttls_line = "STARTTLS\r\n";
    if (upper.find(starttls_line) != std::string::npos) c.server_starttls_pending = true;
    c.server_read_tail = upper.substr(upper.size() - std::min(upper.size(), starttls_line.size() - 1));
    if (plain.empty() || plain.back() != '\n') return;
    script_server_reply(c);
  }

  // ---- moving bytes ------------------------------------------------------------------------

  const FaultSpec* fault_for(const Connection& c, bool c2s) const {
    for (const auto& f : sc_.faults) {
      if (f.connection == c.id && f.client_to_server == c2s) return &f;
    }
    return nullptr;
  }

  void send(Connection& c, bool c2s, std::string_view bytes, bool atomic) {
    Pipe& p = c2s ? c.c2s : c.s2c;
    if (p.fin_sent || p.stalled || bytes.empty()) return;
    if (const FaultSpec* f = fault_for(c, c2s); f && p.sent + bytes.size() > f->after_bytes) {
      const std::size_t keep = f->after_bytes > p.sent ? static_cast<std::size_t>(f->after_bytes - p.sent) : 0;
      bytes = bytes.substr(0, keep);
      p.sent += keep;
      segment(c, c2s, bytes, atomic);
      switch (f->kind) {
        case FaultKind::stall:
          p.stalled = true;
          log_conn(c, std::string("fault stall ") + (c2s ? "c>s" : "s>c") + " after " + std::to_string(f->after_bytes) + " bytes");
          return;
        case FaultKind::truncate:
          log_conn(c, std::string("fault truncate ") + (c2s ? "c>s" : "s>c") + " after " + std::to_string(f->after_bytes) + " bytes");
          send_fin(c, true);
          send_fin(c, false);
          return;
        case FaultKind::reset:
          log_conn(c, std::string("fault reset ") + (c2s ? "c>s" : "s>c") + " after " + std::to_string(f->after_bytes) + " bytes");
          reset(c);
          return;
      }
    }
    p.sent += bytes.size();
    segment(c, c2s, bytes, atomic);
  }

  void segment(Connection& c, bool c2s, std::string_view bytes, bool atomic) {
    const std::size_t lo = sc_.network.segment_min, hi = std::max(sc_.network.segment_min, sc_.network.segment_max);
    std::size_t at = 0;
    while (at < bytes.size()) {
      std::size_t n = bytes.size() - at;
      if (!atomic && hi > 0) n = std::min<std::size_t>(n, net_.between(std::max<std::size_t>(lo, 1), hi));
      deliver_later(c, c2s, bytes.substr(at, n));
      at += n;
    }
  }

  Time arrival(Pipe& p) {
    const Time t = std::max(loop_.now() + p.latency, p.last_arrival);
    p.last_arrival = t;
    return t;
  }

  // The segment joins the bytes on their way; its delivery event carries only its size (a pipe
  // delivers in the order it was sent: arrival times never decrease, and ties keep their order).
  void deliver_later(Connection& c, bool c2s, std::string_view seg) {
    Pipe& p = c2s ? c.c2s : c.s2c;
    p.flight.append(seg);
    loop_.at(p.lane, arrival(p), [this, &c, c2s, n = seg.size()] { arrive(c, c2s, n); });
  }

  void arrive(Connection& c, bool c2s, std::size_t n) {
    Pipe& p = c2s ? c.c2s : c.s2c;
    // The segment leaves the pipe whether or not anyone still reads it.
    segment_.assign(p.flight, p.flight_head, n);
    const std::uint64_t offset = p.delivered;
    p.flight_head += n;
    p.delivered += n;
    if (p.flight_head == p.flight.size()) {
      p.flight.clear();
      p.flight_head = 0;
    } else if (p.flight_head >= 65536 && p.flight_head * 2 >= p.flight.size()) {
      p.flight.erase(0, p.flight_head);
      p.flight_head = 0;
    }
    if (c2s ? c.server_gone : c.client_gone) return;
    if (out_) transcript_bytes(c, c2s, segment_, offset);
    deliver(c, c2s, segment_);
  }

  // A meddler's own answer to the client, outside the stream the server sends: plaintext.
  void deliver_answer(Connection& c, const std::string& answer) {
    if (c.client_gone) return;
    if (out_) log_conn(c, "s>c " + escape_bytes(answer));
    deliver(c, false, answer);
  }

  void deliver(Connection& c, bool c2s, const std::string& seg) {
    if (c2s && c.server_script) {
      script_server_received(c, seg);
    } else if (c2s) {
      c.server->receive(seg, loop_.now());
      pump_server(c);
    } else if (c.script) {
      script_received(c, seg);
    } else {
      c.client->receive(seg, loop_.now());
      pump_client(c);
    }
  }

  // The segment at stream offset `offset`: the part before its sender's switch to TLS as text,
  // the rest as TLS (a segment holding both is shown as two lines). The switch is known by the
  // time the segment arrives: it was set when the sender started TLS, before it sent a TLS byte.
  void transcript_bytes(const Connection& c, bool c2s, std::string_view seg, std::uint64_t offset) {
    const Pipe& p = c2s ? c.c2s : c.s2c;
    const char* dir = c2s ? "c>s " : "s>c ";
    std::size_t text = seg.size();
    if (p.tls_at && *p.tls_at <= offset) {
      text = 0;
    } else if (p.tls_at) {
      text = static_cast<std::size_t>(std::min<std::uint64_t>(seg.size(), *p.tls_at - offset));
    }
    if (text > 0) log_conn(c, std::string(dir) + escape_bytes(seg.substr(0, text)));
    if (text < seg.size()) {
      const std::string_view tls = seg.substr(text);
      log_conn(c, std::string(dir) + "tls " + std::to_string(tls.size()) + " bytes sha256:" + short_digest(tls));
    }
  }

  void send_fin(Connection& c, bool c2s) {
    Pipe& p = c2s ? c.c2s : c.s2c;
    if (p.fin_sent) return;
    p.fin_sent = true;
    if (p.stalled) return;
    loop_.at(p.lane, arrival(p), [this, &c, c2s] {
      if (c2s) {
        if (c.server_gone) return;
        log_conn(c, "c>s close");
        if (c.server_script) {
          c.server_gone = true;
          send_fin(c, false);
          maybe_end(c);
          return;
        }
        c.server->on_peer_closed(loop_.now());
        pump_server(c);
      } else {
        if (c.client_gone) return;
        log_conn(c, "s>c close");
        if (c.script) {
          script_close(c);
          return;
        }
        c.client->on_peer_closed(loop_.now());
        pump_client(c);
      }
    });
  }

  void reset(Connection& c) {
    c.c2s.fin_sent = c.s2c.fin_sent = true;
    loop_.after(c.c2s.latency, [this, &c] {
      if (!c.server_gone && c.server_script) {
        c.server_gone = true;
        maybe_end(c);
      } else if (!c.server_gone) {
        c.server->on_peer_closed(loop_.now());
        pump_server(c);
      }
      if (!c.client_gone && c.script) {
        c.client_gone = true;
        maybe_end(c);
      } else if (!c.client_gone) {
        c.client->on_peer_closed(loop_.now(), /*reset=*/true);
        pump_client(c);
      }
    });
  }

  // ---- driving the sessions --------------------------------------------------------------------

  void pump_client(Connection& c) {
    if (c.client_gone) return;
    ClientSession& s = *c.client;
    const std::uint64_t batch_at = c.c2s.sent;
    if (const std::string_view bytes = s.output(); !bytes.empty()) {
      if (sc_.client.policy == Policy::must && !c.c2s.tls_at && contains_mail_command(bytes)) {
        violation("c" + std::to_string(c.id) + ": a must client sent MAIL or RCPT in plaintext");
      }
      if (c.meddler->passes_client_bytes()) {
        send(c, true, bytes, false);
      } else {
        MeddlerOutput m = c.meddler->client_to_server(bytes);
        if (!m.answer.empty()) {
          loop_.after(c.s2c.latency, [this, &c, a = std::move(m.answer)] { deliver_answer(c, a); });
        }
        send(c, true, m.forward, m.atomic);
      }
      s.consume(bytes.size());
    }
    while (auto e = s.next_event()) {
      // The client reports PlaintextDiscarded exactly when it reads the 220 to its STARTTLS and
      // starts its handshake; it waits for each reply before it sends, so all it sent in this
      // batch (its ClientHello) is TLS.
      if (std::holds_alternative<PlaintextDiscarded>(*e) && !c.c2s.tls_at) c.c2s.tls_at = batch_at;
      client_event(c, *e);
    }
    if (s.connection_finished()) {
      c.client_gone = true;
      send(c, true, c.meddler->flush_client(), false);
      send_fin(c, true);
      maybe_end(c);
      return;
    }
    arm_timer(c, true);
  }

  void pump_server(Connection& c) {
    if (c.server_gone) return;
    ServerSession& s = *c.server;
    bool ends_with_220 = false;
    if (const std::string_view bytes = s.output(); !bytes.empty()) {
      ends_with_220 = bytes.ends_with(ready_to_start_tls_);
      if (c.meddler->passes_server_bytes()) {
        send(c, false, bytes, false);
      } else {
        const MeddlerOutput m = c.meddler->server_to_client(bytes);
        send(c, false, m.forward, m.atomic);
      }
      s.consume(bytes.size());
    }
    while (auto e = s.next_event()) {
      // The server reports PlaintextDiscarded exactly when it answers a STARTTLS line, and sends
      // nothing after that answer until the client speaks again: if the answer was its 220, all
      // it sends from here on is TLS.
      if (std::holds_alternative<PlaintextDiscarded>(*e) && ends_with_220 && !c.s2c.tls_at) {
        c.s2c.tls_at = c.s2c.sent;
      }
      server_event(c, *e);
    }
    if (s.finished()) {
      c.server_gone = true;
      send(c, false, c.meddler->flush_server(), false);
      send_fin(c, false);
      maybe_end(c);
      return;
    }
    arm_timer(c, false);
  }

  // Each pump re-arms the side's timer for its session's deadline (an idle timeout moves with
  // every segment); the loop replaces the earlier time without a new event.
  void arm_timer(Connection& c, bool client) {
    if (!client && !c.server) return;
    const std::optional<Time> due = client ? c.client->deadline() : c.server->deadline();
    const EventLoop::Timer t = client ? c.client_timer : c.server_timer;
    if (due) {
      loop_.arm(t, *due);
    } else {
      loop_.disarm(t);
    }
  }

  void client_event(Connection& c, const ClientEvent& e) {
    MessageState& m = messages_[c.message];
    if (const auto* t = std::get_if<TlsEstablished>(&e)) {
      log_conn(c, "client tls-established " + t->version + " " + t->cipher);
    } else if (const auto* d = std::get_if<PlaintextDiscarded>(&e)) {
      log_conn(c, "client plaintext-discarded " + std::to_string(d->bytes));
    } else if (const auto* f = std::get_if<TlsFallback>(&e)) {
      m.result.fallback = true;
      log_conn(c, "client tls-fallback " + f->reason);
    } else if (const auto* cl = std::get_if<Closed>(&e)) {
      log_conn(c, std::string("client closed ") + to_string(cl->reason) + (cl->detail.empty() ? "" : ": " + cl->detail));
      if (cl->detail.find("RFC 1047") != std::string::npos) m.result.rfc1047_window = true;
    }
  }

  void server_event(Connection& c, const ServerEvent& e) {
    if (const auto* a = std::get_if<MessageAccepted>(&e)) {
      log_conn(c, "server message-accepted channel=" + a->channel + (a->tls ? " tls" : " plain") +
                      " from=<" + a->envelope.mail_from + "> rcpts=" + std::to_string(a->envelope.rcpt_to.size()));
      if (sc_.server.policy == Policy::must && !a->tls) {
        violation("c" + std::to_string(c.id) + ": a must server accepted a message without TLS");
      }
      if (c.script) {
        ++script_messages_;
        return;
      }
      const auto idx = read_message_tag(a->data);
      if (!idx || *idx == 0 || *idx > messages_.size()) {
        violation("c" + std::to_string(c.id) + ": the server accepted a message no client sent");
        return;
      }
      MessageResult& r = messages_[*idx - 1].result;
      ++r.deliveries;
      r.channel = a->channel;
    } else if (const auto* t = std::get_if<TlsEstablished>(&e)) {
      log_conn(c, "server tls-established " + t->version + " " + t->cipher);
    } else if (const auto* d = std::get_if<PlaintextDiscarded>(&e)) {
      log_conn(c, "server plaintext-discarded " + std::to_string(d->bytes));
    } else if (const auto* s = std::get_if<ChannelSwitched>(&e)) {
      log_conn(c, "server channel-switched " + s->from + " -> " + s->to);
    } else if (const auto* cl = std::get_if<Closed>(&e)) {
      log_conn(c, std::string("server closed ") + to_string(cl->reason) + (cl->detail.empty() ? "" : ": " + cl->detail));
    }
  }

  void maybe_end(Connection& c) {
    if (c.ended || !c.client_gone || !c.server_gone) return;
    // The client alone decides when its attempt is over; the server's close just has to arrive.
    c.ended = true;
    if (c.script) return;
    MessageState& m = messages_[c.message];
    ClientSession& client = *m.client;
    if (client.wants_reconnect()) {
      loop_.at(loop_.now(), [this, i = c.message] {
        messages_[i].client->reconnected(loop_.now());
        open_connection(i);
      });
      return;
    }
    loop_.at(loop_.now(), [this, i = c.message] { finish_attempt(i); });
  }

  void finish_attempt(std::size_t i) {
    MessageState& m = messages_[i];
    ClientSession& client = *m.client;
    m.finished_at = loop_.now();
    m.result.recipients = client.outcomes();
    m.result.disposition = client.message_disposition();
    m.result.tls = m.result.disposition == Disposition::delivered;
    for (const auto& o : m.result.recipients) {
      if (o.disposition == Disposition::delivered && !o.tls) m.result.tls = false;
    }
    log("msg" + std::to_string(i + 1) + " attempt " + std::to_string(m.result.attempts) + " " +
        to_string(m.result.disposition) + (m.result.recipients.empty() ? "" : ": " + m.result.recipients.front().reason));
    if (m.result.disposition != Disposition::deferred) {
      m.finished = true;
      return;
    }
    if (sc_.retry.backoff.empty()) {
      m.finished = true;  // one attempt only: the message stays queued, deferred
      return;
    }
    // The backoff schedule, its last delay repeating, until the queue lifetime runs out.
    const std::size_t retry = std::min(static_cast<std::size_t>(m.result.attempts) - 1, sc_.retry.backoff.size() - 1);
    const Duration delay = sc_.retry.backoff[retry];
    if (loop_.now() + delay - m.queued < sc_.retry.lifetime) {
      loop_.after(delay, [this, i] { start_attempt(i); });
      return;
    }
    for (auto& o : m.result.recipients) {
      if (o.disposition == Disposition::deferred) {
        o.disposition = Disposition::bounced;
        o.reason = "queue lifetime expired: " + o.reason;
      }
    }
    m.result.disposition = Disposition::bounced;
    log("msg" + std::to_string(i + 1) + " bounced: queue lifetime expired");
    m.finished = true;
  }

  void check_invariants(std::size_t i, const MessageState& m) {
    const std::string id = "message " + std::to_string(i + 1);
    const bool delivered_any = std::any_of(m.result.recipients.begin(), m.result.recipients.end(),
                                           [](const RecipientOutcome& o) { return o.disposition == Disposition::delivered; });
    if (sc_.server_script) return;  // no real server counts the copies
    if (delivered_any && m.result.deliveries == 0) violation(id + ": reported delivered but the server never accepted it (lost)");
    if (m.result.deliveries > 1 && !m.result.rfc1047_window) {
      violation(id + ": delivered " + std::to_string(m.result.deliveries) + " times outside the RFC 1047 window");
    }
    if (!delivered_any && m.result.deliveries > 0 && !m.result.rfc1047_window) {
      violation(id + ": the server accepted it but the client did not see it delivered, outside the RFC 1047 window");
    }
  }

  const Simulator& sim_;
  const Scenario& sc_;
  std::uint64_t seed_;
  std::string* out_;
  EventLoop loop_;
  Prng net_;
  Prng meddle_;
  std::vector<MessageState> messages_;
  std::vector<std::unique_ptr<Connection>> conns_;
  int connections_ = 0;
  int script_messages_ = 0;
  std::vector<std::string> violations_;
  std::string segment_;  // the segment being delivered
  const std::string ready_to_start_tls_ = render(ReplyId::ready_to_start_tls);
};

}  // namespace

const char* to_string(Health h) {
  switch (h) {
    case Health::ok: return "ok";
    case Health::unavailable: return "unavailable";
    case Health::broken: return "broken";
  }
  return "?";
}

std::optional<Health> parse_health(std::string_view name) {
  for (const Health h : {Health::ok, Health::unavailable, Health::broken}) {
    if (name == to_string(h)) return h;
  }
  return std::nullopt;
}

const char* to_string(FaultKind k) {
  switch (k) {
    case FaultKind::reset: return "reset";
    case FaultKind::stall: return "stall";
    case FaultKind::truncate: return "truncate";
  }
  return "?";
}

std::optional<FaultKind> parse_fault(std::string_view name) {
  for (const FaultKind k : {FaultKind::reset, FaultKind::stall, FaultKind::truncate}) {
    if (name == to_string(k)) return k;
  }
  return std::nullopt;
}

std::string outcome_word(const MessageResult& m) {
  switch (m.disposition) {
    case Disposition::delivered: return m.tls ? "delivered-tls" : "delivered-plain";
    case Disposition::bounced: return "bounced";
    case Disposition::deferred: return "deferred";
  }
  return "?";
}

const char* simulator_certificate_pem() { return embedded::certificate_pem; }
const char* simulator_key_pem() { return embedded::key_pem; }

Expected<Simulator, std::string> Simulator::create() {
  std::string why;
  if (!install_deterministic_rand(&why)) return unexpected("cannot make OpenSSL deterministic: " + why);
  const TlsOptions pinned = pinned_tls_options();
  auto healthy = TlsContext::server_from_pem(embedded::certificate_pem, embedded::key_pem, pinned);
  TlsOptions broken_options = pinned;
  // A real handshake failure: this server speaks only TLS 1.1, which no simulated client offers.
  broken_options.min_version = 0x0302;
  broken_options.max_version = 0x0302;
  auto broken = TlsContext::server_from_pem(embedded::certificate_pem, embedded::key_pem, broken_options);
  auto client = TlsContext::client(pinned);
  if (!healthy) return unexpected(healthy.error().message);
  if (!broken) return unexpected(broken.error().message);
  if (!client) return unexpected(client.error().message);
  return Simulator(std::move(*healthy), std::move(*broken), std::move(*client));
}

RunResult Simulator::run(const Scenario& scenario, std::uint64_t seed, std::string* transcript) const {
  Run run(*this, scenario, seed, transcript);
  return run.go();
}

}  // namespace tlschan::sim

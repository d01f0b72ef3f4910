// The run's side of each connection's peers: what arrives goes to the peer (a real session or a
// scripted peer), and what the peer then sends, reports and asks for goes to the network, the
// transcript and the invariants.
#include "run.hpp"
#include "text.hpp"

#include "tlschan/escape.hpp"

namespace tlschan::sim::detail {

namespace {
// What each meddler does when it acts, for the observer's packet comments.
std::string meddler_act(MeddlerKind k) {
  std::string what = std::string("meddler ") + to_string(k) + ": ";
  switch (k) {
    case MeddlerKind::none: return what + "nothing";
    case MeddlerKind::strip: return what + "overwrote STARTTLS in the server's EHLO reply with XXXXXXXA";
    case MeddlerKind::refuse: return what + "dropped the client's STARTTLS and answered 454 itself";
    case MeddlerKind::tamper: return what + "flipped one octet of the server's first TLS handshake record";
    case MeddlerKind::inject_command: return what + "injected NOOP, MAIL FROM and RCPT TO after the client's STARTTLS";
    case MeddlerKind::inject_response: return what + "injected two EHLO reply lines after the server's 220 to STARTTLS";
  }
  return what;
}
}  // namespace

// A transcript line per thing the meddler did in one call on direction `c2s` (format v2):
//   meddler KIND DIR [tls ]injected at OFFSET: BYTES
//   meddler KIND DIR [tls ]changed N bytes at OFFSET: OLD -> NEW
//   meddler KIND c>s dropped: BYTES        (the client's bytes never reach the server)
//   meddler KIND s>c answered: BYTES       (the meddler's own answer to the client)
// OFFSET counts the direction's stream as sent; "tls" when the bytes are inside TLS.
void Run::write_meddling(const Connection& c, bool c2s, const MeddlerOutput& m) {
  if (!transcript_.on()) return;
  const Pipe& p = c.pipe(c2s);
  const std::string who = std::string("meddler ") + to_string(c.meddler.kind()) + " ";
  for (const MeddlerAct& a : m.acts) {
    const std::uint64_t at = p.sent + a.at;
    const std::string tls = p.tls_at && *p.tls_at <= at ? "tls " : "";
    const char* dir = c2s ? "c>s " : "s>c ";
    switch (a.what) {
      case MeddlerAct::What::injected:
        transcript_.connection(c.id, cat(who, dir, tls, "injected at ", std::to_string(at), ": ", escape_bytes(a.bytes)));
        break;
      case MeddlerAct::What::changed:
        transcript_.connection(c.id, cat(who, dir, tls, "changed ", std::to_string(a.bytes.size()),
                                         a.bytes.size() == 1 ? " byte at " : " bytes at ", std::to_string(at), ": ",
                                         escape_bytes(a.original), " -> ", escape_bytes(a.bytes)));
        break;
      case MeddlerAct::What::dropped:
        transcript_.connection(c.id, cat(who, dir, "dropped: ", escape_bytes(a.bytes)));
        break;
      case MeddlerAct::What::answered:
        transcript_.connection(c.id, cat(who, c2s ? "s>c " : "c>s ", "answered: ", escape_bytes(a.bytes)));
        break;
    }
  }
}

// The bytes a meddler's call forwarded are meddled with when it acted in that call (each kind acts
// at most once on a connection, but for refuse's answers).
void Run::note_meddling(Connection& c, bool c2s, bool acted_before, std::size_t forwarded, const std::string& answer) {
  if (acted_before || !c.meddler.acted() || forwarded == 0) return;
  if (c2s && !answer.empty()) return;  // the answer carries it
  Pipe& p = c.pipe(c2s);
  p.meddled.push_back({p.sent, p.sent + forwarded, meddler_act(c.meddler.kind())});
}

void Run::segment_arrived(Connection& c, bool c2s, const std::string& seg) {
  if (c2s) {
    if (ScriptedServer* s = c.scripted_server()) {
      s->receive(seg);
      carry_out(c, *s, false);
    } else {
      c.real_server()->receive(seg, loop_.now());
      pump_server(c);
    }
  } else if (ScriptedClient* s = c.scripted_client()) {
    s->receive(seg);
    carry_out(c, *s, true);
  } else {
    c.real_client()->receive(seg, loop_.now());
    pump_client(c);
  }
}

void Run::close_arrived(Connection& c, bool c2s) {
  if (c2s) {
    if (ScriptedServer* s = c.scripted_server()) {
      s->peer_closed();
      carry_out(c, *s, false);
      return;
    }
    c.real_server()->on_peer_closed(loop_.now());
    pump_server(c);
  } else {
    if (ScriptedClient* s = c.scripted_client()) {
      s->peer_closed();
      carry_out(c, *s, true);
      return;
    }
    c.real_client()->on_peer_closed(loop_.now());
    pump_client(c);
  }
}

void Run::reset_arrived(Connection& c) {
  if (!c.server_gone && c.scripted_server()) {
    c.server_gone = true;
    maybe_end(c);
  } else if (!c.server_gone) {
    c.real_server()->on_peer_closed(loop_.now());
    pump_server(c);
  }
  if (!c.client_gone && c.scripted_client()) {
    c.client_gone = true;
    maybe_end(c);
  } else if (!c.client_gone) {
    c.real_client()->on_peer_closed(loop_.now(), /*reset=*/true);
    pump_client(c);
  }
}

// Carries out what a scripted peer did, in order.
void Run::carry_out(Connection& c, ScriptedPeerBase& peer, bool client) {
  for (PeerAction& a : peer.take_actions()) {
    switch (a.kind) {
      case PeerAction::Kind::send:
        net_.send(c, client, a.bytes, a.atomic);
        break;
      case PeerAction::Kind::tls_starts:
        c.pipe(client).tls_at = c.pipe(client).sent;
        break;
      case PeerAction::Kind::note:
        transcript_.connection(c.id, a.bytes);
        break;
      case PeerAction::Kind::close:
        (client ? c.client_gone : c.server_gone) = true;
        net_.send_close(c, client);
        maybe_end(c);
        break;
    }
  }
}

void Run::pump_client(Connection& c) {
  if (c.client_gone) return;
  ClientSession& s = *c.real_client();
  const std::uint64_t batch_at = c.c2s.sent;
  if (const std::string_view bytes = s.output(); !bytes.empty()) {
    invariants_.client_sent(c.id, sc_.client.policy, c.c2s.tls_at.has_value(), bytes);
    if (c.meddler.passes_client_bytes()) {
      net_.send(c, true, bytes, false);
    } else {
      const bool acted_before = c.meddler.acted();
      MeddlerOutput m = c.meddler.client_to_server(bytes);
      if (!m.acts.empty()) write_meddling(c, true, m);
      if (observer_) note_meddling(c, true, acted_before, m.forward.size(), m.answer);
      if (!m.answer.empty()) {
        net_.answer_client(c, std::move(m.answer), observer_ ? meddler_act(c.meddler.kind()) : std::string());
      }
      net_.send(c, true, m.forward, m.atomic);
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
    net_.send(c, true, c.meddler.flush_client(), false);
    net_.send_close(c, true);
    maybe_end(c);
    return;
  }
  arm_timer(c, true);
}

void Run::pump_server(Connection& c) {
  if (c.server_gone) return;
  ServerSession& s = *c.real_server();
  bool ends_with_220 = false;
  if (const std::string_view bytes = s.output(); !bytes.empty()) {
    ends_with_220 = bytes.ends_with(ready_to_start_tls_);
    if (c.meddler.passes_server_bytes()) {
      net_.send(c, false, bytes, false);
    } else {
      const bool acted_before = c.meddler.acted();
      const MeddlerOutput m = c.meddler.server_to_client(bytes);
      if (!m.acts.empty()) write_meddling(c, false, m);
      if (observer_) note_meddling(c, false, acted_before, m.forward.size(), m.answer);
      net_.send(c, false, m.forward, m.atomic);
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
    net_.send(c, false, c.meddler.flush_server(), false);
    net_.send_close(c, false);
    maybe_end(c);
    return;
  }
  arm_timer(c, false);
}

// Each pump re-arms the side's timer for its session's deadline (an idle timeout moves with
// every segment); the loop replaces the earlier time without a new event.
void Run::arm_timer(Connection& c, bool client) {
  std::optional<Time> due;
  if (client) {
    due = c.real_client()->deadline();
  } else if (const ServerSession* s = c.real_server()) {
    due = s->deadline();
  } else {
    return;
  }
  const EventLoop::Timer t = client ? c.client_timer : c.server_timer;
  if (due) {
    loop_.arm(t, *due);
  } else {
    loop_.disarm(t);
  }
}

void Run::client_event(Connection& c, const ClientEvent& e) {
  MessageState& m = messages_[c.message];
  if (const auto* t = std::get_if<TlsEstablished>(&e)) {
    transcript_.connection(c.id, "client tls-established " + t->version + " " + t->cipher);
  } else if (const auto* d = std::get_if<PlaintextDiscarded>(&e)) {
    transcript_.connection(c.id, "client plaintext-discarded " + std::to_string(d->bytes));
  } else if (const auto* f = std::get_if<TlsFallback>(&e)) {
    m.result.fallback = true;
    transcript_.connection(c.id, "client tls-fallback " + f->reason);
  } else if (const auto* cl = std::get_if<Closed>(&e)) {
    if (transcript_.on()) {
      transcript_.connection(c.id, std::string("client closed ") + to_string(cl->reason) +
                                       (cl->detail.empty() ? "" : ": " + cl->detail));
    }
    if (cl->rfc1047_window) m.result.rfc1047_window = true;
  }
}

void Run::server_event(Connection& c, const ServerEvent& e) {
  if (const auto* a = std::get_if<MessageAccepted>(&e)) {
    if (transcript_.on()) {
      transcript_.connection(c.id, "server message-accepted channel=" + a->channel + (a->tls ? " tls" : " plain") +
                                       " from=<" + a->envelope.mail_from + "> rcpts=" +
                                       std::to_string(a->envelope.rcpt_to.size()));
    }
    invariants_.server_accepted(c.id, sc_.server.policy, a->tls);
    if (c.scripted_client()) {
      ++script_messages_;
      return;
    }
    const auto idx = read_message_tag(a->data);
    if (!idx || *idx == 0 || *idx > messages_.size()) {
      invariants_.violation(cat("c", std::to_string(c.id), ": the server accepted a message no client sent"));
      return;
    }
    MessageResult& r = messages_[*idx - 1].result;
    ++r.deliveries;
    r.channel = a->channel;
  } else if (const auto* t = std::get_if<TlsEstablished>(&e)) {
    transcript_.connection(c.id, "server tls-established " + t->version + " " + t->cipher);
  } else if (const auto* d = std::get_if<PlaintextDiscarded>(&e)) {
    transcript_.connection(c.id, "server plaintext-discarded " + std::to_string(d->bytes));
  } else if (const auto* s = std::get_if<ChannelSwitched>(&e)) {
    transcript_.connection(c.id, "server channel-switched " + s->from + " -> " + s->to);
  } else if (const auto* cl = std::get_if<Closed>(&e)) {
    if (transcript_.on()) {
      transcript_.connection(c.id, std::string("server closed ") + to_string(cl->reason) +
                                       (cl->detail.empty() ? "" : ": " + cl->detail));
    }
  }
}

}  // namespace tlschan::sim::detail

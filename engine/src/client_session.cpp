#include "tlschan/client_session.hpp"

#include <cassert>
#include <cstdint>
#include <cstring>

#include "tlschan/data_reader.hpp"  // dot_stuffed

namespace tlschan {

namespace {

// Eight octets at a time: the high bits of a word or-ed together, then the octets left over.
bool has_8bit(std::string_view data) {
  constexpr std::uint64_t high_bits = 0x8080808080808080u;
  std::size_t i = 0;
  std::uint64_t any = 0;
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data.data() + i, 8);
    any |= word;
  }
  for (; i < data.size(); ++i) any |= static_cast<unsigned char>(data[i]);
  return (any & high_bits) != 0;
}

std::string describe(const Reply& r) { return std::to_string(r.code) + " " + r.text(); }

}  // namespace

namespace {

bool holds_line_end(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos; }

}  // namespace

std::optional<UsageError> client_usage_error(const ClientConfig& config, const OutgoingMessage& message) {
  if (message.envelope.rcpt_to.empty()) return UsageError{"a message needs at least one recipient"};
  if (config.mode == ClientMode::implicit_tls && config.policy == Policy::no) {
    return UsageError{"implicit TLS needs a channel whose client policy is may or must, not no"};
  }
  if (holds_line_end(config.helo_name)) return UsageError{"the HELO name holds a CR, LF or NUL"};
  if (holds_line_end(message.envelope.mail_from)) return UsageError{"the sender holds a CR, LF or NUL"};
  for (const std::string& r : message.envelope.rcpt_to) {
    if (holds_line_end(r)) return UsageError{"a recipient holds a CR, LF or NUL"};
  }
  return std::nullopt;
}

Expected<ClientSession, UsageError> ClientSession::create(ClientConfig config, OutgoingMessage message,
                                                          Time now) {
  if (auto error = client_usage_error(config, message)) return unexpected(std::move(*error));
  return ClientSession(std::move(config), std::move(message), now);
}

ClientSession::ClientSession(ClientConfig config, OutgoingMessage message, Time now)
    : config_(std::move(config)), message_(std::move(message)), wire_data_(dot_stuffed(message_.data)) {
  for (const auto& r : message_.envelope.rcpt_to) outcomes_.push_back(RecipientOutcome{r, Disposition::deferred, false, std::nullopt, "not attempted"});
  settled_.assign(outcomes_.size(), false);
  start_connection(now);
}

void ClientSession::start_connection(Time now) {
  quit_reason_ = CloseReason::quit;
  now_ = now;
  phase_since_ = now;
  core_.new_connection();
  replies_.reset();
  tls_confirmed_ = false;
  caps_ = Capabilities{};
  accepted_.clear();
  next_rcpt_ = 0;
  if (config_.mode == ClientMode::implicit_tls) {
    if (!config_.tls) {
      phase_ = Phase::greeting;  // so that close_connection has a connection to close
      settle(Disposition::deferred, "TLS is unavailable on this client; implicit TLS cannot start");
      close_connection(CloseReason::tls_required, "TLS unavailable on the client");
      return;
    }
    core_.start_tls(*config_.tls, config_.key_log);
    phase_ = Phase::handshake;
    pump_tls();
    return;
  }
  phase_ = Phase::greeting;
}

void ClientSession::reconnected(Time now) {
  if (!wants_reconnect_) return;
  wants_reconnect_ = false;
  rfc1047_window_ = false;
  plaintext_only_ = true;
  start_connection(now);
}

Disposition ClientSession::message_disposition() const {
  bool bounced = false;
  for (const auto& o : outcomes_) {
    if (o.disposition == Disposition::deferred) return Disposition::deferred;
    if (o.disposition == Disposition::bounced) bounced = true;
  }
  return bounced ? Disposition::bounced : Disposition::delivered;
}

std::optional<Time> ClientSession::deadline() const {
  const ClientTimeouts& t = config_.timeouts;
  switch (phase_) {
    case Phase::closed: return std::nullopt;
    case Phase::greeting: return phase_since_ + t.greeting;
    case Phase::data: return phase_since_ + t.data_start;
    case Phase::data_end: return phase_since_ + t.data_end;
    default: return phase_since_ + t.command;
  }
}

void ClientSession::on_deadline(Time now) {
  now_ = now;
  const auto due = deadline();
  if (!due || now < *due) return;
  if (phase_ == Phase::quit) return close_connection(quit_reason_);
  if (phase_ == Phase::data_end) {
    rfc1047_window_ = true;
    return fail_connection(CloseReason::idle_timeout,
                           "timeout after end of data, before its reply (RFC 1047 window: the message may be delivered twice)");
  }
  fail_connection(CloseReason::idle_timeout, "timeout waiting for the server");
}

void ClientSession::on_peer_closed(Time now, bool reset) {
  now_ = now;
  if (phase_ == Phase::closed) return;
  if (phase_ == Phase::quit) return close_connection(quit_reason_);
  // A clean end of stream before the first reply over TLS is a failed handshake (section 4); a
  // reset is a lost connection, which defers.
  if (!reset && core_.tls() && !tls_confirmed_) return handshake_failed("the server closed the connection during the TLS handshake");
  if (phase_ == Phase::data_end) {
    rfc1047_window_ = true;
    return fail_connection(CloseReason::peer_closed,
                           "connection lost after end of data, before its reply (RFC 1047 window: the message may be delivered twice)");
  }
  fail_connection(CloseReason::peer_closed, reset ? "connection reset" : "connection closed by the server");
}

void ClientSession::receive(std::string_view bytes, Time now) {
  if (phase_ == Phase::closed || bytes.empty()) return;
  now_ = now;
  if (const auto state = core_.receive(bytes)) on_tls(*state);
  process();
}

void ClientSession::pump_tls() { on_tls(core_.pump_tls()); }

// What the client does with the TLS state after a pump (the plaintext is in the inbox already).
void ClientSession::on_tls(TlsState state) {
  switch (state) {
    case TlsState::handshaking:
      return;
    case TlsState::failed:
      if (!tls_confirmed_) return handshake_failed(core_.tls()->error());
      return fail_connection(CloseReason::tls_failed, "TLS error: " + core_.tls()->error());
    case TlsState::established:
    case TlsState::closed:
      if (phase_ == Phase::handshake) {
        core_.set_tls_active();
        caps_ = Capabilities{};  // everything learned before TLS is forgotten
        core_.emit(TlsEstablished{core_.tls()->version(), core_.tls()->cipher()});
        // After STARTTLS the client speaks first (EHLO); on a TLS port the server greets.
        if (config_.mode == ClientMode::implicit_tls) {
          enter(Phase::greeting);
        } else {
          send_command(Phase::ehlo, "EHLO " + config_.helo_name);
        }
      }
      if (state == TlsState::closed) {
        process();
        on_peer_closed(now_);
      }
      return;
  }
}

bool ClientSession::expects_reply() const {
  return phase_ != Phase::closed && phase_ != Phase::handshake;
}

void ClientSession::process() {
  while (expects_reply() && core_.has_unread()) {
    std::string_view in = core_.unread();
    const std::size_t before = in.size();
    auto parsed = replies_.next(in);
    const std::size_t used = before - in.size();
    if (!parsed) {
      core_.discard_unread();
      return;
    }
    if (const auto* err = std::get_if<ReplyError>(&*parsed)) {
      return fail_connection(CloseReason::protocol_error, std::string("protocol error: ") + to_string(*err));
    }
    core_.mark_read(used);
    if (core_.tls_active()) tls_confirmed_ = true;
    handle_reply(std::get<Reply>(*parsed));
    if (phase_ == Phase::handshake || phase_ == Phase::closed || phase_ == Phase::quit) continue;
    // The client waits for each reply before it sends the next command, so anything that
    // arrived together with a reply answers no command: protocol error (section 8).
    if (core_.has_unread() || !replies_.idle()) {
      return fail_connection(CloseReason::protocol_error, "protocol error: a reply to a command never sent");
    }
  }
  if (phase_ == Phase::quit || phase_ == Phase::closed) core_.discard_unread();
  core_.compact();
}

void ClientSession::handle_reply(const Reply& r) {
  const int k = r.klass();
  switch (phase_) {
    case Phase::greeting:
      if (r.code == 220) return send_command(Phase::ehlo, "EHLO " + config_.helo_name);
      if (k == 4 || k == 5) return quit(Disposition::deferred, "greeting: " + describe(r), r.code);
      break;
    case Phase::ehlo:
      if (r.code == 250) return after_hello(parse_capabilities(r));
      if (k == 5) return send_command(Phase::helo, "HELO " + config_.helo_name);
      if (k == 4) return quit(Disposition::deferred, "EHLO: " + describe(r), r.code);
      break;
    case Phase::helo:
      if (r.code == 250) return after_hello(Capabilities{});
      if (k == 4 || k == 5) return quit(Disposition::deferred, "HELO: " + describe(r), r.code);
      break;
    case Phase::starttls:
      if (r.code == 220) {
        // Response injection: nothing that came with or after the 220 is read (section 4).
        const std::size_t discarded = core_.unread().size();
        core_.discard_unread();
        replies_.reset();
        core_.emit(PlaintextDiscarded{discarded});
        core_.start_tls(*config_.tls, config_.key_log);
        enter(Phase::handshake);
        pump_tls();
        return;
      }
      if (k == 4 || k == 5) {
        if (config_.policy == Policy::may) return start_mail();
        return quit(Disposition::deferred, "STARTTLS refused: " + describe(r), r.code, CloseReason::tls_required);
      }
      break;
    case Phase::mail:
      if (r.code == 250) return send_rcpt();
      if (k == 4) return quit(Disposition::deferred, "MAIL: " + describe(r), r.code);
      if (k == 5) return quit(Disposition::bounced, "MAIL: " + describe(r), r.code);
      break;
    case Phase::rcpt: {
      const std::size_t i = next_rcpt_ - 1;
      if (r.code == 250 || r.code == 251) {
        accepted_.push_back(i);
      } else if (k == 4 || k == 5) {
        outcomes_[i] = RecipientOutcome{outcomes_[i].recipient, k == 4 ? Disposition::deferred : Disposition::bounced,
                                        false, r.code, "RCPT: " + describe(r)};
        settled_[i] = true;
      } else {
        break;
      }
      if (next_rcpt_ < outcomes_.size()) return send_rcpt();
      if (accepted_.empty()) return quit(Disposition::deferred, "no recipient accepted");
      return send_command(Phase::data, "DATA");
    }
    case Phase::data:
      if (r.code == 354) {
        core_.send(wire_data_);
        enter(Phase::data_end);
        return;
      }
      if (k == 4 || k == 5) {
        settle_accepted(k == 4 ? Disposition::deferred : Disposition::bounced, r);
        return quit(Disposition::deferred, "DATA: " + describe(r), r.code);
      }
      break;
    case Phase::data_end:
      if (k == 2) {
        settle_accepted(Disposition::delivered, r);
        return quit(Disposition::deferred, "not accepted");
      }
      if (k == 4 || k == 5) {
        settle_accepted(k == 4 ? Disposition::deferred : Disposition::bounced, r);
        return quit(Disposition::deferred, "end of data: " + describe(r), r.code);
      }
      break;
    case Phase::quit:
      return close_connection(quit_reason_);
    case Phase::handshake:
    case Phase::closed:
      return;
  }
  fail_connection(CloseReason::protocol_error, "protocol error: unexpected reply " + describe(r));
}

void ClientSession::after_hello(const Capabilities& caps) {
  caps_ = caps;
  // STARTTLS listed again after TLS is ignored: a client never starts TLS twice.
  if (core_.tls_active() || config_.policy == Policy::no || plaintext_only_) return start_mail();
  if (caps_.starttls && config_.tls) return send_command(Phase::starttls, "STARTTLS");
  if (config_.policy == Policy::may) return start_mail();
  if (!config_.tls) return quit(Disposition::deferred, "TLS required, but TLS is unavailable on this client", std::nullopt, CloseReason::tls_required);
  quit(Disposition::deferred, "TLS required, but the server does not offer STARTTLS", std::nullopt, CloseReason::tls_required);
}

void ClientSession::start_mail() {
  // Under must, no MAIL, RCPT or message byte is ever sent outside TLS.
  if (config_.policy == Policy::must && !core_.tls_active()) {
    assert(false && "must client reached MAIL without TLS");
    return quit(Disposition::deferred, "TLS required", std::nullopt, CloseReason::tls_required);
  }
  std::string line = "MAIL FROM:<" + message_.envelope.mail_from + ">";
  if (caps_.size) line += " SIZE=" + std::to_string(message_.data.size());
  if (caps_.eightbitmime && has_8bit(message_.data)) line += " BODY=8BITMIME";
  send_command(Phase::mail, line);
}

void ClientSession::send_rcpt() {
  const std::string& rcpt = outcomes_[next_rcpt_++].recipient;
  send_command(Phase::rcpt, "RCPT TO:<" + rcpt + ">");
}

void ClientSession::send_command(Phase next, std::string_view line) {
  core_.send_formatted([line](std::string& out) {
    out.append(line);
    out.append("\r\n");
  });
  enter(next);
}

void ClientSession::enter(Phase next) {
  phase_ = next;
  phase_since_ = now_;
}

void ClientSession::handshake_failed(std::string why) {
  core_.take_tls_output();
  if (config_.policy == Policy::may && config_.mode == ClientMode::starttls) {
    core_.emit(TlsFallback{why});
    close_connection(CloseReason::tls_failed, why);
    wants_reconnect_ = true;
    return;
  }
  settle(Disposition::deferred, "TLS handshake failed: " + why);
  close_connection(CloseReason::tls_failed, std::move(why));
}

void ClientSession::quit(Disposition rest, std::string reason, std::optional<int> code, CloseReason why) {
  quit_reason_ = why;
  settle(rest, std::move(reason), code);
  send_command(Phase::quit, "QUIT");
}

void ClientSession::settle(Disposition d, std::string reason, std::optional<int> code) {
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    if (settled_[i]) continue;
    outcomes_[i].disposition = d;
    outcomes_[i].tls = false;
    outcomes_[i].code = code;
    outcomes_[i].reason = reason;
    settled_[i] = true;
  }
}

void ClientSession::settle_accepted(Disposition d, const Reply& r) {
  for (const std::size_t i : accepted_) {
    outcomes_[i].disposition = d;
    outcomes_[i].tls = d == Disposition::delivered && core_.tls_active();
    outcomes_[i].code = r.code;
    outcomes_[i].reason = describe(r);
    settled_[i] = true;
  }
  accepted_.clear();
}

void ClientSession::fail_connection(CloseReason why, std::string reason) {
  settle(Disposition::deferred, reason);
  close_connection(why, std::move(reason));
}

void ClientSession::close_connection(CloseReason why, std::string detail) {
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  core_.close(Closed{why, std::move(detail), rfc1047_window_});
}

}  // namespace tlschan

#include "tlschan/server_session.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdio>

#include "path_syntax.hpp"
#include "tlschan/reply.hpp"

namespace tlschan {

namespace {

// A command verb's name and its Verb (whether a must policy answers it 530 before TLS is decided
// per command, after its syntax: handle_command).
struct VerbEntry {
  std::string_view name;
  int verb;
};

}  // namespace

ServerSession::ServerSession(ServerConfig config, Time now)
    : config_(std::move(config)),
      channel_(config_.channel),
      data_(config_.limits.max_message_size),
      last_activity_(now) {
  if (config_.mode == ServerMode::tls_port) {
    if (config_.policy == Policy::no || !config_.tls) {
      close(CloseReason::tls_port_refused,
            config_.policy == Policy::no ? "the incoming channel's server policy is no"
                                         : "TLS is unavailable");
      return;
    }
    core_.start_tls(*config_.tls);
    phase_ = Phase::handshake;
    return;
  }
  reply(ReplyId::greeting, config_.hostname + " ESMTP tlschan");
}

std::optional<Time> ServerSession::deadline() const {
  if (phase_ == Phase::closed || phase_ == Phase::awaiting_ack) return std::nullopt;
  return last_activity_ + config_.limits.idle_timeout;
}

void ServerSession::receive(std::string_view bytes, Time now) {
  if (phase_ == Phase::closed || bytes.empty()) return;
  last_activity_ = now;
  if (const auto state = core_.receive(bytes)) on_tls(*state);
  process();
}

void ServerSession::on_peer_closed(Time) {
  if (phase_ == Phase::closed) return;
  close(CloseReason::peer_closed, phase_ == Phase::data ? "closed during DATA; the message was not accepted" : "");
}

void ServerSession::shutdown(Time now) {
  if (phase_ == Phase::closed || phase_ == Phase::awaiting_ack) return;
  last_activity_ = now;
  const bool in_data = phase_ == Phase::data;
  if (phase_ != Phase::handshake) reply(ReplyId::shutting_down);
  close(CloseReason::shutdown, in_data ? "the server stopped during DATA; the message was not accepted" : "");
}

void ServerSession::on_deadline(Time now) {
  const auto due = deadline();
  if (!due || now < *due) return;
  if (phase_ != Phase::handshake) reply(ReplyId::idle_timeout);
  close(CloseReason::idle_timeout);
}

void ServerSession::acknowledge(bool stored, Time now) {
  if (phase_ != Phase::awaiting_ack) return;
  last_activity_ = now;
  phase_ = Phase::command;
  if (stored) {
    reply(ReplyId::message_queued, "Ok: queued as " + std::to_string(messages_));
  } else {
    reply(ReplyId::store_failed);
  }
  process();
}

// In plaintext a reply is formatted straight into the output; over TLS it goes through write().
void ServerSession::send_reply(ReplyId id, std::string_view detail) {
  core_.send_formatted([id, detail](std::string& out) { render_to(out, id, detail); });
}

void ServerSession::reply(ReplyId id, std::string_view detail) {
  send_reply(id, detail);
  if (counts_as_error(id) && ++errors_ >= config_.limits.max_errors) {
    send_reply(ReplyId::too_many_errors, {});
    close(CloseReason::error_limit);
  }
}

void ServerSession::close(CloseReason reason, std::string detail) {
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  core_.close(Closed{reason, std::move(detail)});
}

void ServerSession::pump_tls() { on_tls(core_.pump_tls()); }

// What the server does with the TLS state after a pump (the plaintext is in the inbox already).
void ServerSession::on_tls(TlsState state) {
  switch (state) {
    case TlsState::handshaking:
      return;
    case TlsState::failed:
      // Nothing from a connection whose handshake failed is accepted (3.2.2).
      close(CloseReason::tls_failed, core_.tls()->error());
      return;
    case TlsState::established:
    case TlsState::closed:
      if (phase_ == Phase::handshake) on_tls_established();
      if (state == TlsState::closed) {
        process();
        close(CloseReason::peer_closed, "TLS close_notify received");
      }
      return;
  }
}

void ServerSession::on_tls_established() {
  core_.set_tls_active();
  phase_ = Phase::command;
  // RFC 3207 4.2: everything learned before TLS is forgotten.
  helo_.reset();
  reset_transaction();
  lines_.reset();
  core_.emit(TlsEstablished{core_.tls()->version(), core_.tls()->cipher()});
  if (config_.switch_target && !switched_) {
    switched_ = true;
    core_.emit(ChannelSwitched{channel_, *config_.switch_target});
    channel_ = *config_.switch_target;
  }
  if (config_.mode == ServerMode::tls_port) reply(ReplyId::greeting, config_.hostname + " ESMTP tlschan");
}

void ServerSession::process() {
  while ((phase_ == Phase::command || phase_ == Phase::data) && core_.has_unread()) {
    std::string_view in = core_.unread();
    const std::size_t before = in.size();
    if (phase_ == Phase::data) {
      auto message = data_.next(in);
      core_.mark_read(before - in.size());
      if (message) finish_message(*message);
    } else {
      auto line = lines_.next_view(in);
      core_.mark_read(before - in.size());
      if (line) handle_line(*line);
    }
  }
  core_.compact();
}

void ServerSession::handle_line(const CommandLineView& line) {
  if (line.error) {
    reply(*line.error == LineError::too_long ? ReplyId::line_too_long : ReplyId::line_error);
    return;
  }
  static constexpr std::array<VerbEntry, 12> verbs{{
      {"EHLO", static_cast<int>(Verb::ehlo)},
      {"HELO", static_cast<int>(Verb::helo)},
      {"MAIL", static_cast<int>(Verb::mail)},
      {"RCPT", static_cast<int>(Verb::rcpt)},
      {"DATA", static_cast<int>(Verb::data)},
      {"RSET", static_cast<int>(Verb::rset)},
      {"NOOP", static_cast<int>(Verb::noop)},
      {"QUIT", static_cast<int>(Verb::quit)},
      {"VRFY", static_cast<int>(Verb::vrfy)},
      {"EXPN", static_cast<int>(Verb::expn)},
      {"HELP", static_cast<int>(Verb::help)},
      {"STARTTLS", static_cast<int>(Verb::starttls)},
  }};
  const std::string_view text = line.text;
  const auto space = text.find(' ');
  const std::string_view name = text.substr(0, space);
  std::string_view args = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
  while (!args.empty() && args.back() == ' ') args.remove_suffix(1);

  const auto entry = std::find_if(verbs.begin(), verbs.end(),
                                  [&](const VerbEntry& v) { return detail::iequals(v.name, name); });
  if (entry == verbs.end()) {
    reply(ReplyId::unknown_command);
    return;
  }
  handle_command(static_cast<Verb>(entry->verb), args);
}

void ServerSession::handle_command(Verb verb, std::string_view args) {
  const bool gate = config_.policy == Policy::must && !core_.tls_active();
  switch (verb) {
    case Verb::starttls:
      handle_starttls(args);
      return;
    case Verb::ehlo:
    case Verb::helo:
      if (args.empty()) return reply(ReplyId::syntax_error);
      helo_ = std::string(args);
      reset_transaction();
      if (verb == Verb::ehlo) return ehlo_reply();
      return reply(ReplyId::ehlo_hello, config_.hostname);
    case Verb::mail:
      return handle_mail(args);
    case Verb::rcpt:
      return handle_rcpt(args);
    case Verb::data:
      if (!args.empty()) return reply(ReplyId::syntax_error);
      if (gate) return reply(ReplyId::must_starttls);
      if (!mail_from_ || rcpt_to_.empty()) return reply(ReplyId::bad_sequence);
      phase_ = Phase::data;
      return reply(ReplyId::start_mail_input);
    case Verb::rset:
      if (!args.empty()) return reply(ReplyId::syntax_error);
      reset_transaction();
      return reply(ReplyId::ok);
    case Verb::noop:
      return reply(ReplyId::ok);
    case Verb::quit:
      if (!args.empty()) return reply(ReplyId::syntax_error);
      reply(ReplyId::bye);
      return close(CloseReason::quit);
    case Verb::vrfy:
      if (args.empty()) return reply(ReplyId::syntax_error);
      return reply(gate ? ReplyId::must_starttls : ReplyId::cannot_vrfy);
    case Verb::expn:
      if (args.empty()) return reply(ReplyId::syntax_error);
      return reply(gate ? ReplyId::must_starttls : ReplyId::not_implemented);
    case Verb::help:
      return reply(gate ? ReplyId::must_starttls : ReplyId::help);
  }
}

void ServerSession::handle_starttls(std::string_view args) {
  // Precedence (3.1): 502 on a no server whatever follows, 501, 554 after TLS, 454, then 220.
  ReplyId answer = ReplyId::ready_to_start_tls;
  if (config_.policy == Policy::no) {
    answer = ReplyId::not_implemented;
  } else if (!args.empty()) {
    answer = ReplyId::syntax_starttls;
  } else if (core_.tls_active()) {
    answer = ReplyId::tls_already_active;
  } else if (!config_.tls) {
    answer = ReplyId::tls_unavailable;
  }
  purge_after_starttls();
  reply(answer);
  if (answer == ReplyId::ready_to_start_tls && phase_ != Phase::closed) {
    core_.start_tls(*config_.tls);
    phase_ = Phase::handshake;
  }
}

void ServerSession::purge_after_starttls() {
  // CVE-2011-0411: whatever was pipelined after STARTTLS is thrown away unread, whatever the reply.
  const std::size_t discarded = core_.unread().size() + lines_.pending();
  core_.discard_unread();
  lines_.reset();
  core_.emit(PlaintextDiscarded{discarded});
}

void ServerSession::handle_mail(std::string_view args) {
  detail::MailArgs parsed;
  if (const auto err = detail::parse_mail_args(args, parsed)) {
    return reply(*err == detail::ArgError::syntax ? ReplyId::syntax_error : ReplyId::bad_parameter);
  }
  if (config_.policy == Policy::must && !core_.tls_active()) return reply(ReplyId::must_starttls);
  if (!helo_ || mail_from_) return reply(ReplyId::bad_sequence);
  if (parsed.size && *parsed.size > config_.limits.max_message_size) return reply(ReplyId::message_too_big);
  mail_from_ = std::move(parsed.path);
  reply(ReplyId::sender_ok);
}

void ServerSession::handle_rcpt(std::string_view args) {
  detail::RcptArgs parsed;
  if (const auto err = detail::parse_rcpt_args(args, parsed)) {
    return reply(*err == detail::ArgError::syntax ? ReplyId::syntax_error : ReplyId::bad_parameter);
  }
  if (config_.policy == Policy::must && !core_.tls_active()) return reply(ReplyId::must_starttls);
  if (!mail_from_) return reply(ReplyId::bad_sequence);
  if (rcpt_to_.size() >= config_.limits.max_recipients) return reply(ReplyId::too_many_recipients);
  rcpt_to_.push_back(std::move(parsed.path));
  reply(ReplyId::recipient_ok);
}

void ServerSession::finish_message(const DataResult& result) {
  phase_ = Phase::command;
  if (result.malformed()) {
    reset_transaction();
    return reply(ReplyId::message_malformed);
  }
  if (result.over_size) {
    reset_transaction();
    return reply(ReplyId::message_too_big);
  }
  MessageAccepted m;
  m.id = ++messages_;
  m.envelope = Envelope{std::move(*mail_from_), std::move(rcpt_to_)};
  m.data = result.body;
  m.channel = channel_;
  m.tls = core_.tls_active();
  if (core_.tls_active()) {
    m.tls_version = core_.tls()->version();
    m.cipher = core_.tls()->cipher();
  }
  core_.emit(std::move(m));
  reset_transaction();
  if (config_.acknowledge_messages) {
    phase_ = Phase::awaiting_ack;
    return;
  }
  reply(ReplyId::message_queued, "Ok: queued as " + std::to_string(messages_));
}

void ServerSession::ehlo_reply() {
  char size[32];
  const int size_length = std::snprintf(size, sizeof size, "SIZE %llu",
                                        static_cast<unsigned long long>(config_.limits.max_message_size));
  std::string_view lines[] = {config_.hostname, "PIPELINING", std::string_view(size, size_length),
                              "8BITMIME", "ENHANCEDSTATUSCODES", "STARTTLS"};
  // Listed under may and must before TLS even when TLS is unavailable (3.3).
  const bool starttls = config_.policy != Policy::no && !core_.tls_active();
  const std::size_t count = std::size(lines) - (starttls ? 0 : 1);
  const int code = reply_spec(ReplyId::ehlo_hello).code;
  core_.send_formatted([&](std::string& out) { append_reply(out, code, "", lines, count); });
}

void ServerSession::reset_transaction() {
  mail_from_.reset();
  rcpt_to_.clear();
}

}  // namespace tlschan

// What ClientSession and ServerSession share, one copy for both (as rustls's ConnectionCommon): the
// plaintext received and not yet read, the TLS session and its pump, the bytes to send, the events
// and the close. Not API of its own: each session holds one as a member.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tlschan/events.hpp"
#include "tlschan/tls.hpp"

namespace tlschan::detail {

template <class Event>
class SessionCore {
 public:
  // The inbox: plaintext received, read from a position (no erase of the front on every read).
  std::string_view unread() const { return std::string_view(inbox_).substr(inbox_pos_); }
  bool has_unread() const { return inbox_pos_ < inbox_.size(); }
  void mark_read(std::size_t n) { inbox_pos_ += n; }
  void discard_unread() {
    inbox_.clear();
    inbox_pos_ = 0;
  }
  // Drops what was read: at once when all was, else once it is over 4 KiB and most of the inbox.
  void compact() {
    if (inbox_pos_ == inbox_.size()) {
      discard_unread();
    } else if (inbox_pos_ > 4096 && inbox_pos_ * 2 > inbox_.size()) {
      inbox_.erase(0, inbox_pos_);
      inbox_pos_ = 0;
    }
  }

  // Bytes from the wire: into TLS once it is started (the state after pump_tls() then), else
  // straight into the inbox.
  std::optional<TlsState> receive(std::string_view wire) {
    if (!tls_) {
      inbox_.append(wire);
      return std::nullopt;
    }
    tls_->feed(wire);
    return pump_tls();
  }
  // Advances TLS: the plaintext it opens goes to the inbox, what it has to send to the output.
  TlsState pump_tls() {
    const TlsState state = tls_->advance(inbox_);
    tls_->take_output(out_);
    return state;
  }

  // `key_log`, when set, hears this TLS session's key log (TlsSession::set_key_log).
  void start_tls(const TlsContext& context, const TlsContext::KeyLogSink& key_log = {}) {
    tls_.emplace(context);
    if (key_log) tls_->set_key_log(key_log);
  }
  // The handshake completed: from now on send() goes through TLS.
  void set_tls_active() { tls_active_ = true; }
  bool tls_active() const { return tls_active_; }
  // The TLS session once started, else null.
  TlsSession* tls() { return tls_ ? &*tls_ : nullptr; }
  const TlsSession* tls() const { return tls_ ? &*tls_ : nullptr; }
  void take_tls_output() {
    if (tls_) tls_->take_output(out_);
  }
  // A fresh connection: nothing received, no TLS (the output and the events stay).
  void new_connection() {
    discard_unread();
    tls_.reset();
    tls_active_ = false;
  }

  // The bytes to send; consume(n) once n of them were sent.
  std::string_view output() const { return std::string_view(out_).substr(out_pos_); }
  void consume(std::size_t n) {
    out_pos_ = std::min(out_.size(), out_pos_ + n);
    if (out_pos_ == out_.size()) {
      out_.clear();
      out_pos_ = 0;
    }
  }
  void send(std::string_view wire) {
    if (tls_active_) {
      tls_->write(wire);
      tls_->take_output(out_);
    } else {
      out_.append(wire);
    }
  }
  // `format(std::string&)` appends the bytes to send: in plaintext straight into the output, over
  // TLS into a reused buffer that is then written.
  template <class Format>
  void send_formatted(Format&& format) {
    if (!tls_active_) return format(out_);
    scratch_.clear();
    format(scratch_);
    send(scratch_);
  }

  template <class E>
  void emit(E&& event) {
    events_.emplace_back(std::forward<E>(event));
  }
  std::optional<Event> next_event() {
    if (events_.empty()) return std::nullopt;
    Event e = std::move(events_.front());
    events_.pop_front();
    return e;
  }

  // The connection ends: close_notify when TLS is up, nothing more is read, then `closed`.
  void close(Closed closed) {
    if (tls_ && tls_->state() == TlsState::established) {
      tls_->shutdown();
      tls_->take_output(out_);
    }
    discard_unread();
    events_.emplace_back(std::move(closed));
  }

 private:
  std::string inbox_;
  std::size_t inbox_pos_ = 0;
  std::optional<TlsSession> tls_;
  bool tls_active_ = false;
  std::string out_;
  std::size_t out_pos_ = 0;
  std::string scratch_;  // send_formatted over TLS
  std::deque<Event> events_;
};

}  // namespace tlschan::detail

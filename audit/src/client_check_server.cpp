#include "client_check_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>

#include "tlschan/command_line.hpp"
#include "tlschan/data_reader.hpp"

namespace tlschan::audit {

namespace {

using Clock = std::chrono::steady_clock;
using Kind = ExchangeEntry::Kind;

constexpr std::size_t max_commands = 200;  // per connection: a client in a loop ends the connection

// A record a client cannot accept as the server's first flight: a handshake record holding a
// ServerHello whose body is empty (every TLS stack rejects it as a decode error).
constexpr char bad_record[] = {0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00};

// What the reply to STARTTLS carries in the response-injection case: the 220, then replies to
// commands the client has not sent yet, all in one write.
constexpr char injected_220[] =
    "220 2.0.0 Ready to start TLS\r\n"
    "250-injected.tlschan.invalid fake EHLO reply\r\n"
    "250 8BITMIME\r\n"
    "250 2.1.0 injected\r\n"
    "250 2.1.5 injected\r\n"
    "354 injected\r\n";

std::string upper_verb(const std::string& line) {
  std::string verb = line.substr(0, line.find(' '));
  for (auto& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return verb;
}

int millis_until(Clock::time_point until) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

bool tls_record_type(unsigned char c) { return c >= 20 && c <= 23; }

class Server {
 public:
  Server(int fd, const CaseScript& script, const TlsContext& tls, const ServeLimits& limits, Exchange& exchange,
         ConnectionFacts& facts)
      : fd_(fd), script_(script), tls_context_(tls), limits_(limits), exchange_(exchange), facts_(facts) {}

  ~Server() {
    if (fd_ < 0) return;
    exchange_.wire_closed(facts_.number, false);
    ::close(fd_);
  }

  void run();

 private:
  enum class Mode { plain, tls, records };  // records: plaintext, TLS records skipped (after a failure)
  enum class Got { line, timeout, closed, tls_error };

  Clock::time_point wait_until(Duration cap) const {
    return std::min(Clock::now() + std::chrono::duration_cast<Clock::duration>(cap), limits_.deadline);
  }
  // Reads once what the socket holds (waiting up to `until`); false on timeout, close or error.
  bool fill(Clock::time_point until);
  void take(std::string_view bytes);
  void flush_tls();
  void send(std::string_view text);
  void send_raw(std::string_view bytes, Kind kind);
  Got next_line(Clock::time_point until, std::string& line);
  bool input_pending() const { return !in_.empty() || parser_.pending() > 0; }

  void handle(const std::string& line);
  void ehlo(const std::string& line);
  void starttls(const std::string& line);
  void handshake();
  void after_failed_handshake(std::string why);
  bool wait_for_record(Clock::time_point until);
  void read_message();
  void note(std::string step) { facts_.trail.push_back(std::move(step)); }
  void finish_close();

  int fd_;
  const CaseScript& script_;
  const TlsContext& tls_context_;
  const ServeLimits& limits_;
  Exchange& exchange_;
  ConnectionFacts& facts_;

  Mode mode_ = Mode::plain;
  std::optional<TlsSession> tls_;
  std::string in_;       // plaintext (decrypted inside TLS) not yet parsed
  std::string records_;  // Mode::records: octets not yet known to be a whole record or text
  CommandLineParser parser_;
  bool peer_closed_ = false;
  bool write_failed_ = false;
  bool done_ = false;
  bool refused_ = false;          // STARTTLS was answered 454, 502 or 3xx
  bool odd_answered_ = false;     // STARTTLS was answered 3xx
  bool failed_ = false;           // a handshake failed on this connection
  bool delay_replies_ = false;    // wait a moment before each reply inside TLS (response-injection)
  std::size_t records_seen_ = 0;  // whole TLS records seen in Mode::records
};

bool Server::fill(Clock::time_point until) {
  if (peer_closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  const int rc = ::poll(&p, 1, millis_until(until));
  if (rc <= 0) return false;
  char buffer[16384];
  const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) {
    peer_closed_ = true;
    exchange_.event(n == 0 ? "client closed" : std::string("connection lost: ") + std::strerror(errno));
    if (n == 0) {
      exchange_.wire_closed(facts_.number, true);
    } else {
      exchange_.wire_reset(facts_.number, true);
    }
    return false;
  }
  take(std::string_view(buffer, static_cast<std::size_t>(n)));
  return true;
}

void Server::take(std::string_view bytes) {
  facts_.client_octets += bytes.size();
  switch (mode_) {
    case Mode::plain:
      exchange_.bytes(Kind::client_bytes, bytes);
      in_.append(bytes);
      break;
    case Mode::tls: {
      exchange_.bytes(Kind::client_tls, bytes);
      tls_->feed(bytes);
      std::string plain;
      tls_->advance(plain);
      exchange_.bytes(Kind::client_inside_tls, plain);
      in_ += plain;
      flush_tls();
      break;
    }
    case Mode::records:
      records_.append(bytes);
      while (!records_.empty()) {
        if (tls_record_type(static_cast<unsigned char>(records_[0]))) {
          if (records_.size() < 5) break;
          const std::size_t length = (static_cast<unsigned char>(records_[3]) << 8) | static_cast<unsigned char>(records_[4]);
          if (records_.size() < 5 + length) break;
          exchange_.bytes(Kind::client_tls, std::string_view(records_).substr(0, 5 + length));
          records_.erase(0, 5 + length);
          ++records_seen_;
        } else {
          // Plaintext up to the next line end is text (a command), whatever follows it.
          const auto lf = records_.find('\n');
          const std::size_t n = lf == std::string::npos ? records_.size() : lf + 1;
          exchange_.bytes(Kind::client_bytes, std::string_view(records_).substr(0, n));
          in_.append(records_, 0, n);
          records_.erase(0, n);
        }
      }
      break;
  }
}

void Server::flush_tls() {
  std::string out;
  tls_->take_output(out);
  if (!out.empty()) send_raw(out, Kind::server_tls);
}

void Server::send_raw(std::string_view bytes, Kind kind) {
  exchange_.bytes(kind, bytes);
  while (!bytes.empty() && !write_failed_) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      write_failed_ = true;
      exchange_.event("write failed");
      break;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void Server::send(std::string_view text) {
  if (mode_ == Mode::tls) {
    exchange_.bytes(Kind::server_inside_tls, text);
    tls_->write(text);
    flush_tls();
  } else {
    send_raw(text, Kind::server_bytes);
  }
}

Server::Got Server::next_line(Clock::time_point until, std::string& line) {
  for (;;) {
    std::string_view view(in_);
    if (auto l = parser_.next(view)) {
      in_.erase(0, in_.size() - view.size());
      line = l->text;
      return Got::line;
    }
    in_.clear();
    if (mode_ == Mode::tls && tls_->state() == TlsState::failed) return Got::tls_error;
    if (mode_ == Mode::tls && tls_->state() == TlsState::closed) return Got::closed;
    if (!fill(until)) return peer_closed_ ? Got::closed : Got::timeout;
  }
}

void Server::run() {
  send("220 " + limits_.hostname + " ESMTP tlschan client-check\r\n");
  std::size_t commands = 0;
  while (!done_ && !write_failed_) {
    // Under the 3xx reply to STARTTLS a client that starts a handshake anyway sends a TLS record.
    if (odd_answered_ && mode_ == Mode::plain) {
      if (in_.empty()) fill(wait_until(limits_.timeout));
      if (!in_.empty() && tls_record_type(static_cast<unsigned char>(in_[0]))) {
        facts_.handshake_started = true;
        facts_.tls_record_after_odd = in_.substr(0, 5);
        note("TLS record after the 3xx");
        exchange_.event("the client started a handshake after the 3xx reply to STARTTLS");
        break;
      }
    }
    std::string line;
    const Duration cap = failed_ ? std::min(limits_.timeout, Duration(std::chrono::seconds(2))) : limits_.timeout;
    const Got got = next_line(wait_until(cap), line);
    if (got == Got::closed) {
      facts_.end = "client closed";
      break;
    }
    if (got == Got::timeout) {
      facts_.end = failed_ ? "the client sent nothing more" : "no command before the timeout";
      exchange_.event("timeout");
      break;
    }
    if (got == Got::tls_error) {
      facts_.end = "TLS error: " + tls_->error();
      exchange_.event("tls error: " + tls_->error());
      break;
    }
    if (++commands > max_commands) {
      facts_.end = "too many commands";
      break;
    }
    handle(line);
  }
  if (facts_.end.empty()) facts_.end = write_failed_ ? "write failed" : facts_.end;
  finish_close();
}

void Server::finish_close() {
  if (mode_ == Mode::tls && tls_->state() == TlsState::established && !write_failed_) {
    tls_->shutdown();
    flush_tls();
  }
  ::shutdown(fd_, SHUT_WR);
  exchange_.wire_closed(facts_.number, false);
  // Reads what the client still sends (up to a moment), so that closing does not reset.
  const auto until = std::min(Clock::now() + std::chrono::milliseconds(300), limits_.deadline);
  while (!peer_closed_ && fill(until)) {
  }
}

void Server::handle(const std::string& line) {
  const bool inside = mode_ == Mode::tls;
  const std::string verb = upper_verb(line);
  if (delay_replies_ && inside) {
    // A client that waits for each reply sends nothing until this one is sent.
    if (!input_pending()) fill(wait_until(Duration(std::chrono::milliseconds(300))));
    if (input_pending() && facts_.out_of_step.empty()) {
      std::string next = in_.substr(0, in_.find('\r'));
      facts_.out_of_step = next.empty() ? line : next;
      exchange_.event("a command arrived before the reply to the one before it");
    }
  }
  if (inside) {
    if (facts_.first_tls_command.empty()) facts_.first_tls_command = line;
  } else {
    if (facts_.first_command.empty()) facts_.first_command = line;
    if (refused_ && facts_.plain_after_refusal.empty()) facts_.plain_after_refusal = line;
    if (failed_ && facts_.plain_after_failure.empty()) facts_.plain_after_failure = line;
  }
  note(inside ? "in-TLS " + verb : verb);
  if (failed_) {
    // After a failed handshake nothing is answered: the connection is dead for TLS and for SMTP.
    if (verb == "MAIL" && facts_.plain_mail.empty()) facts_.plain_mail = line;
    return;
  }
  if (verb == "EHLO") {
    ehlo(line);
  } else if (verb == "HELO") {
    send("250 " + limits_.hostname + "\r\n");
  } else if (verb == "STARTTLS") {
    starttls(line);
  } else if (verb == "MAIL") {
    if (inside && facts_.tls_mail.empty()) facts_.tls_mail = line;
    if (!inside && facts_.plain_mail.empty()) facts_.plain_mail = line;
    send("250 2.1.0 Ok\r\n");
  } else if (verb == "RCPT") {
    send("250 2.1.5 Ok\r\n");
  } else if (verb == "DATA") {
    send("354 End data with <CR><LF>.<CR><LF>\r\n");
    read_message();
  } else if (verb == "RSET" || verb == "NOOP") {
    send("250 2.0.0 Ok\r\n");
  } else if (verb == "QUIT") {
    send("221 2.0.0 Bye\r\n");
    facts_.end = "client QUIT";
    done_ = true;
  } else {
    send("502 5.5.2 Command not recognized\r\n");
  }
}

void Server::ehlo(const std::string&) {
  const bool inside = mode_ == Mode::tls;
  if (script_.refuse_ehlo && !inside) {
    send("500 5.5.1 EHLO not accepted here; try HELO\r\n");
    return;
  }
  std::vector<std::string> lines{limits_.hostname, "8BITMIME", "SIZE 10485760"};
  if ((!inside && script_.list_starttls) || (inside && script_.relist_in_tls)) lines.push_back("STARTTLS");
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) out += "250" + std::string(i + 1 < lines.size() ? "-" : " ") + lines[i] + "\r\n";
  send(out);
}

void Server::starttls(const std::string& line) {
  if (mode_ == Mode::tls) {
    if (facts_.second_starttls.empty()) facts_.second_starttls = line;
    send("503 5.5.1 TLS already active\r\n");
    return;
  }
  if (facts_.starttls.empty()) facts_.starttls = line;
  if (!script_.list_starttls || script_.refuse_ehlo) {
    refused_ = true;
    send("502 5.5.1 STARTTLS not offered\r\n");
    return;
  }
  switch (script_.starttls) {
    case StartTlsAnswer::refuse454:
      refused_ = true;
      send("454 4.7.0 TLS not available due to temporary reason\r\n");
      return;
    case StartTlsAnswer::refuse502:
      refused_ = true;
      send("502 5.5.1 STARTTLS not implemented\r\n");
      return;
    case StartTlsAnswer::odd:
      refused_ = true;
      odd_answered_ = true;
      send("354 3.0.0 this is no reply to STARTTLS\r\n");
      return;
    case StartTlsAnswer::broken:
    case StartTlsAnswer::eof: {
      send("220 2.0.0 Ready to start TLS\r\n");
      if (!in_.empty() || parser_.pending() > 0) {
        exchange_.event("discarded " + std::to_string(in_.size() + parser_.pending()) +
                        " octets the client sent after STARTTLS before the 220");
      }
      mode_ = Mode::records;
      in_.clear();
      parser_.reset();
      const bool hello = wait_for_record(wait_until(limits_.timeout));
      facts_.handshake_started = hello;
      if (script_.starttls == StartTlsAnswer::broken) {
        if (hello) send_raw(std::string_view(bad_record, sizeof bad_record), Kind::server_tls);
        after_failed_handshake(hello ? "the server answered the ClientHello with a malformed record"
                                     : "no ClientHello before the timeout");
      } else {
        // Let the rest of the ClientHello arrive (a close with unread input would reset).
        while (fill(wait_until(Duration(std::chrono::milliseconds(100))))) {
        }
        exchange_.event("server closes before its first flight");
        ::shutdown(fd_, SHUT_WR);
        exchange_.wire_closed(facts_.number, false);
        after_failed_handshake(hello ? "the server closed the connection before its first flight"
                                     : "no ClientHello before the timeout");
      }
      return;
    }
    case StartTlsAnswer::inject:
      send(injected_220);
      delay_replies_ = true;
      handshake();
      return;
    case StartTlsAnswer::handshake:
      send("220 2.0.0 Ready to start TLS\r\n");
      handshake();
      return;
  }
}

bool Server::wait_for_record(Clock::time_point until) {
  while (records_seen_ == 0) {
    if (!fill(until)) return false;
  }
  return true;
}

void Server::after_failed_handshake(std::string why) {
  failed_ = true;
  facts_.handshake_failed = true;
  facts_.handshake_error = std::move(why);
  note("handshake failed");
  exchange_.event("handshake failed: " + facts_.handshake_error);
  // From here on only plaintext commands are looked for (TLS records are skipped), none answered.
  if (mode_ != Mode::records) {
    mode_ = Mode::records;
    in_.clear();
    parser_.reset();
  }
}

void Server::handshake() {
  // Plaintext after the STARTTLS line is thrown away (RFC 3207 5, CVE-2011-0411), and noted.
  std::string early = in_;
  if (parser_.pending() > 0 || !early.empty()) {
    exchange_.event("discarded " + std::to_string(early.size() + parser_.pending()) +
                    " octets the client sent after STARTTLS before the 220");
  }
  in_.clear();
  parser_.reset();
  tls_.emplace(tls_context_);
  // This connection's key log alone, though every connection of the case shares the context.
  tls_->set_key_log([&exchange = exchange_, number = facts_.number](std::string_view line) { exchange.key_log(number, line); });
  mode_ = Mode::tls;
  const auto until = wait_until(limits_.timeout);
  const std::size_t before = facts_.client_octets;
  std::string plain;
  tls_->advance(plain);
  flush_tls();
  while (tls_->state() == TlsState::handshaking) {
    if (!fill(until)) break;
  }
  facts_.handshake_started = facts_.client_octets > before;
  if (tls_->state() == TlsState::established) {
    facts_.tls_established = true;
    note("TLS up (" + tls_->version() + ")");
    exchange_.event("handshake done " + tls_->version() + " " + tls_->cipher());
    return;
  }
  std::string why = tls_->state() == TlsState::failed ? tls_->error()
                    : peer_closed_                       ? "the client closed during the handshake"
                                                         : "the handshake did not end before the timeout";
  if (why.empty()) why = "the handshake failed";
  after_failed_handshake(why);
}

void Server::read_message() {
  DataReader reader(64ull << 20);
  const bool inside = mode_ == Mode::tls;
  for (;;) {
    std::string_view view(in_);
    if (auto result = reader.next(view)) {
      in_.erase(0, in_.size() - view.size());
      facts_.data_sent = true;
      facts_.data_inside_tls = inside;
      facts_.data_octets = result->size;
      note(std::string("message (") + std::to_string(result->size) + " octets" + (inside ? ", inside TLS" : ", plaintext") +
           ") answered 451");
      send("451 4.3.0 tlschan client-check never accepts a message; try again later\r\n");
      return;
    }
    in_.clear();
    if (mode_ == Mode::tls && tls_->state() != TlsState::established) return;
    if (!fill(wait_until(limits_.timeout))) return;
  }
}

}  // namespace

void serve_case_connection(int fd, const CaseScript& script, const TlsContext& tls, const ServeLimits& limits,
                           Exchange& exchange, ConnectionFacts& facts) {
  Server server(fd, script, tls, limits, exchange, facts);
  server.run();
}

}  // namespace tlschan::audit

// A real ServerSession under arbitrary client bytes in arbitrary segments (what any client, or a
// meddler, can send a server; semantics.md sections 3 and 7). The input (session_input.hpp) picks
// the server's policy, TLS health and tlsswitchchannel, then gives the chunks a scripted client
// sends, one segment each, without waiting; a chunk holding "STARTTLS\r\n" waits for the reply,
// and after a 220 this target runs a real client-side TlsSession handshake against the server and
// sends the rest inside TLS, exactly as the simulator's scripted client (sim::ScriptSpec with wait =
// false, tls = true) does. After the last chunk the server's idle timeout fires.
//
// Checks, besides memory errors: every byte the server sends is a well-formed reply; STARTTLS is
// listed in an EHLO reply iff the policy is may or must and TLS is not active; a 220 to STARTTLS
// only where the spec allows one; 530 only from a must server before TLS; no message accepted
// without TLS by a must server, every message recorded with the right TLS flag and source channel;
// the session ends after its idle timeout.
//
// TLSCHAN_TRANSCRIPT=FILE: the simulator runs the same input as a scenario and writes its
// transcript to FILE (`tlschan replay FILE`).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "fuzz_environment.hpp"
#include "session_input.hpp"
#include "tlschan/reply.hpp"  // ReplyParser::max_line
#include "tlschan/server_session.hpp"
#include "tlschan/sim/deterministic_tls.hpp"
#include "tlschan/tls.hpp"

namespace {

using namespace tlschan;

class Harness {
 public:
  explicit Harness(const fuzz::ServerChoice& choice) : choice_(choice), server_(config(choice), now_) {
    drain();
  }

  void run(const fuzz::SessionInput& input) {
    for (const std::string_view chunk : input.chunks) {
      if (server_.finished() || awaiting_reply_ || handshake_failed_) break;
      send(chunk);
      // A chunk holding a STARTTLS line waits for the reply: after a 220 the handshake runs and
      // the rest goes inside TLS; after anything else the client waits on, and sends no more.
      if (!client_tls_ && chunk.find("STARTTLS\r\n") != std::string_view::npos) {
        awaiting_reply_ = true;
        if (handshake_next_) handshake();
      }
    }
    // The client sends nothing more and leaves the connection open: the server's idle timeout.
    if (!server_.finished()) {
      const std::optional<Time> due = server_.deadline();
      TLSCHAN_FUZZ_CHECK(due.has_value(), "an open server session without a deadline");
      now_ = std::max(now_, *due);
      server_.on_deadline(now_);
      drain();
    }
    TLSCHAN_FUZZ_CHECK(server_.finished(), "the server session is still open after its idle timeout");
  }

 private:
  static ServerConfig config(const fuzz::ServerChoice& choice) {
    ServerConfig c;
    c.hostname = fuzz::fuzz_server_name;
    c.channel = fuzz::fuzz_incoming_channel;
    c.policy = choice.policy;
    if (choice.switch_channel) c.switch_target = fuzz::fuzz_switch_channel;
    if (choice.health != sim::Health::unavailable) c.tls = fuzz::simulator().server_tls(choice.health);
    return c;
  }

  void send(std::string_view chunk) {
    if (chunk.empty()) return;
    if (client_tls_) {
      client_tls_->write(chunk);
      std::string wire;
      client_tls_->take_output(wire);
      server_.receive(wire, now_);
    } else {
      server_.receive(chunk, now_);
    }
    drain();
  }

  // What the server sent and what happened to it.
  void drain() {
    const std::string_view out = server_.output();
    if (!out.empty()) {
      if (client_tls_) {
        client_tls_->feed(out);
        std::string plain;
        client_tls_->advance(plain);
        read_replies(plain);
      } else {
        read_replies(out);
      }
      server_.consume(out.size());
    }
    while (auto e = server_.next_event()) check_event(*e);
  }

  // Reads the server's replies line by line, without allocating (this target's speed is mostly
  // the server's): every line must be a reply line a client can read, CRLF-terminated, within 512
  // octets, and the lines of one reply must share their code.
  void read_replies(std::string_view bytes) {
    while (!bytes.empty() && !handshake_next_) {
      const std::size_t lf = bytes.find('\n');
      if (lf == std::string_view::npos) {
        partial_.append(bytes);
        TLSCHAN_FUZZ_CHECK(partial_.size() < ReplyParser::max_line, "a reply line over 512 octets");
        return;
      }
      std::string_view line = bytes.substr(0, lf + 1);
      bytes.remove_prefix(lf + 1);
      if (!partial_.empty()) {
        partial_.append(line);
        read_line(partial_);
        partial_.clear();
      } else {
        read_line(line);
      }
    }
    // After the 220 to STARTTLS whatever follows is TLS, read by the handshake.
  }

  void read_line(std::string_view line) {
    const auto show = [&] { return std::string(line.substr(0, 40)); };
    TLSCHAN_FUZZ_CHECK(line.size() <= ReplyParser::max_line && line.size() >= 5 && line.ends_with("\r\n"),
                       "a reply line a client cannot read: " + show());
    const bool code_ok = line[0] >= '1' && line[0] <= '5' && line[1] >= '0' && line[1] <= '5' &&
                         line[2] >= '0' && line[2] <= '9' &&
                         (line[3] == ' ' || line[3] == '-' || line[3] == '\r');
    TLSCHAN_FUZZ_CHECK(code_ok, "a reply line without a code a client can read: " + show());
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    TLSCHAN_FUZZ_CHECK(reply_lines_ == 0 || code == reply_code_,
                       "the lines of one reply disagree on the code: " + show());
    const std::string_view text = line[3] == '\r' ? std::string_view() : line.substr(4, line.size() - 6);
    if (reply_lines_ > 0 && (text == "STARTTLS" || text.starts_with("STARTTLS "))) starttls_listed_ = true;
    reply_code_ = code;
    ++reply_lines_;
    if (line[3] == '-') return;
    check_reply(code, reply_lines_, starttls_listed_);
    reply_lines_ = 0;
    starttls_listed_ = false;
  }

  // One whole reply: its code, its number of lines and whether a line after the first is STARTTLS.
  void check_reply(int code, int lines, bool lists_starttls) {
    const bool tls = tls_up();
    if (greetings_++ == 0) {
      TLSCHAN_FUZZ_CHECK(code == 220, "the greeting is " + std::to_string(code));
      return;
    }
    if (code == 250 && lines > 1) {  // only EHLO replies span lines
      TLSCHAN_FUZZ_CHECK(lists_starttls == (choice_.policy != Policy::no && !tls),
                         std::string("STARTTLS ") + (lists_starttls ? "listed" : "not listed") + " by a " +
                             to_string(choice_.policy) + " server" +
                             (tls ? " with TLS active" : " before TLS"));
    }
    if (code == 220) {
      TLSCHAN_FUZZ_CHECK(choice_.policy != Policy::no && choice_.health != sim::Health::unavailable && !tls,
                         std::string("220 to STARTTLS from a ") + to_string(choice_.policy) +
                             " server, TLS " + sim::to_string(choice_.health) +
                             (tls ? ", TLS already active" : ""));
      handshake_next_ = true;
      accepted_starttls_ = true;
    }
    if (code == 530) {
      TLSCHAN_FUZZ_CHECK(choice_.policy == Policy::must && !tls, std::string("530 from a ") +
                                                                     to_string(choice_.policy) + " server" +
                                                                     (tls ? " with TLS active" : ""));
    }
  }

  void check_event(const ServerEvent& e) {
    if (const auto* m = std::get_if<MessageAccepted>(&e)) {
      TLSCHAN_FUZZ_CHECK(choice_.policy != Policy::must || m->tls,
                         "a must server accepted a message without TLS");
      TLSCHAN_FUZZ_CHECK(m->tls == tls_up(), "a message recorded with the wrong TLS flag");
      const std::string channel =
          m->tls && choice_.switch_channel ? fuzz::fuzz_switch_channel : fuzz::fuzz_incoming_channel;
      TLSCHAN_FUZZ_CHECK(m->channel == channel,
                         "a message recorded on channel " + m->channel + ", expected " + channel);
    } else if (std::holds_alternative<TlsEstablished>(e)) {
      TLSCHAN_FUZZ_CHECK(accepted_starttls_ && choice_.health == sim::Health::ok,
                         "TLS established without a 220 to STARTTLS, or with broken TLS");
    }
  }

  // TLS was established on this connection (it may have been closed since).
  bool tls_up() const { return tls_established_; }

  // The client side of the handshake, moving flights until neither side has more to say.
  void handshake() {
    awaiting_reply_ = false;
    handshake_next_ = false;
    partial_.clear();
    client_tls_.emplace(fuzz::simulator().client_tls());
    for (int flight = 0; flight < 16; ++flight) {
      std::string plain, wire;
      const TlsState state = client_tls_->advance(plain);
      client_tls_->take_output(wire);
      read_replies(plain);
      if (!wire.empty()) server_.receive(wire, now_);
      const std::string_view back = server_.output();
      const bool more = !back.empty();
      if (more) {
        client_tls_->feed(back);
        server_.consume(back.size());
      }
      while (auto e = server_.next_event()) check_event(*e);
      if (state == TlsState::failed || state == TlsState::closed) {
        handshake_failed_ = true;
        server_.on_peer_closed(now_);  // the client gives up and closes, as the scripted one does
        drain();
        return;
      }
      if (state == TlsState::established) tls_established_ = true;
      if (state == TlsState::established && wire.empty() && !more) break;
    }
  }

  fuzz::ServerChoice choice_;
  Time now_{};
  ServerSession server_;
  std::optional<TlsSession> client_tls_;
  std::string partial_;  // a reply line not complete yet
  int reply_code_ = 0;
  int reply_lines_ = 0;  // lines of the reply being read
  bool starttls_listed_ = false;
  int greetings_ = 0;
  bool handshake_next_ = false;     // a 220 to STARTTLS came: the bytes that follow are TLS
  bool accepted_starttls_ = false;  // a 220 to STARTTLS came on this connection
  bool awaiting_reply_ = false;     // the client sent STARTTLS and waits for a 220
  bool handshake_failed_ = false;
  bool tls_established_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::initialize();
  fuzz::simulator();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::SessionInput input = fuzz::split_session_input(data, size);
  const std::uint64_t seed = fuzz::input_seed(data, size);
  if (!fuzz::transcript_request().empty())
    fuzz::write_transcript_if_requested(fuzz::server_session_scenario(input), seed);
  sim::seed_deterministic_rand(seed);
  Harness harness(fuzz::server_choice(input.header));
  harness.run(input);
  return 0;
}

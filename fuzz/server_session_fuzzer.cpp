// A real ServerSession under arbitrary client bytes in arbitrary segments (what any client, or a
// meddler, can send a server; semantics.md sections 3 and 7). The input (session_input.hpp) picks
// the server's policy, TLS health and tlsswitchchannel, then gives the chunks of a scripted client:
// the simulator's own sim::ScriptedClient (ScriptSpec with wait = false, tls = true), which sends
// them one segment each without waiting, waits for the reply to a chunk holding "STARTTLS\r\n",
// and after a 220 runs a real client-side TLS handshake and sends the rest inside TLS. This target
// moves the bytes between it and the server; after the last chunk the server's idle timeout fires.
//
// Checks, besides memory errors: every byte the server sends is a well-formed reply, up to a 220 to
// a STARTTLS line the client did not take for one (a lower-case "starttls", or one cut across two
// chunks), after which the server speaks TLS: there the client reads TLS records; STARTTLS is
// listed in an EHLO reply iff the policy is may or must and TLS is not active; a 220 to STARTTLS
// only where the spec allows one; 530 only from a must server before TLS; no message accepted
// without TLS by a must server, every message recorded with the right TLS flag and source channel;
// the session ends after its idle timeout.
//
// TLSCHAN_TRANSCRIPT=FILE: the simulator runs the same input as a scenario and writes its
// transcript to FILE (`tlschan replay FILE`).
#include <algorithm>
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
#include "tlschan/sim/scripted_peers.hpp"

namespace {

using namespace tlschan;

class Harness {
 public:
  Harness(const fuzz::ServerChoice& choice, const sim::ScriptSpec& script)
      : choice_(choice), server_(config(choice), now_), client_(script, fuzz::simulator().client_tls()) {
    client_.on_reply_line([this](std::string_view line, bool inside_tls) { read_line(line, inside_tls); });
  }

  void run() {
    pump();  // the greeting
    client_.start();
    pump();
    // The client sends nothing more and leaves the connection open: the server's idle timeout.
    if (!server_.finished()) {
      const std::optional<Time> due = server_.deadline();
      TLSCHAN_FUZZ_CHECK(due.has_value(), "an open server session without a deadline");
      now_ = std::max(now_, *due);
      server_.on_deadline(now_);
      pump();
    }
    TLSCHAN_FUZZ_CHECK(server_.finished(), "the server session is still open after its idle timeout");
    // (After a 220 the client did not wait for, what it holds unread is the server's TLS.)
    const bool unseen_220 = accepted_starttls_ && !client_.tls_started();
    TLSCHAN_FUZZ_CHECK(unseen_220 || client_.partial_reply_octets() < ReplyParser::max_line,
                       "a reply line over 512 octets");
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

  // Moves what each side does to the other until neither does more.
  void pump() {
    for (int step = 0; step < 10000; ++step) {
      bool moved = false;
      for (const sim::PeerAction& a : client_.take_actions()) {
        moved = true;
        if (server_.finished()) continue;
        if (a.kind == sim::PeerAction::Kind::send) {
          server_.receive(a.bytes, now_);
        } else if (a.kind == sim::PeerAction::Kind::close) {
          server_.on_peer_closed(now_);  // the client gives up (a failed handshake) and closes
        }
        drain_events();
      }
      const std::string_view out = server_.output();
      if (!out.empty()) {
        moved = true;
        client_.receive(out);
        tls_established_ = tls_established_ || client_.tls_established();
        server_.consume(out.size());
      }
      drain_events();
      if (server_.finished() && !client_.closed()) {
        client_.peer_closed();
        moved = true;
      }
      if (!moved) return;
    }
    TLSCHAN_FUZZ_CHECK(false, "the session did not settle within 10000 steps");
  }

  void drain_events() {
    while (auto e = server_.next_event()) check_event(*e);
  }

  // Each reply line the client reads: a line a client can read, CRLF-terminated, within 512
  // octets, the lines of one reply sharing their code.
  void read_line(std::string_view line, bool inside_tls) {
    const auto show = [&] { return std::string(line.substr(0, 40)); };
    if (accepted_starttls_ && !inside_tls) {
      // The server answered a STARTTLS line the client did not take for one (written "starttls",
      // or cut across two chunks): after its 220 the server speaks TLS, and the client, still in
      // the clear, reads the TLS records as lines. The first of them starts right after the 220,
      // so it starts a TLS record (content type 20 to 23, version 3.x); the rest are not replies.
      if (!tls_after_unseen_220_) {
        tls_after_unseen_220_ = true;
        const auto type = static_cast<unsigned char>(line[0]);
        TLSCHAN_FUZZ_CHECK(line.size() >= 2 && type >= 20 && type <= 23 && line[1] == '\x03',
                           "after its 220 to STARTTLS the server sent something else than a TLS record: " + show());
      }
      return;
    }
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
    check_reply(code, reply_lines_, starttls_listed_, inside_tls);
    reply_lines_ = 0;
    starttls_listed_ = false;
  }

  // One whole reply: its code, its number of lines and whether a line after the first is STARTTLS.
  void check_reply(int code, int lines, bool lists_starttls, bool tls) {
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
      TLSCHAN_FUZZ_CHECK(m->tls == tls_established_, "a message recorded with the wrong TLS flag");
      const std::string channel =
          m->tls && choice_.switch_channel ? fuzz::fuzz_switch_channel : fuzz::fuzz_incoming_channel;
      TLSCHAN_FUZZ_CHECK(m->channel == channel,
                         "a message recorded on channel " + m->channel + ", expected " + channel);
    } else if (std::holds_alternative<TlsEstablished>(e)) {
      TLSCHAN_FUZZ_CHECK(accepted_starttls_ && choice_.health == sim::Health::ok,
                         "TLS established without a 220 to STARTTLS, or with broken TLS");
    }
  }

  fuzz::ServerChoice choice_;
  Time now_{};
  ServerSession server_;
  sim::ScriptedClient client_;
  int reply_code_ = 0;
  int reply_lines_ = 0;  // lines of the reply being read
  bool starttls_listed_ = false;
  int greetings_ = 0;
  bool accepted_starttls_ = false;  // a 220 to STARTTLS came on this connection
  bool tls_after_unseen_220_ = false;  // the client read the server's TLS as lines
  bool tls_established_ = false;    // the client's handshake completed (TLS may have closed since)
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::initialize(fuzz::WithSimulator::yes);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::SessionInput input = fuzz::start_session_input(data, size, fuzz::server_session_scenario);
  const sim::ScriptSpec script = fuzz::server_session_script(input);
  Harness harness(fuzz::server_choice(input.header), script);
  harness.run();
  return 0;
}

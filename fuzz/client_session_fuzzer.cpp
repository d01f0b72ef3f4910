// A real ClientSession under arbitrary server replies, before and after the 220 to STARTTLS and
// inside TLS (what any server, or a meddler, can send a client; semantics.md sections 4 and 8).
// The input (session_input.hpp) picks the client's policy, then gives the chunks of a scripted
// server: the simulator's own sim::ScriptedServer (ServerScriptSpec with tls = true), whose first
// chunk is the greeting, each next one answering client bytes that ended at a line end; a chunk
// starting with 220 that answers a STARTTLS line is followed by a real server-side TLS handshake and
// the chunks after it go inside TLS, and when the chunks run out the server closes. A may client's
// fallback connection starts the script again. Client timeouts fire whenever the client waits and
// the script has nothing to say. The message is the simulator's: its tag line first
// (sim::message_tag), dot-stuffed by the engine's dot_stuff.
//
// Checks, besides memory errors: a must client sends nothing but EHLO, HELO, STARTTLS and QUIT
// outside TLS (no MAIL, RCPT or message byte); a no client never sends STARTTLS; STARTTLS at most
// once per connection, never inside TLS, never on the fallback connection; after the handshake
// the first command is EHLO; the client waits for each reply: every batch it sends is one command
// line or the whole message; the attempt ends, and a recipient delivered under must, or marked
// delivered over TLS, was delivered over an established TLS session.
//
// TLSCHAN_TRANSCRIPT=FILE: the simulator runs the same input as a scenario and writes its
// transcript to FILE (`tlschan replay FILE`).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "fuzz_environment.hpp"
#include "session_input.hpp"
#include "tlschan/client_session.hpp"
#include "tlschan/data_reader.hpp"  // dot_stuffed
#include "tlschan/sim/scripted_peers.hpp"

namespace {

using namespace tlschan;

// The message as the simulator's client sends it: the simulator puts its tag line first.
OutgoingMessage message() {
  const sim::MessageSpec m = fuzz::fuzz_message();
  return OutgoingMessage{{m.from, m.to}, sim::message_tag(1) + m.body};
}

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

class Harness {
 public:
  Harness(Policy policy, const sim::ServerScriptSpec& script, ClientSession& client)
      : policy_(policy), script_(script), client_(client), wire_data_(dot_stuffed(message().data)) {}

  void run() {
    for (int connection = 1; connection <= 2; ++connection) {
      run_connection(connection);
      if (!client_.wants_reconnect()) break;
      TLSCHAN_FUZZ_CHECK(connection == 1, "the client asks for a third connection");
      TLSCHAN_FUZZ_CHECK(policy_ == Policy::may,
                         "a " + std::string(to_string(policy_)) + " client falls back to plaintext");
      client_.reconnected(now_);
      fallback_ = true;
    }
    TLSCHAN_FUZZ_CHECK(client_.done(), "the delivery attempt did not end");
    for (const RecipientOutcome& o : client_.outcomes()) {
      if (o.disposition != Disposition::delivered) continue;
      TLSCHAN_FUZZ_CHECK(policy_ != Policy::must || o.tls,
                         "a must client delivered " + o.recipient + " without TLS");
      TLSCHAN_FUZZ_CHECK(!o.tls || (tls_established_ && tls_delivery_),
                         o.recipient + " marked delivered over TLS without the message going inside TLS");
    }
  }

 private:
  void run_connection(int connection) {
    // Each connection meets the script from its start, as in the simulator.
    server_.emplace(script_, fuzz::simulator().server_tls(sim::Health::ok));
    server_->on_read([this](std::string_view plain, bool inside_tls) { check_batch(plain, inside_tls); });
    starttls_sent_ = false;
    tls_commands_ = 0;
    server_->start();  // the greeting (or an immediate close when the script is empty)
    for (int step = 0; step < 10000; ++step) {
      const bool moved = pump();
      if (client_.connection_finished()) {
        // What the client still sends goes out on this connection, before it closes.
        client_.consume(client_.output().size());
        return;
      }
      if (!moved) {
        // The client waits and the script has nothing to say: the client's timer fires.
        const std::optional<Time> due = client_.deadline();
        TLSCHAN_FUZZ_CHECK(due.has_value(), "connection " + std::to_string(connection) +
                                                ": the client waits with no deadline and nothing will come");
        now_ = std::max(now_, *due);
        client_.on_deadline(now_);
      }
    }
    TLSCHAN_FUZZ_CHECK(false, "connection " + std::to_string(connection) + " did not end within 10000 steps");
  }

  // One round: what the server did goes to the client, what the client sent goes to the server.
  // Returns whether anything moved.
  bool pump() {
    bool moved = false;
    for (const sim::PeerAction& a : server_->take_actions()) {
      moved = true;
      if (client_.connection_finished()) continue;
      if (a.kind == sim::PeerAction::Kind::send) {
        client_.receive(a.bytes, now_);
      } else if (a.kind == sim::PeerAction::Kind::close) {
        client_.on_peer_closed(now_, /*reset=*/false);
      }
    }
    const std::string_view out = client_.output();
    if (!out.empty()) {
      moved = true;
      server_->receive(out);
      client_.consume(out.size());
    }
    while (auto e = client_.next_event()) {
      if (std::holds_alternative<TlsEstablished>(*e)) tls_established_ = true;
    }
    if (client_.connection_finished() && !server_->closed()) server_->peer_closed();  // the client closed
    return moved;
  }

  // One batch of what the client sent in answer to one reply (or to a timeout, or the handshake),
  // as the scripted server read it.
  void check_batch(std::string_view plain, bool inside_tls) {
    if (plain.empty()) return;
    const std::string where = inside_tls  ? " inside TLS"
                              : fallback_ ? " on the fallback connection"
                                          : " before TLS";
    if (plain == wire_data_) {
      TLSCHAN_FUZZ_CHECK(inside_tls || policy_ != Policy::must, "a must client sent the message outside TLS");
      if (inside_tls) tls_delivery_ = true;
      return;
    }
    const std::size_t lf = plain.find('\n');
    TLSCHAN_FUZZ_CHECK(lf == plain.size() - 1 && plain.ends_with("\r\n"),
                       "the client sent more than one command, or a partial one, at once" + where + ": " +
                           std::string(plain));
    const std::string verb = upper(plain.substr(0, std::min(plain.find(' '), plain.size() - 2)));
    if (inside_tls && tls_commands_++ == 0) {
      TLSCHAN_FUZZ_CHECK(verb == "EHLO", "the first command inside TLS is " + verb + ", not EHLO");
    }
    if (verb == "STARTTLS") {
      TLSCHAN_FUZZ_CHECK(policy_ != Policy::no, "a no client sent STARTTLS");
      TLSCHAN_FUZZ_CHECK(!inside_tls, "STARTTLS inside TLS");
      TLSCHAN_FUZZ_CHECK(!fallback_, "STARTTLS on the fallback connection");
      TLSCHAN_FUZZ_CHECK(!starttls_sent_, "STARTTLS twice on one connection");
      starttls_sent_ = true;
    }
    if (policy_ == Policy::must && !inside_tls) {
      TLSCHAN_FUZZ_CHECK(verb == "EHLO" || verb == "HELO" || verb == "STARTTLS" || verb == "QUIT",
                         "a must client sent " + verb + " outside TLS");
    }
  }

  Policy policy_;
  const sim::ServerScriptSpec& script_;
  ClientSession& client_;
  const std::string wire_data_;  // the message as it goes on the wire, dot-stuffed, with ".CRLF"
  Time now_{};
  std::optional<sim::ScriptedServer> server_;  // the script on the current connection
  bool starttls_sent_ = false;
  int tls_commands_ = 0;
  bool fallback_ = false;
  bool tls_established_ = false;
  bool tls_delivery_ = false;  // the message went out inside TLS
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::initialize(fuzz::WithSimulator::yes);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::SessionInput input = fuzz::start_session_input(data, size, fuzz::client_session_scenario);
  const Policy policy = fuzz::client_choice(input.header).policy;
  ClientConfig config;
  config.helo_name = fuzz::fuzz_client_name;
  config.policy = policy;
  config.tls = fuzz::simulator().client_tls();
  auto client = ClientSession::create(config, message(), Time{});
  TLSCHAN_FUZZ_CHECK(client.has_value(), "the client refuses a valid message");
  const sim::ServerScriptSpec script = fuzz::client_session_script(input);
  Harness harness(policy, script, *client);
  harness.run();
  return 0;
}

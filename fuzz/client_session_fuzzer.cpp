// A real ClientSession under arbitrary server replies, before and after the 220 to STARTTLS and
// inside TLS (what any server, or a meddler, can send a client; semantics.md sections 4 and 8).
// The input (session_input.hpp) picks the client's policy, then gives the chunks a scripted server
// answers with, exactly as the simulator's scripted server (sim::ServerScriptSpec, tls = true)
// does: the first chunk is the greeting, each next one answers client bytes that ended at a line
// end, a chunk starting with 220 that answers a STARTTLS line is followed by a real server-side
// TlsSession handshake and the chunks after it go inside TLS, and when the chunks run out the
// server closes. A may client's fallback connection starts the script again. Client timeouts fire
// whenever the client waits and the script has nothing to say.
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
#include "tlschan/sim/deterministic_tls.hpp"
#include "tlschan/tls.hpp"

namespace {

using namespace tlschan;

// The message as the simulator's client sends it: the simulator tags every body with a header
// line naming the message, so this target sends the same bytes.
OutgoingMessage message() {
  const sim::MessageSpec m = fuzz::fuzz_message();
  return OutgoingMessage{{m.from, m.to}, "X-Tlschan-Message: 1\r\n" + m.body};
}

std::string stuffed(std::string_view data) {
  std::string out;
  bool line_start = true;
  for (const char c : data) {
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  return out + ".\r\n";
}

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

class Harness {
 public:
  Harness(Policy policy, const fuzz::SessionInput& input, ClientSession& client)
      : policy_(policy), input_(input), client_(client), wire_data_(stuffed(message().data)) {}

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
    next_ = 0;
    server_tls_.reset();
    starttls_pending_ = false;
    starttls_sent_ = false;
    tls_commands_ = 0;
    server_open_ = true;
    reply();  // the greeting (or an immediate close when the script is empty)
    for (int step = 0; step < 10000; ++step) {
      pump_client();
      if (client_.connection_finished()) {
        // What the client still sends goes out on this connection, before it closes.
        client_.consume(client_.output().size());
        return;
      }
      if (!progress_) {
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

  // The script's next chunk, or its close when none is left.
  void reply() {
    progress_ = true;
    if (!server_open_) return;
    if (next_ >= input_.chunks.size()) {
      server_open_ = false;
      client_.on_peer_closed(now_, /*reset=*/false);
      return;
    }
    const std::string_view chunk = input_.chunks[next_++];
    deliver(chunk);
    if (!server_tls_ && starttls_pending_ && chunk.starts_with("220")) {
      server_tls_.emplace(fuzz::simulator().server_tls(sim::Health::ok));
    }
    starttls_pending_ = false;
  }

  void deliver(std::string_view plain) {
    if (server_tls_) {
      server_tls_->write(plain);
      std::string wire;
      server_tls_->take_output(wire);
      client_.receive(wire, now_);
    } else {
      client_.receive(plain, now_);
    }
  }

  void pump_client() {
    progress_ = false;
    const std::string bytes(client_.output());
    client_.consume(bytes.size());
    while (auto e = client_.next_event()) {
      if (std::holds_alternative<TlsEstablished>(*e)) tls_established_ = true;
    }
    if (bytes.empty()) {
      if (client_.connection_finished() && server_open_) server_open_ = false;  // the client closed
      return;
    }
    progress_ = true;
    if (!server_open_) return;
    std::string plain = bytes;
    bool inside_tls = false;
    if (server_tls_) {
      server_tls_->feed(bytes);
      plain.clear();
      const TlsState state = server_tls_->advance(plain);
      std::string wire;
      server_tls_->take_output(wire);
      if (!wire.empty()) client_.receive(wire, now_);
      if (state == TlsState::failed || state == TlsState::closed) {
        server_open_ = false;
        client_.on_peer_closed(now_, /*reset=*/false);
        return;
      }
      if (state != TlsState::established) return;
      inside_tls = true;
    }
    check_batch(plain, inside_tls);
    if (upper(plain).find("STARTTLS\r\n") != std::string::npos) starttls_pending_ = true;
    if (plain.empty() || plain.back() != '\n') return;
    reply();
  }

  // One batch of what the client sent in answer to one reply (or to a timeout, or the handshake).
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
  const fuzz::SessionInput& input_;
  ClientSession& client_;
  const std::string wire_data_;  // the message as it goes on the wire, dot-stuffed, with ".CRLF"
  Time now_{};
  std::size_t next_ = 0;  // the script's next chunk
  std::optional<TlsSession> server_tls_;
  bool server_open_ = true;
  bool starttls_pending_ = false;  // the client's last batch held a STARTTLS line
  bool starttls_sent_ = false;
  int tls_commands_ = 0;
  bool progress_ = false;
  bool fallback_ = false;
  bool tls_established_ = false;
  bool tls_delivery_ = false;  // the message went out inside TLS
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
    fuzz::write_transcript_if_requested(fuzz::client_session_scenario(input), seed);
  sim::seed_deterministic_rand(seed);
  const Policy policy = fuzz::client_choice(input.header).policy;
  ClientConfig config;
  config.helo_name = fuzz::fuzz_client_name;
  config.policy = policy;
  config.tls = fuzz::simulator().client_tls();
  auto client = ClientSession::create(config, message(), Time{});
  TLSCHAN_FUZZ_CHECK(client.has_value(), "the client refuses a valid message");
  Harness harness(policy, input, *client);
  harness.run();
  return 0;
}

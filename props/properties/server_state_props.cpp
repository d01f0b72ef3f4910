// 2. The server state machine: random command sequences (pipelined groups, DATA with random bodies
// and smuggling sequences, STARTTLS with real handshakes) against the spec's reply model, for every
// server policy and TLS health, before and after TLS.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <sstream>

#include "engine/server_harness.hpp"
#include "failure_transcript.hpp"
#include "scenario_gen.hpp"
#include "tlschan/oracle/server_model.hpp"

namespace tlschan::props {
namespace {

using Cmd = oracle::Command;

std::string bytes_of(Cmd c) {
  switch (c) {
    case Cmd::ehlo: return "EHLO client.example\r\n";
    case Cmd::helo: return "HELO client.example\r\n";
    case Cmd::hello_without_domain: return "EHLO\r\n";
    case Cmd::mail: return "MAIL FROM:<a@example.org>\r\n";
    case Cmd::mail_bad_syntax: return "MAIL FROM:a@example.org\r\n";
    case Cmd::mail_unknown_parameter: return "MAIL FROM:<a@example.org> FOO=BAR\r\n";
    case Cmd::mail_size_over_limit: return "MAIL FROM:<a@example.org> SIZE=99999999999\r\n";
    case Cmd::rcpt: return "RCPT TO:<b@example.net>\r\n";
    case Cmd::rcpt_without_path: return "RCPT TO:\r\n";
    case Cmd::data: return "DATA\r\n";
    case Cmd::data_with_argument: return "DATA now\r\n";
    case Cmd::rset: return "RSET\r\n";
    case Cmd::noop: return "NOOP\r\n";
    case Cmd::quit: return "QUIT\r\n";
    case Cmd::vrfy: return "VRFY bob\r\n";
    case Cmd::vrfy_without_argument: return "VRFY\r\n";
    case Cmd::expn: return "EXPN staff\r\n";
    case Cmd::help: return "HELP\r\n";
    case Cmd::starttls: return "STARTTLS\r\n";
    case Cmd::starttls_with_argument: return "STARTTLS now\r\n";
    case Cmd::unknown_verb: return "XYZZY\r\n";
    case Cmd::line_too_long: return "NOOP " + std::string(600, 'x') + "\r\n";
    case Cmd::bare_lf: return "NOOP\n";
    case Cmd::nul: return std::string("NO\0OP\r\n", 7);
    case Cmd::bare_cr: return "NO\rOP\r\n";
    case Cmd::noop_at_line_limit: return "NOOP " + std::string(512 - 7, 'x') + "\r\n";
    case Cmd::noop_one_past_line_limit: return "NOOP " + std::string(513 - 7, 'x') + "\r\n";
  }
  return "";
}

const char* name_of(Cmd c) {
  static const char* names[] = {"ehlo", "helo", "hello_without_domain", "mail", "mail_bad_syntax",
                                "mail_unknown_parameter", "mail_size_over_limit", "rcpt", "rcpt_without_path",
                                "data", "data_with_argument", "rset", "noop", "quit", "vrfy",
                                "vrfy_without_argument", "expn", "help", "starttls", "starttls_with_argument",
                                "unknown_verb", "line_too_long", "bare_lf", "nul", "bare_cr",
                                "noop_at_line_limit", "noop_one_past_line_limit"};
  return names[static_cast<int>(c)];
}

// The smuggling sequences of prior-art.md: none of them ends the data.
const std::vector<std::string> smuggling = {
    "\n.\n", "\r.\r", "\r.\n", "\n.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r",
    std::string("\r\n\0.\r\n", 6), std::string("\r\n.\0\r\n", 6), "\r\n.\r\r\n", "\r\r\n.\r\r\n"};

struct Body {
  std::string wire;  // as sent, dot-stuffed, without the final ".\r\n"
  bool malformed = false;
};

// The spec's judgement of a body, written here (not the engine's): a bare CR, a bare LF, a NUL or a
// line over 1000 octets with its CRLF makes the whole message refused; a dot at a line's start, the
// stuffing dot, is not counted (RFC 5321 4.5.3.1.6).
bool malformed(const std::string& wire) {
  std::size_t line = 0;
  bool line_start = true;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    const char c = wire[i];
    if (c == '\0') return true;
    if (c == '\r' && (i + 1 >= wire.size() || wire[i + 1] != '\n')) return true;
    if (c == '\n' && (i == 0 || wire[i - 1] != '\r')) return true;
    const bool stuffing_dot = line_start && c == '.';  // only the first octet of a line
    line_start = false;
    if (!stuffing_dot) ++line;
    if (c == '\n') {
      if (line > 1000) return true;
      line = 0;
      line_start = true;
    }
  }
  return false;
}

// A body line's text (before dot-stuffing and CRLF). The lengths that matter have real weight: a
// line of exactly 1000 octets with its CRLF, one of 1001, the same with a leading dot (whose
// stuffing dot is not counted), and far longer ones.
rc::Gen<std::string> gen_body_line() {
  return rc::gen::exec([] {
    std::string line = *rc::gen::container<std::string>(rc::gen::element('a', 'b', '.', ' ', ':'));
    const int kind = *rc::gen::weightedElement<int>({{6, 0}, {2, 1}, {2, 2}, {1, 3}});
    if (kind == 1 || kind == 2) {
      const std::size_t text = kind == 1 ? 998 : 999;  // 1000 or 1001 octets with the CRLF
      if (*rc::gen::weightedElement<bool>({{2, false}, {1, true}})) line.insert(0, ".");
      line.resize(text, 'l');
    } else if (kind == 3) {
      line += std::string(1000, 'l');
    }
    return line;
  });
}

// A body: lines, dot-stuffed, and in half of the bodies a smuggling sequence inside a line, at its
// start or its end, or alone on it. None of them ends the data.
rc::Gen<Body> gen_body() {
  return rc::gen::exec([] {
    Body b;
    const auto lines = *rc::gen::inRange(0, 6);
    const int smuggle_at = *rc::gen::weightedElement<bool>({{1, false}, {1, true}}) ? *rc::gen::inRange(0, lines + 1) : -1;
    for (int i = 0; i <= lines; ++i) {
      std::string line;
      if (i < lines) {
        line = *gen_body_line();
        if (!line.empty() && line.front() == '.') line.insert(0, ".");  // dot-stuffing
      }
      if (i == smuggle_at) {
        const std::string before = *rc::gen::element<std::string>("", "x");
        const std::string after = *rc::gen::element<std::string>("", "x");
        line += before + *rc::gen::elementOf(smuggling) + after;
      }
      if (i < lines || i == smuggle_at) b.wire += line + "\r\n";
    }
    b.malformed = malformed(b.wire);
    return b;
  });
}

// Every chunk sent so far, for the failure transcript. rapidcheck copies the model at each step of
// generating and of running a command sequence: a shared list of immutable nodes makes that copy one
// pointer instead of every chunk so far (the copies were most of this property's time).
class SentLog {
 public:
  void push_back(std::string chunk) { head_ = std::make_shared<const Node>(Node{std::move(chunk), std::move(head_)}); }
  std::vector<std::string> chunks() const {
    std::vector<std::string> out;
    for (const Node* n = head_.get(); n != nullptr; n = n->prev.get()) out.push_back(n->chunk);
    return {out.rbegin(), out.rend()};
  }

 private:
  struct Node {
    std::string chunk;
    std::shared_ptr<const Node> prev;
  };
  std::shared_ptr<const Node> head_;
};

struct Model {
  oracle::ServerModel server;
  SentLog sent;
};

struct Sut {
  test::ServerHarness harness;
  Policy policy;
  sim::Health health;
};

// The replies to a DATA command and, after a 354, to the body that follows it.
void apply_data(Model& m, const Body& body) {
  m.sent.push_back("DATA\r\n");
  const auto r = m.server.apply(Cmd::data);
  if (r.code == 354) {
    m.sent.push_back(body.wire + ".\r\n");
    m.server.data_reply(body.malformed, false);
  }
}

void expect_reply(const std::string& got, const oracle::ModelReply& want, bool then_421);

void run_data(Model& next, Sut& sut, const Body& body) {
  const auto want = next.server.apply(Cmd::data);
  const std::string got = sut.harness.send("DATA\r\n");
  expect_reply(got, want, next.server.error_limit_reached());
  if (want.code != 354) return;
  RC_ASSERT(sut.harness.events_of<MessageAccepted>().empty());
  const std::string end = sut.harness.send(body.wire + ".\r\n");
  const auto want_end = next.server.data_reply(body.malformed, false);
  expect_reply(end, want_end, false);
  RC_ASSERT(sut.harness.events_of<MessageAccepted>().size() == (want_end.code == 250 ? 1u : 0u));
}

// The final reply code of each reply in `text`, and the lines of the last reply.
std::vector<std::string> final_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() >= 4 && line[3] == '-') continue;
    out.push_back(line);
  }
  return out;
}

void expect_reply(const std::string& got, const oracle::ModelReply& want, bool then_421) {
  const auto finals = final_lines(got);
  if (want.code == 0) {
    RC_ASSERT(got.empty());
    return;
  }
  RC_ASSERT(finals.size() == (then_421 ? 2u : 1u));
  RC_ASSERT(finals[0].substr(0, 3) == std::to_string(want.code));
  if (!want.enhanced.empty()) RC_ASSERT(finals[0].substr(4, want.enhanced.size()) == want.enhanced);
  if (then_421) RC_ASSERT(finals[1].substr(0, 9) == "421 4.7.0");
}

struct Send : rc::state::Command<Model, Sut> {
  // Weighted toward the transaction and STARTTLS, so that most sequences get past TLS.
  Cmd command = *rc::gen::weightedElement<Cmd>({
      {6, Cmd::ehlo}, {2, Cmd::helo}, {1, Cmd::hello_without_domain}, {6, Cmd::mail}, {1, Cmd::mail_bad_syntax},
      {1, Cmd::mail_unknown_parameter}, {1, Cmd::mail_size_over_limit}, {6, Cmd::rcpt}, {1, Cmd::rcpt_without_path},
      {1, Cmd::data_with_argument}, {2, Cmd::rset}, {2, Cmd::noop}, {1, Cmd::quit}, {2, Cmd::vrfy},
      {1, Cmd::vrfy_without_argument}, {1, Cmd::expn}, {1, Cmd::help}, {5, Cmd::starttls}, {1, Cmd::starttls_with_argument},
      {1, Cmd::unknown_verb}, {1, Cmd::line_too_long}, {1, Cmd::bare_lf}, {1, Cmd::nul}, {1, Cmd::bare_cr},
      {1, Cmd::noop_at_line_limit}, {1, Cmd::noop_one_past_line_limit}});

  void checkPreconditions(const Model& m) const override { RC_PRE(!m.server.closed()); }

  void apply(Model& m) const override {
    m.sent.push_back(bytes_of(command));
    const auto r = m.server.apply(command);
    if (command == Cmd::starttls && r.code == 220) m.server.after_starttls_220();
  }

  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    const oracle::ModelReply want = next.server.apply(command);
    const std::string got = sut.harness.send(bytes_of(command));
    expect_reply(got, want, next.server.error_limit_reached());
    if ((command == Cmd::ehlo) && want.code == 250) {
      const bool listed = got.find("STARTTLS\r\n") != std::string::npos;
      RC_ASSERT(listed == next.server.lists_starttls());
    }
    if (command == Cmd::starttls && want.code == 220) {
      const bool up = sut.harness.start_tls();
      RC_ASSERT(up == (sut.health == sim::Health::ok));
      RC_ASSERT(sut.harness.take_greeting().empty());  // no second greeting
    }
    if (next.server.closed()) RC_ASSERT(sut.harness.server().finished());
  }

  void show(std::ostream& os) const override { os << "Send(" << name_of(command) << ")"; }
};

struct SendData : rc::state::Command<Model, Sut> {
  Body body = *gen_body();

  void checkPreconditions(const Model& m) const override { RC_PRE(!m.server.closed()); }

  void apply(Model& m) const override { apply_data(m, body); }

  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    run_data(next, sut, body);
  }

  void show(std::ostream& os) const override {
    os << "SendData(" << body.wire.size() << " octets" << (body.malformed ? ", malformed" : "") << ")";
  }
};

// MAIL, RCPT, then DATA with a body, each waiting for its reply: most sequences reach the body.
struct SendTransaction : rc::state::Command<Model, Sut> {
  Body body = *gen_body();

  void checkPreconditions(const Model& m) const override { RC_PRE(!m.server.closed()); }

  void apply(Model& m) const override {
    for (const Cmd c : {Cmd::mail, Cmd::rcpt}) {
      if (m.server.closed()) return;
      m.sent.push_back(bytes_of(c));
      m.server.apply(c);
    }
    if (!m.server.closed()) apply_data(m, body);
  }

  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    for (const Cmd c : {Cmd::mail, Cmd::rcpt}) {
      if (next.server.closed()) return;
      const auto want = next.server.apply(c);
      expect_reply(sut.harness.send(bytes_of(c)), want, next.server.error_limit_reached());
    }
    if (!next.server.closed()) run_data(next, sut, body);
  }

  void show(std::ostream& os) const override {
    os << "SendTransaction(" << body.wire.size() << " octets" << (body.malformed ? ", malformed" : "") << ")";
  }
};

// STARTTLS (with or without an argument) with more bytes in the same segment: whole commands, then
// maybe a partial line. Whatever the reply, exactly those bytes are discarded, never answered, and
// the next command is read as if they had never come (3.2.1).
struct SendStarttlsPipelined : rc::state::Command<Model, Sut> {
  bool with_argument = *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
  std::vector<Cmd> after = *rc::gen::container<std::vector<Cmd>>(
      *rc::gen::inRange<std::size_t>(0, 3), rc::gen::element(Cmd::ehlo, Cmd::mail, Cmd::rcpt, Cmd::noop, Cmd::quit,
                                                             Cmd::unknown_verb, Cmd::starttls, Cmd::data));
  std::string partial = *rc::gen::element<std::string>("", "", "NOOP", "MAIL FROM:<a@example.org>", "QUIT\r", "RSET\r");

  Cmd command() const { return with_argument ? Cmd::starttls_with_argument : Cmd::starttls; }

  std::string tail() const {
    std::string t;
    for (const Cmd c : after) t += bytes_of(c);
    return t + partial;
  }

  void checkPreconditions(const Model& m) const override { RC_PRE(!m.server.closed()); }

  void apply(Model& m) const override {
    m.sent.push_back(bytes_of(command()) + tail());
    const auto r = m.server.apply(command());
    if (r.code == 220) m.server.after_starttls_220();
  }

  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    const auto want = next.server.apply(command());
    sut.harness.events();  // what earlier commands caused
    const std::string got = sut.harness.send(bytes_of(command()) + tail());
    expect_reply(got, want, next.server.error_limit_reached());
    const auto discarded = sut.harness.events_of<PlaintextDiscarded>();
    RC_ASSERT(discarded.size() == 1u);
    RC_ASSERT(discarded[0].bytes == tail().size());
    if (want.code == 220) {
      const bool up = sut.harness.start_tls();
      RC_ASSERT(up == (sut.health == sim::Health::ok));
      RC_ASSERT(sut.harness.take_greeting().empty());
    }
    if (next.server.closed()) RC_ASSERT(sut.harness.server().finished());
  }

  void show(std::ostream& os) const override {
    os << "SendStarttlsPipelined(" << name_of(command()) << " + " << tail().size() << " octets)";
  }
};

// A pipelined group: several commands in one segment, answered in order.
struct SendPipelined : rc::state::Command<Model, Sut> {
  std::vector<Cmd> group = *rc::gen::container<std::vector<Cmd>>(
      *rc::gen::inRange<std::size_t>(2, 5),
      rc::gen::element(Cmd::ehlo, Cmd::mail, Cmd::rcpt, Cmd::noop, Cmd::rset, Cmd::vrfy,
                       Cmd::unknown_verb, Cmd::bare_lf, Cmd::mail_unknown_parameter));

  void checkPreconditions(const Model& m) const override { RC_PRE(!m.server.closed()); }

  std::string bytes() const {
    std::string all;
    for (const Cmd c : group) all += bytes_of(c);
    return all;
  }

  void apply(Model& m) const override {
    m.sent.push_back(bytes());
    for (const Cmd c : group) m.server.apply(c);
  }

  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    std::vector<int> want;
    for (const Cmd c : group) {
      if (next.server.closed()) break;
      want.push_back(next.server.apply(c).code);
      if (next.server.error_limit_reached()) want.push_back(421);
    }
    const auto finals = final_lines(sut.harness.send(bytes()));
    RC_ASSERT(finals.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) RC_ASSERT(finals[i].substr(0, 3) == std::to_string(want[i]));
  }

  void show(std::ostream& os) const override {
    os << "SendPipelined(";
    for (const Cmd c : group) os << name_of(c) << " ";
    os << ")";
  }
};

// Error replies up to the limit of 20 and around it: one short, exactly, one past (section 7).
struct SendErrors : rc::state::Command<Model, Sut> {
  std::vector<Cmd> group;

  SendErrors() = default;
  explicit SendErrors(const Model& m) {
    const int n = std::max(1, 20 - m.server.errors() + *rc::gen::inRange(-1, 2));
    group = *rc::gen::container<std::vector<Cmd>>(
        static_cast<std::size_t>(n), rc::gen::element(Cmd::unknown_verb, Cmd::bare_lf, Cmd::nul, Cmd::bare_cr,
                                                      Cmd::noop_one_past_line_limit, Cmd::hello_without_domain,
                                                      Cmd::mail_unknown_parameter, Cmd::rcpt_without_path));
  }

  void checkPreconditions(const Model& m) const override { RC_PRE(!m.server.closed() && !group.empty()); }

  std::string bytes() const {
    std::string all;
    for (const Cmd c : group) all += bytes_of(c);
    return all;
  }

  void apply(Model& m) const override {
    m.sent.push_back(bytes());
    for (const Cmd c : group) m.server.apply(c);
  }

  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    std::vector<int> want;
    for (const Cmd c : group) {
      if (next.server.closed()) break;
      want.push_back(next.server.apply(c).code);
      if (next.server.error_limit_reached()) want.push_back(421);
    }
    const auto finals = final_lines(sut.harness.send(bytes()));
    RC_ASSERT(finals.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) RC_ASSERT(finals[i].substr(0, 3) == std::to_string(want[i]));
    RC_ASSERT(sut.harness.server().finished() == next.server.closed());
  }

  void show(std::ostream& os) const override { os << "SendErrors(" << group.size() << ")"; }
};

oracle::Pol pol(Policy p) {
  return p == Policy::no ? oracle::Pol::no : p == Policy::may ? oracle::Pol::may : oracle::Pol::must;
}
oracle::Health hl(sim::Health h) {
  return h == sim::Health::ok ? oracle::Health::ok
         : h == sim::Health::unavailable ? oracle::Health::unavailable
                                         : oracle::Health::broken;
}

ServerConfig config_for(Policy policy, sim::Health health) {
  ServerConfig c = test::server_config(policy, health != sim::Health::unavailable);
  if (health == sim::Health::broken) c.tls = test::broken_server_tls();
  return c;
}

// The command sequence as a scripted client of the simulator, for the failure transcript.
sim::Scenario script_scenario(Policy policy, sim::Health health, bool tls_port, const std::vector<std::string>& sent) {
  sim::Scenario s;
  // A scripted client speaks no implicit TLS: a TLS-port case is replayed on the regular port.
  s.name = tls_port ? "server state machine (minimal failing case, found on the TLS port)"
                    : "server state machine (minimal failing case)";
  s.server.policy = policy;
  s.server.health = health;
  s.messages.clear();
  s.scripts.push_back(sim::ScriptSpec{sent, true, true});
  return s;
}

RC_GTEST_PROP(ServerStateMachine, EveryReplyAsTheSpecSays, ()) {
  const Policy policy = *gen_policy();
  const sim::Health health = *gen_health();
  // On the TLS port (3.5) the session is TLS-active from the start, after a successful handshake.
  const bool tls_port =
      policy != Policy::no && health == sim::Health::ok && *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
  Model initial{oracle::ServerModel(pol(policy), hl(health)), {}};
  if (tls_port) initial.server.start_on_tls_port();
  Sut sut{tls_port ? test::ServerHarness::tls_port(config_for(policy, health)) : test::ServerHarness(config_for(policy, health)),
          policy, health};
  if (tls_port) {
    RC_ASSERT(sut.harness.server().tls_active());
    RC_ASSERT(sut.harness.take_greeting().substr(0, 4) == "220 ");
  } else {
    RC_ASSERT(sut.harness.read().substr(0, 4) == "220 ");
  }
  const auto commands = *rc::state::gen::commands(
      initial, rc::state::gen::execOneOfWithArgs<Send, Send, Send, SendData, SendTransaction, SendTransaction, SendPipelined,
                                                 SendStarttlsPipelined, SendErrors>());
  // Replays the commands on the model to know what was sent, for the transcript if it fails.
  Model replayed = initial;
  for (const auto& c : commands) c->apply(replayed);
  RecordOnFailure record("ServerStateMachine.EveryReplyAsTheSpecSays",
                         script_scenario(policy, health, tls_port, replayed.sent.chunks()), 1);
  rc::state::runAll(commands, initial, sut);
}

}  // namespace
}  // namespace tlschan::props

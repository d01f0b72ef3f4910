// The simulator's sessions against the physical floor (a bare TLS 1.3 handshake between two memory
// BIOs, same certificate, same pinned parameters), and the SMTP parsers against a bare memchr scan.
// Every figure is CPU time of sessions run one after another in one thread.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "tlschan/command_line.hpp"
#include "tlschan/data_reader.hpp"
#include "tlschan/matrix/outcome_matrix.hpp"
#include "tlschan/reply.hpp"
#include "tlschan/sim/deterministic_tls.hpp"
#include "tlschan/sim/simulation.hpp"

namespace {

using namespace tlschan;

const sim::Simulator& simulator() {
  static const sim::Simulator s = std::move(*sim::Simulator::create());
  return s;
}

// 1. The floor: a TLS 1.3 handshake between two memory BIOs, the same certificate and parameters.
void BM_BareHandshake(benchmark::State& state) {
  const sim::Simulator& s = simulator();
  for (auto _ : state) {
    TlsSession client(s.client_tls()), server(s.server_tls(sim::Health::ok));
    std::string plain, wire;
    for (int i = 0; i < 8 && !(client.state() == TlsState::established && server.state() == TlsState::established); ++i) {
      client.advance(plain);
      wire.clear();
      client.take_output(wire);
      server.feed(wire);
      server.advance(plain);
      wire.clear();
      server.take_output(wire);
      client.feed(wire);
    }
    if (client.state() != TlsState::established) state.SkipWithError("handshake failed");
  }
}
BENCHMARK(BM_BareHandshake)->MeasureProcessCPUTime()->UseRealTime();

// The session of the benchmark issue: EHLO, STARTTLS, handshake, EHLO, MAIL, RCPT, 1 KiB DATA, QUIT.
sim::Scenario session(bool starttls) {
  sim::Scenario s = matrix::cell_scenario(starttls ? Policy::must : Policy::no, starttls ? Policy::may : Policy::no,
                                          sim::Health::ok, sim::MeddlerKind::none);
  s.network.segment_min = s.network.segment_max = 0;  // as sent
  s.network.latency_min = s.network.latency_max = milliseconds(1);
  s.messages.front().body = "Subject: bench\r\n\r\n";
  for (int i = 0; i < 10; ++i) s.messages.front().body += std::string(98, 'x') + "\r\n";  // 1 KiB
  return s;
}

// 2. A complete STARTTLS session in the simulator, and a plaintext one.
void BM_SimSession(benchmark::State& state) {
  const sim::Scenario s = session(state.range(0) != 0);
  std::uint64_t seed = 1;
  for (auto _ : state) {
    const sim::RunResult r = simulator().run(s, seed++);
    if (r.messages.front().disposition != Disposition::delivered) state.SkipWithError("not delivered");
  }
}
BENCHMARK(BM_SimSession)->Arg(1)->Arg(0)->ArgName("starttls")->MeasureProcessCPUTime()->UseRealTime();

// 5. Parser throughput over large pipelined inputs, against a bare memchr scan for LF. The parsers
// are read as the sessions read them (no copy of a line or reply: next_view), the DATA reader whole.
std::string pipelined_commands() {
  std::string in;
  while (in.size() < (8u << 20)) in += "MAIL FROM:<alice@example.org> SIZE=1000\r\nRCPT TO:<bob@example.net>\r\nNOOP\r\n";
  return in;
}
std::string pipelined_replies() {
  std::string in;
  while (in.size() < (8u << 20)) in += "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10485760\r\n250 2.1.0 Ok\r\n";
  return in;
}
std::string data_block() {
  std::string in;
  while (in.size() < (8u << 20)) in += "a line of a message body, like most of them\r\n..stuffed\r\n";
  return in + ".\r\n";
}

void BM_Memchr(benchmark::State& state) {
  const std::string in = state.range(0) == 0 ? pipelined_commands() : state.range(0) == 1 ? pipelined_replies() : data_block();
  for (auto _ : state) {
    std::size_t lines = 0;
    const char* p = in.data();
    const char* end = p + in.size();
    while (const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
      ++lines;
      p = static_cast<const char*>(lf) + 1;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}
BENCHMARK(BM_Memchr)->Arg(0)->Arg(1)->Arg(2)->ArgName("input");

void BM_CommandParser(benchmark::State& state) {
  const std::string in = pipelined_commands();
  for (auto _ : state) {
    CommandLineParser parser;
    std::string_view rest = in;
    std::size_t lines = 0;
    while (!rest.empty()) lines += parser.next_view(rest) ? 1 : 0;
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}
BENCHMARK(BM_CommandParser);

void BM_ReplyParser(benchmark::State& state) {
  const std::string in = pipelined_replies();
  for (auto _ : state) {
    ReplyParser parser;
    std::string_view rest = in;
    std::size_t replies = 0;
    while (!rest.empty()) replies += parser.next_view(rest) ? 1 : 0;
    benchmark::DoNotOptimize(replies);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}
BENCHMARK(BM_ReplyParser);

void BM_DataReader(benchmark::State& state) {
  const std::string in = data_block();
  for (auto _ : state) {
    DataReader reader(64u << 20);
    std::string_view rest = in;
    auto r = reader.next(rest);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}
BENCHMARK(BM_DataReader);

// 6. Dot-stuffing a body for the wire (what `send` and a relay do to every message), into a buffer
// kept from message to message; its input is the body the DATA reader reads from data_block().
void BM_DotStuff(benchmark::State& state) {
  std::string body;
  while (body.size() < (8u << 20)) body += "a line of a message body, like most of them\r\n.stuffed\r\n";
  std::string out;
  for (auto _ : state) {
    out.clear();
    dot_stuff(body, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_DotStuff);

}  // namespace

BENCHMARK_MAIN();

// The transcript reader, the scenario reader and replay on arbitrary files (what a user hands
// `tlschan replay` and `tlschan run`). Checks, for every input:
// - parse_transcript: a transcript it reads formats (format_transcript) to text that reads back
//   to the same fields;
// - parse_scenario: a scenario it reads prints (print_scenario) to TOML that reads back and prints
//   the same again;
// - replay: a scenario that reads (bare, or embedded in a transcript) and is small enough runs
//   through the simulator twice under its seed, giving the same transcript both times
//   (determinism), and the run keeps the spec's invariants (semantics.md section 5).
// - diagrams: any input `tlschan show` reads (a transcript, an evidence file, send's JSON) draws as
//   SVG, HTML and text holding no octet of the input unescaped: no control octet but LF, only
//   valid UTF-8, no markup of the input's;
// Larger scenarios are not run: more than 3 messages, 4 KiB of body or script bytes, 2 scripts or
// faults, or a retry schedule of more than 8 attempts.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_environment.hpp"
#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/transcript.hpp"
#include "tlschan/views/diagram.hpp"

namespace {

using namespace tlschan;

bool small_enough(const sim::Scenario& s) {
  std::size_t bytes = 0;
  for (const auto& m : s.messages) bytes += m.body.size() + m.from.size() + m.to.size() * 64;
  for (const auto& script : s.scripts) {
    for (const auto& chunk : script.send) bytes += chunk.size();
  }
  if (s.server_script) {
    for (const auto& chunk : s.server_script->replies) bytes += chunk.size();
    if (s.server_script->replies.size() > 64) return false;
  }
  if (s.messages.size() > 3 || s.scripts.size() > 2 || s.faults.size() > 2 || bytes > 4096) return false;
  for (const auto& m : s.messages) {
    if (m.to.size() > 8) return false;
  }
  for (const auto& script : s.scripts) {
    if (script.send.size() > 16) return false;
  }
  if (!s.retry.backoff.empty()) {
    const Duration shortest = *std::min_element(s.retry.backoff.begin(), s.retry.backoff.end());
    if (s.retry.backoff.size() > 8 || shortest < seconds(1) || s.retry.lifetime > shortest * 8) return false;
  }
  return true;
}

void check_scenario_round_trip(const sim::Scenario& s) {
  const std::string printed = sim::print_scenario(s);
  auto again = sim::parse_scenario(printed, "printed.toml");
  TLSCHAN_FUZZ_CHECK(again.has_value(), "print_scenario wrote TOML that parse_scenario refuses: " +
                                            (again.has_value() ? std::string() : again.error().message) +
                                            "\n" + printed);
  const std::string reprinted = sim::print_scenario(*again);
  TLSCHAN_FUZZ_CHECK(reprinted == printed,
                     "a scenario printed, read and printed again changes\n--- first ---\n" + printed +
                         "--- second ---\n" + reprinted);
}

void replay(const sim::Scenario& s, std::uint64_t seed) {
  if (!small_enough(s)) return;
  std::string first, second;
  const sim::RunResult r = fuzz::simulator().run(s, seed, &first);
  fuzz::simulator().run(s, seed, &second);
  const sim::Divergence d = sim::compare_runs(first, second, /*compare_tls=*/true);
  TLSCHAN_FUZZ_CHECK(d.identical,
                     "the same scenario and seed gave two transcripts; first difference at line " +
                         std::to_string(d.line) + ":\n  " + d.recorded + "\n  " + d.replayed);
  // A message the client refuses to create (tlschan::client_usage_error: no recipient, implicit TLS
  // under a no policy, a CR, LF or NUL in the HELO name or an address) is a usage error the run
  // reports among its violations; every other violation is a broken invariant.
  bool usage_error = false;
  ClientConfig client;
  client.helo_name = s.client.name;
  client.policy = s.client.policy;
  client.mode = s.client.implicit_tls ? ClientMode::implicit_tls : ClientMode::starttls;
  for (const sim::MessageSpec& m : s.messages)
    usage_error = usage_error || client_usage_error(client, OutgoingMessage{{m.from, m.to}, m.body}).has_value();
  if (!usage_error) {
    std::string all;
    for (const auto& v : r.violations) all += "\n  " + v;
    TLSCHAN_FUZZ_CHECK(r.violations.empty(),
                       "the run broke an invariant:" + all + "\n--- scenario ---\n" + sim::print_scenario(s));
  }
}

// What a terminal or a browser is shown: LF and printable ASCII, or valid UTF-8 (xml_text keeps it).
// The diagrams are mostly ASCII, so blocks of 64 octets are checked with a table, one branch a block,
// and only a block that holds another octet is looked at octet by octet.
bool shows_only_safe_octets(const std::string& s) {
  static const std::array<unsigned char, 256> unsafe = [] {
    std::array<unsigned char, 256> t{};
    for (std::size_t c = 0; c < t.size(); ++c) t[c] = c != '\n' && (c < 0x20 || c >= 0x7f);
    return t;
  }();
  constexpr std::size_t block = 64;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t end = std::min(s.size(), i + block);
    unsigned char any = 0;
    for (std::size_t k = i; k < end; ++k) any |= unsafe[static_cast<unsigned char>(s[k])];
    if (any == 0) {
      i = end;
      continue;
    }
    for (; i < end; ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (!unsafe[c]) continue;
      if (c < 0x80) return false;
      std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
      if (n == 0 || c > 0xf4 || i + n > s.size()) return false;
      for (std::size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
      }
      i += n - 1;
    }
  }
  return true;
}

void draw(std::string_view text) {
  auto s = views::read_sequence(text, "fuzz.transcript");
  if (!s) {
    TLSCHAN_FUZZ_CHECK(s.error().rfind("fuzz.transcript:", 0) == 0, "an error that names no file: " + s.error());
    return;
  }
  const std::string svg = views::diagram_svg(*s);
  const std::string page = views::diagram_html(*s);
  const std::string terminal = views::diagram_text(*s);
  // The page draws the diagram again, on its own: the same transcript draws the same SVG both times.
  TLSCHAN_FUZZ_CHECK(page.find(svg) != std::string::npos, "the same transcript drew two diagrams");
  // The page holds the SVG: checking the page checks both.
  TLSCHAN_FUZZ_CHECK(shows_only_safe_octets(page) && shows_only_safe_octets(terminal),
                     "a diagram holds an unescaped control octet or invalid UTF-8");
  TLSCHAN_FUZZ_CHECK(page.find("<script") == std::string::npos, "the input's markup reached the page");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::initialize(fuzz::WithSimulator::yes);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  draw(text);
  if (auto t = sim::parse_transcript(text, "fuzz.transcript")) {
    const std::string formatted = sim::format_transcript(*t);
    auto again = sim::parse_transcript(formatted, "formatted.transcript");
    TLSCHAN_FUZZ_CHECK(again.has_value(), "format_transcript wrote a transcript parse_transcript refuses: " +
                                              (again.has_value() ? std::string() : again.error()));
    TLSCHAN_FUZZ_CHECK(again->version == t->version && again->seed == t->seed &&
                           again->openssl == t->openssl && again->scenario_toml == t->scenario_toml &&
                           again->body == t->body,
                       "a transcript formatted and read again changes");
    if (auto s = sim::parse_scenario(t->scenario_toml, "fuzz.transcript (embedded scenario)")) {
      check_scenario_round_trip(*s);
      replay(*s, t->seed);
    }
    return 0;
  }
  if (auto s = sim::parse_scenario(text, "fuzz.toml")) {
    check_scenario_round_trip(*s);
    replay(*s, fuzz::input_seed(data, size));
  }
  return 0;
}

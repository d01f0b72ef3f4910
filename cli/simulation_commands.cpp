#include "simulation_commands.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "output_file.hpp"
#include "tlschan/matrix/explore.hpp"
#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/transcript.hpp"
#include "tlschan/views/diagram.hpp"
#include "tlschan/views/pcap_recorder.hpp"
#include "tlschan/views/run_pcap.hpp"

namespace tlschan::cli {

namespace {

std::optional<sim::Simulator> make_simulator(const char* command) {
  auto s = sim::Simulator::create();
  if (!s) {
    std::cerr << "tlschan " << command << ": " << s.error() << "\n";
    return std::nullopt;
  }
  return std::move(*s);
}

void print_outcomes(const sim::RunResult& r) {
  for (std::size_t i = 0; i < r.messages.size(); ++i) {
    const auto& m = r.messages[i];
    std::cout << "message " << i + 1 << ": " << sim::outcome_word(m) << " (attempts " << m.attempts << ", copies accepted "
              << m.deliveries << (m.fallback ? ", tls fallback" : "") << (m.rfc1047_window ? ", RFC 1047 window" : "")
              << (m.channel.empty() ? "" : ", channel " + m.channel) << ")\n";
    for (const auto& o : m.recipients) {
      std::cout << "  " << o.recipient << ": " << to_string(o.disposition) << (o.tls ? " over TLS" : "")
                << (o.reason.empty() ? "" : " - " + o.reason) << "\n";
    }
  }
}

// Where the views of one run go (--pcap, --keylog); empty: not asked for.
struct ViewOptions {
  std::string pcap;
  std::string keylog;
  std::string html;  // replay: the replayed run as a sequence diagram
  bool any() const { return !pcap.empty() || !keylog.empty(); }
};

bool write_views(const char* command, const ViewOptions& v, const views::PcapRecorder& recorder) {
  if (!v.pcap.empty()) {
    if (!write_output_file(command, v.pcap, recorder.pcapng())) return false;
    std::cout << "pcapng: " << v.pcap << " (TLS secrets inside: wireshark " << v.pcap << ")\n";
  }
  if (!v.keylog.empty()) {
    if (!write_output_file(command, v.keylog, recorder.key_log_lines())) return false;
    std::cout << "key log: " << v.keylog << "\n";
  }
  return true;
}

void add_view_options(CLI::App* cmd, ViewOptions& v) {
  cmd->add_option("--pcap", v.pcap,
                  "Write the run as a pcapng file (TCP streams, the TLS secrets inside: Wireshark decrypts it with no setting)");
  cmd->add_option("--keylog", v.keylog, "Write the TLS key log of the run's handshakes (SSLKEYLOGFILE form)");
}

struct RunOptions {
  std::string scenario;
  std::uint64_t seed = 1;
  std::string transcript;
  bool check_determinism = false;
  ViewOptions views;
};

int run_command(const RunOptions& o) {
  auto scenario = sim::load_scenario(o.scenario);
  if (!scenario) {
    std::cerr << scenario.error().message << "\n";
    return 1;
  }
  auto simulator = make_simulator("run");
  if (!simulator) return 1;
  std::cout << "tlschan run " << o.scenario << " --seed " << o.seed << "\n";
  std::string body;
  const bool want_body = !o.transcript.empty() || o.check_determinism;
  views::PcapRecorder recorder(o.seed);
  const sim::RunResult r =
      simulator->run(*scenario, o.seed, want_body ? &body : nullptr, o.views.any() ? &recorder : nullptr);
  print_outcomes(r);
  int rc = 0;
  if (o.views.any() && !write_views("run", o.views, recorder)) return 1;
  if (o.check_determinism) {
    std::string again;
    simulator->run(*scenario, o.seed, &again);
    const sim::Divergence d = sim::compare_runs(body, again, true);
    if (d.identical) {
      std::cout << "determinism: two runs of seed " << o.seed << " gave identical transcripts\n";
    } else {
      std::cout << "determinism: BROKEN at line " << d.line << "\n  first:  " << d.recorded << "\n  second: " << d.replayed << "\n";
      rc = 1;
    }
  }
  if (!o.transcript.empty()) {
    std::string err;
    if (!matrix::save_transcript(*simulator, *scenario, o.seed, o.transcript, &err)) {
      std::cerr << "tlschan run: " << err << "\n";
      return 1;
    }
    std::cout << "transcript: " << o.transcript << " (replay: tlschan replay " << o.transcript << ")\n";
  }
  const auto problems = matrix::check_run(*scenario, r);
  for (const auto& p : problems) std::cout << "FAIL: " << p << "\n";
  if (!problems.empty()) {
    std::cout << "reproduce: tlschan run " << o.scenario << " --seed " << o.seed << " --transcript failure.transcript\n";
    rc = 1;
  }
  return rc;
}

struct ExploreCliOptions {
  std::uint64_t seeds = 200;
  std::uint64_t first_seed = 1;
  unsigned jobs = 1;
  std::string out = "explore-failures";
  std::string shard;  // "I/N"
  std::string list;   // file for every run's seed and outcomes
  std::string transcripts;  // folder for every run's transcript
};

int explore_command(const ExploreCliOptions& o) {
  matrix::ExploreOptions e;
  e.seeds = o.seeds;
  e.first_seed = o.first_seed;
  if (!o.shard.empty()) {
    std::uint64_t index = 0, count = 0;
    char slash = 0, extra = 0;
    std::istringstream in(o.shard);
    if (!(in >> index >> slash >> count) || slash != '/' || in >> extra || count == 0 || index >= count ||
        o.shard.find('-') != std::string::npos) {
      std::cerr << "tlschan explore: --shard " << o.shard << ": expected I/N with 0 <= I < N, e.g. 3/8\n";
      return 64;
    }
    const matrix::SeedRange range = matrix::shard_range(o.first_seed, o.seeds, index, count);
    e.first_seed = range.first_seed;
    e.seeds = range.seeds;
  }
  e.jobs = o.jobs == 0 ? std::max(1u, std::thread::hardware_concurrency()) : o.jobs;
  e.out_dir = o.out;
  e.list_runs = !o.list.empty();
  e.transcripts_dir = o.transcripts;
  std::cout << "tlschan explore: seeds " << e.first_seed << ".." << e.first_seed + e.seeds - 1
            << (o.shard.empty() ? "" : " (shard " + o.shard + ")") << ", " << e.jobs << " jobs, failures to " << o.out
            << "/\n";
  const std::uint64_t step = std::max<std::uint64_t>(1, e.seeds / 20);
  const matrix::ExploreResult r = matrix::explore(e, [&](std::uint64_t done, std::uint64_t total, std::size_t failed) {
    if (done % step == 0 || done == total) {
      std::cerr << "  " << done << "/" << total << " runs, " << failed << " failed\n";
    }
  });
  // Each saved failure gets its pcapng beside its transcript: the same run again, recorded.
  std::optional<sim::Simulator> recorder;
  if (std::any_of(r.failures.begin(), r.failures.end(), [](const auto& f) { return !f.transcript_path.empty(); })) {
    recorder = make_simulator("explore");
  }
  for (const auto& f : r.failures) {
    std::cout << "FAIL seed " << f.seed << ":\n";
    for (const auto& why : f.reasons) std::cout << "  " << why << "\n";
    if (f.transcript_path.empty()) continue;
    std::cout << "  reproduce: tlschan replay " << f.transcript_path << "\n";
    if (!recorder) continue;
    const auto pcap = views::write_pcapng_beside(*recorder, matrix::random_scenario(f.seed), f.seed, f.transcript_path);
    if (pcap) {
      std::cout << "  pcapng: " << *pcap << "\n";
    } else {
      std::cerr << "tlschan explore: " << pcap.error() << "\n";
    }
  }
  if (!o.list.empty()) {
    std::ofstream list(o.list, std::ios::trunc);
    for (const auto& run : r.listed) list << run.seed << " " << run.outcomes << "\n";
    if (!list.flush()) {
      std::cerr << "tlschan explore: cannot write " << o.list << "\n";
      return 1;
    }
  }
  std::cout << r.runs - r.failures.size() << " passed, " << r.failures.size() << " failed\n";
  return r.failures.empty() ? 0 : 1;
}

int replay_command(const std::string& path, const ViewOptions& v) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << path << ":1:1: error: cannot open the transcript\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto t = sim::parse_transcript(text.str(), path);
  if (!t) {
    std::cerr << t.error() << "\n";
    return 1;
  }
  auto scenario = sim::parse_scenario(t->scenario_toml, path + " (embedded scenario)");
  if (!scenario) {
    std::cerr << scenario.error().message << "\n";
    return 1;
  }
  auto simulator = make_simulator("replay");
  if (!simulator) return 1;
  std::string body;
  views::PcapRecorder recorder(t->seed);
  simulator->run(*scenario, t->seed, &body, v.any() ? &recorder : nullptr);
  if (v.any() && !write_views("replay", v, recorder)) return 1;
  const bool same_openssl = t->openssl == sim::openssl_version();
  // A file of an older format is compared with the run as that format writes it.
  const sim::Divergence d = sim::compare_runs(t->body, sim::body_in_version(body, t->version), same_openssl);
  if (!same_openssl) {
    std::cout << "recorded with " << t->openssl << ", replayed with " << sim::openssl_version()
              << ": TLS bytes were not compared\n";
  }
  if (!v.html.empty()) {
    // The replayed run as the file's format writes it, marked where it first leaves the recording.
    sim::TranscriptFile replayed = *t;
    replayed.openssl = sim::openssl_version();
    replayed.body = sim::body_in_version(body, t->version);
    views::DiagramMarks marks;
    if (!d.identical) {
      marks.divergence_line = d.replayed_line;
      marks.divergence_note = "the recording has: " + d.recorded.substr(std::min(d.recorded.find_first_not_of(' '), d.recorded.size()));
    }
    views::Sequence s = views::sequence_of(replayed);
    s.title = "tlschan replay " + path + ": " + s.title;
    if (!write_output_file("replay", v.html, views::diagram_html(s, marks))) return 1;
    std::cout << "html: " << v.html << "\n";
  }
  if (d.identical) {
    std::cout << "replay: identical (seed " << t->seed << ")\n";
    return 0;
  }
  std::cout << "replay: differs at run line " << d.line << "\n  recorded: " << d.recorded << "\n  replayed: " << d.replayed << "\n";
  return 1;
}

}  // namespace

void add_simulation_commands(CLI::App& app, int& exit_code) {
  auto run = std::make_shared<RunOptions>();
  auto* r = app.add_subcommand("run", "Run one scenario (a TOML file) under a seed; exit 0 iff its checks hold");
  r->add_option("scenario", run->scenario, "Scenario file (corpus/scenarios/*.toml)")->required()->check(CLI::ExistingFile);
  r->add_option("--seed", run->seed, "The seed every random choice derives from")->capture_default_str();
  r->add_option("--transcript", run->transcript, "Write the run's transcript to this file");
  r->add_flag("--check-determinism", run->check_determinism, "Run twice and compare the transcripts");
  add_view_options(r, run->views);
  r->callback([run, &exit_code] { exit_code = run_command(*run); });

  auto ex = std::make_shared<ExploreCliOptions>();
  auto* e = app.add_subcommand("explore",
                               "Run random scenarios (policies, TLS health, meddlers, segmentation, latency, faults) "
                               "and check each against the oracle and the invariants; exit 0 iff none failed");
  e->add_option("--seeds", ex->seeds, "How many seeds")->capture_default_str();
  e->add_option("--first-seed", ex->first_seed, "The first seed")->capture_default_str();
  e->add_option("--jobs", ex->jobs, "Worker threads (0: one per core)")->capture_default_str();
  e->add_option("--out", ex->out,
                "Folder for the transcripts of failing runs, each with its pcapng beside it (same name, .pcapng)")
      ->capture_default_str();
  e->add_option("--shard", ex->shard,
                "I/N: run only shard I (0 to N-1) of the seeds, one of N contiguous ranges that together hold "
                "every seed of --first-seed/--seeds once");
  e->add_option("--list", ex->list, "Write every run's seed and message outcomes to this file, one line a run, in seed order");
  e->add_option("--transcripts", ex->transcripts,
                "Write every run's transcript, passing or not, to this folder as explore-seed-N.transcript (for comparing two builds run for run)");
  e->callback([ex, &exit_code] { exit_code = explore_command(*ex); });

  auto file = std::make_shared<std::string>();
  auto replay_views = std::make_shared<ViewOptions>();
  auto* rp = app.add_subcommand("replay", "Re-run a transcript and report the first line that differs; exit 0 iff identical");
  rp->add_option("transcript", *file, "Transcript file")->required();
  add_view_options(rp, *replay_views);
  rp->add_option("--html", replay_views->html,
                 "Write the replayed run as a sequence diagram (one HTML page), the first line that differs from the "
                 "recording marked");
  rp->callback([file, replay_views, &exit_code] { exit_code = replay_command(*file, *replay_views); });
}

}  // namespace tlschan::cli

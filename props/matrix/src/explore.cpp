#include "tlschan/matrix/explore.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "oracle_words.hpp"
#include "tlschan/oracle/outcome_oracle.hpp"
#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/transcript.hpp"

namespace tlschan::matrix {

namespace {

template <class T, std::size_t N>
T pick(sim::Prng& p, const T (&options)[N]) {
  return options[p.below(N)];
}

}  // namespace

sim::Scenario random_scenario(std::uint64_t seed) {
  sim::Prng p = sim::Prng::derive(seed, "scenario");
  sim::Scenario s;
  s.name = "explore seed " + std::to_string(seed);
  constexpr Policy policies[] = {Policy::no, Policy::may, Policy::must};
  constexpr sim::Health healths[] = {sim::Health::ok, sim::Health::unavailable, sim::Health::broken};
  s.client.policy = pick(p, policies);
  s.server.policy = pick(p, policies);
  s.server.health = pick(p, healths);
  s.network.meddler = sim::all_meddlers[p.below(std::size(sim::all_meddlers))];
  if (p.chance(1, 2)) s.server.switch_target = "tcp_tls";
  if (s.client.policy != Policy::no && p.chance(1, 10)) {
    s.server.tls_port = true;
    s.client.implicit_tls = true;
    s.network.meddler = sim::MeddlerKind::none;
  }
  constexpr std::size_t segment_max[] = {0, 1, 7, 64, 1460};
  s.network.segment_max = pick(p, segment_max);
  s.network.segment_min = s.network.segment_max == 0 ? 0 : 1;
  s.network.latency_min = milliseconds(static_cast<std::int64_t>(p.below(5)));
  s.network.latency_max = s.network.latency_min + milliseconds(static_cast<std::int64_t>(p.below(50)));
  const std::size_t messages = 1 + p.below(3);
  s.messages.clear();
  for (std::size_t i = 0; i < messages; ++i) {
    sim::MessageSpec m;
    m.to.clear();
    const std::size_t rcpts = 1 + p.below(2);
    for (std::size_t r = 0; r < rcpts; ++r) m.to.push_back("rcpt" + std::to_string(r) + "@mx.tlschan.test");
    // Bodies that need dot-stuffing, and long ones that cross many segments.
    m.body = "Subject: explore " + std::to_string(i) + "\r\n\r\n.leading dot\r\n";
    const std::size_t lines = p.below(8);
    for (std::size_t l = 0; l < lines; ++l) m.body += std::string(p.below(999), 'x') + "\r\n";
    s.messages.push_back(std::move(m));
  }
  if (p.chance(1, 3)) {
    constexpr sim::FaultKind kinds[] = {sim::FaultKind::reset, sim::FaultKind::stall, sim::FaultKind::truncate};
    sim::FaultSpec f;
    f.kind = pick(p, kinds);
    f.client_to_server = p.chance(1, 2);
    f.after_bytes = p.below(2500);
    f.connection = static_cast<int>(1 + p.below(2));
    s.faults.push_back(f);
  }
  return s;
}

std::vector<std::string> check_run(const sim::Scenario& s, const sim::RunResult& r) {
  std::vector<std::string> why = r.violations;
  const oracle::Cell cell{to_oracle(s.client.policy), to_oracle(s.server.policy), to_oracle(s.server.health), to_oracle(s.network.meddler)};
  std::vector<oracle::Outcome> allowed;
  if (s.server.tls_port) {
    allowed = {oracle::expected_tls_port(cell.client, cell.server, cell.health)};
  } else {
    const bool resets_only = std::all_of(s.faults.begin(), s.faults.end(),
                                         [](const sim::FaultSpec& f) { return f.kind == sim::FaultKind::reset; });
    allowed = s.faults.empty() ? std::vector<oracle::Outcome>{oracle::expected(cell)}
                               : oracle::acceptable_under_fault(cell, resets_only);
  }
  if (s.server.tls_port && !s.faults.empty() && allowed.front() != oracle::Outcome::deferred) {
    allowed.push_back(oracle::Outcome::deferred);
  }
  // With retries, a message deferred on every attempt bounces once the queue lifetime runs out.
  const bool may_expire = !s.retry.backoff.empty() &&
                          std::find(allowed.begin(), allowed.end(), oracle::Outcome::deferred) != allowed.end();
  if (may_expire) allowed.push_back(oracle::Outcome::bounced);
  for (std::size_t i = 0; i < r.messages.size(); ++i) {
    const Outcome outcome = r.messages[i].outcome();
    const std::string got = to_string(outcome);
    const bool ok = std::any_of(allowed.begin(), allowed.end(), [&](oracle::Outcome o) { return from_oracle(o) == outcome; });
    if (!ok) {
      std::string want;
      for (const auto o : allowed) want += (want.empty() ? "" : " or ") + std::string(oracle::word(o));
      why.push_back("message " + std::to_string(i + 1) + ": " + got + ", the oracle allows " + want);
    }
    if (!s.server_script && (outcome == Outcome::delivered_tls || outcome == Outcome::delivered_plain)) {
      const std::string channel =
          oracle::expected_source_channel(to_oracle(outcome), s.server.channel, s.server.switch_target.value_or(""));
      if (r.messages[i].channel != channel) {
        why.push_back("message " + std::to_string(i + 1) + ": source channel " + r.messages[i].channel + ", expected " + channel);
      }
    }
    if (s.expect && outcome != *s.expect) {
      why.push_back("message " + std::to_string(i + 1) + ": " + got + ", the scenario expects " + to_string(*s.expect));
    }
  }
  if (s.expect_script_messages && r.script_messages != *s.expect_script_messages) {
    why.push_back("the server accepted " + std::to_string(r.script_messages) + " messages from the scripted clients, the scenario expects " +
                  std::to_string(*s.expect_script_messages));
  }
  return why;
}

bool write_transcript(const sim::TranscriptFile& t, const std::string& path, std::string* error) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << sim::format_transcript(t);
  out.flush();
  if (!out) {
    if (error) *error = "cannot write " + path;
    return false;
  }
  return true;
}

sim::TranscriptFile transcript_head(const sim::Scenario& scenario, std::uint64_t seed) {
  sim::TranscriptFile t;
  t.seed = seed;
  t.openssl = sim::openssl_version();
  t.scenario_toml = sim::print_scenario(scenario);
  return t;
}

bool save_transcript(const sim::Simulator& simulator, const sim::Scenario& scenario, std::uint64_t seed,
                     const std::string& path, std::string* error) {
  sim::TranscriptFile t = transcript_head(scenario, seed);
  simulator.run(scenario, seed, &t.body);
  return write_transcript(t, path, error);
}

SeedRange shard_range(std::uint64_t first_seed, std::uint64_t seeds, std::uint64_t index, std::uint64_t count) {
  if (count == 0 || index >= count) return SeedRange{first_seed, 0};
  const std::uint64_t base = seeds / count;
  const std::uint64_t longer = seeds % count;  // shards 0 .. longer-1 get one seed more
  return SeedRange{first_seed + index * base + std::min(index, longer), base + (index < longer ? 1 : 0)};
}

ExploreResult explore(const ExploreOptions& o, const std::function<void(std::uint64_t, std::uint64_t, std::size_t)>& progress) {
  ExploreResult result;
  std::atomic<std::uint64_t> next{0};
  std::mutex lock;
  std::uint64_t done = 0;
  auto worker = [&] {
    auto simulator = sim::Simulator::create();
    if (!simulator) {
      std::lock_guard<std::mutex> g(lock);
      result.failures.push_back({0, {"cannot start the simulator: " + simulator.error()}, ""});
      return;
    }
    while (true) {
      const std::uint64_t k = next.fetch_add(1);
      if (k >= o.seeds) return;
      const std::uint64_t seed = o.first_seed + k;
      const sim::Scenario s = random_scenario(seed);
      // With every run's transcript asked for, the run writes it as it goes (a run with its
      // transcript is the same run: the seed alone decides it).
      const bool keep_all = !o.transcripts_dir.empty();
      sim::TranscriptFile written;
      if (keep_all) written = transcript_head(s, seed);
      const sim::RunResult r = simulator->run(s, seed, keep_all ? &written.body : nullptr);
      std::vector<std::string> why = check_run(s, r);
      if (keep_all) {
        std::string err;
        if (!write_transcript(written, o.transcripts_dir + "/explore-seed-" + std::to_string(seed) + ".transcript", &err)) {
          why.push_back(err);
        }
      }
      ExploreFailure f;
      if (!why.empty()) {
        f.seed = seed;
        f.reasons = std::move(why);
        if (!o.out_dir.empty()) {
          f.transcript_path = o.out_dir + "/explore-seed-" + std::to_string(seed) + ".transcript";
          std::string err;
          if (!save_transcript(*simulator, s, seed, f.transcript_path, &err)) {
            f.reasons.push_back(err);
            f.transcript_path.clear();
          }
        }
      }
      std::string outcomes;
      if (o.list_runs) {
        for (const auto& m : r.messages) {
          if (!outcomes.empty()) outcomes += ' ';
          outcomes += sim::outcome_word(m);
        }
      }
      std::lock_guard<std::mutex> g(lock);
      ++done;
      if (!f.reasons.empty()) result.failures.push_back(std::move(f));
      if (o.list_runs) result.listed.push_back(ExploreRun{seed, std::move(outcomes)});
      if (progress) progress(done, o.seeds, result.failures.size());
    }
  };
  const unsigned jobs = std::max(1u, o.jobs);
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  result.runs = done;
  std::sort(result.failures.begin(), result.failures.end(), [](const auto& a, const auto& b) { return a.seed < b.seed; });
  std::sort(result.listed.begin(), result.listed.end(), [](const auto& a, const auto& b) { return a.seed < b.seed; });
  return result;
}

}  // namespace tlschan::matrix

#include "tlschan/views/run_pcap.hpp"

#include <filesystem>
#include <fstream>

#include "tlschan/views/pcap_recorder.hpp"

namespace tlschan::views {

RecordedRun record_run(const sim::Simulator& simulator, const sim::Scenario& scenario, std::uint64_t seed) {
  PcapRecorder recorder(seed);
  simulator.run(scenario, seed, nullptr, &recorder);
  return {recorder.pcapng(), recorder.key_log_lines()};
}

std::string pcapng_path_beside(const std::string& transcript_path) {
  return std::filesystem::path(transcript_path).replace_extension(".pcapng").string();
}

Expected<std::string, std::string> write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) return unexpected(path + ": cannot write the file");
  return path;
}

Expected<std::string, std::string> write_pcapng_beside(const sim::Simulator& simulator,
                                                       const sim::Scenario& scenario, std::uint64_t seed,
                                                       const std::string& transcript_path) {
  return write_bytes(pcapng_path_beside(transcript_path), record_run(simulator, scenario, seed).pcapng);
}

}  // namespace tlschan::views

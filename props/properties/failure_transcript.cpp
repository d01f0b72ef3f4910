#include "failure_transcript.hpp"

#include <cstdlib>
#include <iostream>
#include <set>

#include "tlschan/matrix/explore.hpp"

namespace tlschan::props {

namespace {

const sim::Simulator& simulator() {
  static const sim::Simulator s = std::move(*sim::Simulator::create());
  return s;
}

}  // namespace

std::string failures_dir() {
  const char* env = std::getenv("TLSCHAN_FAILURES");
  return env && *env ? env : "build/failures";
}

std::string write_failure(const std::string& property, const sim::Scenario& scenario, std::uint64_t seed) {
  const std::string path = failures_dir() + "/" + property + ".transcript";
  std::string err;
  if (!matrix::save_transcript(simulator(), scenario, seed, path, &err)) {
    std::cerr << "tlschan props: could not save the failing case: " << err << "\n";
    return "";
  }
  return path;
}

RecordOnFailure::~RecordOnFailure() {
  if (std::uncaught_exceptions() <= exceptions_) return;
  // Every failing call while rapidcheck shrinks overwrites the file; the last is the minimal case.
  static std::set<std::string> announced;
  const std::string path = write_failure(property_, scenario_, seed_);
  if (!path.empty() && announced.insert(property_).second) {
    std::cerr << "the minimal failing case is saved as a transcript: tlschan replay " << path << "\n";
  }
}

}  // namespace tlschan::props

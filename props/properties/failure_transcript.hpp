// A failing property leaves its minimal case as a transcript that `tlschan replay` runs. Each
// failing call overwrites the property's file, and rapidcheck's last failing call is the minimal
// case it reports.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include "tlschan/sim/scenario.hpp"

namespace tlschan::props {

// The folder failures go to: $TLSCHAN_FAILURES, else build/failures under the working folder.
std::string failures_dir();

// Writes the scenario's transcript as <failures_dir>/<property>.transcript and returns the path.
std::string write_failure(const std::string& property, const sim::Scenario& scenario, std::uint64_t seed);

// Writes the transcript if the scope is left by a failed assertion.
class RecordOnFailure {
 public:
  RecordOnFailure(std::string property, sim::Scenario scenario, std::uint64_t seed)
      : property_(std::move(property)), scenario_(std::move(scenario)), seed_(seed), exceptions_(std::uncaught_exceptions()) {}
  ~RecordOnFailure();
  RecordOnFailure(const RecordOnFailure&) = delete;
  RecordOnFailure& operator=(const RecordOnFailure&) = delete;

 private:
  std::string property_;
  sim::Scenario scenario_;
  std::uint64_t seed_;
  int exceptions_;
};

}  // namespace tlschan::props

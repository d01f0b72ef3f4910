// What every configuration fuzz target checks of the diagnostics a parser returns (semantics.md
// section 6): each is `FILE:LINE:COL: severity: message` with a line of the file (or line 0 for the
// file as a whole) and a column of that line, and a refused file comes with at least one error.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "tlschan/config_diagnostics.hpp"

namespace tlschan::fuzz {

// The physical lines of a text, as an editor counts them.
inline std::size_t physical_lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

// A file the diagnostics may name, and its text.
struct ConfigFile {
  std::string_view name;
  std::string_view text;
};

// `refused`: the parser returned these instead of a configuration.
inline void check_diagnostics(const std::vector<Diagnostic>& diagnostics,
                              std::initializer_list<ConfigFile> files, bool refused) {
  if (refused) {
    TLSCHAN_FUZZ_CHECK(has_errors(diagnostics), "a refused configuration without an error");
    TLSCHAN_FUZZ_CHECK(diagnostics.size() <= 200, "more than 100 diagnostics per file");
  }
  if (diagnostics.empty()) return;
  std::size_t lines[8] = {};  // each file's physical lines, counted once
  std::size_t k = 0;
  for (const ConfigFile& f : files) {
    if (k < std::size(lines)) lines[k++] = physical_lines(f.text);
  }
  for (const Diagnostic& d : diagnostics) {
    std::size_t index = 0, found = std::size(lines);
    for (const ConfigFile& f : files) {
      if (f.name == d.file) found = index;
      ++index;
    }
    TLSCHAN_FUZZ_CHECK(found < k, "a diagnostic that names no file given: " + format_diagnostic(d));
    TLSCHAN_FUZZ_CHECK(!d.message.empty(), "a diagnostic without a message: " + format_diagnostic(d));
    TLSCHAN_FUZZ_CHECK(
        d.position.line <= lines[found],
        "a diagnostic past the last line " + std::to_string(lines[found]) + ": " + format_diagnostic(d));
    TLSCHAN_FUZZ_CHECK(d.position.line == 0 || d.position.column >= 1,
                       "a diagnostic at column 0: " + format_diagnostic(d));
  }
  const std::string shown = format_diagnostic(diagnostics.front());
  TLSCHAN_FUZZ_CHECK(shown.starts_with(diagnostics.front().file + ":"),
                     "a diagnostic that does not start with its file: " + shown);
}

}  // namespace tlschan::fuzz

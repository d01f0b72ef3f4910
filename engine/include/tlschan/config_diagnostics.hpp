// Positions in configuration files (imta.cnf, dispatcher.cnf) and the messages about them
// (semantics.md section 6): `FILE:LINE:COL: error: ...` or `FILE:LINE:COL: warning: ...`.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace tlschan {

// A physical line and a 1-based column counted in bytes; line 0 means the file as a whole.
struct SourcePosition {
  std::size_t line = 0;
  std::size_t column = 0;

  friend bool operator==(const SourcePosition&, const SourcePosition&) = default;
};

// One whitespace-separated word of a configuration file and where it starts.
struct Token {
  std::string text;
  SourcePosition position;
};

enum class Severity { error, warning };

const char* to_string(Severity s);  // "error", "warning"

struct Diagnostic {
  std::string file;
  SourcePosition position;
  Severity severity = Severity::error;
  std::string message;  // what was found and what was expected

  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

// `FILE:LINE:COL: error: message`, or `FILE: error: message` for the file as a whole.
std::string format_diagnostic(const Diagnostic& d);

// `LINE:COL`, as messages cite another place of the same file.
std::string format_position(SourcePosition p);

bool has_errors(std::span<const Diagnostic> diagnostics);

}  // namespace tlschan

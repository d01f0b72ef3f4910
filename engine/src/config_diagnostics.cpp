#include "tlschan/config_diagnostics.hpp"

#include <algorithm>

namespace tlschan {

const char* to_string(Severity s) {
  return s == Severity::error ? "error" : "warning";
}

std::string format_position(SourcePosition p) {
  return std::to_string(p.line) + ":" + std::to_string(p.column);
}

std::string format_diagnostic(const Diagnostic& d) {
  std::string out = d.file;
  if (d.position.line != 0) {
    out += ':';
    out += format_position(d.position);
  }
  out += ": ";
  out += to_string(d.severity);
  out += ": ";
  out += d.message;
  return out;
}

bool has_errors(std::span<const Diagnostic> diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::error; });
}

}  // namespace tlschan

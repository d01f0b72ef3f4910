// Incremental SMTP command-line parser (RFC 5321 2.3.8, 4.5.3.1.4). It can be handed its input split
// at any byte and yields the same lines.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tlschan {

enum class LineError {
  too_long,  // the line with its line end is over 512 octets; the rest up to LF was skipped
  nul,       // the line holds a NUL octet
  bare_cr,   // the line holds a CR not followed by LF
  bare_lf,   // the line ends in LF without CR before it
};

const char* to_string(LineError e);

struct CommandLine {
  std::string text;                // without the line end; at most 510 octets kept
  std::optional<LineError> error;  // first error found, in the enum's order of precedence
  std::size_t wire_size = 0;       // octets the line took on the wire, line end included
};

// The same, without a copy: `text` points into the input or into the parser, and stays valid until
// the next call to the parser and while the input it was read from lives.
struct CommandLineView {
  std::string_view text;
  std::optional<LineError> error;
  std::size_t wire_size = 0;
};

class CommandLineParser {
 public:
  static constexpr std::size_t max_line = 512;  // octets, line end included

  // Consumes bytes from the front of `input` up to and including one LF. Returns the line when its
  // LF was consumed; otherwise consumes all of `input` into the partial line and returns nothing.
  std::optional<CommandLine> next(std::string_view& input);
  // The same without copying the line (the session's hot path).
  std::optional<CommandLineView> next_view(std::string_view& input);

  // Forgets the partial line (the STARTTLS purge).
  void reset();

  // Octets of the partial line received so far (including any skipped over-long part).
  std::size_t pending() const { return pending_; }

 private:
  bool whole_line(std::string_view& input, CommandLineView& line);  // nothing held before
  bool add_segment(std::string_view& input, CommandLineView& line);  // a part of a line
  std::string line_;
  std::string done_;  // the last line assembled across calls, which a view may point into
  std::size_t pending_ = 0;
  bool overflow_ = false;
  bool saw_nul_ = false;
  bool saw_bare_cr_ = false;
  bool last_was_cr_ = false;
};

}  // namespace tlschan

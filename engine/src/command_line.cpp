// The SMTP command-line parser: lines end at LF; CRLF is the only proper line end, and a bare CR,
// a bare LF or a NUL makes the line an error (semantics.md section 7).
#include "tlschan/command_line.hpp"

#include <algorithm>
#include <cstring>

#include "octet_scan.hpp"

namespace tlschan {

namespace {

// Text kept of a line: its longest legal length, 512 octets less the CRLF.
constexpr std::size_t max_text = CommandLineParser::max_line - 2;

bool holds(std::string_view bytes, char c) {
  return !bytes.empty() && std::memchr(bytes.data(), c, bytes.size()) != nullptr;
}

}  // namespace

const char* to_string(LineError e) {
  switch (e) {
    case LineError::too_long:
      return "too_long";
    case LineError::nul:
      return "nul";
    case LineError::bare_cr:
      return "bare_cr";
    case LineError::bare_lf:
      return "bare_lf";
  }
  return "unknown";
}

std::optional<CommandLine> CommandLineParser::next(std::string_view& input) {
  auto view = next_view(input);
  if (!view) return std::nullopt;
  return CommandLine{std::string(view->text), view->error, view->wire_size};
}

// A line that arrives whole, with nothing held from before, is judged in place in one pass over its
// octets (whole_line). Any other line is scanned one segment at a time (add_segment).
// Every path returns the one object `result`, built in place: a line built in a local and copied
// out stalled the copy (two stores read back as one wider load).
std::optional<CommandLineView> CommandLineParser::next_view(std::string_view& input) {
  std::optional<CommandLineView> result(std::in_place);
  if (pending_ == 0 && whole_line(input, *result)) return result;
  if (!add_segment(input, *result)) result.reset();
  return result;
}

// The scan stops only at LF, CR and NUL. Returns false, consuming nothing, when `input` holds no
// line end (or ends in a CR whose follower has not arrived).
bool CommandLineParser::whole_line(std::string_view& input, CommandLineView& line) {
  const char* const begin = input.data();
  const char* const end = begin + input.size();
  bool nul = false;
  bool bare_cr = false;
  for (const char* p = begin;;) {
    p = detail::find_first_of3(p, end, '\n', '\r', '\0');
    if (p == end) return false;
    if (*p == '\0') {
      nul = true;
      ++p;
      continue;
    }
    const bool crlf = *p == '\r' && p + 1 != end && p[1] == '\n';
    if (*p == '\r' && !crlf) {
      if (p + 1 == end) return false;  // what follows the CR has not arrived
      bare_cr = true;
      ++p;
      continue;
    }
    // The line end: LF, or the CR of CRLF.
    const std::size_t segment_size = static_cast<std::size_t>(p - begin) + (crlf ? 1 : 0);
    line.wire_size = segment_size + 1;
    if (segment_size >= max_line) {
      line.error = LineError::too_long;
    } else if (nul) {
      line.error = LineError::nul;
    } else if (bare_cr) {
      line.error = LineError::bare_cr;
    } else if (!crlf) {
      line.error = LineError::bare_lf;
    }
    line.text = std::string_view(begin, static_cast<std::size_t>(p - begin)).substr(0, max_text);
    input.remove_prefix(segment_size + 1);
    return true;
  }
}

// The bytes of `input` before the next LF (or all of it), added to the partial line. A CR is never
// stored when it is seen, because only the byte after it tells whether it is the line end or a bare
// CR; `last_was_cr_` holds it across segments and calls. Returns true when the LF was consumed.
bool CommandLineParser::add_segment(std::string_view& input, CommandLineView& line) {
  const void* lf = input.empty() ? nullptr : std::memchr(input.data(), '\n', input.size());
  const std::size_t segment_size =
      lf != nullptr ? static_cast<std::size_t>(static_cast<const char*>(lf) - input.data())
                    : input.size();
  const std::string_view segment = input.substr(0, segment_size);

  if (!segment.empty()) {
    if (!overflow_) {
      if (last_was_cr_) {  // the CR held from before is followed by something other than LF
        saw_bare_cr_ = true;
        if (line_.size() < max_text) line_.push_back('\r');
      }
      const bool ends_in_cr = segment.back() == '\r';
      const std::string_view text = ends_in_cr ? segment.substr(0, segment.size() - 1) : segment;
      saw_nul_ = saw_nul_ || holds(segment, '\0');
      saw_bare_cr_ = saw_bare_cr_ || holds(text, '\r');
      if (line_.size() < max_text) {
        line_.append(text.data(), std::min(text.size(), max_text - line_.size()));
      }
    }
    last_was_cr_ = segment.back() == '\r';
    pending_ += segment.size();
    // With 512 octets before the LF the line can no longer fit: nothing more needs looking at.
    if (pending_ >= max_line) overflow_ = true;
  }

  if (lf == nullptr) {
    input.remove_prefix(input.size());
    return false;
  }
  input.remove_prefix(segment_size + 1);

  line.wire_size = pending_ + 1;
  if (overflow_) {
    line.error = LineError::too_long;
  } else if (saw_nul_) {
    line.error = LineError::nul;
  } else if (saw_bare_cr_) {
    line.error = LineError::bare_cr;
  } else if (!last_was_cr_) {
    line.error = LineError::bare_lf;
  }
  done_ = std::move(line_);
  line.text = done_;
  reset();
  return true;
}

void CommandLineParser::reset() {
  line_.clear();
  pending_ = 0;
  overflow_ = false;
  saw_nul_ = false;
  saw_bare_cr_ = false;
  last_was_cr_ = false;
}

}  // namespace tlschan

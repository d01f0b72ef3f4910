// CommandLineParser (next_view: the path the server reads with, and next() is built on) on arbitrary
// bytes (semantics.md section 7). Checks, for every input:
// - fed in two pieces at a point taken from the input, every line is what a model written from
//   command_line.hpp says of the whole input at that place: its wire size, its error (in the
//   header's order of precedence) and its text (the line without CRLF, at most 510 octets); so the
//   split changes nothing (split invariance);
// - every octet is accounted for: the lines' wire sizes plus the partial line make the input;
// - reset() (the STARTTLS purge) in the middle of a line forgets it: the parser then reads the rest
//   as a fresh parser does.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "tlschan/command_line.hpp"

namespace {

using tlschan::CommandLineView;
using tlschan::CommandLineParser;
using tlschan::LineError;

// A parser fed from up to two pieces of the input, one line at a time, so that two ways of feeding
// the same input can be compared line by line as they go.
class Feed {
 public:
  Feed(std::string_view first, std::string_view second = {}) : pieces_{first, second} {}

  TLSCHAN_FUZZ_HARNESS std::optional<CommandLineView> next() {
    while (piece_ < 2) {
      if (pieces_[piece_].empty()) {
        ++piece_;
        continue;
      }
      if (auto line = parser_.next_view(pieces_[piece_])) return line;
    }
    return std::nullopt;
  }
  CommandLineParser& parser() { return parser_; }

 private:
  CommandLineParser parser_;
  std::string_view pieces_[2];
  int piece_ = 0;
};

TLSCHAN_FUZZ_HARNESS std::string describe(const CommandLineView& l) {
  return "line of " + std::to_string(l.wire_size) + " octets, error " +
         (l.error ? tlschan::to_string(*l.error) : "none") + ", text of " + std::to_string(l.text.size()) +
         " octets";
}

// The header's contract for one complete line, LF included, taken from the input.
TLSCHAN_FUZZ_HARNESS void check_line(const CommandLineView& line, std::string_view wire) {
  TLSCHAN_FUZZ_CHECK(line.wire_size == wire.size() && !wire.empty() && wire.back() == '\n',
                     "wire_size disagrees with where the LF is: " + describe(line));
  TLSCHAN_FUZZ_CHECK(line.text.size() <= CommandLineParser::max_line - 2,
                     "text over 510 octets: " + describe(line));
  if (wire.size() > CommandLineParser::max_line) {
    TLSCHAN_FUZZ_CHECK(line.error == LineError::too_long,
                       "a line over 512 octets not too_long: " + describe(line));
    return;
  }
  std::string_view body = wire.substr(0, wire.size() - 1);
  const bool crlf = !body.empty() && body.back() == '\r';
  const std::string_view text = crlf ? body.substr(0, body.size() - 1) : body;
  std::optional<LineError> expected;
  if (wire.find('\0') != std::string_view::npos) {
    expected = LineError::nul;
  } else if (text.find('\r') != std::string_view::npos) {
    expected = LineError::bare_cr;
  } else if (!crlf) {
    expected = LineError::bare_lf;
  }
  TLSCHAN_FUZZ_CHECK(line.error == expected, std::string("wrong error: ") + describe(line) + ", expected " +
                                                 (expected ? tlschan::to_string(*expected) : "none"));
  TLSCHAN_FUZZ_CHECK(
      line.text == text.substr(0, CommandLineParser::max_line - 2),
      "the text is not the line without its line end (its first 510 octets): " + describe(line));
}

}  // namespace

extern "C" TLSCHAN_FUZZ_HARNESS int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size == 0 ? 0 : (data[0] | (std::size_t{data[size - 1]} << 8)) % (size + 1);

  // Fed in two pieces, every line is what the model says of the whole input at that place: so
  // the split changes nothing, and every octet is accounted for.
  Feed pieces(input.substr(0, split), input.substr(split));
  std::size_t at = 0, before_split = 0;  // before_split: where the line holding the split starts
  while (const std::optional<CommandLineView> line = pieces.next()) {
    check_line(*line, input.substr(at, line->wire_size));
    at += line->wire_size;
    if (at <= split) before_split = at;
  }
  TLSCHAN_FUZZ_CHECK(at + pieces.parser().pending() == input.size(),
                     "split at " + std::to_string(split) + ": octets lost: " + std::to_string(at) +
                         " in lines, " + std::to_string(pieces.parser().pending()) + " pending, of " +
                         std::to_string(input.size()));

  // The purge: reset() in the middle of a line forgets it; the parser then reads the rest as a
  // fresh one does, which the model says line by line.
  CommandLineParser purged;
  std::string_view partial = input.substr(before_split, split - before_split);
  TLSCHAN_FUZZ_CHECK(!purged.next_view(partial).has_value(), "a line completed inside a partial line");
  purged.reset();
  TLSCHAN_FUZZ_CHECK(purged.pending() == 0, "reset() left a partial line");
  std::string_view rest = input.substr(split);
  at = split;
  while (!rest.empty()) {
    if (const auto line = purged.next_view(rest)) {
      check_line(*line, input.substr(at, line->wire_size));
      at += line->wire_size;
    }
  }
  TLSCHAN_FUZZ_CHECK(at + purged.pending() == input.size(), "after reset(), octets lost");
  return 0;
}

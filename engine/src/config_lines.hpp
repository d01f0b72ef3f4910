// Internal: the physical lines and words of a configuration file, with positions, shared by the
// imta.cnf and dispatcher.cnf parsers.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/config_diagnostics.hpp"

namespace tlschan::config_text {

// Longer lines are reported, not parsed: they keep a parser's work and memory bounded.
inline constexpr std::size_t max_line_length = 64 * 1024;
inline constexpr std::size_t max_errors = 100;

// Octet classes, looked up rather than compared: the scans of a file touch every octet of it
// (letters are lowered with ascii_case.hpp).
struct OctetTables {
  std::array<unsigned char, 256> blank{};    // space and tab
  std::array<unsigned char, 256> control{};  // a control character other than tab (and DEL)
  constexpr OctetTables() {
    for (std::size_t c = 0; c < 256; ++c) {
      blank[c] = c == ' ' || c == '\t';
      control[c] = (c < 0x20 && c != '\t') || c == 0x7f;
    }
  }
};
inline constexpr OctetTables octets;

std::string ascii_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

// Collects the errors of one file: identical ones once, at most max_errors and then one
// "too many errors" line. take() gives them in file order.
class ErrorSink {
 public:
  explicit ErrorSink(std::string file) : file_(std::move(file)) {}
  void error(SourcePosition at, std::string message);
  bool empty() const { return errors_.empty(); }
  std::vector<Diagnostic> take();
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Diagnostic> errors_;
  bool full_ = false;
};

struct PhysicalLine {
  std::size_t number = 0;  // 1-based
  std::string_view text;   // without its line end (LF or CRLF)
  bool damaged = false;    // too long or holding a control character: reported, not parsed
};

// Splits on LF, strips a CR before it and a UTF-8 byte order mark at the start, and reports lines over
// max_line_length and lines holding a control character other than tab.
std::vector<PhysicalLine> split_lines(std::string_view text, ErrorSink& errors);

// The text of a line before its comment: '!' starts a comment where it starts a word (at the start
// of the line or after a blank), so `a!b` is a word.
std::string_view strip_comment(std::string_view line);

struct LineWords {
  std::vector<Token> words;
  bool comment = false;    // the line held a comment
  bool continued = false;  // it ended with '\': the logical line goes on with the next line
};

// The blank-separated words of a line before its comment, and its trailing '\'. A word that ends
// with '\' anywhere but at the end of the line is an error (it would read as a continuation).
LineWords split_words(const PhysicalLine& line, ErrorSink& errors);

// Letters, digits, '-' and '_', at least one: channel, service and option names, domain labels.
bool is_word(std::string_view s);

// A word for a message: in single quotes, cut after 60 bytes.
std::string in_quotes(std::string_view word);

bool is_blank(char c);
std::string_view trim(std::string_view s);

}  // namespace tlschan::config_text

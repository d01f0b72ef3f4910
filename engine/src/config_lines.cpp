#include "config_lines.hpp"

#include "ascii_case.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

namespace tlschan::config_text {

namespace {

unsigned char octet(char c) { return static_cast<unsigned char>(c); }

}  // namespace

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = detail::lower_octet(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (detail::lower_octet(a[i]) != detail::lower_octet(b[i])) return false;
  }
  return true;
}

bool is_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::string in_quotes(std::string_view word) {
  constexpr std::size_t limit = 60;
  // Appended piece by piece: gcc 12 at -O3 warns (-Wrestrict, a false positive) on
  // `"literal" + std::string&&`, which inserts at the front.
  std::string out = "'";
  if (word.size() <= limit) {
    out += word;
    out += '\'';
    return out;
  }
  out += word.substr(0, limit);
  out += "...' (";
  out += std::to_string(word.size());
  out += " bytes)";
  return out;
}

bool is_blank(char c) {
  return octets.blank[octet(c)] != 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

void ErrorSink::error(SourcePosition at, std::string message) {
  if (full_) return;
  // Every error here has this sink's file and severity: the same error is the same position and message.
  if (std::any_of(errors_.begin(), errors_.end(),
                  [&](const Diagnostic& e) { return e.position == at && e.message == message; })) {
    return;
  }
  Diagnostic d{file_, at, Severity::error, std::move(message)};
  if (errors_.empty()) errors_.reserve(16);  // one allocation for the few errors most files have
  if (errors_.size() == max_errors) {
    errors_.push_back({file_, at, Severity::error, "too many errors, stopping here"});
    full_ = true;
    return;
  }
  errors_.push_back(std::move(d));
}

std::vector<Diagnostic> ErrorSink::take() {
  const auto sorted_end = full_ ? errors_.end() - 1 : errors_.end();  // "too many errors" stays last
  std::stable_sort(errors_.begin(), sorted_end, [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.position.line, a.position.column) < std::pair(b.position.line, b.position.column);
  });
  return std::move(errors_);
}

namespace {

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

// The first control character of a line, or its end. Most lines have none: their octets are
// looked up and or-ed together, with no branch an octet, and only a line that holds one is searched.
std::string_view::const_iterator find_control(std::string_view line) {
  unsigned char any = 0;
  for (const char c : line) any |= octets.control[octet(c)];
  if (any == 0) return line.end();
  return std::find_if(line.begin(), line.end(), [](char c) { return octets.control[octet(c)] != 0; });
}

}  // namespace

std::vector<PhysicalLine> split_lines(std::string_view text, ErrorSink& errors) {
  constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";  // some editors start a file with it
  if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
  std::vector<PhysicalLine> lines;
  std::size_t line_ends = 0;
  for (std::size_t lf = text.find('\n'); lf != std::string_view::npos; lf = text.find('\n', lf + 1)) ++line_ends;
  lines.reserve(line_ends + 1);
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    PhysicalLine pl{++number, line, false};
    if (line.size() > max_line_length) {
      errors.error({number, max_line_length + 1}, "found a line of " + std::to_string(line.size()) +
                                                      " bytes, expected at most " +
                                                      std::to_string(max_line_length));
      pl.damaged = true;
    } else if (const auto bad = find_control(line); bad != line.end()) {
      errors.error(
          {number, static_cast<std::size_t>(bad - line.begin()) + 1},
          "found the control character " + hex_byte(static_cast<unsigned char>(*bad)) + ", expected text");
      pl.damaged = true;
    }
    lines.push_back(pl);
  }
  return lines;
}

std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = line.find('!'); i != std::string_view::npos; i = line.find('!', i + 1)) {
    if (i == 0 || is_blank(line[i - 1])) return line.substr(0, i);
  }
  return line;
}

LineWords split_words(const PhysicalLine& line, ErrorSink& errors) {
  LineWords out;
  const std::string_view text = strip_comment(line.text);
  out.comment = text.size() != line.text.size();
  // The words, counted first (one allocation for them): a word starts where a blank is followed by
  // another octet, counted without a branch an octet.
  std::size_t count = 0;
  unsigned char after_blank = 1;  // the start of the line counts as a blank
  for (const char c : text) {
    const unsigned char blank = octets.blank[octet(c)];
    count += after_blank & (blank ^ 1u);
    after_blank = blank;
  }
  out.words.reserve(count);
  std::size_t i = 0;
  while (i < text.size()) {
    if (octets.blank[octet(text[i])]) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && !octets.blank[octet(text[i])]) ++i;
    out.words.push_back({std::string(text.substr(start, i - start)), {line.number, start + 1}});
  }
  if (!out.words.empty() && out.words.back().text.back() == '\\') {
    out.continued = true;
    out.words.back().text.pop_back();
    if (out.words.back().text.empty()) out.words.pop_back();
  }
  for (const Token& w : out.words) {
    if (!w.text.empty() && w.text.back() == '\\') {
      errors.error({w.position.line, w.position.column + w.text.size() - 1},
                   "found '\\' at the end of the word " + in_quotes(w.text) +
                       ", expected '\\' only as the last character of a line (a continuation)");
    }
  }
  return out;
}

}  // namespace tlschan::config_text

#include "config_lines.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace tlschan::config_text {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
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
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

void ErrorSink::error(SourcePosition at, std::string message) {
  if (full_) return;
  Diagnostic d{file_, at, Severity::error, std::move(message)};
  if (std::find(errors_.begin(), errors_.end(), d) != errors_.end()) return;
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

bool is_control(unsigned char c) {
  return (c < 0x20 && c != '\t') || c == 0x7f;
}

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

}  // namespace

std::vector<PhysicalLine> split_lines(std::string_view text, ErrorSink& errors) {
  constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";  // some editors start a file with it
  if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
  std::vector<PhysicalLine> lines;
  lines.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
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
    } else if (const auto bad =
                   std::find_if(line.begin(), line.end(),
                                [](char c) { return is_control(static_cast<unsigned char>(c)); });
               bad != line.end()) {
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
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '!' && (i == 0 || is_blank(line[i - 1]))) return line.substr(0, i);
  }
  return line;
}

LineWords split_words(const PhysicalLine& line, ErrorSink& errors) {
  LineWords out;
  const std::string_view text = strip_comment(line.text);
  out.comment = text.size() != line.text.size();
  std::size_t count = 0;  // the words, counted first: one allocation for them
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (!is_blank(text[k]) && (k == 0 || is_blank(text[k - 1]))) ++count;
  }
  out.words.reserve(count);
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_blank(text[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && !is_blank(text[i])) ++i;
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

// SMTP replies (RFC 5321 4.2): the client's incremental reply parser, enhanced status codes
// (RFC 3463), EHLO capabilities (RFC 5321 4.1.1.1) and the server's reply formatting.
#include "tlschan/reply.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>

#include "ascii_case.hpp"
#include "octet_scan.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// The per-line steps of the reply parser, inlined into its loop (called once a line, they cost more
// in calls than in work).
#if defined(__GNUC__)
#define TLSCHAN_HOT_INLINE [[gnu::always_inline]] inline
#else
#define TLSCHAN_HOT_INLINE inline
#endif

namespace tlschan {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads 1 to 3 digits at `pos`; the octet after them is left for the caller to check.
bool read_number(std::string_view text, std::size_t& pos, int& value) {
  const std::size_t start = pos;
  value = 0;
  while (pos < text.size() && pos - start < 3 && is_digit(text[pos])) {
    value = value * 10 + (text[pos] - '0');
    ++pos;
  }
  return pos > start;
}

// "C.S.D" at the start of a reply's first line, C being the class of the reply code: sets `enhanced`
// where there is one and leaves it as it is where there is none. It fills the caller's optional in
// place: returned by value, an empty optional (most replies have no enhanced code) was one byte
// stored to the stack and read back at once within a wider load, which the processor cannot
// forward from the store and waits for. Filled in place, BM_ReplyParser ran 1.07 times as fast on
// one of the two CPUs of the machine it was measured on, and as fast as before on the other.
void parse_enhanced(int code, std::string_view text, std::optional<EnhancedStatus>& enhanced) {
  const int cls = code / 100;
  if (cls != 2 && cls != 4 && cls != 5) return;
  if (text.size() < 5 || text[0] != static_cast<char>('0' + cls) || text[1] != '.') return;
  EnhancedStatus status;
  status.cls = cls;
  std::size_t pos = 2;
  if (!read_number(text, pos, status.subject)) return;
  if (pos >= text.size() || text[pos] != '.') return;
  ++pos;
  if (!read_number(text, pos, status.detail)) return;
  if (pos < text.size() && text[pos] != ' ') return;
  enhanced = status;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view first_word(std::string_view text, std::size_t& pos) {
  while (pos < text.size() && is_blank(text[pos])) ++pos;
  const std::size_t start = pos;
  while (pos < text.size() && !is_blank(text[pos])) ++pos;
  return text.substr(start, pos - start);
}

std::optional<std::uint64_t> parse_size(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::uint64_t value = 0;
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  for (const char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (value == 0) return std::nullopt;  // SIZE 0: no limit given (RFC 1870)
  return value;
}

void append_line(std::string& out, int code, bool last, std::string_view enhanced,
                 std::string_view text) {
  const char digits[3] = {static_cast<char>('0' + code / 100), static_cast<char>('0' + code / 10 % 10),
                         static_cast<char>('0' + code % 10)};
  out.append(digits, 3);
  // The last line of a reply that says nothing beyond its code is the code alone.
  if (!last || !enhanced.empty() || !text.empty()) out += last ? ' ' : '-';
  if (!enhanced.empty()) {
    out += enhanced;
    if (!text.empty()) out += ' ';
  }
  const std::size_t start = out.size();
  out += text;
  for (std::size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\r') out[i] = ' ';
  }
  out += "\r\n";
}

}  // namespace

std::string EnhancedStatus::to_string() const {
  return std::to_string(cls) + '.' + std::to_string(subject) + '.' + std::to_string(detail);
}

std::string Reply::text() const {
  std::string joined;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) joined += '\n';
    joined += lines[i];
  }
  return joined;
}

const char* to_string(ReplyError e) {
  switch (e) {
    case ReplyError::line_too_long:
      return "line_too_long";
    case ReplyError::malformed:
      return "malformed";
    case ReplyError::code_mismatch:
      return "code_mismatch";
  }
  return "unknown";
}

Reply ReplyView::to_reply() const {
  Reply r;
  r.code = code;
  r.enhanced = enhanced;
  r.lines.reserve(line_count);
  for (const std::string_view line : *this) r.lines.emplace_back(line);
  return r;
}

bool operator==(const ReplyView& a, const ReplyView& b) {
  if (a.code != b.code || a.enhanced != b.enhanced || a.line_count != b.line_count) return false;
  for (std::size_t i = 0; i < a.line_count; ++i) {
    if (a.line_data[i] != b.line_data[i]) return false;
  }
  return true;
}

bool operator==(const ReplyView& a, const Reply& b) {
  if (a.code != b.code || a.enhanced != b.enhanced || a.line_count != b.lines.size()) return false;
  for (std::size_t i = 0; i < a.line_count; ++i) {
    if (a.line_data[i] != b.lines[i]) return false;
  }
  return true;
}

ReplyParser::ReplyParser(const ReplyParser& other)
    : line_(other.line_),
      text_(other.text_capacity_ != 0 ? new char[other.text_capacity_] : nullptr),
      text_size_(other.text_size_),
      text_capacity_(other.text_capacity_),
      finished_(other.finished_),
      code_(other.code_) {
  if (text_size_ != 0) std::memcpy(text_.get(), other.text_.get(), text_size_);
  views_.reserve(other.views_.size());
  for (const std::string_view v : other.views_) {
    views_.emplace_back(text_.get() + (v.data() - other.text_.get()), v.size());
  }
}

ReplyParser& ReplyParser::operator=(const ReplyParser& other) {
  if (this != &other) *this = ReplyParser(other);
  return *this;
}

std::optional<ParsedReply> ReplyParser::next(std::string_view& input) {
  auto view = next_view(input);
  if (!view) return std::nullopt;
  if (const auto* e = std::get_if<ReplyError>(&*view)) return ParsedReply{*e};
  return ParsedReply{std::get<ReplyView>(*view).to_reply()};
}

TLSCHAN_HOT_INLINE bool ReplyParser::take_line(std::string_view line, const char* readable_end,
                            std::optional<ParsedReplyView>& result) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const bool code_ok = line.size() >= 3 && line[0] >= '1' && line[0] <= '5' && line[1] >= '0' &&
                       line[1] <= '5' && is_digit(line[2]);
  // (Only read when the code is there: a line of fewer than 4 octets has no line[3].)
  const bool separator_ok = code_ok && (line.size() == 3 || line[3] == ' ' || line[3] == '-');
  if (!code_ok || !separator_ok) {
    reset();
    result.emplace(ReplyError::malformed);
    return true;
  }
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (!views_.empty() && code != code_) {
    reset();
    result.emplace(ReplyError::code_mismatch);
    return true;
  }
  const bool last = line.size() == 3 || line[3] == ' ';
  code_ = code;
  const std::string_view text = line.substr(line.size() == 3 ? 3 : 4);
  keep_text(text, readable_end);
  if (!last) return false;

  ReplyView& reply = std::get<ReplyView>(result.emplace(std::in_place_type<ReplyView>));
  reply.code = code_;
  reply.line_data = views_.data();
  reply.line_count = views_.size();
  parse_enhanced(code_, views_.front(), reply.enhanced);  // reply.enhanced is empty, just made
  finished_ = true;
  return true;
}

// Adds a line's text to text_ and its view to views_. text_ keeps 16 spare octets past its
// contents, so that a short text (most are) is copied as one 16-octet load and store when its line
// has 16 readable octets (`readable_end`). The views point into text_: when text_ must grow, it
// moves to a larger buffer and the views are moved with it.
TLSCHAN_HOT_INLINE void ReplyParser::keep_text(std::string_view text, const char* readable_end) {
  const std::size_t n = text.size();
  if (text_size_ + n + 16 > text_capacity_) {
    const std::size_t capacity = std::max<std::size_t>(2 * text_capacity_, text_size_ + n + 16 + 256);
    std::unique_ptr<char[]> grown(new char[capacity]);
    if (text_size_ != 0) std::memcpy(grown.get(), text_.get(), text_size_);
    for (std::string_view& v : views_) {
      v = std::string_view(grown.get() + (v.data() - text_.get()), v.size());
    }
    text_ = std::move(grown);
    text_capacity_ = capacity;
  }
  char* const to = text_.get() + text_size_;
#if defined(__SSE2__)
  if (n <= 16 && readable_end - text.data() >= 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(to),
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data())));
  } else if (n != 0) {
    std::memcpy(to, text.data(), n);
  }
#else
  if (n != 0) std::memcpy(to, text.data(), n);
#endif
  text_size_ += n;
  views_.emplace_back(to, n);
}

// A line over max_line octets is refused at its 513th octet, so at most max_line octets of a line
// are ever held. After an error the parser holds nothing (as after reset()). A line that arrives
// whole in `input` is read in place; only a line split across calls is gathered in line_.
// Every path returns the one object `result`, filled in place: a reply built in a local and copied
// out stalled the copy (narrow stores read back as one wider load).
std::optional<ParsedReplyView> ReplyParser::next_view(std::string_view& input) {
  std::optional<ParsedReplyView> result;
  clear_finished();
  // Whole lines in `input`, nothing held from before: read in place, with the position kept in a
  // local (not written back to `input` line by line) until a reply or an error is complete.
  if (line_.empty()) {
    const char* p = input.data();
    const char* const end = p + input.size();
    for (;;) {
      const char* const lf = detail::find_byte(p, end, '\n');
      if (lf == end || static_cast<std::size_t>(lf - p) + 1 > max_line) break;
      const bool done = take_line(std::string_view(p, static_cast<std::size_t>(lf - p)), end, result);
      p = lf + 1;
      if (done) {
        input.remove_prefix(static_cast<std::size_t>(p - input.data()));
        return result;
      }
    }
    input.remove_prefix(static_cast<std::size_t>(p - input.data()));
  }
  while (!input.empty()) {
    const char* const end = input.data() + input.size();
    const char* lf = detail::find_byte(input.data(), end, '\n');
    if (lf == end) lf = nullptr;
    const std::size_t take =
        lf != nullptr ? static_cast<std::size_t>(lf - input.data()) + 1 : input.size();
    if (line_.size() + take > max_line) {
      input.remove_prefix(max_line + 1 - line_.size());
      reset();
      result.emplace(ReplyError::line_too_long);
      return result;
    }
    if (lf == nullptr) {
      line_.append(input.data(), input.size());
      input.remove_prefix(input.size());
      return result;
    }
    bool done;
    if (line_.empty()) {
      done = take_line(input.substr(0, take - 1), end, result);
    } else {
      line_.append(input.data(), take - 1);
      done = take_line(line_, line_.data() + line_.size(), result);
    }
    line_.clear();
    input.remove_prefix(take);
    if (done) return result;
  }
  return result;
}

void ReplyParser::clear_finished() {
  if (!finished_) return;
  finished_ = false;
  text_size_ = 0;
  views_.clear();
  code_ = 0;
}

void ReplyParser::reset() {
  line_.clear();
  text_size_ = 0;
  views_.clear();
  finished_ = false;
  code_ = 0;
}

namespace {

std::string_view line_of(const Reply& r, std::size_t i) { return r.lines[i]; }
std::string_view line_of(const ReplyView& r, std::size_t i) { return r.line(i); }

template <class Reply_>
Capabilities capabilities_of(const Reply_& ehlo_reply, std::size_t line_count) {
  Capabilities caps;
  if (ehlo_reply.code != 250) return caps;  // only a positive EHLO reply lists extensions
  if (line_count > 1) caps.keywords.reserve(line_count - 1);
  for (std::size_t i = 1; i < line_count; ++i) {
    const std::string_view line = line_of(ehlo_reply, i);
    std::size_t pos = 0;
    const std::string_view word = first_word(line, pos);
    if (word.empty()) continue;
    std::string keyword(word);
    for (char& c : keyword) c = detail::upper_octet(c);
    // Compared as views: a keyword of another length is not compared octet by octet.
    const std::string_view k = keyword;
    if (k == "STARTTLS") {
      caps.starttls = true;
    } else if (k == "PIPELINING") {
      caps.pipelining = true;
    } else if (k == "8BITMIME") {
      caps.eightbitmime = true;
    } else if (k == "ENHANCEDSTATUSCODES") {
      caps.enhancedstatuscodes = true;
    } else if (k == "SIZE") {
      caps.size = parse_size(first_word(line, pos));
    }
    caps.keywords.push_back(std::move(keyword));
  }
  return caps;
}

}  // namespace

Capabilities parse_capabilities(const Reply& ehlo_reply) {
  return capabilities_of(ehlo_reply, ehlo_reply.lines.size());
}

Capabilities parse_capabilities(const ReplyView& ehlo_reply) {
  return capabilities_of(ehlo_reply, ehlo_reply.line_count);
}

// A reply line never carries a line end of its own inside: each text is split at LF into lines,
// and a CR left in a line goes out as a space, so no caller can inject a reply line. The lines are
// appended as they are found, with no list of them built first.
void append_reply(std::string& out, int code, std::string_view enhanced, const std::string_view* texts,
                  std::size_t count) {
  assert(code >= 100 && code <= 599);
  if (count == 0) {
    append_line(out, code, true, enhanced, {});
    return;
  }
  for (std::size_t t = 0; t < count; ++t) {
    std::string_view rest = texts[t];
    for (;;) {
      const std::size_t lf = rest.find('\n');
      const bool last = lf == std::string_view::npos && t + 1 == count;
      append_line(out, code, last, enhanced, rest.substr(0, lf));
      if (lf == std::string_view::npos) break;
      rest.remove_prefix(lf + 1);
    }
  }
}

void append_reply(std::string& out, int code, std::string_view enhanced, std::string_view text) {
  append_reply(out, code, enhanced, &text, 1);
}

std::string format_reply(int code, std::string_view enhanced, const std::vector<std::string>& lines) {
  std::vector<std::string_view> texts(lines.begin(), lines.end());
  std::string out;
  append_reply(out, code, enhanced, texts.data(), texts.size());
  return out;
}

std::string format_reply(int code, std::string_view enhanced, std::string_view text) {
  std::string out;
  append_reply(out, code, enhanced, text);
  return out;
}

}  // namespace tlschan

// SMTP replies: the incremental reply parser a client reads with, enhanced status codes
// (RFC 3463), EHLO capabilities, and reply formatting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tlschan {

struct EnhancedStatus {
  int cls = 0;  // 2, 4 or 5
  int subject = 0;
  int detail = 0;
  std::string to_string() const;  // "5.7.0"
  friend bool operator==(const EnhancedStatus&, const EnhancedStatus&) = default;
};

struct Reply {
  int code = 0;                     // 100..599
  std::vector<std::string> lines;   // the text of each line, after the code and separator
  std::optional<EnhancedStatus> enhanced;  // from the first line, when it starts with one whose
                                           // class matches the code's first digit

  int klass() const { return code / 100; }  // 2, 3, 4 or 5
  std::string text() const;                 // the lines joined by "\n"
  friend bool operator==(const Reply&, const Reply&) = default;
};

enum class ReplyError {
  line_too_long,  // a reply line over 512 octets, line end included
  malformed,      // not three digits (first 1-5, second 0-5) then SP, '-' or the line end
  code_mismatch,  // lines of one multiline reply disagree on the code
};

const char* to_string(ReplyError e);

using ParsedReply = std::variant<Reply, ReplyError>;

// A complete reply as the parser holds it, without a copy: valid until the parser's next call
// (next, next_view or reset). to_reply() makes an owning Reply of it.
struct ReplyView {
  int code = 0;
  std::optional<EnhancedStatus> enhanced;
  const std::string_view* line_data = nullptr;  // the text of each line, as in Reply::lines
  std::size_t line_count = 0;

  const std::string_view* begin() const { return line_data; }
  const std::string_view* end() const { return line_data + line_count; }
  std::string_view line(std::size_t i) const { return line_data[i]; }
  int klass() const { return code / 100; }
  Reply to_reply() const;
  friend bool operator==(const ReplyView& a, const ReplyView& b);
  friend bool operator==(const ReplyView& a, const Reply& b);
};

using ParsedReplyView = std::variant<ReplyView, ReplyError>;

class ReplyParser {
 public:
  static constexpr std::size_t max_line = 512;

  ReplyParser() = default;
  // A copy holds its own buffers, with the views of a partial reply moved into them.
  ReplyParser(const ReplyParser& other);
  ReplyParser& operator=(const ReplyParser& other);
  ReplyParser(ReplyParser&&) noexcept = default;
  ReplyParser& operator=(ReplyParser&&) noexcept = default;
  ~ReplyParser() = default;

  // Consumes bytes from the front of `input` up to the end of one complete reply (single or
  // multiline) and returns it; returns an error as soon as one is certain (the parser must then be
  // reset before reuse); otherwise consumes all of `input` and returns nothing. A line ends at LF,
  // with or without CR before it.
  std::optional<ParsedReply> next(std::string_view& input);

  // The same, returning the reply as a view into the parser's buffers, which are reused from reply
  // to reply: once they have grown, reading replies allocates nothing.
  std::optional<ParsedReplyView> next_view(std::string_view& input);

  void reset();
  // No partial reply held (a reply already returned is not partial).
  bool idle() const { return line_.empty() && (finished_ || views_.empty()); }

 private:
  // Takes the complete line `line` (its LF already dropped): puts in `result` the reply when it was
  // the last line, or an error, and returns true then; returns false when more lines follow.
  // `readable_end`: the end of the buffer `line` lies in (octets up to it may be read).
  bool take_line(std::string_view line, const char* readable_end, std::optional<ParsedReplyView>& result);
  void keep_text(std::string_view text, const char* readable_end);
  void clear_finished();

  std::string line_;  // the partial line, without LF; never over max_line octets
  // The texts of the reply's lines so far, one after the other: text_size_ octets of a buffer of
  // text_capacity_ (at least 16 more than text_size_ once allocated).
  std::unique_ptr<char[]> text_;
  std::size_t text_size_ = 0;
  std::size_t text_capacity_ = 0;
  std::vector<std::string_view> views_;  // the reply's lines so far, into text_

  bool finished_ = false;                // a reply was returned; its buffers go at the next call
  int code_ = 0;
};

struct Capabilities {
  bool starttls = false;
  bool pipelining = false;
  bool eightbitmime = false;
  bool enhancedstatuscodes = false;
  std::optional<std::uint64_t> size;  // SIZE with a number; SIZE alone or SIZE 0 = no limit given
  std::vector<std::string> keywords;  // every extension line after the first, upper-cased keyword
};

// The capabilities of a 250 EHLO reply (its first line is the server's name and is skipped).
Capabilities parse_capabilities(const Reply& ehlo_reply);
Capabilities parse_capabilities(const ReplyView& ehlo_reply);

// "250 2.0.0 Ok\r\n" or "250-a\r\n250 b\r\n" for several lines (the enhanced code goes on every
// line when given).
std::string format_reply(int code, std::string_view enhanced, const std::vector<std::string>& lines);
std::string format_reply(int code, std::string_view enhanced, std::string_view text);
// The same, appended to `out` (with no allocation beyond out's growth); `texts` are the lines, each
// of which may itself hold several lines separated by LF.
void append_reply(std::string& out, int code, std::string_view enhanced, std::string_view text);
void append_reply(std::string& out, int code, std::string_view enhanced, const std::string_view* texts,
                  std::size_t count);

}  // namespace tlschan

// ReplyParser (next_view, which next() is built on) and parse_capabilities on arbitrary bytes (what
// a server, or a meddler, can send a client; semantics.md section 8). Checks, for every input:
// - the parser, fed the input in two pieces at a point taken from the input, gives the replies and
//   errors of a plain model of the reply grammar read over the whole input (RFC 5321 4.2: lines end
//   at LF, one CR before it dropped; a line of over 512 octets with its line end is refused at its
//   513th octet and reading goes on from the next; "ddd-" lines continue a reply, a "ddd " or bare
//   "ddd" line ends it, a first digit 1..5 and a second 0..5; the enhanced code of RFC 3463 from
//   the first line when its class is the code's). The model is split-free, so this checks both the
//   parser's reading and that where the input is cut changes nothing. The model is harness code (no
//   coverage), so each input is parsed once by the engine, not twice;
// - every reply is well-formed: code 100..599 with digits the parser accepts, at least one line,
//   no line over 512 octets, an enhanced code only of the reply's class;
// - format_reply (append_reply, which it is built on) of the first parsed reply parses back to the
//   same reply (where the text has no CR, which formatting turns into a space, and the lines fit
//   512 octets);
// - the capabilities of the first 250 reply come from its lines after the first, upper-cased
//   (and no other reply yields any).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "tlschan/reply.hpp"

namespace {

using tlschan::ParsedReplyView;
using tlschan::ReplyView;
using tlschan::ReplyError;
using tlschan::ReplyParser;

// A parser fed from up to two pieces of the input, one reply (or error) at a time, so that it can be
// compared with the model as they go. After an error the parser is reset, as a client that reads on
// would do.
class Feed {
 public:
  // `parser` is reset first: the target keeps its parser from input to input, so that its buffers,
  // once grown, are reused (a fresh parser per input would cost allocations, not checks).
  Feed(ReplyParser& parser, std::string_view first, std::string_view second)
      : parser_(parser), pieces_{first, second} {
    parser_.reset();
  }

  TLSCHAN_FUZZ_HARNESS std::optional<ParsedReplyView> next() {
    while (piece_ < 2) {
      if (pieces_[piece_].empty()) {
        ++piece_;
        continue;
      }
      if (auto r = parser_.next_view(pieces_[piece_])) {
        if (std::holds_alternative<ReplyError>(*r)) parser_.reset();
        return r;
      }
    }
    return std::nullopt;
  }
  const ReplyParser& parser() const { return parser_; }

 private:
  ReplyParser& parser_;
  std::string_view pieces_[2];
  int piece_ = 0;
};

// The reply grammar, read plainly over the whole input (see the top of this file). Its replies are
// views into the input and into its own line list, valid until the next call.
class Model {
 public:
  explicit Model(std::string_view input) : in_(input) {
    pending_.clear();
    done_.clear();
  }

  TLSCHAN_FUZZ_HARNESS std::optional<ParsedReplyView> next() {
    while (pos_ < in_.size()) {
      const std::size_t lf = in_.find('\n', pos_);
      const std::size_t length = lf == std::string_view::npos ? in_.size() - pos_ : lf - pos_ + 1;
      if (length > ReplyParser::max_line) {
        pos_ += ReplyParser::max_line + 1;
        pending_.clear();
        return ParsedReplyView{ReplyError::line_too_long};
      }
      if (lf == std::string_view::npos) {
        partial_ = true;
        pos_ = in_.size();
        return std::nullopt;
      }
      std::string_view line = in_.substr(pos_, lf - pos_);
      pos_ = lf + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const bool digits = line.size() >= 3 && line[0] >= '1' && line[0] <= '5' && line[1] >= '0' &&
                          line[1] <= '5' && line[2] >= '0' && line[2] <= '9';
      if (!digits || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
        pending_.clear();
        return ParsedReplyView{ReplyError::malformed};
      }
      const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
      if (!pending_.empty() && code != code_) {
        pending_.clear();
        return ParsedReplyView{ReplyError::code_mismatch};
      }
      code_ = code;
      pending_.push_back(line.substr(line.size() == 3 ? 3 : 4));
      if (line.size() > 3 && line[3] == '-') continue;
      done_.swap(pending_);
      pending_.clear();
      ReplyView r;
      r.code = code_;
      r.enhanced = enhanced(code_, done_.front());
      r.line_data = done_.data();
      r.line_count = done_.size();
      return ParsedReplyView{r};
    }
    return std::nullopt;
  }

  // No partial line and no reply begun.
  bool idle() const { return !partial_ && pending_.empty(); }

 private:
  // RFC 3463 "class.subject.detail" at the start of the first line, the class being the code's
  // first digit (2, 4 or 5), subject and detail of 1 to 3 digits, then the end or a space.
  TLSCHAN_FUZZ_HARNESS static std::optional<tlschan::EnhancedStatus> enhanced(int code, std::string_view t) {
    const int cls = code / 100;
    if ((cls != 2 && cls != 4 && cls != 5) || t.size() < 5 || t[0] != '0' + cls || t[1] != '.') return std::nullopt;
    std::size_t pos = 2;
    const auto number = [&](int& value) TLSCHAN_FUZZ_HARNESS {
      const std::size_t start = pos;
      value = 0;
      for (; pos < t.size() && pos - start < 3 && t[pos] >= '0' && t[pos] <= '9'; ++pos) value = value * 10 + (t[pos] - '0');
      return pos > start;
    };
    tlschan::EnhancedStatus e;
    e.cls = cls;
    if (!number(e.subject) || pos >= t.size() || t[pos] != '.') return std::nullopt;
    ++pos;
    if (!number(e.detail) || (pos < t.size() && t[pos] != ' ')) return std::nullopt;
    return e;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  bool partial_ = false;
  int code_ = 0;
  // Kept from input to input (their room, once grown, is reused).
  static inline std::vector<std::string_view> pending_, done_;
};

// The same reply or the same error (ReplyView's operator==, written here in harness code).
TLSCHAN_FUZZ_HARNESS bool same(const ParsedReplyView& a, const ParsedReplyView& b) {
  if (a.index() != b.index()) return false;
  if (const auto* e = std::get_if<ReplyError>(&a)) return *e == std::get<ReplyError>(b);
  const ReplyView& x = std::get<ReplyView>(a);
  const ReplyView& y = std::get<ReplyView>(b);
  if (x.code != y.code || x.enhanced != y.enhanced || x.line_count != y.line_count) return false;
  for (std::size_t i = 0; i < x.line_count; ++i) {
    if (x.line_data[i] != y.line_data[i]) return false;
  }
  return true;
}

TLSCHAN_FUZZ_HARNESS std::string describe(const ParsedReplyView& p) {
  if (const auto* e = std::get_if<ReplyError>(&p)) return std::string("error ") + tlschan::to_string(*e);
  const ReplyView& r = std::get<ReplyView>(p);
  return "reply " + std::to_string(r.code) + " of " + std::to_string(r.line_count) + " lines";
}

// `first`: the first reply of the input, whose formatting round trip is checked; `capabilities`:
// whether to read capabilities from a 250 reply (only the input's first 250 reply is read). Once
// per input keeps the target fast; the mutator moves every kind of reply to the front.
TLSCHAN_FUZZ_HARNESS void check_reply(const ReplyView& r, bool first, bool capabilities) {
  const int d1 = r.code / 100, d2 = r.code / 10 % 10;
  TLSCHAN_FUZZ_CHECK(d1 >= 1 && d1 <= 5 && d2 <= 5, "code " + std::to_string(r.code) + " out of range");
  TLSCHAN_FUZZ_CHECK(r.line_count > 0, "a reply without lines");
  for (const std::string_view line : r) {
    TLSCHAN_FUZZ_CHECK(line.size() + 4 <= ReplyParser::max_line, "a reply line over 512 octets");
    TLSCHAN_FUZZ_CHECK(line.find('\n') == std::string::npos, "an LF inside a reply line");
  }
  if (r.enhanced) {
    TLSCHAN_FUZZ_CHECK(r.enhanced->cls == r.klass(), "enhanced code " + r.enhanced->to_string() + " on a " +
                                                         std::to_string(r.code) + " reply");
  }

  bool round_trips = first;
  for (const std::string_view line : r)
    round_trips =
        round_trips && line.find('\r') == std::string::npos && line.size() + 6 <= ReplyParser::max_line;
  if (first && round_trips) {
    // append_reply is what format_reply is built on; kept buffers, so no allocation per input.
    static std::string wire;
    static ReplyParser again;
    wire.clear();
    again.reset();
    tlschan::append_reply(wire, r.code, "", r.line_data, r.line_count);
    std::string_view rest = wire;
    const auto back = again.next_view(rest);
    TLSCHAN_FUZZ_CHECK(back && rest.empty() && same(*back, ParsedReplyView{r}),
                       "format_reply of a " + std::to_string(r.code) + " reply does not parse back to it");
  }

  if (r.code == 250 && !capabilities) return;
  const tlschan::Capabilities caps = tlschan::parse_capabilities(r);
  if (r.code != 250) {
    TLSCHAN_FUZZ_CHECK(caps.keywords.empty() && !caps.starttls, "capabilities read from a non-250 reply");
    return;
  }
  TLSCHAN_FUZZ_CHECK(caps.keywords.size() < r.line_count, "more capabilities than extension lines");
  bool listed_starttls = false;
  for (const std::string& k : caps.keywords) {
    TLSCHAN_FUZZ_CHECK(!k.empty(), "an empty capability keyword");
    for (const char c : k)
      TLSCHAN_FUZZ_CHECK(!(c >= 'a' && c <= 'z'), "a capability keyword not upper-cased: " + k);
    listed_starttls = listed_starttls || k == "STARTTLS";
  }
  TLSCHAN_FUZZ_CHECK(caps.starttls == listed_starttls, "starttls disagrees with the keywords");
  TLSCHAN_FUZZ_CHECK(!caps.size || *caps.size > 0, "SIZE 0 read as a limit");
}

}  // namespace

extern "C" TLSCHAN_FUZZ_HARNESS int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size == 0 ? 0 : (data[0] | (std::size_t{data[size - 1]} << 8)) % (size + 1);
  static ReplyParser parser;
  Model model(input);
  Feed pieces(parser, input.substr(0, split), input.substr(split));
  bool capabilities_read = false;
  for (std::size_t i = 0;; ++i) {
    const std::optional<ParsedReplyView> want = model.next();
    const std::optional<ParsedReplyView> got = pieces.next();
    if (!want && !got) break;
    TLSCHAN_FUZZ_CHECK(want && got && same(*want, *got), "split at " + std::to_string(split) + ", reply " +
                                                         std::to_string(i) + ": " + (got ? describe(*got) : "none") +
                                                         ", the grammar gives: " + (want ? describe(*want) : "none"));
    if (const auto* r = std::get_if<ReplyView>(&*got)) {
      check_reply(*r, i == 0, !capabilities_read);
      capabilities_read = capabilities_read || r->code == 250;
    }
  }
  TLSCHAN_FUZZ_CHECK(pieces.parser().idle() == model.idle(),
                     "split at " + std::to_string(split) + ": the parser " +
                         (pieces.parser().idle() ? "holds nothing" : "holds a partial reply") + ", the grammar " +
                         (model.idle() ? "nothing" : "a partial reply"));
  return 0;
}

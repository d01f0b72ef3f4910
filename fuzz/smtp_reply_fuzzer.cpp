// ReplyParser (next_view, which next() is built on) and parse_capabilities on arbitrary bytes (what a server, or a meddler, can send a
// client; semantics.md section 8). Checks, for every input:
// - split invariance: the input fed whole and fed in two pieces at a point taken from the input
//   gives the same replies and errors;
// - every reply is well-formed: code 100..599 with digits the parser accepts, at least one line,
//   no line over 512 octets, an enhanced code only of the reply's class;
// - format_reply of the first parsed reply parses back to the same reply (where the text has no CR,
//   which formatting turns into a space, and the lines fit 512 octets);
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

// A parser fed from up to two pieces of the input, one reply (or error) at a time, so that two ways
// of feeding the same input can be compared as they go. After an error the parser is reset, as a
// client that reads on would do.
class Feed {
 public:
  // `parser` is reset first: the target keeps two parsers from input to input, so that their
  // buffers, once grown, are reused (a fresh parser per input would cost allocations, not checks).
  Feed(ReplyParser& parser, std::string_view first, std::string_view second = {})
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
    const std::string wire = tlschan::format_reply(r.code, "", r.to_reply().lines);
    ReplyParser again;
    std::string_view rest = wire;
    const auto back = again.next_view(rest);
    TLSCHAN_FUZZ_CHECK(
        back && rest.empty() && std::holds_alternative<ReplyView>(*back) && std::get<ReplyView>(*back) == r,
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
  static ReplyParser whole_parser, pieces_parser;
  Feed whole(whole_parser, input);
  Feed pieces(pieces_parser, input.substr(0, split), input.substr(split));
  bool capabilities_read = false;
  for (std::size_t i = 0;; ++i) {
    const std::optional<ParsedReplyView> a = whole.next();
    const std::optional<ParsedReplyView> b = pieces.next();
    if (!a && !b) break;
    TLSCHAN_FUZZ_CHECK(a && b && *a == *b, "split at " + std::to_string(split) + ", reply " +
                                               std::to_string(i) + ": " + (b ? describe(*b) : "none") +
                                               ", whole: " + (a ? describe(*a) : "none"));
    if (const auto* r = std::get_if<ReplyView>(&*a)) {
      check_reply(*r, i == 0, !capabilities_read);
      capabilities_read = capabilities_read || r->code == 250;
    }
  }
  TLSCHAN_FUZZ_CHECK(pieces.parser().idle() == whole.parser().idle(),
                     "split at " + std::to_string(split) + ": a different partial reply");
  return 0;
}

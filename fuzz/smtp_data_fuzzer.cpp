// DataReader on arbitrary bytes: the DATA phase, dot-stuffing and SMTP smuggling (semantics.md
// section 7, prior-art.md). Checks, for every input:
// - every message against a model written from data_reader.hpp alone: only CRLF "." CRLF ends the
//   data (a line start is the start of the data or the octet after a CRLF), every look-alike
//   (LF.LF, CR.CR, CR.LF, LF.CRLF, CRLF.LF, CRLF NUL.CRLF, ...) is content; the body is the
//   content unstuffed; the marks (bare CR, bare LF, NUL, a line over 1000 octets not counting a stuffing dot, over the size
//   limit) and the size; the body kept within the limit;
// - a body never holds an unstuffed end of data: the reader ends each message at the first
//   CRLF.CRLF the model finds, and a well-formed body stuffed again (as a relay sends it on) reads
//   back as the same message, ending exactly at its end;
// - split invariance: the input is fed in two pieces at a point taken from the input, and every
//   message is checked against what the model says of the whole input.
// The size limit is one of a few, chosen by the input's last octet; the reader reads message after
// message while input remains.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "fuzz_check.hpp"
#include "tlschan/data_reader.hpp"

namespace {

using tlschan::DataReader;
using tlschan::DataResult;

// What the model says of one message. The body is a view into a buffer the model reuses from run
// to run (the target's speed is the reader's, not the model's allocations); it holds the body as
// far as the size limit keeps it.
struct Message {
  DataResult result;       // the marks and the size; its body is left empty
  std::string_view body;   // the body kept
  std::size_t consumed = 0;  // wire octets through the end-of-data line (the model's)
};

// A reader fed from up to two pieces of the input, one message at a time, so that two ways of
// feeding the same input can be compared as they go. The reader is the target's, kept from input to
// input and reset (DataReader::reset) for each, and every body is given back (recycle) once checked:
// its storage, once grown, holds the next message (a fresh reader per input, and a new body per
// message, cost allocations, not checks).
class Feed {
 public:
  Feed(DataReader& reader, std::uint64_t limit, std::string_view first, std::string_view second = {})
      : reader_(reader), pieces_{first, second} {
    reader_.reset(limit);
  }

  TLSCHAN_FUZZ_HARNESS std::optional<DataResult> next() {
    while (piece_ < 2) {
      if (pieces_[piece_].empty()) {
        ++piece_;
        continue;
      }
      if (auto r = reader_.next(pieces_[piece_])) return r;
    }
    return std::nullopt;
  }
  void recycle(std::string&& body) { reader_.recycle(std::move(body)); }
  // Octets of the input consumed so far.
  std::size_t consumed(std::size_t input_size) const {
    return input_size - pieces_[0].size() - pieces_[1].size();
  }

 private:
  DataReader& reader_;
  std::string_view pieces_[2];
  int piece_ = 0;
};

// The model: where the first end of data is, and what the message between is. One pass over the
// lines (each line's octets looked at once, in harness code, rather than through several library
// scans per line, each of which ASan intercepts).
TLSCHAN_FUZZ_HARNESS std::optional<Message> model(std::string_view wire, std::uint64_t limit) {
  Message m;
  static std::string body;
  body.clear();
  for (std::size_t start = 0;;) {
    if (start >= wire.size()) return std::nullopt;  // no end of data
    if (wire.size() - start >= 3 && wire[start] == '.' && wire[start + 1] == '\r' && wire[start + 2] == '\n') {
      m.consumed = start + 3;
      break;
    }
    // The line runs to the next CRLF (a CR or LF on its own is content, marked).
    std::size_t crlf = start;
    while (crlf + 1 < wire.size() && !(wire[crlf] == '\r' && wire[crlf + 1] == '\n')) {
      const char c = wire[crlf];
      if (c == '\r') m.result.bare_cr = true;
      if (c == '\n') m.result.bare_lf = true;
      if (c == '\0') m.result.nul = true;
      ++crlf;
    }
    if (crlf + 1 >= wire.size()) return std::nullopt;  // the line never ends: no end of data
    std::string_view line = wire.substr(start, crlf - start);
    if (!line.empty() && line.front() == '.') line.remove_prefix(1);
    // The length of a line does not count its stuffing dot (RFC 5321 4.5.3.1.6).
    if (line.size() + 2 > DataReader::max_line) m.result.line_too_long = true;
    body.append(line);
    body += "\r\n";
    start = crlf + 2;
  }
  m.result.size = body.size();
  m.result.over_size = m.result.size > limit;
  m.body = body;
  if (m.body.size() > limit) m.body = m.body.substr(0, static_cast<std::size_t>(limit));
  return m;
}

// The body stuffed again by the engine's writer, as a relay sends it on (into a buffer reused from
// run to run).
TLSCHAN_FUZZ_HARNESS std::string_view stuff(std::string_view body) {
  static std::string out;
  out.clear();
  tlschan::dot_stuff(body, out);
  return out;
}

TLSCHAN_FUZZ_HARNESS std::string flags(const DataResult& r, std::size_t kept) {
  return std::string("size=") + std::to_string(r.size) + " kept=" + std::to_string(kept) +
         (r.bare_cr ? " bare_cr" : "") + (r.bare_lf ? " bare_lf" : "") + (r.nul ? " nul" : "") +
         (r.line_too_long ? " line_too_long" : "") + (r.over_size ? " over_size" : "");
}

TLSCHAN_FUZZ_HARNESS bool same_marks(const DataResult& a, const DataResult& b) {
  return a.size == b.size && a.bare_cr == b.bare_cr && a.bare_lf == b.bare_lf && a.nul == b.nul &&
         a.line_too_long == b.line_too_long && a.over_size == b.over_size;
}

TLSCHAN_FUZZ_HARNESS bool same(const DataResult& a, const DataResult& b) { return a.body == b.body && same_marks(a, b); }

}  // namespace

extern "C" TLSCHAN_FUZZ_HARNESS int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::uint64_t limits[] = {10485760, 1000, 64, 1, 0};
  const std::uint64_t limit = size == 0 ? limits[0] : limits[data[size - 1] % std::size(limits)];
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size == 0 ? 0 : (data[0] | (std::size_t{data[size / 2]} << 8)) % (size + 1);

  // Fed in two pieces, each message is what the model says of the whole input at that place: so
  // the split changes nothing.
  static DataReader reader(0), next_hop(0);
  Feed pieces(reader, limit, input.substr(0, split), input.substr(split));
  std::size_t at = 0;
  for (std::size_t i = 0;; ++i) {
    std::optional<DataResult> got = pieces.next();
    const std::optional<Message> want = model(input.substr(at), limit);
    if (!got) {
      TLSCHAN_FUZZ_CHECK(!want, "split at " + std::to_string(split) +
                                    ": the reader missed the end of data of message " + std::to_string(i) +
                                    ", after octet " + std::to_string(at + want->consumed));
      break;
    }
    const auto where = [&] {
      return "split at " + std::to_string(split) + ", message " + std::to_string(i) + " at octet " +
             std::to_string(at);
    };
    TLSCHAN_FUZZ_CHECK(want.has_value(), where() + ": the reader ended the data where no CRLF.CRLF is");
    const std::size_t consumed = pieces.consumed(size) - at;
    TLSCHAN_FUZZ_CHECK(consumed == want->consumed, where() + ": ended after " + std::to_string(consumed) +
                                                       " octets, the first end of data is after " +
                                                       std::to_string(want->consumed));
    TLSCHAN_FUZZ_CHECK(got->body == want->body && same_marks(*got, want->result),
                       where() + ": " + flags(*got, got->body.size()) +
                           ", the model: " + flags(want->result, want->body.size()) +
                           (got->body == want->body ? "" : " (bodies differ)"));
    if (!got->malformed() && !got->over_size) {
      // Relayed (stuffed again), the body reads back whole, ending exactly where it ends.
      std::string_view rest = stuff(got->body);
      next_hop.reset(limit);
      std::optional<DataResult> again = next_hop.next(rest);
      TLSCHAN_FUZZ_CHECK(again && rest.empty() && same(*again, *got),
                         where() + ": the body stuffed again does not read back as the same message");
      next_hop.recycle(std::move(again->body));
    }
    pieces.recycle(std::move(got->body));
    at += consumed;
  }
  return 0;
}

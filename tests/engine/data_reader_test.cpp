// The DATA phase reader against semantics.md section 7 (RFC 5321 4.1.1.4, 4.5.2): only CRLF . CRLF
// ends the data, and every smuggling look-alike is content that marks the message malformed.
#include "tlschan/data_reader.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlschan {
namespace {

using namespace std::string_literals;

constexpr std::uint64_t big_limit = 10 * 1024 * 1024;

std::string describe(const DataResult& r) {
  std::string out = "body=[" + r.body + "] size=" + std::to_string(r.size);
  out += r.bare_cr ? " bare_cr" : "";
  out += r.bare_lf ? " bare_lf" : "";
  out += r.nul ? " nul" : "";
  out += r.line_too_long ? " line_too_long" : "";
  out += r.over_size ? " over_size" : "";
  return out;
}

// Feeds each piece in turn, reading message after message, and returns every message read.
std::vector<std::string> feed(DataReader& reader, const std::vector<std::string>& pieces) {
  std::vector<std::string> messages;
  for (const std::string& piece : pieces) {
    std::string_view input = piece;
    while (!input.empty()) {
      const std::size_t before = input.size();
      if (auto message = reader.next(input)) messages.push_back(describe(*message));
      EXPECT_LT(input.size(), before) << "next() made no progress";
      if (input.size() == before) break;
    }
  }
  return messages;
}

std::vector<std::string> feed_whole(std::string_view whole, std::uint64_t limit = big_limit) {
  DataReader reader(limit);
  return feed(reader, {std::string(whole)});
}

// Reads one message from `data`, which must hold its end; returns it and what is left after it.
DataResult read_one(std::string_view data, std::string* rest = nullptr,
                    std::uint64_t limit = big_limit) {
  DataReader reader(limit);
  std::string_view input = data;
  std::optional<DataResult> message = reader.next(input);
  EXPECT_TRUE(message.has_value()) << "the data did not end";
  if (rest != nullptr) *rest = std::string(input);
  return message.value_or(DataResult{});
}

TEST(DataReader, CrlfDotCrlf_EndsData) {
  const DataResult m = read_one("Subject: hi\r\n\r\nbody\r\n.\r\n");
  EXPECT_EQ(m.body, "Subject: hi\r\n\r\nbody\r\n");
  EXPECT_EQ(m.size, 21u);
  EXPECT_FALSE(m.malformed());
  EXPECT_FALSE(m.over_size);
}

TEST(DataReader, BodyKeepsCrlfBeforeEndLine) {
  const DataResult m = read_one("a\r\n.\r\n");
  EXPECT_EQ(m.body, "a\r\n");
  EXPECT_EQ(m.size, 3u);
}

TEST(DataReader, DotCrlfAtDataStart_IsAnEmptyMessage) {
  const DataResult m = read_one(".\r\n");
  EXPECT_EQ(m.body, "");
  EXPECT_EQ(m.size, 0u);
  EXPECT_FALSE(m.malformed());
}

TEST(DataReader, EmptyLineThenEnd_KeepsTheEmptyLine) {
  const DataResult m = read_one("\r\n.\r\n");
  EXPECT_EQ(m.body, "\r\n");
  EXPECT_FALSE(m.malformed());
}

TEST(DataReader, PartialData_ConsumesInputAndYieldsNothing) {
  DataReader reader(big_limit);
  std::string_view input = "line\r\n.";
  EXPECT_FALSE(reader.next(input).has_value());
  EXPECT_TRUE(input.empty());
  input = "\r";
  EXPECT_FALSE(reader.next(input).has_value());
  input = "\n";
  std::optional<DataResult> m = reader.next(input);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->body, "line\r\n");
}

TEST(DataReader, PipelinedCommands_StayInInput) {
  std::string rest;
  const DataResult m = read_one("a\r\n.\r\nMAIL FROM:<b@example.org>\r\nRCPT", &rest);
  EXPECT_EQ(m.body, "a\r\n");
  EXPECT_EQ(rest, "MAIL FROM:<b@example.org>\r\nRCPT");
}

TEST(DataReader, DotStuffedLine_LosesItsFirstDot) {
  const DataResult m = read_one("..leading\r\n..\r\n...\r\n.x\r\n.\r\n");
  EXPECT_EQ(m.body, ".leading\r\n.\r\n..\r\nx\r\n");
  EXPECT_EQ(m.size, m.body.size());
  EXPECT_FALSE(m.malformed());
}

TEST(DataReader, DotInsideLine_IsKept) {
  const DataResult m = read_one("a.b\r\nc.\r\n.\r\n");
  EXPECT_EQ(m.body, "a.b\r\nc.\r\n");
}

TEST(DataReader, SizeCountsUnstuffedBody) {
  const DataResult m = read_one("..\r\n.\r\n");
  EXPECT_EQ(m.body, ".\r\n");
  EXPECT_EQ(m.size, 3u);
}

TEST(DataReader, AfterResult_ReaderIsReadyForNextMessage) {
  DataReader reader(big_limit);
  std::string_view input = "bad\nline\r\n.\r\n.\r\n";
  std::optional<DataResult> first = reader.next(input);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->bare_lf);
  // The next message starts at a line start again: ".\r\n" at once ends it, with no flag left over.
  std::optional<DataResult> second = reader.next(input);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(describe(*second), describe(DataResult{}));
  EXPECT_TRUE(input.empty());
}

// A smuggling look-alike between "x" and a following command: it must not end the data, it must
// mark the message, and the real CRLF . CRLF after it must end it with the command as content.
struct Smuggling {
  std::string sequence;
  std::string body;  // what the reader keeps for "x" + sequence + smuggled_command
  bool bare_cr;
  bool bare_lf;
  bool nul;
};

const std::string smuggled_command = "MAIL FROM:<e@vil>\r\n";

void expect_smuggling_is_content(const Smuggling& s) {
  DataReader reader(big_limit);
  const std::string input_text = "x" + s.sequence + smuggled_command;
  std::string_view input = input_text;
  EXPECT_FALSE(reader.next(input).has_value()) << "the look-alike ended the data";
  EXPECT_TRUE(input.empty());

  input = ".\r\nQUIT\r\n";
  std::optional<DataResult> m = reader.next(input);
  ASSERT_TRUE(m.has_value()) << "the real end of data did not end it";
  EXPECT_EQ(input, "QUIT\r\n");
  EXPECT_TRUE(m->malformed());
  EXPECT_EQ(m->bare_cr, s.bare_cr);
  EXPECT_EQ(m->bare_lf, s.bare_lf);
  EXPECT_EQ(m->nul, s.nul);
  EXPECT_FALSE(m->line_too_long);
  EXPECT_EQ(m->body, s.body);
  EXPECT_EQ(m->size, s.body.size());

  // The same bytes in one piece end at the same place.
  std::string rest;
  const DataResult whole = read_one(input_text + ".\r\nQUIT\r\n", &rest);
  EXPECT_EQ(describe(whole), describe(*m));
  EXPECT_EQ(rest, "QUIT\r\n");
}

TEST(DataReader, LfDotLf_DoesNotEndData) {
  expect_smuggling_is_content({"\n.\n", "x\n.\n" + smuggled_command, false, true, false});
}

TEST(DataReader, CrDotCr_DoesNotEndData) {
  expect_smuggling_is_content({"\r.\r", "x\r.\r" + smuggled_command, true, false, false});
}

TEST(DataReader, CrDotLf_DoesNotEndData) {
  expect_smuggling_is_content({"\r.\n", "x\r.\n" + smuggled_command, true, true, false});
}

TEST(DataReader, LfDotCr_DoesNotEndData) {
  expect_smuggling_is_content({"\n.\r", "x\n.\r" + smuggled_command, true, true, false});
}

TEST(DataReader, LfDotCrlf_DoesNotEndData) {
  expect_smuggling_is_content({"\n.\r\n", "x\n.\r\n" + smuggled_command, false, true, false});
}

TEST(DataReader, CrlfDotLf_DoesNotEndData) {
  // The "." stands at a line start and is followed by more, so it is taken as a stuffing dot.
  expect_smuggling_is_content({"\r\n.\n", "x\r\n\n" + smuggled_command, false, true, false});
}

TEST(DataReader, CrDotCrlf_DoesNotEndData) {
  expect_smuggling_is_content({"\r.\r\n", "x\r.\r\n" + smuggled_command, true, false, false});
}

TEST(DataReader, CrlfDotCr_DoesNotEndData) {
  expect_smuggling_is_content({"\r\n.\r", "x\r\n\r" + smuggled_command, true, false, false});
}

TEST(DataReader, CrlfNulDotCrlf_DoesNotEndData) {
  expect_smuggling_is_content({"\r\n\0.\r\n"s, "x\r\n\0.\r\n"s + smuggled_command, false, false, true});
}

TEST(DataReader, CrlfDotNulCrlf_DoesNotEndData) {
  expect_smuggling_is_content({"\r\n.\0\r\n"s, "x\r\n\0\r\n"s + smuggled_command, false, false, true});
}

TEST(DataReader, DotLfAtDataStart_DoesNotEndData) {
  DataReader reader(big_limit);
  std::string_view input = ".\n";
  EXPECT_FALSE(reader.next(input).has_value());
  input = "\r\n.\r\n";
  std::optional<DataResult> m = reader.next(input);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->bare_lf);
  EXPECT_EQ(m->body, "\n\r\n");
}

TEST(DataReader, LfDotCrlfAfterBareCr_DoesNotEndData) {
  // A line start is only after CRLF: CR CR LF "." CRLF is a bare CR, then a real line, then ".".
  std::string rest;
  const DataResult m = read_one("a\r\r\n.\r\n", &rest);
  EXPECT_TRUE(m.bare_cr);
  EXPECT_EQ(m.body, "a\r\r\n");
  EXPECT_EQ(rest, "");
}

TEST(DataReader, BareCrAtEndOfChunk_WaitsForNextByte) {
  DataReader reader(big_limit);
  std::string_view input = "a\r";
  EXPECT_FALSE(reader.next(input).has_value());
  input = "\n.\r\n";
  std::optional<DataResult> m = reader.next(input);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->malformed());
  EXPECT_EQ(m->body, "a\r\n");
}

TEST(DataReader, Nul_MarksMessage) {
  const DataResult m = read_one("a\0b\r\n.\r\n"s);
  EXPECT_TRUE(m.nul);
  EXPECT_FALSE(m.bare_cr);
  EXPECT_FALSE(m.bare_lf);
  EXPECT_EQ(m.body, "a\0b\r\n"s);
}

TEST(DataReader, Line998PlusCrlf_IsAccepted) {
  const std::string line(998, 'y');
  const DataResult m = read_one(line + "\r\n.\r\n");
  EXPECT_FALSE(m.line_too_long);
  EXPECT_FALSE(m.malformed());
  EXPECT_EQ(m.body, line + "\r\n");
}

TEST(DataReader, Line999PlusCrlf_IsTooLong) {
  const std::string line(999, 'y');
  std::string rest;
  const DataResult m = read_one(line + "\r\n.\r\nQUIT\r\n", &rest);
  EXPECT_TRUE(m.line_too_long);
  EXPECT_TRUE(m.malformed());
  EXPECT_FALSE(m.bare_cr || m.bare_lf || m.nul);
  EXPECT_EQ(m.size, 1001u);
  EXPECT_EQ(rest, "QUIT\r\n");
}

// RFC 5321 4.5.3.1.6: the 1000 octets are "not counting the leading dot duplicated for
// transparency": a 998-octet text line that starts with a dot is 1001 octets on the wire, and fits.
TEST(DataReader, StuffingDot_DoesNotCountTowardLineLength) {
  const DataResult fits = read_one(".." + std::string(997, 'y') + "\r\n.\r\n");
  EXPECT_FALSE(fits.line_too_long);
  EXPECT_FALSE(fits.malformed());
  EXPECT_EQ(fits.body, "." + std::string(997, 'y') + "\r\n");  // 1000 octets unstuffed, 1001 on the wire

  const DataResult over = read_one(".." + std::string(998, 'y') + "\r\n.\r\n");
  EXPECT_TRUE(over.line_too_long);
  EXPECT_EQ(over.size, 1001u);

  // A dot dropped as stuffing though not doubled counts no more than a doubled one.
  EXPECT_FALSE(read_one("." + std::string(998, 'y') + "\r\n.\r\n").line_too_long);
  EXPECT_TRUE(read_one("." + std::string(999, 'y') + "\r\n.\r\n").line_too_long);
}

TEST(DataReader, LineLength_RestartsAfterEachCrlf) {
  const std::string line = std::string(998, 'y') + "\r\n";
  const DataResult m = read_one(line + line + line + ".\r\n");
  EXPECT_FALSE(m.line_too_long);
  EXPECT_EQ(m.size, 3000u);
}

TEST(DataReader, LineLength_DoesNotRestartAtBareLf) {
  // A bare LF is no line end in DATA: the line runs on to the CRLF.
  const DataResult m = read_one(std::string(600, 'y') + "\n" + std::string(600, 'z') + "\r\n.\r\n");
  EXPECT_TRUE(m.bare_lf);
  EXPECT_TRUE(m.line_too_long);
}

TEST(DataReader, BodyOverSizeLimit_IsCountedButNotKept) {
  std::string rest;
  const DataResult m = read_one("0123456789ABCDEF\r\n.\r\nQUIT\r\n", &rest, 10);
  EXPECT_EQ(m.body, "0123456789");
  EXPECT_EQ(m.size, 18u);
  EXPECT_TRUE(m.over_size);
  EXPECT_FALSE(m.malformed());
  EXPECT_EQ(rest, "QUIT\r\n");
}

TEST(DataReader, BodyAtSizeLimit_IsNotOverSize) {
  const DataResult at = read_one("01234567\r\n.\r\n", nullptr, 10);
  EXPECT_EQ(at.size, 10u);
  EXPECT_FALSE(at.over_size);
  EXPECT_EQ(at.body, "01234567\r\n");

  const DataResult over = read_one("012345678\r\n.\r\n", nullptr, 10);
  EXPECT_EQ(over.size, 11u);
  EXPECT_TRUE(over.over_size);
  EXPECT_EQ(over.body, "012345678\r");
}

TEST(DataReader, ZeroLimit_KeepsNothing) {
  const DataResult m = read_one("a\r\n.\r\n", nullptr, 0);
  EXPECT_EQ(m.body, "");
  EXPECT_EQ(m.size, 3u);
  EXPECT_TRUE(m.over_size);

  const DataResult empty = read_one(".\r\n", nullptr, 0);
  EXPECT_FALSE(empty.over_size);
}

// Messages back to back: stuffing, every smuggling look-alike, a long line, a size overflow, a CR at
// a chunk edge, and the start of a further message.
std::string mixed_input() {
  std::string s;
  s += "From: a\r\n\r\n..stuffed\r\n.\r\n";
  s += "x\n.\ny\r.\rz\r.\nw\n.\rv\n.\r\nu\r\n.\nt\r.\r\ns\r\n.\rr\r\n\0.\r\nq\r\n.\0\r\np\r\n.\r\n"s;
  s += std::string(999, 'L') + "\r\n" + std::string(998, 'l') + "\r\n.\r\n";
  s += "." + std::string(40, 'S') + "\r\n.\r\n";
  s += ".\r\n";
  s += "a\r\r\nb\r\n.\r\nQUIT\r";
  return s;
}

TEST(DataReader, MixedInput_WholeFeedGivesExpectedMessages) {
  const std::vector<std::string> messages = feed_whole(mixed_input(), 30);
  ASSERT_EQ(messages.size(), 6u);
  DataResult first;
  first.body = "From: a\r\n\r\n.stuffed\r\n";
  first.size = first.body.size();
  EXPECT_EQ(messages[0], describe(first));

  DataResult second;
  const std::string body2 =
      "x\n.\ny\r.\rz\r.\nw\n.\rv\n.\r\nu\r\n\nt\r.\r\ns\r\n\rr\r\n\0.\r\nq\r\n\0\r\np\r\n"s;
  second.body = body2.substr(0, 30);
  second.size = body2.size();
  second.bare_cr = second.bare_lf = second.nul = true;
  second.over_size = true;
  EXPECT_EQ(messages[1], describe(second));

  DataResult third;
  third.body = std::string(30, 'L');
  third.size = 999 + 2 + 998 + 2;
  third.line_too_long = true;
  third.over_size = true;
  EXPECT_EQ(messages[2], describe(third));

  DataResult fourth;
  fourth.body = std::string(30, 'S');
  fourth.size = 42;
  fourth.over_size = true;
  EXPECT_EQ(messages[3], describe(fourth));

  EXPECT_EQ(messages[4], describe(DataResult{}));

  DataResult sixth;
  sixth.body = "a\r\r\nb\r\n";
  sixth.size = sixth.body.size();
  sixth.bare_cr = true;
  EXPECT_EQ(messages[5], describe(sixth));
}

TEST(DataReader, EverySplitInTwo_GivesSameMessagesAsWholeFeed) {
  const std::string input = mixed_input();
  const std::vector<std::string> expected = feed_whole(input, 30);
  for (std::size_t split = 0; split <= input.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    DataReader reader(30);
    ASSERT_EQ(feed(reader, {input.substr(0, split), input.substr(split)}), expected);
  }
}

TEST(DataReader, ByteByByteFeed_GivesSameMessagesAsWholeFeed) {
  const std::string input = mixed_input();
  std::vector<std::string> bytes;
  for (const char c : input) bytes.emplace_back(1, c);
  DataReader reader(30);
  EXPECT_EQ(feed(reader, bytes), feed_whole(input, 30));
}

TEST(DataReader, EverySplit_LeavesSamePipelinedBytes) {
  const std::string input = "a\r\n..b\r\n.\r\nMAIL FROM:<c@d>\r\n";
  for (std::size_t split = 0; split <= input.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    DataReader reader(big_limit);
    const std::string head = input.substr(0, split);
    const std::string tail = input.substr(split);
    std::string_view piece = head;
    std::optional<DataResult> m = reader.next(piece);
    std::string left;
    if (!m) {
      EXPECT_TRUE(piece.empty());
      piece = tail;
      m = reader.next(piece);
    } else {
      left = std::string(piece);
      piece = tail;
    }
    left += std::string(piece);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->body, "a\r\n.b\r\n");
    EXPECT_EQ(left, "MAIL FROM:<c@d>\r\n");
  }
}

// ---- the sending side: dot_stuff (RFC 5321 4.5.2) ----------------------------------------------

TEST(DotStuff, DotsThatStartALineAreDoubled) {
  EXPECT_EQ(dot_stuffed(".a\r\nb.c\r\n..\r\n.\r\n"), "..a\r\nb.c\r\n...\r\n..\r\n.\r\n");
}

TEST(DotStuff, BodyWithoutFinalLineEndGetsCrlfBeforeTheEndLine) {
  EXPECT_EQ(dot_stuffed("no line end"), "no line end\r\n.\r\n");
  EXPECT_EQ(dot_stuffed("x\r\n.y"), "x\r\n..y\r\n.\r\n");
}

TEST(DotStuff, EmptyBodyIsTheEndLineAlone) { EXPECT_EQ(dot_stuffed(""), ".\r\n"); }

TEST(DotStuff, AppendsToWhatTheBufferHolds) {
  std::string out = "DATA then ";
  dot_stuff(".\r\n", out);
  EXPECT_EQ(out, "DATA then ..\r\n.\r\n");
}

// The writer and the reader are inverses on every well-formed body ending in CRLF.
TEST(DotStuff, ReaderGivesBackTheBodyTheWriterStuffed) {
  for (const std::string& body : {"Subject: x\r\n\r\n.\r\n..\r\n.x\r\n"s, "\r\n"s, ".\r\n"s, "a\r\n"s}) {
    std::string wire = dot_stuffed(body);
    std::string_view input = wire;
    DataReader reader(big_limit);
    const std::optional<DataResult> got = reader.next(input);
    ASSERT_TRUE(got.has_value()) << body;
    EXPECT_EQ(got->body, body);
    EXPECT_FALSE(got->malformed()) << describe(*got);
    EXPECT_TRUE(input.empty());
  }
}

// A body given back (recycle) holds the next message: the same storage, and the same messages as a
// fresh reader reads.
TEST(DataReader, RecycledBodyHoldsTheNextMessage) {
  const std::string wire = "first line\r\n.\r\nsecond\r\n..dot\r\n.\r\nthird\r\n.\r\n";
  std::string_view input = wire;
  DataReader reader(big_limit);
  std::optional<DataResult> first = reader.next(input);
  ASSERT_TRUE(first.has_value());
  first->body.reserve(4096);
  const char* storage = first->body.data();
  reader.recycle(std::move(first->body));
  std::optional<DataResult> second = reader.next(input);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->body.data(), storage) << "the second body did not use the recycled storage";
  EXPECT_EQ(describe(*second), describe(read_one("second\r\n..dot\r\n.\r\n")));
  reader.recycle(std::move(second->body));
  std::optional<DataResult> third = reader.next(input);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(describe(*third), "body=[third\r\n] size=7");
  EXPECT_TRUE(input.empty());
}

// Given back while a message is being read, a body is not taken: the message read so far stays.
TEST(DataReader, RecycleDuringAMessageKeepsIt) {
  DataReader reader(big_limit);
  std::string_view part = "kept so far";
  EXPECT_FALSE(reader.next(part).has_value());
  std::string other = "must not appear";
  other.reserve(4096);
  reader.recycle(std::move(other));
  std::string_view rest = "\r\n.\r\n";
  const std::optional<DataResult> got = reader.next(rest);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(describe(*got), "body=[kept so far\r\n] size=13");
}

// reset starts over with the new limit, as a new reader would, even in the middle of a message.
TEST(DataReader, ResetStartsOverWithTheNewLimit) {
  DataReader reader(big_limit);
  std::string_view part = "half a line\r\n.";
  EXPECT_FALSE(reader.next(part).has_value());
  reader.reset(4);
  const std::string wire = "abc\r\ndef\r\n.\r\n";
  std::string_view input = wire;
  const std::optional<DataResult> got = reader.next(input);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(describe(*got), describe(read_one(wire, nullptr, 4)));
  EXPECT_EQ(describe(*got), "body=[abc\r] size=10 over_size");
}

}  // namespace
}  // namespace tlschan

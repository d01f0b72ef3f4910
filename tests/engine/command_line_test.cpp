// The SMTP command-line parser against semantics.md section 7 (RFC 5321 2.3.8, 4.5.3.1.4).
#include "tlschan/command_line.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlschan {
namespace {

using namespace std::string_literals;

// A line as one comparable string, so that a failure shows all of it.
std::string describe(const CommandLine& line) {
  std::string out = "text=[" + line.text + "] error=";
  out += line.error ? to_string(*line.error) : "none";
  out += " wire_size=" + std::to_string(line.wire_size);
  return out;
}

// Feeds each piece in turn and returns every line the parser yields.
std::vector<std::string> feed(CommandLineParser& parser, const std::vector<std::string>& pieces) {
  std::vector<std::string> lines;
  for (const std::string& piece : pieces) {
    std::string_view input = piece;
    while (!input.empty()) {
      const std::size_t before = input.size();
      if (auto line = parser.next(input)) lines.push_back(describe(*line));
      EXPECT_LT(input.size(), before) << "next() made no progress";
      if (input.size() == before) break;
    }
  }
  return lines;
}

std::vector<std::string> feed_whole(std::string_view whole) {
  CommandLineParser parser;
  return feed(parser, {std::string(whole)});
}

CommandLine one_line(std::string_view text) {
  CommandLineParser parser;
  std::string_view input = text;
  std::optional<CommandLine> line = parser.next(input);
  EXPECT_TRUE(line.has_value());
  EXPECT_TRUE(input.empty()) << "left in input: " << input.size() << " octets";
  return line.value_or(CommandLine{});
}

TEST(CommandLineParser, CrlfLine_YieldsTextWithoutLineEnd) {
  const CommandLine line = one_line("MAIL FROM:<a@example.org>\r\n");
  EXPECT_EQ(line.text, "MAIL FROM:<a@example.org>");
  EXPECT_FALSE(line.error.has_value());
  EXPECT_EQ(line.wire_size, 27u);
}

TEST(CommandLineParser, EmptyCrlfLine_IsAnEmptyLineWithoutError) {
  const CommandLine line = one_line("\r\n");
  EXPECT_EQ(line.text, "");
  EXPECT_FALSE(line.error.has_value());
  EXPECT_EQ(line.wire_size, 2u);
}

TEST(CommandLineParser, PartialLine_ConsumesInputAndCountsPending) {
  CommandLineParser parser;
  std::string_view input = "EHLO client";
  EXPECT_FALSE(parser.next(input).has_value());
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(parser.pending(), 11u);

  input = ".example\r";
  EXPECT_FALSE(parser.next(input).has_value());
  EXPECT_EQ(parser.pending(), 20u);

  input = "\n";
  std::optional<CommandLine> line = parser.next(input);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->text, "EHLO client.example");
  EXPECT_FALSE(line->error.has_value());
  EXPECT_EQ(line->wire_size, 21u);
  EXPECT_EQ(parser.pending(), 0u);
}

TEST(CommandLineParser, PipelinedLines_AreTakenOneLineAtATime) {
  CommandLineParser parser;
  std::string_view input = "NOOP\r\nRSET\r\nQU";
  std::optional<CommandLine> first = parser.next(input);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->text, "NOOP");
  EXPECT_EQ(input, "RSET\r\nQU");

  std::optional<CommandLine> second = parser.next(input);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->text, "RSET");
  EXPECT_EQ(input, "QU");

  EXPECT_FALSE(parser.next(input).has_value());
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(parser.pending(), 2u);
}

TEST(CommandLineParser, EmptyInput_YieldsNothingAndKeepsState) {
  CommandLineParser parser;
  std::string_view input = "NO";
  EXPECT_FALSE(parser.next(input).has_value());
  input = {};
  EXPECT_FALSE(parser.next(input).has_value());
  EXPECT_EQ(parser.pending(), 2u);
  input = "OP\r\n";
  std::optional<CommandLine> line = parser.next(input);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->text, "NOOP");
}

TEST(CommandLineParser, Text510PlusCrlf_IsAccepted) {
  const std::string text(510, 'a');
  const CommandLine line = one_line(text + "\r\n");
  EXPECT_FALSE(line.error.has_value());
  EXPECT_EQ(line.text, text);
  EXPECT_EQ(line.wire_size, 512u);
}

TEST(CommandLineParser, Text511PlusCrlf_IsTooLong) {
  const std::string text(511, 'a');
  const CommandLine line = one_line(text + "\r\n");
  ASSERT_TRUE(line.error.has_value());
  EXPECT_EQ(*line.error, LineError::too_long);
  EXPECT_EQ(line.wire_size, 513u);
  EXPECT_EQ(line.text, std::string(510, 'a'));
}

TEST(CommandLineParser, Text511PlusBareLf_FitsButIsBareLf) {
  // 512 octets with the LF: not too long, but the LF has no CR before it.
  const CommandLine line = one_line(std::string(511, 'a') + "\n");
  ASSERT_TRUE(line.error.has_value());
  EXPECT_EQ(*line.error, LineError::bare_lf);
  EXPECT_EQ(line.wire_size, 512u);
  EXPECT_EQ(line.text.size(), 510u);  // never more than 510 octets are kept
}

TEST(CommandLineParser, Text512PlusBareLf_IsTooLong) {
  const CommandLine line = one_line(std::string(512, 'a') + "\n");
  ASSERT_TRUE(line.error.has_value());
  EXPECT_EQ(*line.error, LineError::too_long);
  EXPECT_EQ(line.wire_size, 513u);
}

TEST(CommandLineParser, TooLongLine_KeepsFirst510OctetsAndSkipsRest) {
  const std::string head(510, 'h');
  const std::string tail(3000, 't');
  CommandLineParser parser;
  std::string_view input = head;
  EXPECT_FALSE(parser.next(input).has_value());
  input = tail;
  EXPECT_FALSE(parser.next(input).has_value());
  EXPECT_EQ(parser.pending(), 3510u);
  input = "\r\nNOOP\r\n";
  std::optional<CommandLine> line = parser.next(input);
  ASSERT_TRUE(line.has_value());
  ASSERT_TRUE(line->error.has_value());
  EXPECT_EQ(*line->error, LineError::too_long);
  EXPECT_EQ(line->text, head);
  EXPECT_EQ(line->wire_size, 3512u);
  EXPECT_EQ(input, "NOOP\r\n");
}

TEST(CommandLineParser, TooLongLine_ReportedOnlyWhenItsLfArrives_ThenSessionGoesOn) {
  CommandLineParser parser;
  std::string_view input;
  const std::string long_part(5000, 'x');
  input = long_part;
  EXPECT_FALSE(parser.next(input).has_value());  // no report before the LF
  input = "yyy\r\nNOOP\r\n";
  std::optional<CommandLine> bad = parser.next(input);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->error, LineError::too_long);
  std::optional<CommandLine> good = parser.next(input);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(good->text, "NOOP");
  EXPECT_FALSE(good->error.has_value());
}

TEST(CommandLineParser, TooLong_TakesPrecedenceOverNulBareCrAndBareLf) {
  const std::string line = "A\0B\rC"s + std::string(600, 'x') + "\n";
  const CommandLine parsed = one_line(line);
  EXPECT_EQ(parsed.error, LineError::too_long);
}

TEST(CommandLineParser, Nul_IsReportedAndKeptInText) {
  const CommandLine line = one_line("NO\0OP\r\n"s);
  EXPECT_EQ(line.error, LineError::nul);
  EXPECT_EQ(line.text, "NO\0OP"s);
  EXPECT_EQ(line.wire_size, 7u);
}

TEST(CommandLineParser, Nul_TakesPrecedenceOverBareCrAndBareLf) {
  EXPECT_EQ(one_line("A\rB\0C\n"s).error, LineError::nul);
}

TEST(CommandLineParser, BareCrInsideLine_IsBareCr) {
  const CommandLine line = one_line("NO\rOP\r\n");
  EXPECT_EQ(line.error, LineError::bare_cr);
  EXPECT_EQ(line.text, "NO\rOP");
}

TEST(CommandLineParser, BareCr_TakesPrecedenceOverBareLf) {
  EXPECT_EQ(one_line("NO\rOP\n").error, LineError::bare_cr);
}

TEST(CommandLineParser, CrCrLf_IsBareCr) {
  const CommandLine line = one_line("NOOP\r\r\n");
  EXPECT_EQ(line.error, LineError::bare_cr);
  EXPECT_EQ(line.text, "NOOP\r");
  EXPECT_EQ(line.wire_size, 7u);
}

TEST(CommandLineParser, BareLf_IsBareLf) {
  const CommandLine line = one_line("NOOP\n");
  EXPECT_EQ(line.error, LineError::bare_lf);
  EXPECT_EQ(line.text, "NOOP");
  EXPECT_EQ(line.wire_size, 5u);
}

TEST(CommandLineParser, LoneLf_IsAnEmptyBareLfLine) {
  const CommandLine line = one_line("\n");
  EXPECT_EQ(line.error, LineError::bare_lf);
  EXPECT_EQ(line.text, "");
  EXPECT_EQ(line.wire_size, 1u);
}

TEST(CommandLineParser, CrAtEndOfInput_WaitsForNextByte_CrlfSplit) {
  CommandLineParser parser;
  std::string_view input = "NOOP\r";
  EXPECT_FALSE(parser.next(input).has_value());
  EXPECT_EQ(parser.pending(), 5u);
  input = "\n";
  std::optional<CommandLine> line = parser.next(input);
  ASSERT_TRUE(line.has_value());
  EXPECT_FALSE(line->error.has_value());
  EXPECT_EQ(line->text, "NOOP");
  EXPECT_EQ(line->wire_size, 6u);
}

TEST(CommandLineParser, CrAtEndOfInput_ThenOtherByte_IsBareCr) {
  CommandLineParser parser;
  std::string_view input = "NOOP\r";
  EXPECT_FALSE(parser.next(input).has_value());
  input = "X\r\n";
  std::optional<CommandLine> line = parser.next(input);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->error, LineError::bare_cr);
  EXPECT_EQ(line->text, "NOOP\rX");
}

TEST(CommandLineParser, Reset_ForgetsPartialLine) {
  CommandLineParser parser;
  std::string_view input = "MAIL FROM:<injected@example.org>";
  EXPECT_FALSE(parser.next(input).has_value());
  parser.reset();
  EXPECT_EQ(parser.pending(), 0u);
  input = "NOOP\r\n";
  std::optional<CommandLine> line = parser.next(input);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->text, "NOOP");
  EXPECT_EQ(line->wire_size, 6u);
  EXPECT_FALSE(line->error.has_value());
}

TEST(CommandLineParser, Reset_ForgetsHeldCr) {
  CommandLineParser parser;
  std::string_view input = "X\r";
  EXPECT_FALSE(parser.next(input).has_value());
  parser.reset();
  input = "\n";
  std::optional<CommandLine> line = parser.next(input);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->error, LineError::bare_lf);  // the CR before reset() is gone
  EXPECT_EQ(line->wire_size, 1u);
}

TEST(CommandLineParser, Reset_ForgetsOverflowAndErrors) {
  CommandLineParser parser;
  const std::string junk = std::string(600, 'x') + "\0\r"s;
  std::string_view input = junk;
  EXPECT_FALSE(parser.next(input).has_value());
  parser.reset();
  input = "NOOP\r\n";
  std::optional<CommandLine> line = parser.next(input);
  ASSERT_TRUE(line.has_value());
  EXPECT_FALSE(line->error.has_value());
  EXPECT_EQ(line->text, "NOOP");
}

TEST(CommandLineParser, ErrorsOfOneLine_DoNotCarryOverToNext) {
  const std::vector<std::string> lines = feed_whole("A\0\r\n"s + "B\rC\r\n" + "D\n" + "E\r\n");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], describe({"A\0"s, LineError::nul, 4}));
  EXPECT_EQ(lines[1], describe({"B\rC", LineError::bare_cr, 5}));
  EXPECT_EQ(lines[2], describe({"D", LineError::bare_lf, 2}));
  EXPECT_EQ(lines[3], describe({"E", std::nullopt, 3}));
}

TEST(CommandLineParser, ToString_NamesEachError) {
  EXPECT_STREQ(to_string(LineError::too_long), "too_long");
  EXPECT_STREQ(to_string(LineError::nul), "nul");
  EXPECT_STREQ(to_string(LineError::bare_cr), "bare_cr");
  EXPECT_STREQ(to_string(LineError::bare_lf), "bare_lf");
}

// Every kind of line, including the 512-octet boundary and a CR at the boundary of the kept text.
std::string mixed_input() {
  return "EHLO client.example\r\n"s + "NO\0OP\r\n"s + "RS\rET\r\n" + "QUIT\n" + "\r\n" + "\n" +
         "A\r\r\n" + std::string(510, 'k') + "\r\n" + std::string(511, 'l') + "\r\n" +
         std::string(511, 'm') + "\n" + std::string(509, 'n') + "\r\r\n" + std::string(700, 'o') +
         "\0\r\n"s + "MAIL FROM:<a@b>\r\n" + "PARTIAL\r";
}

TEST(CommandLineParser, MixedInput_WholeFeedGivesExpectedLines) {
  const std::vector<std::string> lines = feed_whole(mixed_input());
  ASSERT_EQ(lines.size(), 13u);
  EXPECT_EQ(lines[0], describe({"EHLO client.example", std::nullopt, 21}));
  EXPECT_EQ(lines[1], describe({"NO\0OP"s, LineError::nul, 7}));
  EXPECT_EQ(lines[2], describe({"RS\rET", LineError::bare_cr, 7}));
  EXPECT_EQ(lines[3], describe({"QUIT", LineError::bare_lf, 5}));
  EXPECT_EQ(lines[4], describe({"", std::nullopt, 2}));
  EXPECT_EQ(lines[5], describe({"", LineError::bare_lf, 1}));
  EXPECT_EQ(lines[6], describe({"A\r", LineError::bare_cr, 4}));
  EXPECT_EQ(lines[7], describe({std::string(510, 'k'), std::nullopt, 512}));
  EXPECT_EQ(lines[8], describe({std::string(510, 'l'), LineError::too_long, 513}));
  EXPECT_EQ(lines[9], describe({std::string(510, 'm'), LineError::bare_lf, 512}));
  EXPECT_EQ(lines[10], describe({std::string(509, 'n') + "\r", LineError::bare_cr, 512}));
  EXPECT_EQ(lines[11], describe({std::string(510, 'o'), LineError::too_long, 703}));
  EXPECT_EQ(lines[12], describe({"MAIL FROM:<a@b>", std::nullopt, 17}));
}

TEST(CommandLineParser, EverySplitInTwo_GivesSameLinesAsWholeFeed) {
  const std::string input = mixed_input();
  const std::vector<std::string> expected = feed_whole(input);
  CommandLineParser whole_parser;
  feed(whole_parser, {input});
  for (std::size_t split = 0; split <= input.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    CommandLineParser parser;
    const std::vector<std::string> lines =
        feed(parser, {input.substr(0, split), input.substr(split)});
    ASSERT_EQ(lines, expected);
    ASSERT_EQ(parser.pending(), whole_parser.pending());
  }
}

TEST(CommandLineParser, ByteByByteFeed_GivesSameLinesAsWholeFeed) {
  const std::string input = mixed_input();
  std::vector<std::string> bytes;
  for (const char c : input) bytes.emplace_back(1, c);
  CommandLineParser parser;
  EXPECT_EQ(feed(parser, bytes), feed_whole(input));
  EXPECT_EQ(parser.pending(), 8u);  // "PARTIAL\r"
}

}  // namespace
}  // namespace tlschan

// SMTP replies against semantics.md sections 3.1 and 8: the client's reply parser, enhanced status
// codes (RFC 3463), EHLO capabilities and reply formatting.
#include "tlschan/reply.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlschan {
namespace {

using namespace std::string_literals;

std::string describe(const ParsedReply& parsed) {
  if (const auto* error = std::get_if<ReplyError>(&parsed)) {
    return std::string("error=") + to_string(*error);
  }
  const Reply& reply = std::get<Reply>(parsed);
  std::string out = "code=" + std::to_string(reply.code);
  for (const std::string& line : reply.lines) out += " [" + line + "]";
  out += " enhanced=" + (reply.enhanced ? reply.enhanced->to_string() : "none");
  return out;
}

// Feeds each piece in turn and returns every reply or error the parser yields. An error is
// followed by reset(), as a client that went on reading would have to do.
std::vector<std::string> feed(ReplyParser& parser, const std::vector<std::string>& pieces) {
  std::vector<std::string> replies;
  for (const std::string& piece : pieces) {
    std::string_view input = piece;
    while (!input.empty()) {
      const std::size_t before = input.size();
      if (auto parsed = parser.next(input)) {
        replies.push_back(describe(*parsed));
        if (std::holds_alternative<ReplyError>(*parsed)) parser.reset();
      }
      EXPECT_LT(input.size(), before) << "next() made no progress";
      if (input.size() == before) break;
    }
  }
  return replies;
}

std::vector<std::string> feed_whole(std::string_view whole) {
  ReplyParser parser;
  return feed(parser, {std::string(whole)});
}

// Parses `text`, which must hold one complete reply and nothing after it.
ParsedReply parse_one(std::string_view text) {
  ReplyParser parser;
  std::string_view input = text;
  std::optional<ParsedReply> parsed = parser.next(input);
  EXPECT_TRUE(parsed.has_value()) << "no reply from: " << text;
  EXPECT_TRUE(input.empty()) << "left in input: " << input;
  return parsed.value_or(ParsedReply{ReplyError::malformed});
}

Reply reply_of(std::string_view text) {
  ParsedReply parsed = parse_one(text);
  EXPECT_TRUE(std::holds_alternative<Reply>(parsed)) << describe(parsed);
  return std::holds_alternative<Reply>(parsed) ? std::get<Reply>(parsed) : Reply{};
}

std::optional<ReplyError> error_of(std::string_view text) {
  ParsedReply parsed = parse_one(text);
  if (const auto* error = std::get_if<ReplyError>(&parsed)) return *error;
  return std::nullopt;
}

TEST(ReplyParser, SingleLineReply_GivesCodeAndText) {
  const Reply reply = reply_of("220 mx.example.org ESMTP\r\n");
  EXPECT_EQ(reply.code, 220);
  EXPECT_EQ(reply.klass(), 2);
  EXPECT_EQ(reply.lines, std::vector<std::string>{"mx.example.org ESMTP"});
  EXPECT_FALSE(reply.enhanced.has_value());
}

TEST(ReplyParser, MultilineReply_GathersEveryLine) {
  const Reply reply = reply_of("250-mx.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
  EXPECT_EQ(reply.code, 250);
  EXPECT_EQ(reply.lines, (std::vector<std::string>{"mx.example.org", "PIPELINING", "STARTTLS"}));
  EXPECT_EQ(reply.text(), "mx.example.org\nPIPELINING\nSTARTTLS");
}

TEST(ReplyParser, CodeAlone_IsALastLineWithEmptyText) {
  EXPECT_EQ(reply_of("250\r\n").lines, std::vector<std::string>{""});
  EXPECT_EQ(reply_of("250-first\r\n250\r\n").lines, (std::vector<std::string>{"first", ""}));
}

TEST(ReplyParser, EmptyTextAfterSeparator_IsKeptEmpty) {
  const Reply reply = reply_of("250-\r\n250 \r\n");
  EXPECT_EQ(reply.lines, (std::vector<std::string>{"", ""}));
}

TEST(ReplyParser, LfWithoutCr_EndsALine) {
  const Reply reply = reply_of("250-a\n250 b\n");
  EXPECT_EQ(reply.lines, (std::vector<std::string>{"a", "b"}));
}

TEST(ReplyParser, CrInsideText_IsKeptAsText) {
  EXPECT_EQ(reply_of("250 a\rb\r\n").lines, std::vector<std::string>{"a\rb"});
}

TEST(ReplyParser, PartialReply_ReturnsNothingAndIsNotIdle) {
  ReplyParser parser;
  EXPECT_TRUE(parser.idle());
  std::string_view input = "250-a\r\n250 b";
  EXPECT_FALSE(parser.next(input).has_value());
  EXPECT_TRUE(input.empty());
  EXPECT_FALSE(parser.idle());
  input = "\r\n";
  std::optional<ParsedReply> parsed = parser.next(input);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(describe(*parsed), "code=250 [a] [b] enhanced=none");
  EXPECT_TRUE(parser.idle());
}

TEST(ReplyParser, CompleteLinesOfUnfinishedReply_AreNotIdle) {
  ReplyParser parser;
  std::string_view input = "250-a\r\n";
  EXPECT_FALSE(parser.next(input).has_value());
  EXPECT_FALSE(parser.idle());
}

TEST(ReplyParser, PipelinedReplies_AreTakenOneAtATime) {
  ReplyParser parser;
  std::string_view input = "250 2.1.0 Ok\r\n250-2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 Go ahead\r\n";
  std::optional<ParsedReply> first = parser.next(input);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(describe(*first), "code=250 [2.1.0 Ok] enhanced=2.1.0");
  EXPECT_EQ(input, "250-2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 Go ahead\r\n");
  std::optional<ParsedReply> second = parser.next(input);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(describe(*second), "code=250 [2.1.5 Ok] [2.1.5 Ok] enhanced=2.1.5");
  EXPECT_EQ(input, "354 Go ahead\r\n");
}

TEST(ReplyParser, MalformedCodes_AreMalformed) {
  const char* const bad[] = {
      "25\r\n",       "2\r\n",         "\r\n",        "\n",           "abc def\r\n",
      "25x ok\r\n",   "2500 ok\r\n",   "250x\r\n",    "250_ok\r\n",   "650 no\r\n",
      "050 no\r\n",   "260 no\r\n",    "299 no\r\n",  " 250 ok\r\n",  "250\tok\r\n",
      "250\r\r\n",    "2a0 ok\r\n",
  };
  for (const char* text : bad) {
    SCOPED_TRACE(text);
    EXPECT_EQ(error_of(text), ReplyError::malformed);
  }
}

// Short lines read in place from a buffer of exactly their size: under AddressSanitizer, a read
// past the line (the separator of a line with no room for one) is a report, not a passing test.
TEST(ReplyParser, ShortLines_AreReadOnlyWithinTheirOctets) {
  for (const std::string& text : {"\n"s, "\r\n"s, "2\n"s, "25\n"s, "25\r\n"s, "250\n"s, "250-a\n2\n"s}) {
    SCOPED_TRACE(text);
    const std::unique_ptr<char[]> exact(new char[text.size()]);
    std::memcpy(exact.get(), text.data(), text.size());
    ReplyParser parser;
    std::string_view input(exact.get(), text.size());
    std::optional<ParsedReplyView> parsed;
    while (!input.empty() && !(parsed = parser.next_view(input))) {
    }
    ASSERT_TRUE(parsed.has_value());
    if (text == "250\n") {
      EXPECT_EQ(std::get<ReplyView>(*parsed).code, 250);
    } else {
      EXPECT_EQ(std::get<ReplyError>(*parsed), ReplyError::malformed);
    }
  }
}

TEST(ReplyParser, CodeRangeEdges_AreAccepted) {
  EXPECT_EQ(reply_of("100 x\r\n").code, 100);
  EXPECT_EQ(reply_of("559 x\r\n").code, 559);
  EXPECT_EQ(reply_of("450 x\r\n").code, 450);
  EXPECT_EQ(error_of("560 x\r\n"), ReplyError::malformed);
}

TEST(ReplyParser, MalformedContinuationLine_IsMalformed) {
  EXPECT_EQ(error_of("250-a\r\n25 b\r\n"), ReplyError::malformed);
  EXPECT_EQ(error_of("250-a\r\nhello\r\n"), ReplyError::malformed);
}

TEST(ReplyParser, LinesDisagreeingOnCode_AreCodeMismatch) {
  EXPECT_EQ(error_of("250-a\r\n251 b\r\n"), ReplyError::code_mismatch);
  EXPECT_EQ(error_of("250-a\r\n250-b\r\n550 c\r\n"), ReplyError::code_mismatch);
}

TEST(ReplyParser, Error_IsReportedWhenTheBadLineEnds_LeavingTheRest) {
  ReplyParser parser;
  std::string_view input = "250-a\r\n251 b\r\n220 next\r\n";
  std::optional<ParsedReply> parsed = parser.next(input);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(describe(*parsed), "error=code_mismatch");
  EXPECT_EQ(input, "220 next\r\n");
}

TEST(ReplyParser, AfterErrorAndReset_ParsesAgain) {
  ReplyParser parser;
  std::string_view input = "hello\r\n";
  ASSERT_TRUE(parser.next(input).has_value());
  parser.reset();
  EXPECT_TRUE(parser.idle());
  input = "250 ok\r\n";
  std::optional<ParsedReply> parsed = parser.next(input);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(describe(*parsed), "code=250 [ok] enhanced=none");
}

TEST(ReplyParser, Reset_ForgetsPartialReply) {
  ReplyParser parser;
  std::string_view input = "250-injected\r\n250 inj";
  EXPECT_FALSE(parser.next(input).has_value());
  parser.reset();
  EXPECT_TRUE(parser.idle());
  input = "220 2.0.0 Ready to start TLS\r\n";
  std::optional<ParsedReply> parsed = parser.next(input);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(describe(*parsed), "code=220 [2.0.0 Ready to start TLS] enhanced=2.0.0");
}

TEST(ReplyParser, Line510PlusCrlf_IsAccepted) {
  const std::string text(506, 't');  // "250 " + 506 + CRLF = 512
  const Reply reply = reply_of("250 " + text + "\r\n");
  EXPECT_EQ(reply.lines, std::vector<std::string>{text});
}

TEST(ReplyParser, Line511PlusLf_IsAccepted) {
  const std::string text(507, 't');  // "250 " + 507 + LF = 512
  EXPECT_EQ(reply_of("250 " + text + "\n").lines, std::vector<std::string>{text});
}

TEST(ReplyParser, Line511PlusCrlf_IsTooLong) {
  EXPECT_EQ(error_of("250 " + std::string(507, 't') + "\r\n"), ReplyError::line_too_long);
}

TEST(ReplyParser, LongLine_IsReportedAtItsOctet513WithoutWaitingForLf) {
  ReplyParser parser;
  const std::string first_512 = "250 " + std::string(508, 't');
  std::string_view input = first_512;
  EXPECT_FALSE(parser.next(input).has_value());
  // Whatever comes next, LF included, is the line's 513th octet: the line is refused at once.
  input = "t";
  std::optional<ParsedReply> parsed = parser.next(input);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(describe(*parsed), "error=line_too_long");
  EXPECT_TRUE(input.empty());
}

TEST(ReplyParser, EndlessLine_StopsAtOctet513AndLeavesTheRest) {
  ReplyParser parser;
  const std::string flood(100000, 'x');
  std::string_view input = flood;
  std::optional<ParsedReply> parsed = parser.next(input);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(describe(*parsed), "error=line_too_long");
  EXPECT_EQ(input.size(), flood.size() - 513);
}

TEST(ReplyParser, LongContinuationLine_IsTooLong) {
  ReplyParser parser;
  const std::string text = "250-a\r\n250 " + std::string(600, 'b') + "\r\n";
  std::string_view input = text;
  std::optional<ParsedReply> parsed = parser.next(input);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(describe(*parsed), "error=line_too_long");
  EXPECT_EQ(input.size(), text.size() - 7 - 513);
}

TEST(ReplyParser, EnhancedCode_IsTakenFromFirstLineAndKeptInText) {
  const Reply reply = reply_of("550 5.7.1 Relaying denied\r\n");
  ASSERT_TRUE(reply.enhanced.has_value());
  EXPECT_EQ(*reply.enhanced, (EnhancedStatus{5, 7, 1}));
  EXPECT_EQ(reply.lines, std::vector<std::string>{"5.7.1 Relaying denied"});
}

TEST(ReplyParser, EnhancedCode_AloneOnTheLine_IsTaken) {
  EXPECT_EQ(reply_of("250 2.0.0\r\n").enhanced, (EnhancedStatus{2, 0, 0}));
}

TEST(ReplyParser, EnhancedCode_WithThreeDigitParts_IsTaken) {
  EXPECT_EQ(reply_of("451 4.123.456 later\r\n").enhanced, (EnhancedStatus{4, 123, 456}));
}

TEST(ReplyParser, EnhancedCode_OnlyFromFirstLine) {
  EXPECT_EQ(reply_of("250-2.0.0 a\r\n250 2.1.0 b\r\n").enhanced, (EnhancedStatus{2, 0, 0}));
  EXPECT_FALSE(reply_of("250-mx.example.org\r\n250 2.0.0 b\r\n").enhanced.has_value());
}

TEST(ReplyParser, NotAnEnhancedCode_LeavesEnhancedEmpty) {
  const char* const not_enhanced[] = {
      "250 5.0.0 class differs\r\n", "354 3.0.0 class 3 has none\r\n", "220 2.0.0.0 x\r\n",
      "250 2.1234.0 x\r\n",          "250 2.0.1234 x\r\n",             "250 2.0.0x\r\n",
      "250 2..0 x\r\n",              "250 2.0. x\r\n",                 "250 2.0\r\n",
      "250 2.0.0\tx\r\n",            "250 x2.0.0\r\n",                 "250  2.0.0 x\r\n",
      "150 1.0.0 x\r\n",
  };
  for (const char* text : not_enhanced) {
    SCOPED_TRACE(text);
    const Reply reply = reply_of(text);
    EXPECT_NE(reply.code, 0);
    EXPECT_FALSE(reply.enhanced.has_value());
  }
}

TEST(EnhancedStatus, ToString_JoinsPartsWithDots) {
  EXPECT_EQ((EnhancedStatus{5, 7, 0}).to_string(), "5.7.0");
  EXPECT_EQ((EnhancedStatus{4, 10, 100}).to_string(), "4.10.100");
}

TEST(Reply, Text_JoinsLinesWithLf) {
  Reply reply;
  EXPECT_EQ(reply.text(), "");
  reply.lines = {"one"};
  EXPECT_EQ(reply.text(), "one");
  reply.lines = {"one", "", "three"};
  EXPECT_EQ(reply.text(), "one\n\nthree");
}

TEST(ReplyParser, ToString_NamesEachError) {
  EXPECT_STREQ(to_string(ReplyError::line_too_long), "line_too_long");
  EXPECT_STREQ(to_string(ReplyError::malformed), "malformed");
  EXPECT_STREQ(to_string(ReplyError::code_mismatch), "code_mismatch");
}

// Replies of every shape back to back, errors included, and a reply left unfinished.
std::string mixed_input() {
  return "220 mx.example.org ESMTP\r\n"s + "250-mx.example.org\r\n250-SIZE 100\n250 STARTTLS\r\n" +
         "550 5.7.1 No\r\n" + "250\r\n" + "250-a\r\n251 b\r\n" + "x\r\n" +
         "250 " + std::string(507, 'k') + "\n" + "250 " + std::string(507, 'l') + "\r\n" +
         "250-" + std::string(300, 'm') + "\r\n250 " + std::string(506, 'n') + "\r\n" +
         "354 go\r\n" + std::string(1200, 'f') + "250 2.0.0 Ok\r\n" + "221-bye\r\n221 2.0.0";
}

TEST(ReplyParser, MixedInput_WholeFeedGivesExpectedReplies) {
  const std::vector<std::string> expected = {
      "code=220 [mx.example.org ESMTP] enhanced=none",
      "code=250 [mx.example.org] [SIZE 100] [STARTTLS] enhanced=none",
      "code=550 [5.7.1 No] enhanced=5.7.1",
      "code=250 [] enhanced=none",
      "error=code_mismatch",
      "error=malformed",
      "code=250 [" + std::string(507, 'k') + "] enhanced=none",
      "error=line_too_long",
      // the 513th octet of the 'l' line is its LF: the line is refused and nothing of it is left
      "code=250 [" + std::string(300, 'm') + "] [" + std::string(506, 'n') + "] enhanced=none",
      "code=354 [go] enhanced=none",
      "error=line_too_long",
      // 1200 - 513 'f' octets then "250 2.0.0 Ok\r\n" make one more over-long line, and the
      // 188 octets after its 513th are a complete line, but not a reply line
      "error=line_too_long",
      "error=malformed",
  };
  ReplyParser parser;
  EXPECT_EQ(feed(parser, {mixed_input()}), expected);
  EXPECT_FALSE(parser.idle());
}

TEST(ReplyParser, EverySplitInTwo_GivesSameRepliesAsWholeFeed) {
  const std::string input = mixed_input();
  const std::vector<std::string> expected = feed_whole(input);
  for (std::size_t split = 0; split <= input.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    ReplyParser parser;
    ASSERT_EQ(feed(parser, {input.substr(0, split), input.substr(split)}), expected);
    ASSERT_FALSE(parser.idle());
  }
}

TEST(ReplyParser, ByteByByteFeed_GivesSameRepliesAsWholeFeed) {
  const std::string input = mixed_input();
  std::vector<std::string> bytes;
  for (const char c : input) bytes.emplace_back(1, c);
  ReplyParser parser;
  EXPECT_EQ(feed(parser, bytes), feed_whole(input));
}

// next_view gives, reply for reply, what next() gives, for the input whole, split in two anywhere,
// and byte by byte; and a reply seen through a view equals the owning copy next() makes.
TEST(ReplyParser, NextView_GivesWhatNextGivesAtEverySplit) {
  const std::string input = mixed_input();
  for (std::size_t split = 0; split <= input.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    ReplyParser owning;
    ReplyParser viewing;
    for (const std::string& piece : {input.substr(0, split), input.substr(split)}) {
      std::string_view a = piece;
      std::string_view b = piece;
      for (;;) {
        const std::optional<ParsedReply> r = owning.next(a);
        const std::optional<ParsedReplyView> v = viewing.next_view(b);
        ASSERT_EQ(a.size(), b.size());
        ASSERT_EQ(r.has_value(), v.has_value());
        if (!r) break;
        if (const auto* e = std::get_if<ReplyError>(&*r)) {
          ASSERT_TRUE(std::holds_alternative<ReplyError>(*v));
          EXPECT_EQ(std::get<ReplyError>(*v), *e);
          owning.reset();
          viewing.reset();
          continue;
        }
        ASSERT_TRUE(std::holds_alternative<ReplyView>(*v));
        const ReplyView& view = std::get<ReplyView>(*v);
        EXPECT_TRUE(view == std::get<Reply>(*r)) << describe(*r);
        EXPECT_EQ(view.to_reply(), std::get<Reply>(*r));
      }
    }
    EXPECT_EQ(owning.idle(), viewing.idle());
  }
}

TEST(ReplyParser, NextView_LinesOfAMultilineReplySplitAcrossCalls) {
  ReplyParser parser;
  std::string_view first = "250-mx.exa";
  EXPECT_FALSE(parser.next_view(first).has_value());
  std::string_view second = "mple.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
  const std::optional<ParsedReplyView> parsed = parser.next_view(second);
  ASSERT_TRUE(parsed.has_value());
  const ReplyView& view = std::get<ReplyView>(*parsed);
  ASSERT_EQ(view.line_count, 3u);
  EXPECT_EQ(view.line(0), "mx.example.org");
  EXPECT_EQ(view.line(1), "PIPELINING");
  EXPECT_EQ(view.line(2), "STARTTLS");
  EXPECT_TRUE(parser.idle());
  const Capabilities caps = parse_capabilities(view);
  EXPECT_TRUE(caps.starttls);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_EQ(caps.keywords, (std::vector<std::string>{"PIPELINING", "STARTTLS"}));
}

// The buffers behind a view are reused: a second reply does not keep the first one's lines.
TEST(ReplyParser, NextView_SecondReplyHoldsOnlyItsOwnLines) {
  ReplyParser parser;
  std::string_view input = "250-a\r\n250 b\r\n354 go on\r\n";
  ASSERT_TRUE(parser.next_view(input).has_value());
  const std::optional<ParsedReplyView> second = parser.next_view(input);
  ASSERT_TRUE(second.has_value());
  const ReplyView& view = std::get<ReplyView>(*second);
  EXPECT_EQ(view.code, 354);
  ASSERT_EQ(view.line_count, 1u);
  EXPECT_EQ(view.line(0), "go on");
  EXPECT_TRUE(input.empty());
}

TEST(ReplyParser, ViewEquality_ComparesCodeEnhancedCodeAndEveryLine) {
  ReplyParser p1, p2, p3;
  std::string_view a = "550 5.7.0 no\r\n", b = "550 5.7.0 no\r\n", c = "550 5.7.1 no\r\n";
  const ReplyView va = std::get<ReplyView>(*p1.next_view(a));
  const ReplyView vb = std::get<ReplyView>(*p2.next_view(b));
  const ReplyView vc = std::get<ReplyView>(*p3.next_view(c));
  EXPECT_TRUE(va == vb);
  EXPECT_FALSE(va == vc);
  Reply other = va.to_reply();
  EXPECT_TRUE(va == other);
  other.lines.push_back("more");
  EXPECT_FALSE(va == other);
}

Reply ehlo_reply(std::vector<std::string> lines) {
  Reply reply;
  reply.code = 250;
  reply.lines = std::move(lines);
  return reply;
}

TEST(ParseCapabilities, TypicalEhloReply_SetsEveryKnownExtension) {
  const Capabilities caps = parse_capabilities(ehlo_reply(
      {"mx.example.org Hello", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 10485760",
       "STARTTLS", "AUTH PLAIN LOGIN"}));
  EXPECT_TRUE(caps.starttls);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_TRUE(caps.eightbitmime);
  EXPECT_TRUE(caps.enhancedstatuscodes);
  EXPECT_EQ(caps.size, std::optional<std::uint64_t>(10485760));
  EXPECT_EQ(caps.keywords, (std::vector<std::string>{"PIPELINING", "8BITMIME",
                                                     "ENHANCEDSTATUSCODES", "SIZE", "STARTTLS",
                                                     "AUTH"}));
}

TEST(ParseCapabilities, FirstLine_IsTheServerNameAndIsSkipped) {
  const Capabilities caps = parse_capabilities(ehlo_reply({"STARTTLS", "PIPELINING"}));
  EXPECT_FALSE(caps.starttls);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_EQ(caps.keywords, std::vector<std::string>{"PIPELINING"});
}

TEST(ParseCapabilities, Keywords_AreCaseInsensitive) {
  const Capabilities caps =
      parse_capabilities(ehlo_reply({"mx", "starttls", "Pipelining", "8bitmime", "size 42"}));
  EXPECT_TRUE(caps.starttls);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_TRUE(caps.eightbitmime);
  EXPECT_EQ(caps.size, std::optional<std::uint64_t>(42));
  EXPECT_EQ(caps.keywords,
            (std::vector<std::string>{"STARTTLS", "PIPELINING", "8BITMIME", "SIZE"}));
}

TEST(ParseCapabilities, SizeWithoutPositiveNumber_GivesNoLimit) {
  for (const char* line : {"SIZE", "SIZE 0", "SIZE abc", "SIZE 12x", "SIZE -5",
                           "SIZE 99999999999999999999999"}) {
    SCOPED_TRACE(line);
    const Capabilities caps = parse_capabilities(ehlo_reply({"mx", line}));
    EXPECT_FALSE(caps.size.has_value());
    EXPECT_EQ(caps.keywords, std::vector<std::string>{"SIZE"});
  }
}

TEST(ParseCapabilities, LargestSize_IsKept) {
  const Capabilities caps = parse_capabilities(ehlo_reply({"mx", "SIZE 18446744073709551615"}));
  EXPECT_EQ(caps.size, std::optional<std::uint64_t>(18446744073709551615ull));
}

TEST(ParseCapabilities, KeywordInsideText_IsNotAKeyword) {
  const Capabilities caps = parse_capabilities(ehlo_reply({"mx", "X-NOT STARTTLS", "", "   "}));
  EXPECT_FALSE(caps.starttls);
  EXPECT_EQ(caps.keywords, std::vector<std::string>{"X-NOT"});
}

TEST(ParseCapabilities, NonPositiveReply_ListsNothing) {
  Reply reply = ehlo_reply({"mx", "STARTTLS"});
  reply.code = 502;
  const Capabilities caps = parse_capabilities(reply);
  EXPECT_FALSE(caps.starttls);
  EXPECT_TRUE(caps.keywords.empty());
}

TEST(ParseCapabilities, ParsedEhloReply_GivesCapabilities) {
  const Reply reply =
      reply_of("250-mx.example.org\r\n250-STARTTLS\r\n250-SIZE 1000\r\n250 PIPELINING\r\n");
  const Capabilities caps = parse_capabilities(reply);
  EXPECT_TRUE(caps.starttls);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_EQ(caps.size, std::optional<std::uint64_t>(1000));
}

TEST(FormatReply, OneLineWithEnhancedCode) {
  EXPECT_EQ(format_reply(250, "2.0.0", "Ok"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(format_reply(530, "5.7.0", "No STARTTLS command has been given."),
            "530 5.7.0 No STARTTLS command has been given.\r\n");
}

TEST(FormatReply, OneLineWithoutEnhancedCode) {
  EXPECT_EQ(format_reply(354, "", "End data with <CR><LF>.<CR><LF>"),
            "354 End data with <CR><LF>.<CR><LF>\r\n");
}

TEST(FormatReply, EmptyText_IsTheCodeAlone) {
  EXPECT_EQ(format_reply(250, "", ""), "250\r\n");
  EXPECT_EQ(format_reply(250, "", std::vector<std::string>{}), "250\r\n");
  EXPECT_EQ(format_reply(250, "2.0.0", ""), "250 2.0.0\r\n");
}

TEST(FormatReply, SeveralLines_AllButLastUseDash) {
  EXPECT_EQ(format_reply(250, "", std::vector<std::string>{"mx.example.org", "PIPELINING",
                                                           "STARTTLS"}),
            "250-mx.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
}

TEST(FormatReply, SeveralLines_CarryEnhancedCodeOnEveryLine) {
  EXPECT_EQ(format_reply(214, "2.0.0", std::vector<std::string>{"a", "b"}),
            "214-2.0.0 a\r\n214 2.0.0 b\r\n");
}

TEST(FormatReply, LfInText_StartsANewLine) {
  EXPECT_EQ(format_reply(250, "", "a\nb"), "250-a\r\n250 b\r\n");
  EXPECT_EQ(format_reply(250, "", std::vector<std::string>{"a\r\nMAIL FROM:<x>"}),
            "250-a \r\n250 MAIL FROM:<x>\r\n");
}

TEST(FormatReply, CrInText_IsSentAsSpace) {
  EXPECT_EQ(format_reply(250, "", "a\rb"), "250 a b\r\n");
}

TEST(FormatReply, FormattedReply_ParsesBackToSameReply) {
  const std::vector<std::string> lines = {"mx.example.org", "", "SIZE 10485760", "STARTTLS"};
  for (const std::string_view enhanced : {"", "2.0.0"}) {
    SCOPED_TRACE(std::string(enhanced));
    const Reply reply = reply_of(format_reply(250, enhanced, lines));
    EXPECT_EQ(reply.code, 250);
    ASSERT_EQ(reply.lines.size(), lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string prefix = enhanced.empty() || lines[i].empty()
                                     ? std::string(enhanced)
                                     : std::string(enhanced) + " ";
      EXPECT_EQ(reply.lines[i], prefix + lines[i]);
    }
    EXPECT_EQ(reply.enhanced.has_value(), !enhanced.empty());
  }
}

}  // namespace
}  // namespace tlschan

// The reply table against the texts semantics.md fixes (written here from the spec).
#include <gtest/gtest.h>

#include "tlschan/replies.hpp"

namespace tlschan {
namespace {

TEST(ReplyTable, TextsFixedByTheSpecAreExact) {
  EXPECT_EQ(render(ReplyId::ready_to_start_tls), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(render(ReplyId::syntax_starttls), "501 5.5.4 Syntax: STARTTLS\r\n");
  EXPECT_EQ(render(ReplyId::tls_already_active), "554 5.5.1 TLS already active\r\n");
  EXPECT_EQ(render(ReplyId::tls_unavailable), "454 4.7.1 TLS library initialization failure\r\n");
  EXPECT_EQ(render(ReplyId::must_starttls), "530 5.7.0 No STARTTLS command has been given.\r\n");
  EXPECT_EQ(render(ReplyId::line_too_long), "500 5.5.2 Line too long\r\n");
}

TEST(ReplyTable, CodesAndEnhancedCodesFixedByTheSpec) {
  struct Row {
    ReplyId id;
    int code;
    const char* enhanced;
  };
  const Row rows[] = {
      {ReplyId::ok, 250, "2.0.0"},           {ReplyId::sender_ok, 250, "2.1.0"},
      {ReplyId::recipient_ok, 250, "2.1.5"}, {ReplyId::bye, 221, "2.0.0"},
      {ReplyId::cannot_vrfy, 252, "2.5.2"},  {ReplyId::help, 214, "2.0.0"},
      {ReplyId::line_error, 500, "5.5.2"},   {ReplyId::unknown_command, 500, "5.5.1"},
      {ReplyId::not_implemented, 502, "5.5.1"}, {ReplyId::syntax_error, 501, "5.5.4"},
      {ReplyId::bad_parameter, 555, "5.5.4"},   {ReplyId::bad_sequence, 503, "5.5.1"},
      {ReplyId::message_too_big, 552, "5.3.4"}, {ReplyId::message_malformed, 550, "5.6.0"},
      {ReplyId::too_many_errors, 421, "4.7.0"}, {ReplyId::idle_timeout, 421, "4.4.2"},
      {ReplyId::shutting_down, 421, "4.3.2"},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(reply_spec(r.id).code, r.code);
    EXPECT_EQ(reply_spec(r.id).enhanced, r.enhanced);
  }
  EXPECT_EQ(reply_spec(ReplyId::start_mail_input).code, 354);
}

TEST(ReplyTable, ErrorLimitCountsExactly500_501_502_503_555) {
  EXPECT_TRUE(counts_as_error(ReplyId::line_error));
  EXPECT_TRUE(counts_as_error(ReplyId::syntax_starttls));
  EXPECT_TRUE(counts_as_error(ReplyId::not_implemented));
  EXPECT_TRUE(counts_as_error(ReplyId::bad_sequence));
  EXPECT_TRUE(counts_as_error(ReplyId::bad_parameter));
  EXPECT_FALSE(counts_as_error(ReplyId::must_starttls));
  EXPECT_FALSE(counts_as_error(ReplyId::tls_already_active));
  EXPECT_FALSE(counts_as_error(ReplyId::tls_unavailable));
  EXPECT_FALSE(counts_as_error(ReplyId::message_malformed));
}

TEST(ReplyTable, DetailReplacesText) {
  EXPECT_EQ(render(ReplyId::greeting, "mx ESMTP"), "220 mx ESMTP\r\n");
}

}  // namespace
}  // namespace tlschan

// The imta.cnf channel table (semantics.md sections 2 and 6): every construct, every error with its
// exact FILE:LINE:COL, routing precedence, the print-parse round trip, and garbage input.
#include "tlschan/channel_table.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "config_test_support.hpp"

namespace tlschan {
namespace {

using test::imta_errors;
using test::parse_table;
using test::texts;
using Words = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// Constructs

TEST(ImtaCnf, RulesThenBlankThenBlocks_WithNamesKeywordsTagsAndPositions) {
  const auto table = parse_table(
      "example.com  $U%$D@tcp_tls-daemon\n"
      "$*  $U%$D@tcp-daemon\n"
      "\n"
      "tcp_local smtp maytls tlsswitchchannel tcp_tls\n"
      "tcp-daemon\n"
      "\n"
      "tcp_tls smtp musttlsclient\n"
      "tcp_tls-daemon\n");
  ASSERT_TRUE(table);
  ASSERT_EQ(table->rules().size(), 2u);
  const RewriteRule& rule = table->rules()[0];
  EXPECT_EQ(rule.pattern.text, "example.com");
  EXPECT_EQ(rule.pattern.position, (SourcePosition{1, 1}));
  EXPECT_EQ(rule.rewrite.text, "$U%$D@tcp_tls-daemon");
  EXPECT_EQ(rule.rewrite.position, (SourcePosition{1, 14}));
  EXPECT_EQ(rule.tag, "tcp_tls-daemon");
  EXPECT_EQ(table->rules()[1].pattern.text, "$*");

  ASSERT_EQ(table->channels().size(), 2u);
  const Channel& local = table->channels()[0];
  EXPECT_EQ(local.name.text, "tcp_local");
  EXPECT_EQ(local.name.position, (SourcePosition{4, 1}));
  EXPECT_EQ(texts(local.keywords), (Words{"smtp", "maytls", "tlsswitchchannel", "tcp_tls"}));
  EXPECT_EQ(local.keywords[0].position, (SourcePosition{4, 11}));
  EXPECT_EQ(local.keywords[1].position, (SourcePosition{4, 16}));
  EXPECT_EQ(local.keywords[2].position, (SourcePosition{4, 23}));
  EXPECT_EQ(local.keywords[3].position, (SourcePosition{4, 40}));
  EXPECT_EQ(local.tag.text, "tcp-daemon");
  EXPECT_EQ(local.tag.position, (SourcePosition{5, 1}));
  EXPECT_EQ(local.policy.server, Policy::may);
  EXPECT_EQ(local.policy.client, Policy::may);
  EXPECT_EQ(local.policy.switch_target, "tcp_tls");

  const Channel& tls = table->channels()[1];
  EXPECT_EQ(tls.policy.server, Policy::no);
  EXPECT_EQ(tls.policy.client, Policy::must);
  EXPECT_FALSE(tls.policy.switch_target);
  EXPECT_EQ(table->file(), "imta.cnf");
}

TEST(ImtaCnf, LookupByNameAndByTag_IgnoresCase) {
  const auto table = parse_table("\ntcp_local maytls\ntcp-daemon\n\nl\nmail.example\n");
  ASSERT_TRUE(table);
  ASSERT_NE(table->find_by_name("TCP_Local"), nullptr);
  EXPECT_EQ(table->find_by_name("TCP_Local")->tag.text, "tcp-daemon");
  ASSERT_NE(table->find_by_tag("TCP-DAEMON"), nullptr);
  EXPECT_EQ(table->find_by_tag("TCP-DAEMON")->name.text, "tcp_local");
  EXPECT_EQ(table->find_by_name("tcp-daemon"), nullptr);
  EXPECT_EQ(table->find_by_tag("tcp_local"), nullptr);
  EXPECT_EQ(table->find_by_name("nosuch"), nullptr);
}

TEST(ImtaCnf, NoRules_ABlankFirstLineStartsTheChannelBlocks) {
  const auto table = parse_table("\nl\nmail.example\n");
  ASSERT_TRUE(table);
  EXPECT_TRUE(table->rules().empty());
  ASSERT_EQ(table->channels().size(), 1u);
  EXPECT_EQ(table->channels()[0].name.position, (SourcePosition{2, 1}));
}

TEST(ImtaCnf, LocalChannelL_WithoutKeywords) {
  const auto table = parse_table("\nl\nmail.example\n");
  ASSERT_TRUE(table);
  const Channel& l = table->channels()[0];
  EXPECT_EQ(l.name.text, "l");
  EXPECT_TRUE(l.keywords.empty());
  EXPECT_EQ(l.tag.text, "mail.example");
  EXPECT_EQ(l.policy.server, Policy::no);
  EXPECT_EQ(l.policy.client, Policy::no);
}

TEST(ImtaCnf, KeywordsAreCaseInsensitive_AndKeptAsWritten) {
  const auto table =
      parse_table("\ntcp_x MustTLS NOTLSCLIENT TlsSwitchChannel tcp_y\nx-daemon\n\ntcp_y\ny-daemon\n");
  ASSERT_TRUE(table);
  const Channel& x = table->channels()[0];
  EXPECT_EQ(texts(x.keywords), (Words{"MustTLS", "NOTLSCLIENT", "TlsSwitchChannel", "tcp_y"}));
  EXPECT_EQ(x.policy.server, Policy::must);
  EXPECT_EQ(x.policy.client, Policy::no);
  EXPECT_EQ(x.policy.switch_target, "tcp_y");
}

TEST(ImtaCnf, UnknownAndNonTlsKeywordsAreKept_NeverAnError) {
  const auto table =
      parse_table("\ntcp_x smtp mx frobnicate pool SMTP_POOL maxjobs 7 maytlsserver x=y\nx-daemon\n");
  ASSERT_TRUE(table);
  const Channel& x = table->channels()[0];
  EXPECT_EQ(texts(x.keywords),
            (Words{"smtp", "mx", "frobnicate", "pool", "SMTP_POOL", "maxjobs", "7", "maytlsserver", "x=y"}));
  EXPECT_EQ(x.policy.server, Policy::may);
  EXPECT_EQ(x.policy.client, Policy::no);
}

TEST(ImtaCnf, ValueKeywordConsumesTheNextWord_EvenOneThatLooksLikeATlsKeyword) {
  const auto table = parse_table("\ntcp_x pool musttls daemon maytls notices notlsclient\nx-daemon\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->channels()[0].policy.server, Policy::no);
  EXPECT_EQ(table->channels()[0].policy.client, Policy::no);
  EXPECT_TRUE(table->channels()[0].policy.overrides.empty());
}

TEST(ImtaCnf, CommentsAreSkipped_WholeLinesInsideBlocksAndAfterWords) {
  const auto table = parse_table(
      "! a comment before the rules\n"
      "a.example  $U%$D@x-daemon   ! after a rule\n"
      "\n"
      "! a comment before a block\n"
      "tcp_x smtp ! maytls is commented out\n"
      "! a comment inside the block, between the keywords and the tag\n"
      "x-daemon ! after the tag\n");
  ASSERT_TRUE(table);
  ASSERT_EQ(table->rules().size(), 1u);
  EXPECT_EQ(table->rules()[0].rewrite.text, "$U%$D@x-daemon");
  const Channel& x = table->channels()[0];
  EXPECT_EQ(texts(x.keywords), (Words{"smtp"}));
  EXPECT_EQ(x.policy.server, Policy::no);
  EXPECT_EQ(x.tag.text, "x-daemon");
  EXPECT_EQ(x.tag.position, (SourcePosition{7, 1}));
}

TEST(ImtaCnf, ExclamationInsideAWordIsPartOfIt) {
  const auto table = parse_table("\ntcp_x smtp a!b\nx-daemon\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(texts(table->channels()[0].keywords), (Words{"smtp", "a!b"}));
}

TEST(ImtaCnf, TrailingBackslashContinuesTheLine_PositionsStayPhysical) {
  const auto table = parse_table(
      "\n"
      "tcp_x smtp \\\n"
      "   maytls\\\n"
      "\tnotlsclient\n"
      "x-daemon\n");
  ASSERT_TRUE(table);
  const Channel& x = table->channels()[0];
  EXPECT_EQ(texts(x.keywords), (Words{"smtp", "maytls", "notlsclient"}));
  EXPECT_EQ(x.keywords[0].position, (SourcePosition{2, 7}));
  EXPECT_EQ(x.keywords[1].position, (SourcePosition{3, 4}));
  EXPECT_EQ(x.keywords[2].position, (SourcePosition{4, 2}));
  EXPECT_EQ(x.tag.position, (SourcePosition{5, 1}));
  EXPECT_EQ(x.policy.server, Policy::may);
  EXPECT_EQ(x.policy.client, Policy::no);
}

TEST(ImtaCnf, ValueOnTheContinuedLineBelongsToItsKeyword) {
  const auto table = parse_table("\ntcp_x tlsswitchchannel \\\n  tcp_y\nx-daemon\n\ntcp_y\ny-daemon\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->channels()[0].policy.switch_target, "tcp_y");
  EXPECT_EQ(table->channels()[0].keywords[1].position, (SourcePosition{3, 3}));
}

TEST(ImtaCnf, CommentLineInsideAContinuationIsSkipped) {
  const auto table = parse_table("\ntcp_x smtp \\\n! explains the next line\n  maytls\nx-daemon\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(texts(table->channels()[0].keywords), (Words{"smtp", "maytls"}));
  EXPECT_EQ(table->channels()[0].tag.text, "x-daemon");
}

TEST(ImtaCnf, ContinuationNeverSwallowsABlankLine) {
  // The blank line still ends the block, so the block has no tag line.
  EXPECT_EQ(
      imta_errors("\ntcp_x smtp \\\n\nx-daemon\ny\n"),
      (Words{"imta.cnf:2:1: error: found channel 'tcp_x' without a tag line, expected its tag (official "
             "host name) on the next line"}));
}

TEST(ImtaCnf, CrLfLineEndsAreAccepted) {
  const auto table = parse_table("a.example  $U%$D@x-daemon\r\n\r\ntcp_x maytls\r\nx-daemon\r\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->channels()[0].tag.text, "x-daemon");
  EXPECT_EQ(table->channels()[0].policy.server, Policy::may);
}

TEST(ImtaCnf, Utf8ByteOrderMarkAtTheStartIsIgnored) {
  const auto table = parse_table(
      "\xEF\xBB\xBF"
      "a.example  $U%$D@x-daemon\n\ntcp_x\nx-daemon\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->rules()[0].pattern.text, "a.example");
}

TEST(ImtaCnf, SeveralBlankLinesBetweenBlocksAreOneSeparator) {
  const auto table = parse_table("\n\n\ntcp_x\nx-daemon\n\n\n\ntcp_y\ny-daemon\n\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->channels().size(), 2u);
}

TEST(ImtaCnf, DefaultsApplyToTheBlocksAfterThem_NodefaultsClears_ANewDefaultsReplaces) {
  const auto table = parse_table(
      "\n"
      "tcp_a smtp\n"
      "a-daemon\n"
      "\n"
      "defaults maytls pool P\n"
      "\n"
      "tcp_b smtp\n"
      "b-daemon\n"
      "\n"
      "DEFAULTS musttlsclient\n"
      "\n"
      "tcp_c notlsserver\n"
      "c-daemon\n"
      "\n"
      "nodefaults\n"
      "\n"
      "tcp_d\n"
      "d-daemon\n");
  ASSERT_TRUE(table);
  const auto& ch = table->channels();
  ASSERT_EQ(ch.size(), 4u);
  EXPECT_TRUE(ch[0].defaults.empty());
  EXPECT_EQ(ch[0].policy.server, Policy::no);

  EXPECT_EQ(texts(ch[1].defaults), (Words{"maytls", "pool", "P"}));
  EXPECT_EQ(ch[1].defaults[0].position, (SourcePosition{5, 10}));
  EXPECT_EQ(texts(ch[1].keywords), (Words{"smtp"}));
  EXPECT_EQ(ch[1].policy.server, Policy::may);
  EXPECT_EQ(ch[1].policy.client, Policy::may);

  EXPECT_EQ(texts(ch[2].defaults), (Words{"musttlsclient"}));
  EXPECT_EQ(ch[2].policy.server, Policy::no);
  EXPECT_EQ(ch[2].policy.client, Policy::must);
  EXPECT_EQ(ch[2].policy_token(1).text, "notlsserver");
  EXPECT_TRUE(ch[2].from_defaults(0));
  EXPECT_FALSE(ch[2].from_defaults(1));

  EXPECT_TRUE(ch[3].defaults.empty());
  EXPECT_EQ(ch[3].policy.client, Policy::no);
}

TEST(ImtaCnf, ChannelKeywordOverridesADefault) {
  const auto table = parse_table("\ndefaults maytls\n\ntcp_x notlsclient\nx-daemon\n");
  ASSERT_TRUE(table);
  const Channel& x = table->channels()[0];
  EXPECT_EQ(x.policy.server, Policy::may);
  EXPECT_EQ(x.policy.client, Policy::no);
  ASSERT_EQ(x.policy.overrides.size(), 1u);
  EXPECT_EQ(x.policy.overrides[0].overridden, 0u);
  EXPECT_EQ(x.policy.overrides[0].by, 1u);
}

TEST(ImtaCnf, PolicySetterAndSwitchKeywords_NameTheKeywordsInEffect) {
  const auto table = parse_table(
      "\ntcp_x maytls pool musttls musttlsserver tlsswitchchannel tcp_x tlsswitchchannel tcp_y\nx-daemon\n\n"
      "tcp_y\ny-daemon\n");
  ASSERT_TRUE(table);
  const Channel& x = table->channels()[0];
  EXPECT_EQ(x.policy_setter(Side::server), 3u);
  EXPECT_EQ(x.policy_setter(Side::client), 0u);
  EXPECT_EQ(x.switch_keywords(), (std::vector<std::size_t>{4, 6}));
  EXPECT_EQ(x.policy.switch_target, "tcp_y");
  const Channel& y = table->channels()[1];
  EXPECT_FALSE(y.policy_setter(Side::server));
  EXPECT_TRUE(y.switch_keywords().empty());
}

// ---------------------------------------------------------------------------------------------
// Errors, each with its exact position

TEST(ImtaCnfErrors, TlsSwitchChannelWithoutValue) {
  EXPECT_EQ(
      imta_errors("\ntcp_local smtp tlsswitchchannel\ntcp-daemon\n"),
      (Words{"imta.cnf:2:16: error: found 'tlsswitchchannel' at the end of its line, expected the name of "
             "the channel to switch to after it"}));
}

TEST(ImtaCnfErrors, TlsSwitchChannelWithoutValue_ValueIsNotTakenFromTheTagLine) {
  // The tag line is the next logical line: it never supplies the value.
  EXPECT_EQ(
      imta_errors("\ntcp_local maytls TLSSWITCHCHANNEL\ntcp_tls\n\ntcp_tls\ntls-daemon\n"),
      (Words{"imta.cnf:2:18: error: found 'TLSSWITCHCHANNEL' at the end of its line, expected the name of "
             "the channel to switch to after it"}));
}

TEST(ImtaCnfErrors, TlsSwitchChannelWithoutValue_AtTheEndOfAContinuation) {
  EXPECT_EQ(
      imta_errors("\ntcp_local smtp \\\n    maytls tlsswitchchannel\ntcp-daemon\n"),
      (Words{"imta.cnf:3:12: error: found 'tlsswitchchannel' at the end of its line, expected the name of "
             "the channel to switch to after it"}));
}

TEST(ImtaCnfErrors, OtherValueKeywordWithoutValue) {
  EXPECT_EQ(
      imta_errors("\ntcp_local smtp pool\ntcp-daemon\n"),
      (Words{"imta.cnf:2:16: error: found 'pool' at the end of its line, expected its value after it"}));
}

TEST(ImtaCnfErrors, ValueKeywordWithoutValue_OnADefaultsLine) {
  EXPECT_EQ(
      imta_errors("\ndefaults maytls maxjobs\n\ntcp_x\nx-daemon\n"),
      (Words{"imta.cnf:2:17: error: found 'maxjobs' at the end of its line, expected its value after it"}));
}

TEST(ImtaCnfErrors, UnknownSwitchTarget) {
  EXPECT_EQ(
      imta_errors("\ntcp_local maytls tlsswitchchannel tcp_tsl\ntcp-daemon\n\ntcp_tls\ntls-daemon\n"),
      (Words{"imta.cnf:2:35: error: found the tlsswitchchannel target 'tcp_tsl', expected the name of a "
             "channel of the table"}));
}

TEST(ImtaCnfErrors, UnknownSwitchTarget_InsideAContinuation_AtItsPhysicalLine) {
  EXPECT_EQ(imta_errors("\ntcp_local smtp \\\n  maytls \\\n  tlsswitchchannel \\\n     nosuch\ntcp-daemon\n"),
            (Words{"imta.cnf:5:6: error: found the tlsswitchchannel target 'nosuch', expected the name of a "
                   "channel of the table"}));
}

TEST(ImtaCnfErrors, UnknownSwitchTarget_EvenWhenOverridden) {
  EXPECT_EQ(imta_errors("\ntcp_x tlsswitchchannel nosuch tlsswitchchannel tcp_x\nx-daemon\n"),
            (Words{"imta.cnf:2:24: error: found the tlsswitchchannel target 'nosuch', expected the name of a "
                   "channel of the table"}));
}

TEST(ImtaCnfErrors, UnknownSwitchTarget_FromDefaults_ReportedOnce) {
  EXPECT_EQ(imta_errors("\ndefaults tlsswitchchannel nosuch\n\ntcp_x\nx-daemon\n\ntcp_y\ny-daemon\n"),
            (Words{"imta.cnf:2:27: error: found the tlsswitchchannel target 'nosuch', expected the name of a "
                   "channel of the table"}));
}

TEST(ImtaCnfErrors, BlockWithoutTagLine_BeforeABlankLine) {
  EXPECT_EQ(
      imta_errors("\ntcp_x smtp maytls\n\ntcp_y\ny-daemon\n"),
      (Words{"imta.cnf:2:1: error: found channel 'tcp_x' without a tag line, expected its tag (official "
             "host name) on the next line"}));
}

TEST(ImtaCnfErrors, BlockWithoutTagLine_AtTheEndOfTheFile) {
  EXPECT_EQ(
      imta_errors("\ntcp_y\ny-daemon\n\n  tcp_x smtp"),
      (Words{"imta.cnf:5:3: error: found channel 'tcp_x' without a tag line, expected its tag (official "
             "host name) on the next line"}));
}

TEST(ImtaCnfErrors, MissingBlankLineBetweenBlocks) {
  EXPECT_EQ(
      imta_errors("\ntcp_x smtp\nx-daemon\ntcp_y smtp\ny-daemon\n"),
      (Words{"imta.cnf:4:1: error: found 'tcp_y' after the tag line of channel 'tcp_x', expected a blank "
             "line before the next block"}));
}

TEST(ImtaCnfErrors, TagLineWithMoreThanTheTag) {
  EXPECT_EQ(imta_errors("\ntcp_x smtp\nx-daemon maytls\n"),
            (Words{"imta.cnf:3:10: error: found 'maytls' after the tag 'x-daemon', expected the tag alone"}));
}

TEST(ImtaCnfErrors, TagThatIsNotAHostName) {
  EXPECT_EQ(
      imta_errors("\ntcp_x smtp\nx@daemon\n"),
      (Words{"imta.cnf:3:1: error: found the tag 'x@daemon', expected a host name (letters, digits, '.', "
             "'-', '_')"}));
}

TEST(ImtaCnfErrors, DuplicateChannel_IgnoringCase) {
  EXPECT_EQ(
      imta_errors("\ntcp_x\nx-daemon\n\nTCP_X maytls\nx2-daemon\n"),
      (Words{"imta.cnf:5:1: error: found channel 'TCP_X' again, expected each channel once (first at 2:1)"}));
}

TEST(ImtaCnfErrors, DuplicateTag) {
  EXPECT_EQ(
      imta_errors("\ntcp_x\nshared-daemon\n\ntcp_y\nShared-Daemon\n"),
      (Words{"imta.cnf:6:1: error: found the tag 'Shared-Daemon' again, expected each tag once (channel "
             "'tcp_x' has it at 3:1)"}));
}

TEST(ImtaCnfErrors, ChannelNameWithForbiddenCharacters) {
  EXPECT_EQ(
      imta_errors("\ntcp$x smtp\nx-daemon\n"),
      (Words{"imta.cnf:2:1: error: found the channel name 'tcp$x', expected letters, digits, '-' and '_'"}));
}

TEST(ImtaCnfErrors, RewriteRuleWithoutTemplate) {
  EXPECT_EQ(
      imta_errors("example.com\n\ntcp_x\nx-daemon\n"),
      (Words{"imta.cnf:1:1: error: found the rewrite rule pattern 'example.com' alone, expected 'pattern "
             "template' (or a blank line before the channel blocks)"}));
}

TEST(ImtaCnfErrors, RewriteRuleWithAThirdWord) {
  EXPECT_EQ(
      imta_errors("example.com $U%$D@x-daemon extra\n\ntcp_x\nx-daemon\n"),
      (Words{"imta.cnf:1:28: error: found 'extra' after the template of a rewrite rule, expected the end "
             "of the rule ('pattern template')"}));
}

TEST(ImtaCnfErrors, RewriteRulePatternThatIsNotADomain) {
  EXPECT_EQ(imta_errors("a.example  $U%$D@x-daemon\nexa$mple..com  $U%$D@x-daemon\n\ntcp_x\nx-daemon\n"),
            (Words{"imta.cnf:2:1: error: found the rewrite rule pattern 'exa$mple..com', expected a domain, "
                   ".domain, *.domain, . or $*"}));
  EXPECT_EQ(imta_errors("a.*.example  $U%$D@x-daemon\n\ntcp_x\nx-daemon\n"),
            (Words{"imta.cnf:1:1: error: found the rewrite rule pattern 'a.*.example', expected a domain, "
                   ".domain, *.domain, . or $*"}));
}

TEST(ImtaCnfErrors, TemplateWithoutAtTag) {
  EXPECT_EQ(
      imta_errors("example.com  $U%$D\n\ntcp_x\nx-daemon\n"),
      (Words{"imta.cnf:1:14: error: found the template '$U%$D', expected a template ending in '@' and a "
             "channel tag, such as $U%$D@tcp-daemon"}));
  EXPECT_EQ(
      imta_errors("example.com  $U%$D@\n\ntcp_x\nx-daemon\n"),
      (Words{"imta.cnf:1:14: error: found the template '$U%$D@', expected a template ending in '@' and a "
             "channel tag, such as $U%$D@tcp-daemon"}));
}

TEST(ImtaCnfErrors, TemplateTagThatNoChannelHas_AtTheTag) {
  EXPECT_EQ(
      imta_errors("example.com  $U%$D@tcp_tsl-daemon\n\ntcp_tls\ntcp_tls-daemon\n"),
      (Words{"imta.cnf:1:20: error: found the tag 'tcp_tsl-daemon' in the template of rule 'example.com', "
             "expected the tag of a channel (no channel has it)"}));
}

TEST(ImtaCnfErrors, DefaultsLineFollowedByAnotherLine) {
  EXPECT_EQ(
      imta_errors("\ndefaults maytls\nx-daemon\n\ntcp_x\nx-daemon\n"),
      (Words{"imta.cnf:3:1: error: found 'x-daemon' after a defaults line, expected a blank line (it has no "
             "tag line)"}));
}

TEST(ImtaCnfErrors, NodefaultsWithWords) {
  EXPECT_EQ(imta_errors("\nnodefaults maytls\n\ntcp_x\nx-daemon\n"),
            (Words{"imta.cnf:2:12: error: found 'maytls' after nodefaults, expected nothing"}));
}

TEST(ImtaCnfErrors, NoChannelBlock) {
  EXPECT_EQ(
      imta_errors(""),
      (Words{"imta.cnf:1:1: error: found no channel block, expected channel blocks after the rewrite rules "
             "and a blank line"}));
  EXPECT_EQ(
      imta_errors("\nnodefaults\n\ndefaults maytls\n"),
      (Words{"imta.cnf:4:1: error: found no channel block, expected channel blocks after the rewrite rules "
             "and a blank line"}));
  EXPECT_EQ(
      imta_errors("! only a comment\n\n! and another\n"),
      (Words{"imta.cnf:3:1: error: found no channel block, expected channel blocks after the rewrite rules "
             "and a blank line"}));
}

TEST(ImtaCnfErrors, BackslashThatDoesNotEndTheLine) {
  EXPECT_EQ(
      imta_errors("\ntcp_x smtp\\ maytls\nx-daemon\n"),
      (Words{"imta.cnf:2:11: error: found '\\' at the end of the word 'smtp\\', expected '\\' only as the "
             "last character of a line (a continuation)"}));
}

TEST(ImtaCnfErrors, ControlCharacter) {
  EXPECT_EQ(imta_errors("\ntcp_x sm\x01tp\nx-daemon\n"),
            (Words{"imta.cnf:2:9: error: found the control character 0x01, expected text"}));
}

TEST(ImtaCnfErrors, EveryErrorIsReported_AndNothingIsHalfApplied) {
  const auto errors = imta_errors(
      "example.com\n"
      "\n"
      "tcp_x tlsswitchchannel nosuch\n"
      "x-daemon\n"
      "\n"
      "tcp_x pool\n"
      "x2-daemon\n");
  EXPECT_EQ(errors,
            (Words{
                "imta.cnf:1:1: error: found the rewrite rule pattern 'example.com' alone, expected "
                "'pattern template' (or a blank line before the channel blocks)",
                "imta.cnf:3:24: error: found the tlsswitchchannel target 'nosuch', expected the name of a "
                "channel of the table",
                "imta.cnf:6:1: error: found channel 'tcp_x' again, expected each channel once (first at 3:1)",
                "imta.cnf:6:7: error: found 'pool' at the end of its line, expected its value after it",
            }));
}

// ---------------------------------------------------------------------------------------------
// Routing

constexpr const char* routing_table =
    "$*                  $U%$D@default-daemon\n"
    ".                   $U%$D@dot-daemon\n"
    ".example            $U%$D@tld-daemon\n"
    ".b.example          $U%$D@parent-daemon\n"
    "*.b.example         $U%$D@star-daemon\n"
    "a.b.example         $U%$D@exact-daemon\n"
    "A.B.EXAMPLE         $U%$D@second-daemon\n"
    "*.*.other           $U%$D@twostars-daemon\n"
    "\n"
    "tcp_default\ndefault-daemon\n\n"
    "tcp_dot\ndot-daemon\n\n"
    "tcp_tld maytlsclient\ntld-daemon\n\n"
    "tcp_parent musttls\nparent-daemon\n\n"
    "tcp_star\nstar-daemon\n\n"
    "tcp_exact musttlsclient\nexact-daemon\n\n"
    "tcp_second\nsecond-daemon\n\n"
    "tcp_twostars\ntwostars-daemon\n";

std::string routed(const ChannelTable& table, std::string_view domain) {
  const auto r = table.route(domain);
  return r ? r->channel->name.text : "error: " + r.error();
}

TEST(ImtaCnfRouting, ExactDomainBeatsEveryOtherRule_FirstOfTheSamePatternWins) {
  const auto table = parse_table(routing_table);
  ASSERT_TRUE(table);
  EXPECT_EQ(routed(*table, "a.b.example"), "tcp_exact");
  EXPECT_EQ(routed(*table, "A.b.Example"), "tcp_exact");
  const auto r = table->route("a.b.example");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rule->pattern.position, (SourcePosition{6, 1}));
  EXPECT_EQ(r->channel->policy.client, Policy::must);
}

TEST(ImtaCnfRouting, OneLabelWildcardBeatsTheParentRuleOfTheSameSuffix) {
  const auto table = parse_table(routing_table);
  ASSERT_TRUE(table);
  EXPECT_EQ(routed(*table, "c.b.example"), "tcp_star");
}

TEST(ImtaCnfRouting, LongerSuffixBeatsShorter_AndParentRuleMatchesOnlySubdomains) {
  const auto table = parse_table(routing_table);
  ASSERT_TRUE(table);
  EXPECT_EQ(routed(*table, "x.c.b.example"), "tcp_parent");  // .b.example before .example
  EXPECT_EQ(routed(*table, "b.example"), "tcp_tld");         // .b.example does not match b.example itself
  EXPECT_EQ(routed(*table, "z.example"), "tcp_tld");
}

TEST(ImtaCnfRouting, DotMatchesAnyDomainBeforeDollarStar) {
  const auto table = parse_table(routing_table);
  ASSERT_TRUE(table);
  EXPECT_EQ(routed(*table, "unrelated.org"), "tcp_dot");
  EXPECT_EQ(routed(*table, "x.y.other"), "tcp_twostars");  // *.*.other: exactly two labels, then .other
  EXPECT_EQ(routed(*table, "y.other"), "tcp_dot");
}

TEST(ImtaCnfRouting, DollarStarMatchesAnyDomain_Last) {
  const auto table = parse_table(
      "$*  $U%$D@tcp-daemon\nexample.com  $U%$D@tls-daemon\n\n"
      "tcp_local maytls\ntcp-daemon\n\ntcp_tls musttlsclient\ntls-daemon\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(routed(*table, "example.com"), "tcp_tls");  // the order of the rules does not matter
  EXPECT_EQ(routed(*table, "www.example.com"), "tcp_local");
  EXPECT_EQ(routed(*table, "localhost"), "tcp_local");
}

TEST(ImtaCnfRouting, AddressesAndATrailingDotRouteByTheirDomain) {
  const auto table = parse_table(routing_table);
  ASSERT_TRUE(table);
  EXPECT_EQ(routed(*table, "bob@a.b.example"), "tcp_exact");
  EXPECT_EQ(routed(*table, "a.b.example."), "tcp_exact");
}

TEST(ImtaCnfRouting, NoMatchingRuleAndNonDomainsAreErrors) {
  const auto table = parse_table("example.com  $U%$D@x-daemon\n\ntcp_x\nx-daemon\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(routed(*table, "example.org"),
            "error: no rewrite rule matches 'example.org', expected a rule for it or a $* rule");
  EXPECT_EQ(routed(*table, ""), "error: found '', expected a domain such as example.com");
  EXPECT_EQ(routed(*table, "a..b"), "error: found 'a..b', expected a domain such as example.com");
  EXPECT_EQ(routed(*table, "a b"), "error: found 'a b', expected a domain such as example.com");
  EXPECT_EQ(routed(*table, std::string(300, 'a')).substr(0, 12), "error: found");
}

// ---------------------------------------------------------------------------------------------
// Round trip

void expect_round_trip(std::string_view text) {
  const auto first = parse_table(text);
  ASSERT_TRUE(first);
  const std::string printed = print_imta_cnf(*first);
  const auto second = parse_table(printed);
  ASSERT_TRUE(second) << printed;
  EXPECT_TRUE(same_channel_table(*first, *second)) << printed;
  EXPECT_EQ(print_imta_cnf(*second), printed);
  for (std::size_t i = 0; i < first->channels().size(); ++i) {
    const ChannelPolicy& a = first->channels()[i].policy;
    const ChannelPolicy& b = second->channels()[i].policy;
    EXPECT_EQ(a.server, b.server);
    EXPECT_EQ(a.client, b.client);
    EXPECT_EQ(a.switch_target, b.switch_target);
    EXPECT_EQ(a.overrides.size(), b.overrides.size());
  }
}

TEST(ImtaCnfRoundTrip, DefaultConfiguration) {
  expect_round_trip(test::read_text(TLSCHAN_TEST_CONFIGS "/default/imta.cnf"));
}

TEST(ImtaCnfRoundTrip, HandMadeTables) {
  expect_round_trip("\nl\nmail.example\n");
  expect_round_trip(routing_table);
  expect_round_trip(
      "! comments and continuations disappear, the words stay\n"
      "Example.COM  $U%$D@X-Daemon\n"
      "\n"
      "defaults maytls pool P\n"
      "\n"
      "tcp_x smtp \\\n  a!b notlsclient\nX-daemon\n"
      "\n"
      "defaults maytls pool P\n"
      "\n"
      "tcp_y tlsswitchchannel tcp_x\ny-daemon\n"
      "\n"
      "nodefaults\n"
      "\n"
      "defaults\n"
      "\n"
      "tcp_z\nz-daemon\n"
      "\n"
      "defaults musttls\n");
}

TEST(ImtaCnfRoundTrip, PrintedFormIsRulesBlankLineThenBlocks) {
  const auto table = parse_table(
      "a.example   $U%$D@x-daemon ! c\n\ndefaults maytls\n\ntcp_x  "
      "smtp\nx-daemon\n\nnodefaults\n\ntcp_y\ny-daemon\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(print_imta_cnf(*table),
            "a.example  $U%$D@x-daemon\n"
            "\n"
            "defaults maytls\n"
            "\n"
            "tcp_x smtp\n"
            "x-daemon\n"
            "\n"
            "nodefaults\n"
            "\n"
            "tcp_y\n"
            "y-daemon\n");
}

TEST(ImtaCnfRoundTrip, DifferentTablesAreNotTheSame) {
  const auto a = parse_table("\ntcp_x maytls\nx-daemon\n");
  const auto b = parse_table("\ntcp_x musttls\nx-daemon\n");
  const auto c = parse_table("\ndefaults maytls\n\ntcp_x\nx-daemon\n");
  ASSERT_TRUE(a && b && c);
  EXPECT_FALSE(same_channel_table(*a, *b));
  EXPECT_FALSE(same_channel_table(*a, *c));
  EXPECT_TRUE(same_channel_table(*a, *a));
}

// ---------------------------------------------------------------------------------------------
// Garbage input: a clear error or a clean result, quickly, never a crash

double seconds_to_parse(std::string_view text, bool& parsed, std::size_t& errors) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = parse_imta_cnf(text, "imta.cnf");
  const auto end = std::chrono::steady_clock::now();
  parsed = r.has_value();
  errors = r ? 0 : r.error().size();
  return std::chrono::duration<double>(end - start).count();
}

TEST(ImtaCnfGarbage, RandomBinaryBytes_GiveErrorsNeverACrash) {
  std::mt19937 random(20240611);
  for (int round = 0; round < 50; ++round) {
    std::string text(static_cast<std::size_t>(random() % 20000), '\0');
    for (char& c : text) c = static_cast<char>(random() & 0xff);
    const auto r = parse_imta_cnf(text, "imta.cnf");
    ASSERT_FALSE(r.has_value());
    EXPECT_LE(r.error().size(), 101u);
    for (const Diagnostic& d : r.error()) {
      EXPECT_EQ(d.severity, Severity::error);
      EXPECT_GE(d.position.line, 1u);
      EXPECT_FALSE(d.message.empty());
    }
  }
}

TEST(ImtaCnfGarbage, TenMegabyteLine_IsOneClearErrorQuickly) {
  const std::string text = "\n" + std::string(10 * 1024 * 1024, 'a') + "\nx-daemon\n";
  bool parsed = true;
  std::size_t errors = 0;
  const double seconds = seconds_to_parse(text, parsed, errors);
  EXPECT_FALSE(parsed);
  EXPECT_LT(seconds, 5.0);
  EXPECT_EQ(imta_errors(text),
            (Words{"imta.cnf:2:65537: error: found a line of 10485760 bytes, expected at most 65536"}));
}

TEST(ImtaCnfGarbage, ManyContinuedLinesBeyondTheLimit_AreOneError) {
  std::string text = "\ntcp_x";
  for (int i = 0; i < 20000; ++i) text += " smtp \\\n";
  text += "maytls\nx-daemon\n";
  const auto errors = imta_errors(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("error: found a continued line of more than 65536 bytes"), std::string::npos)
      << errors[0];
}

TEST(ImtaCnfGarbage, FiveThousandBlocks_ParseCleanlyAndQuickly) {
  std::string text = "$*  $U%$D@ch0-daemon\n\n";
  for (int i = 0; i < 5000; ++i) {
    const std::string n = std::to_string(i);
    text += "ch" + n + " smtp maytls tlsswitchchannel ch" + std::to_string((i + 1) % 5000) + " pool P" + n +
            "\nch" + n + "-daemon\n\n";
  }
  bool parsed = false;
  std::size_t errors = 0;
  const double seconds = seconds_to_parse(text, parsed, errors);
  EXPECT_TRUE(parsed);
  EXPECT_LT(seconds, 5.0);
  const auto table = parse_table(text);
  ASSERT_TRUE(table);
  EXPECT_EQ(table->channels().size(), 5000u);
  EXPECT_EQ(table->find_by_name("ch4999")->policy.switch_target, "ch0");
  EXPECT_EQ(routed(*table, "anything.example"), "ch0");
}

TEST(ImtaCnfGarbage, FiveThousandBrokenBlocks_StopAtAHundredErrors) {
  std::string text = "\n";
  for (int i = 0; i < 5000; ++i) text += "ch tlsswitchchannel\n\n";
  const auto r = parse_imta_cnf(text, "imta.cnf");
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().size(), 101u);
  EXPECT_EQ(format_diagnostic(r.error().back()), "imta.cnf:102:4: error: too many errors, stopping here");
}

TEST(ImtaCnfGarbage, RandomWordSoup_ParsesOrFails_AndWhatParsesRoundTrips) {
  const std::vector<std::string> pieces{
      " ",    " ",         "\n",         "\n", "\n\n",  "\\\n",   "! c",         "$*",
      ".",    "a.example", "$U%$D@x",    "x",  "tcp_x", "maytls", "notlsclient", "tlsswitchchannel",
      "pool", "defaults",  "nodefaults", "\t", "@",     "x!y"};
  std::mt19937 random(11);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int n = static_cast<int>(random() % 40);
    for (int i = 0; i < n; ++i) text += pieces[random() % pieces.size()];
    const auto r = parse_imta_cnf(text, "imta.cnf");
    if (!r) continue;
    const auto again = parse_imta_cnf(print_imta_cnf(*r), "imta.cnf");
    ASSERT_TRUE(again) << text;
    EXPECT_TRUE(same_channel_table(*r, *again)) << text;
  }
}

// A random table in the format's whole syntax: comments, continuations, case, defaults and
// nodefaults, value keywords, switches, every kind of rule pattern.
std::string random_table(std::mt19937& random) {
  const auto pick = [&](const std::vector<std::string>& from) { return from[random() % from.size()]; };
  const auto maybe = [&](int percent) { return static_cast<int>(random() % 100) < percent; };
  const std::size_t channels = 1 + random() % 6;
  const auto name = [](std::size_t i) { return "ch" + std::to_string(i); };
  const auto tag = [](std::size_t i) { return "ch" + std::to_string(i) + "-daemon"; };
  const std::vector<std::string> keywords{
      "notls",         "NoTlsServer",   "notlsclient", "maytls", "maytlsserver", "MAYTLSCLIENT",    "musttls",
      "musttlsserver", "musttlsclient", "smtp",        "mx",     "single_sys",   "unknown_keyword", "a!b"};
  const std::vector<std::string> value_keywords{"pool", "maxjobs", "daemon", "backoff", "after"};
  const std::string spaces[] = {" ", "  ", "\t", " \\\n  ", " \\\n! comment inside\n  "};
  const auto keyword_line = [&](std::string head) {
    const std::size_t n = random() % 7;
    for (std::size_t k = 0; k < n; ++k) {
      head += spaces[random() % (maybe(70) ? 1 : 5)];
      const int kind = static_cast<int>(random() % 10);
      if (kind < 6) {
        head += pick(keywords);
      } else if (kind < 8) {
        head += pick(value_keywords) + " " + pick(keywords);
      } else {
        head += (maybe(50) ? "tlsswitchchannel " : "TLSSwitchChannel ") + name(random() % channels);
      }
    }
    return head + (maybe(20) ? "  ! trailing comment" : "") + "\n";
  };
  std::string text = maybe(30) ? "! a header comment\n" : "";
  const std::vector<std::string> patterns{"$*",          ".",     "a.example", ".b.example",
                                          "*.c.example", "*.*.d", "E.Example"};
  for (std::size_t r = random() % 5; r > 0; --r) {
    text += pick(patterns) + (maybe(50) ? "  " : "\t") + "$U%$D@" + tag(random() % channels) + "\n";
  }
  text += "\n";
  for (std::size_t i = 0; i < channels; ++i) {
    if (maybe(25)) text += maybe(70) ? keyword_line("defaults") + "\n" : "nodefaults\n\n";
    if (maybe(15)) text += "! a comment before a block\n";
    text += keyword_line(name(i));
    if (maybe(15)) text += "! a comment before the tag\n";
    text += tag(i) + (maybe(50) ? "\n\n" : "\n\n\n");
  }
  return text;
}

TEST(ImtaCnfRoundTrip, RandomTablesInTheWholeSyntax_ParseAndRoundTrip) {
  std::mt19937 random(2024);
  for (int round = 0; round < 1000; ++round) {
    const std::string text = random_table(random);
    const auto first = parse_imta_cnf(text, "imta.cnf");
    ASSERT_TRUE(first) << text << "\n" << test::joined_lines(test::formatted(first.error()));
    const std::string printed = print_imta_cnf(*first);
    const auto second = parse_imta_cnf(printed, "imta.cnf");
    ASSERT_TRUE(second) << printed;
    EXPECT_TRUE(same_channel_table(*first, *second)) << text << "\nprinted:\n" << printed;
    EXPECT_EQ(print_imta_cnf(*second), printed);
    for (std::size_t i = 0; i < first->channels().size(); ++i) {
      EXPECT_EQ(first->channels()[i].policy.server, second->channels()[i].policy.server);
      EXPECT_EQ(first->channels()[i].policy.client, second->channels()[i].policy.client);
      EXPECT_EQ(first->channels()[i].policy.switch_target, second->channels()[i].policy.switch_target);
    }
  }
}

TEST(ImtaCnfGarbage, MutationsOfTheDefault_NeverCrash_AndErrorsPointInsideTheFile) {
  const std::string original = test::read_text(TLSCHAN_TEST_CONFIGS "/default/imta.cnf");
  const std::string alphabet = " \t\n\\!@$*.%abcTLS_-\r\x01";
  std::mt19937 random(7);
  const std::size_t lines = static_cast<std::size_t>(std::count(original.begin(), original.end(), '\n')) + 1;
  for (int round = 0; round < 300; ++round) {
    std::string text = original;
    for (int m = 0; m < 4; ++m) {
      const std::size_t at = random() % text.size();
      switch (random() % 3) {
        case 0: text[at] = alphabet[random() % alphabet.size()]; break;
        case 1: text.erase(at, random() % 20); break;
        default: text.insert(at, 1, alphabet[random() % alphabet.size()]); break;
      }
    }
    const auto r = parse_imta_cnf(text, "imta.cnf");
    if (r) {
      const auto again = parse_imta_cnf(print_imta_cnf(*r), "imta.cnf");
      ASSERT_TRUE(again) << text;
      EXPECT_TRUE(same_channel_table(*r, *again)) << text;
      continue;
    }
    for (const Diagnostic& d : r.error()) {
      EXPECT_GE(d.position.line, 1u);
      EXPECT_LE(d.position.line, lines + 40) << format_diagnostic(d);
      EXPECT_GE(d.position.column, 1u);
    }
  }
}

}  // namespace
}  // namespace tlschan

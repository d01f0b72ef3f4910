// What `tlschan lint` warns about (semantics.md sections 2, 3.5 and 6; RFC 3207), the lint table,
// and the default configuration.
#include "tlschan/config_lint.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "tlschan/config.hpp"

namespace tlschan {
namespace {

using Words = std::vector<std::string>;

Words warnings(std::string imta, std::optional<std::string> dispatcher = std::nullopt) {
  ConfigText text;
  text.imta_cnf = std::move(imta);
  text.dispatcher_cnf = std::move(dispatcher);
  const auto r = parse_config(text);
  if (!r) {
    ADD_FAILURE() << "unexpected errors:\n" << test::joined_lines(test::formatted(r.error()));
    return {};
  }
  return test::formatted(r->warnings);
}

// ---------------------------------------------------------------------------------------------
// Overrides (semantics.md section 2: never silent)

TEST(LintOverride, LaterKeywordOverridingOneSide_NamesBoth) {
  EXPECT_EQ(
      warnings("\ntcp_x smtp maytls notlsclient\nx-daemon\n"),
      (Words{"imta.cnf:2:12: warning: maytls is overridden for the client side by notlsclient at 2:19"}));
}

TEST(LintOverride, BothSidesOverriddenByOneKeyword_IsOneWarning) {
  EXPECT_EQ(warnings("\ntcp_x musttls maytls\nx-daemon\n"),
            (Words{"imta.cnf:2:7: warning: musttls is overridden for both sides by maytls at 2:15"}));
}

TEST(LintOverride, OneKeywordOverridingTwoOneSidedOnes_IsTwoWarnings) {
  EXPECT_EQ(
      warnings("\ntcp_x maytlsserver maytlsclient musttls\nx-daemon\n"),
      (Words{"imta.cnf:2:7: warning: maytlsserver is overridden for the server side by musttls at 2:33",
             "imta.cnf:2:20: warning: maytlsclient is overridden for the client side by musttls at 2:33"}));
}

TEST(LintOverride, InsideAContinuation_AtThePhysicalLines) {
  EXPECT_EQ(warnings("\ntcp_x smtp \\\n  maytls \\\n    notlsserver\nx-daemon\n"),
            (Words{"imta.cnf:3:3: warning: maytls is overridden for the server side by notlsserver at 4:5"}));
}

TEST(LintOverride, ChannelKeywordOverridingADefault_NamesTheChannel) {
  EXPECT_EQ(warnings("\ndefaults maytls\n\ntcp_x notlsclient\nx-daemon\n\ntcp_y NOTLSCLIENT\ny-daemon\n"),
            (Words{"imta.cnf:2:10: warning: maytls (from defaults) is overridden for the client side by "
                   "notlsclient at 4:7 in channel 'tcp_x'",
                   "imta.cnf:2:10: warning: maytls (from defaults) is overridden for the client side by "
                   "NOTLSCLIENT at 7:7 in channel 'tcp_y'"}));
}

TEST(LintOverride, OverrideInsideTheDefaultsLine_IsReportedOnce) {
  EXPECT_EQ(warnings("\ndefaults maytls notls\n\ntcp_x\nx-daemon\n\ntcp_y\ny-daemon\n"),
            (Words{"imta.cnf:2:10: warning: maytls is overridden for both sides by notls at 2:17"}));
}

TEST(LintOverride, SecondTlsSwitchChannelOverridesTheFirst) {
  EXPECT_EQ(
      warnings("\ntcp_x tlsswitchchannel tcp_y tlsswitchchannel tcp_z\nx-daemon\n\ntcp_y\ny-daemon\n\n"
               "tcp_z\nz-daemon\n"),
      (Words{
          "imta.cnf:2:7: warning: tlsswitchchannel tcp_y is overridden by tlsswitchchannel tcp_z at 2:30"}));
}

TEST(LintOverride, DisjointSidesAndRepeatedNonTlsKeywords_AreNoOverride) {
  EXPECT_EQ(warnings("\ntcp_x maytlsserver musttlsclient pool A pool B smtp smtp\nx-daemon\n"), Words{});
}

// ---------------------------------------------------------------------------------------------
// Services

constexpr const char* two_channels =
    "\n"
    "tcp_local maytls\ntcp-daemon\n"
    "\n"
    "tcp_plain notlsserver maytlsclient\nplain-daemon\n"
    "\n"
    "tcp_bare\nbare-daemon\n"
    "\n"
    "tcp_must musttlsserver\nmust-daemon\n";

TEST(LintService, TlsPortOnANotlsserverChannel_EveryConnectionWouldBeClosed) {
  EXPECT_EQ(
      warnings(two_channels, "[SERVICE=SMTPS]\nTLS_PORT=465\nPARAMETER=CHANNEL=tcp_plain\n"),
      (Words{
          "dispatcher.cnf:2:10: warning: TLS_PORT 465 of service 'SMTPS' hands connections to channel "
          "'tcp_plain', whose server policy is no: every connection there is closed before a byte is sent; "
          "expected maytlsserver or musttlsserver on that channel"}));
}

TEST(LintService, TlsPortOnAChannelWithoutTlsKeywords_IsServerPolicyNoToo) {
  EXPECT_EQ(warnings(two_channels, "[SERVICE=SMTPS]\nTLS_PORT=465,1465\nPARAMETER=CHANNEL=tcp_bare\n").size(),
            2u);
}

TEST(LintService, TlsPortOnAMayOrMustChannel_IsFine) {
  EXPECT_EQ(warnings(two_channels,
                     "[SERVICE=SMTPS]\nTLS_PORT=465\n[SERVICE=SUB]\nTLS_PORT=1465\n"
                     "PARAMETER=CHANNEL=tcp_must\n"),
            Words{});
}

TEST(LintService, MustServerOnPort25_Rfc3207) {
  EXPECT_EQ(
      warnings(two_channels, "[SERVICE=SMTP]\nPORT=587,25\nPARAMETER=CHANNEL=tcp_must\n"),
      (Words{"dispatcher.cnf:2:10: warning: port 25 of service 'SMTP' hands connections to channel "
             "'tcp_must', whose server policy is must: public mail arrives on port 25, and RFC 3207 says a "
             "publicly referenced server must not require TLS; expected maytlsserver there"}));
}

TEST(LintService, MustServerOnOtherPorts_IsFine) {
  EXPECT_EQ(warnings(two_channels, "[SERVICE=SUBMIT]\nPORT=587\nPARAMETER=CHANNEL=tcp_must\n"), Words{});
}

TEST(LintService, ServiceWithoutAnyPort) {
  EXPECT_EQ(
      warnings(two_channels, "[SERVICE=SMTP]\nIMAGE=tcp_smtp_server\n"),
      (Words{"dispatcher.cnf:1:10: warning: service 'SMTP' has no PORT and no TLS_PORT, expected at least "
             "one: it accepts no connection"}));
}

// ---------------------------------------------------------------------------------------------
// tlsswitchchannel targets

constexpr const char* switch_table =
    "\n"
    "tcp_local maytls tlsswitchchannel tcp_tls\ntcp-daemon\n"
    "\n"
    "tcp_tls musttls\ntls-daemon\n";

TEST(LintSwitch, TargetServerPolicyNeverApplies_SaySo) {
  const Words expected{
      "imta.cnf:5:9: warning: musttls sets the server policy of channel 'tcp_tls' to must, which never "
      "applies: "
      "'tcp_tls' is reached only by tlsswitchchannel from 'tcp_local', which switches after TLS is "
      "established, "
      "so its server policy (no, may or must) gates nothing; expected no server keyword there, or a service "
      "handing connections to it"};
  EXPECT_EQ(warnings(switch_table, "[SERVICE=SMTP]\nPORT=25\n"), expected);
  EXPECT_EQ(warnings(switch_table), expected);  // no dispatcher.cnf: no service at all
}

TEST(LintSwitch, TargetWithAnExplicitNotlsserver_AlsoNeverApplies) {
  const Words w =
      warnings("\ntcp_local maytls tlsswitchchannel tcp_tls\ntcp-daemon\n\ntcp_tls notlsserver\nd\n");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].substr(0, 86),
            "imta.cnf:5:9: warning: notlsserver sets the server policy of channel 'tcp_tls' to no, ");
}

TEST(LintSwitch, TargetThatIsAlsoAnIncomingChannel_IsFine) {
  EXPECT_EQ(warnings(switch_table,
                     "[SERVICE=SMTP]\nPORT=25\n[SERVICE=SMTPS]\nTLS_PORT=465\n"
                     "PARAMETER=CHANNEL=tcp_tls\n"),
            Words{});
}

TEST(LintSwitch, TargetWithOnlyClientKeywordsOrNone_IsFine) {
  EXPECT_EQ(warnings("\ntcp_local maytls tlsswitchchannel tcp_tls\ntcp-daemon\n\ntcp_tls musttlsclient\nd\n"),
            Words{});
  EXPECT_EQ(warnings("\ntcp_local maytls tlsswitchchannel tcp_tls\ntcp-daemon\n\ntcp_tls\nd\n"), Words{});
}

TEST(LintSwitch, TargetsOwnSwitchIsNeverFollowed) {
  EXPECT_EQ(
      warnings("\ntcp_local maytls tlsswitchchannel tcp_tls\ntcp-daemon\n\ntcp_tls tlsswitchchannel "
               "tcp_local\nd\n",
               "[SERVICE=SMTP]\nPORT=25\n"),
      (Words{"imta.cnf:5:9: warning: tlsswitchchannel tcp_local on channel 'tcp_tls' is never followed: "
             "'tcp_tls' is reached only by tlsswitchchannel from 'tcp_local', which switches after TLS is "
             "established, and a connection switches once"}));
}

TEST(LintSwitch, ChannelSwitchingToItself_IsFine) {
  EXPECT_EQ(warnings("\ntcp_local musttls tlsswitchchannel tcp_local\ntcp-daemon\n"), Words{});
}

// ---------------------------------------------------------------------------------------------
// Rules, order, and what warnings do not do

TEST(LintRules, RepeatedPatternNeverApplies) {
  EXPECT_EQ(
      warnings(
          "a.example  $U%$D@x-daemon\nA.EXAMPLE  $U%$D@y-daemon\n\ntcp_x\nx-daemon\n\ntcp_y\ny-daemon\n"),
      (Words{"imta.cnf:2:1: warning: found the rewrite rule pattern 'A.EXAMPLE' again: this rule never "
             "applies, the rule at 1:1 comes first"}));
}

TEST(LintOrder, WarningsComeByFileThenPosition) {
  const Words w =
      warnings("\ntcp_local maytls tlsswitchchannel tcp_tls\ntcp-daemon\n\ntcp_tls musttls notls\nd\n",
               "[SERVICE=SMTP]\nPORT=25\n[SERVICE=X]\n");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].substr(0, 22), "imta.cnf:5:9: warning:");   // musttls overridden by notls
  EXPECT_EQ(w[1].substr(0, 23), "imta.cnf:5:17: warning:");  // notls sets a server policy that never applies
  EXPECT_EQ(w[2].substr(0, 29), "dispatcher.cnf:3:10: warning:");
}

TEST(LintOrder, WarningsDoNotStopTheConfigurationFromLoading) {
  ConfigText text;
  text.imta_cnf = "\ntcp_local musttls notls\ntcp-daemon\n";
  const auto r = parse_config(text);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0].severity, Severity::warning);
  EXPECT_FALSE(has_errors(r->warnings));
}

TEST(LintScale, FiveThousandChannelsWithWarnings_EveryWarningAndRow) {
  ConfigText text;
  text.imta_cnf = "$*  $U%$D@ch0-daemon\n\ndefaults maytls notls\n\n";
  for (int i = 0; i < 5000; ++i) {
    const std::string n = std::to_string(i);
    text.imta_cnf += "ch" + n + " musttls maytlsclient tlsswitchchannel ch" + std::to_string((i + 1) % 5000) +
                     "\nch" + n + "-daemon\n\n";
  }
  text.dispatcher_cnf = "[SERVICE=SMTP]\nPORT=25\nPARAMETER=CHANNEL=ch0\n";
  // How fast is the benchmarks' business, not a unit test's (a wall-clock bound fails on a loaded
  // machine or in a Debug build): this checks that every warning and row of a large table is right.
  const auto r = parse_config(text);
  ASSERT_TRUE(r);
  const auto rows = summarize_channels(*r);
  // One for the defaults line; per channel: notls overridden by musttls (both sides) and musttls by
  // maytlsclient (client); per switch target but ch0 (incoming): musttls setting a server policy
  // and tlsswitchchannel, neither ever applying; port 25 on ch0, a must server.
  EXPECT_EQ(r->warnings.size(), 1u + 5000u * 2 + 4999u * 2 + 1u);
  EXPECT_EQ(rows[1].reached_by, (Words{"tlsswitchchannel from ch0"}));
  EXPECT_EQ(rows[0].reached_by, (Words{"SMTP port 25", "tlsswitchchannel from ch4999", "rule $*"}));
}

TEST(Diagnostics, Format) {
  EXPECT_EQ(format_diagnostic({"a/imta.cnf", {3, 7}, Severity::error, "found x, expected y"}),
            "a/imta.cnf:3:7: error: found x, expected y");
  EXPECT_EQ(format_diagnostic({"imta.cnf", {1, 1}, Severity::warning, "w"}), "imta.cnf:1:1: warning: w");
  EXPECT_EQ(format_diagnostic({"cfg", {}, Severity::error, "no such folder"}), "cfg: error: no such folder");
}

// ---------------------------------------------------------------------------------------------
// The default configuration

TEST(DefaultConfig, LoadsWithoutErrorsOrWarnings) {
  const auto r = parse_config(test::default_config_text());
  ASSERT_TRUE(r) << test::joined_lines(test::formatted(r.error()));
  EXPECT_EQ(test::formatted(r->warnings), Words{});
}

TEST(DefaultConfig, UsesEveryKeywordOfSection2) {
  const auto r = parse_config(test::default_config_text());
  ASSERT_TRUE(r);
  std::set<std::string> used;
  for (const Channel& channel : r->table.channels()) {
    for (std::size_t i = 0; i < channel.policy_token_count(); ++i) used.insert(channel.policy_token(i).text);
  }
  for (const char* keyword : {"notls", "notlsserver", "notlsclient", "maytls", "maytlsserver", "maytlsclient",
                              "musttls", "musttlsserver", "musttlsclient", "tlsswitchchannel"}) {
    EXPECT_EQ(used.count(keyword), 1u) << keyword;
  }
}

TEST(DefaultConfig, ChannelsAndServicesAsDocumented) {
  const auto r = parse_config(test::default_config_text());
  ASSERT_TRUE(r);
  const ChannelTable& t = r->table;
  const Channel* local = t.find_by_name("tcp_local");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->policy.server, Policy::may);
  EXPECT_EQ(local->policy.client, Policy::may);
  EXPECT_EQ(local->policy.switch_target, "tcp_tls");
  EXPECT_EQ(t.find_by_name("tcp_submit")->policy.server, Policy::must);
  EXPECT_EQ(t.find_by_name("tcp_submit")->policy.client, Policy::must);
  EXPECT_EQ(t.find_by_name("tcp_legacy")->policy.server, Policy::no);
  EXPECT_EQ(t.find_by_name("tcp_legacy")->policy.client, Policy::no);
  ASSERT_NE(t.find_by_name("l"), nullptr);

  ASSERT_TRUE(r->dispatcher);
  bool port25_to_local = false, tls_port_465 = false;
  for (const DispatcherService& s : r->dispatcher->services) {
    for (const ServicePort& p : s.ports)
      port25_to_local |= p.number == 25 && &incoming_channel(*r, s) == local;
    for (const ServicePort& p : s.tls_ports) tls_port_465 |= p.number == 465;
  }
  EXPECT_TRUE(port25_to_local);
  EXPECT_TRUE(tls_port_465);
}

TEST(DefaultConfig, Routes) {
  const auto r = parse_config(test::default_config_text());
  ASSERT_TRUE(r);
  const auto channel_of = [&](std::string_view domain) {
    const auto route = r->table.route(domain);
    return route ? route->channel->name.text + " " + to_string(route->channel->policy.client) : route.error();
  };
  EXPECT_EQ(channel_of("partner.example"), "tcp_tls must");
  EXPECT_EQ(channel_of("mx.partner.example"), "tcp_tls must");
  EXPECT_EQ(channel_of("legacy.example"), "tcp_legacy no");
  EXPECT_EQ(channel_of("tlschan.test"), "l no");
  EXPECT_EQ(channel_of("intranet.tlschan.test"), "tcp_intranet no");
  EXPECT_EQ(channel_of("smarthost.example"), "tcp_relay may");
  EXPECT_EQ(channel_of("example.org"), "tcp_local may");
}

TEST(DefaultConfig, SummaryRows) {
  const auto r = parse_config(test::default_config_text());
  ASSERT_TRUE(r);
  const auto rows = summarize_channels(*r);
  ASSERT_EQ(rows.size(), r->table.channels().size());
  const auto row = [&](std::string_view name) {
    return *std::find_if(rows.begin(), rows.end(), [&](const ChannelSummary& s) { return s.name == name; });
  };
  const ChannelSummary local = row("tcp_local");
  EXPECT_EQ(local.server, Policy::may);
  EXPECT_EQ(local.switch_target, "tcp_tls");
  EXPECT_EQ(local.tag, "tcp-daemon");
  EXPECT_EQ(local.reached_by, (Words{"SMTP port 25", "rule $*"}));
  EXPECT_EQ(row("tcp_tls").reached_by, (Words{"SMTP_PARTNER port 2526", "tlsswitchchannel from tcp_local",
                                              "rule partner.example", "rule .partner.example"}));
  EXPECT_EQ(row("tcp_submit").reached_by, (Words{"SMTP_SUBMIT port 587", "SMTP_SUBMIT tls_port 465"}));
}

TEST(LintSummary, ShadowedRuleIsNotListed) {
  ConfigText text;
  text.imta_cnf =
      "a.example  $U%$D@x-daemon\na.example  $U%$D@y-daemon\n\ntcp_x\nx-daemon\n\ntcp_y\ny-daemon\n";
  const auto r = parse_config(text);
  ASSERT_TRUE(r);
  const auto rows = summarize_channels(*r);
  EXPECT_EQ(rows[0].reached_by, (Words{"rule a.example"}));
  EXPECT_EQ(rows[1].reached_by, Words{});
}

}  // namespace
}  // namespace tlschan

// Channel keyword semantics (semantics.md section 2).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tlschan/policy.hpp"

namespace tlschan {
namespace {

ChannelPolicy resolve(std::vector<std::string> tokens) {
  auto r = resolve_channel_policy(tokens);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : ChannelPolicy{};
}

TEST(ChannelPolicy, DefaultIsNotlsBothSides) {
  const auto p = resolve({"smtp", "mx"});
  EXPECT_EQ(p.server, Policy::no);
  EXPECT_EQ(p.client, Policy::no);
  EXPECT_FALSE(p.switch_target);
  EXPECT_FALSE(p.wants_tls());
}

TEST(ChannelPolicy, EveryKeywordSetsItsSides) {
  struct Row {
    const char* keyword;
    Policy server;
    Policy client;
  };
  // Starting from maytls on both sides shows which side a one-sided keyword leaves unchanged.
  const Row rows[] = {
      {"notls", Policy::no, Policy::no},          {"notlsserver", Policy::no, Policy::may},
      {"notlsclient", Policy::may, Policy::no},   {"maytls", Policy::may, Policy::may},
      {"maytlsserver", Policy::may, Policy::may}, {"maytlsclient", Policy::may, Policy::may},
      {"musttls", Policy::must, Policy::must},    {"musttlsserver", Policy::must, Policy::may},
      {"musttlsclient", Policy::may, Policy::must},
  };
  for (const Row& r : rows) {
    const auto p = resolve({"maytls", r.keyword});
    EXPECT_EQ(p.server, r.server) << r.keyword;
    EXPECT_EQ(p.client, r.client) << r.keyword;
  }
  EXPECT_EQ(resolve({"maytlsserver"}).client, Policy::no);
  EXPECT_EQ(resolve({"musttlsclient"}).server, Policy::no);
}

TEST(ChannelPolicy, KeywordsAreCaseInsensitive) {
  const auto p = resolve({"MustTLS", "NOTLSCLIENT"});
  EXPECT_EQ(p.server, Policy::must);
  EXPECT_EQ(p.client, Policy::no);
}

TEST(ChannelPolicy, LaterKeywordOverridesEarlier_AndTheOverrideIsReported) {
  const auto p = resolve({"musttls", "notlsclient"});
  EXPECT_EQ(p.server, Policy::must);
  EXPECT_EQ(p.client, Policy::no);
  ASSERT_EQ(p.overrides.size(), 1u);
  EXPECT_EQ(p.overrides[0].overridden, 0u);
  EXPECT_EQ(p.overrides[0].by, 1u);
  EXPECT_EQ(p.overrides[0].side, Side::client);
}

TEST(ChannelPolicy, NoOverrideReportedForDisjointSides) {
  const auto p = resolve({"maytlsserver", "musttlsclient"});
  EXPECT_EQ(p.server, Policy::may);
  EXPECT_EQ(p.client, Policy::must);
  EXPECT_TRUE(p.overrides.empty());
}

TEST(ChannelPolicy, TlsSwitchChannelTakesTheNextToken) {
  const auto p = resolve({"maytls", "tlsswitchchannel", "tcp_tls", "pool", "SMTP_POOL"});
  ASSERT_TRUE(p.switch_target);
  EXPECT_EQ(*p.switch_target, "tcp_tls");
  EXPECT_EQ(p.server, Policy::may);
}

TEST(ChannelPolicy, ValueOfAnotherKeywordIsNotReadAsAKeyword) {
  // "pool musttls" names a pool called musttls; it sets no policy.
  const auto p = resolve({"pool", "musttls", "maytls"});
  EXPECT_EQ(p.server, Policy::may);
  EXPECT_TRUE(p.overrides.empty());
}

TEST(ChannelPolicy, TlsSwitchChannelWithoutValueIsAnError) {
  const std::vector<std::string> tokens{"maytls", "tlsswitchchannel"};
  const auto r = resolve_channel_policy(tokens);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().keyword, 1u);
  EXPECT_NE(r.error().message.find("tlsswitchchannel"), std::string::npos);
  EXPECT_NE(r.error().message.find("expected"), std::string::npos);
}

TEST(ChannelPolicy, SecondTlsSwitchChannelOverridesTheFirst) {
  const auto p = resolve({"tlsswitchchannel", "a", "tlsswitchchannel", "b"});
  EXPECT_EQ(*p.switch_target, "b");
  ASSERT_EQ(p.overrides.size(), 1u);
  EXPECT_FALSE(p.overrides[0].side);
}

TEST(ChannelPolicy, TlsInitializationWantedForAnyTlsPermitted) {
  EXPECT_TRUE(resolve({"maytlsserver"}).wants_tls());
  EXPECT_TRUE(resolve({"musttlsclient"}).wants_tls());
  EXPECT_FALSE(resolve({"maytls", "notls"}).wants_tls());
}

TEST(ChannelPolicy, PolicyNamesRoundTrip) {
  for (const Policy p : {Policy::no, Policy::may, Policy::must}) EXPECT_EQ(parse_policy(to_string(p)), p);
  EXPECT_FALSE(parse_policy("maybe"));
}

}  // namespace
}  // namespace tlschan

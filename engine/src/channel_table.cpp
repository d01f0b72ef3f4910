#include "tlschan/channel_table.hpp"

#include <cassert>
#include <initializer_list>

#include "config_lines.hpp"

namespace tlschan {

using config_text::ascii_lower;

const Token& Channel::policy_token(std::size_t index) const {
  assert(index < policy_token_count());
  return index < defaults.size() ? defaults[index] : keywords[index - defaults.size()];
}

std::vector<std::string> Channel::policy_words() const {
  std::vector<std::string> words;
  words.reserve(policy_token_count());
  for (const Token& t : defaults) words.push_back(t.text);
  for (const Token& t : keywords) words.push_back(t.text);
  return words;
}

std::vector<std::string_view> Channel::policy_views() const {
  std::vector<std::string_view> words;
  words.reserve(policy_token_count());
  for (const Token& t : defaults) words.push_back(t.text);
  for (const Token& t : keywords) words.push_back(t.text);
  return words;
}

namespace {

// The overrides of a channel's keywords followed by `appended`: what an appended keyword overrides
// is the keyword in effect. Asking resolve_channel_policy keeps the keyword semantics in one place.
std::vector<KeywordOverride> overrides_with(const Channel& channel,
                                            std::initializer_list<const char*> appended) {
  std::vector<std::string_view> words;
  words.reserve(channel.policy_token_count() + appended.size());
  for (const Token& t : channel.defaults) words.push_back(t.text);
  for (const Token& t : channel.keywords) words.push_back(t.text);
  words.insert(words.end(), appended.begin(), appended.end());
  auto resolved = resolve_channel_policy(words);
  return resolved ? resolved->overrides : std::vector<KeywordOverride>{};
}

}  // namespace

std::optional<std::size_t> Channel::policy_setter(Side side) const {
  const std::size_t end = policy_token_count();
  for (const KeywordOverride& o :
       overrides_with(*this, {side == Side::server ? "notlsserver" : "notlsclient"})) {
    if (o.by == end && o.side == side) return o.overridden;
  }
  return std::nullopt;
}

std::vector<std::size_t> Channel::switch_keywords() const {
  std::vector<std::size_t> out;
  for (const KeywordOverride& o : overrides_with(*this, {"tlsswitchchannel", "-"})) {
    if (!o.side) out.push_back(o.overridden);
  }
  return out;
}

ChannelTable::ChannelTable(std::string file, std::vector<RewriteRule> rules, std::vector<Channel> channels)
    : file_(std::move(file)), rules_(std::move(rules)), channels_(std::move(channels)) {
  // On a duplicate the first one is indexed; the parser reports the others as errors.
  for (std::size_t i = 0; i < channels_.size(); ++i) {
    by_name_.emplace(ascii_lower(channels_[i].name.text), i);
    if (!channels_[i].tag.text.empty()) by_tag_.emplace(ascii_lower(channels_[i].tag.text), i);
  }
  for (std::size_t i = 0; i < rules_.size(); ++i) by_pattern_.emplace(ascii_lower(rules_[i].pattern.text), i);
}

const Channel* ChannelTable::find_by_name(std::string_view name) const {
  const auto it = by_name_.find(ascii_lower(name));
  return it == by_name_.end() ? nullptr : &channels_[it->second];
}

const Channel* ChannelTable::find_by_tag(std::string_view tag) const {
  const auto it = by_tag_.find(ascii_lower(tag));
  return it == by_tag_.end() ? nullptr : &channels_[it->second];
}

namespace {

// The labels of a domain, or nothing if it is not one.
std::optional<std::vector<std::string_view>> domain_labels(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return std::nullopt;
  std::vector<std::string_view> labels;
  while (true) {
    const std::size_t dot = domain.find('.');
    const std::string_view label = domain.substr(0, dot);
    if (label.size() > 63 || !config_text::is_word(label)) return std::nullopt;
    labels.push_back(label);
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return labels;
}

}  // namespace

Expected<Route, std::string> ChannelTable::route(std::string_view domain) const {
  if (const std::size_t at = domain.rfind('@'); at != std::string_view::npos) domain.remove_prefix(at + 1);
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  const std::string lowered = ascii_lower(domain);
  const auto labels = domain_labels(lowered);
  if (!labels)
    return unexpected("found " + config_text::in_quotes(domain) + ", expected a domain such as example.com");

  const auto probe = [&](const std::string& pattern) -> std::optional<Route> {
    const auto it = by_pattern_.find(pattern);
    if (it == by_pattern_.end()) return std::nullopt;
    const RewriteRule& rule = rules_[it->second];
    const Channel* channel = find_by_tag(rule.tag);
    if (channel == nullptr) return std::nullopt;  // not in a checked table
    return Route{&rule, channel};
  };

  if (auto r = probe(lowered)) return *r;
  std::string stars;
  std::size_t rest = 0;  // offset of the labels after the first k
  for (std::size_t k = 1; k <= labels->size(); ++k) {
    stars += k == 1 ? "*" : ".*";
    rest += (*labels)[k - 1].size() + 1;
    const std::string suffix = rest < lowered.size() ? lowered.substr(rest) : std::string();
    if (auto r = probe(suffix.empty() ? stars : stars + "." + suffix)) return *r;
    if (auto r = probe("." + suffix)) return *r;
  }
  if (auto r = probe("$*")) return *r;
  return unexpected("no rewrite rule matches " + config_text::in_quotes(lowered) +
                    ", expected a rule for it or a $* rule");
}

bool same_channel_table(const ChannelTable& a, const ChannelTable& b) {
  const auto same_words = [](const std::vector<Token>& x, const std::vector<Token>& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (x[i].text != y[i].text) return false;
    }
    return true;
  };
  if (a.rules().size() != b.rules().size() || a.channels().size() != b.channels().size()) return false;
  for (std::size_t i = 0; i < a.rules().size(); ++i) {
    const RewriteRule& x = a.rules()[i];
    const RewriteRule& y = b.rules()[i];
    if (x.pattern.text != y.pattern.text || x.rewrite.text != y.rewrite.text) return false;
  }
  for (std::size_t i = 0; i < a.channels().size(); ++i) {
    const Channel& x = a.channels()[i];
    const Channel& y = b.channels()[i];
    if (x.name.text != y.name.text || x.tag.text != y.tag.text || !same_words(x.defaults, y.defaults) ||
        !same_words(x.keywords, y.keywords)) {
      return false;
    }
  }
  return true;
}

}  // namespace tlschan

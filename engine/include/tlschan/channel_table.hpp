// The channel table of an `imta.cnf` file (semantics.md section 6): rewrite rules, then channel
// blocks, each with its keywords, its tag (official host name) and its resolved TLS policy.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/config_diagnostics.hpp"
#include "tlschan/expected.hpp"
#include "tlschan/policy.hpp"

namespace tlschan {

// `pattern template`: mail for a domain matching `pattern` goes to the channel whose tag follows
// the last '@' of `template` (`example.com  $U%$D@tcp_tls-daemon` -> tag `tcp_tls-daemon`).
struct RewriteRule {
  Token pattern;  // `$*`, `.`, a domain, `.domain` or `*.domain` (one `*` per label)
  Token rewrite;  // the template, as written
  std::string tag;
};

struct Channel {
  Token name;
  std::vector<Token> defaults;  // the keywords of the `defaults` line in effect for this block
  std::vector<Token> keywords;  // the block's own keyword tokens, values included, in order
  Token tag;
  ChannelPolicy policy;  // resolved from `defaults` then `keywords`

  // The keyword sequence the policy was resolved from (`defaults` then `keywords`): the indices of
  // `policy.overrides` refer to it.
  const Token& policy_token(std::size_t index) const;
  std::size_t policy_token_count() const { return defaults.size() + keywords.size(); }
  bool from_defaults(std::size_t index) const { return index < defaults.size(); }
  std::vector<std::string> policy_words() const;
  std::vector<std::string_view> policy_views() const;  // the same, as views of the tokens

  // The index of the keyword that set `side`'s policy, if a keyword did (else it is `no` by default).
  std::optional<std::size_t> policy_setter(Side side) const;
  // The index of every tlsswitchchannel keyword, in order; its value is the next token.
  std::vector<std::size_t> switch_keywords() const;
};

struct Route {
  const RewriteRule* rule = nullptr;
  const Channel* channel = nullptr;
};

// A complete, checked channel table: every tlsswitchchannel names a channel, every rule's tag is a
// channel's tag, names and tags are unique. Only parse_imta_cnf makes one.
class ChannelTable {
 public:
  const std::string& file() const { return file_; }
  const std::vector<RewriteRule>& rules() const { return rules_; }
  const std::vector<Channel>& channels() const { return channels_; }

  // Channel names and tags compare without regard to ASCII case.
  const Channel* find_by_name(std::string_view name) const;
  const Channel* find_by_tag(std::string_view tag) const;

  // The outgoing channel for mail to `domain` (an address's part after its last '@' also works).
  // The most specific rule wins, probing as the MTA does, for `a.b.c`: `a.b.c`, `*.b.c`, `.b.c`,
  // `*.*.c`, `.c`, `*.*.*`, `.`, then `$*`. So an exact domain beats a `.parent` rule, a longer
  // suffix beats a shorter one, and `$*` comes last; among rules with the same pattern the first
  // wins. Errors: not a domain, or no rule matches.
  Expected<Route, std::string> route(std::string_view domain) const;

 private:
  friend Expected<ChannelTable, std::vector<Diagnostic>> parse_imta_cnf(std::string_view text,
                                                                        std::string file_name);
  ChannelTable(std::string file, std::vector<RewriteRule> rules, std::vector<Channel> channels);

  std::string file_;
  std::vector<RewriteRule> rules_;
  std::vector<Channel> channels_;
  std::map<std::string, std::size_t, std::less<>> by_name_;     // lower-cased name -> channel
  std::map<std::string, std::size_t, std::less<>> by_tag_;      // lower-cased tag -> channel
  std::map<std::string, std::size_t, std::less<>> by_pattern_;  // lower-cased pattern -> first rule
};

// Parses an imta.cnf text; `file_name` is what the diagnostics name. Either the whole table, or
// every error found (at most 100), never a part of the table.
Expected<ChannelTable, std::vector<Diagnostic>> parse_imta_cnf(std::string_view text, std::string file_name);

// Prints a table in the imta.cnf format; parse_imta_cnf of the result gives the same table
// (same_channel_table), positions aside.
std::string print_imta_cnf(const ChannelTable& table);

// Same rules and channels (names, defaults, keywords, tags), ignoring positions and file name.
bool same_channel_table(const ChannelTable& a, const ChannelTable& b);

}  // namespace tlschan

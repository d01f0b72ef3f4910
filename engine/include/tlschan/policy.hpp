// The TLS keywords of a channel (semantics.md section 2) and how they combine: left to right, a
// later keyword overriding an earlier one for the side(s) it names.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/expected.hpp"

namespace tlschan {

enum class Policy { no, may, must };
enum class Side { server, client };

const char* to_string(Policy p);  // "no", "may", "must"
const char* to_string(Side s);    // "server", "client"
std::optional<Policy> parse_policy(std::string_view text);

// One override: keyword `overridden` (index into the keyword list) lost `side` to keyword `by`.
struct KeywordOverride {
  std::size_t overridden = 0;
  std::size_t by = 0;
  std::optional<Side> side;  // empty for tlsswitchchannel, which has no side
};

struct ChannelPolicy {
  Policy server = Policy::no;
  Policy client = Policy::no;
  std::optional<std::string> switch_target;  // tlsswitchchannel NAME
  std::vector<KeywordOverride> overrides;

  // TLS library initialization happens for a channel with any TLS permitted (section 2).
  bool wants_tls() const { return server != Policy::no || client != Policy::no; }
};

struct PolicyError {
  std::size_t keyword = 0;  // index of the keyword at fault
  std::string message;      // what was found and what was expected
};

// True for the channel keywords that consume the next token as their value.
bool keyword_takes_value(std::string_view keyword);

// Resolves a channel's keyword tokens (keyword values included, as they follow their keyword).
// Keywords are case-insensitive; non-TLS keywords are skipped with their values. A
// tlsswitchchannel without a value is an error.
Expected<ChannelPolicy, PolicyError> resolve_channel_policy(std::span<const std::string> tokens);
// The same on views of the tokens (no copy of them).
Expected<ChannelPolicy, PolicyError> resolve_channel_policy(std::span<const std::string_view> tokens);

}  // namespace tlschan

#include "tlschan/policy.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#include "ascii_case.hpp"

namespace tlschan {

namespace {

// A word lower-cased for comparing with the keywords, in place (no allocation): a word longer than
// every keyword becomes the empty word, which is no keyword either.
class Lowered {
 public:
  static constexpr std::size_t capacity = 32;
  explicit Lowered(std::string_view s) {
    if (s.size() > capacity) return;
    size_ = s.size();
    for (std::size_t i = 0; i < size_; ++i) buf_[i] = detail::lower_octet(s[i]);
  }
  std::string_view view() const { return {buf_, size_}; }

 private:
  char buf_[capacity] = {};
  std::size_t size_ = 0;
};

bool operator==(const Lowered& a, std::string_view b) { return a.view() == b; }

struct TlsKeyword {
  std::string_view name;
  Policy policy;
  bool server;
  bool client;
};

constexpr std::array<TlsKeyword, 9> tls_keywords{{
    {"notls", Policy::no, true, true},
    {"notlsserver", Policy::no, true, false},
    {"notlsclient", Policy::no, false, true},
    {"maytls", Policy::may, true, true},
    {"maytlsserver", Policy::may, true, false},
    {"maytlsclient", Policy::may, false, true},
    {"musttls", Policy::must, true, true},
    {"musttlsserver", Policy::must, true, false},
    {"musttlsclient", Policy::must, false, true},
}};

// Channel keywords of the imta.cnf format that take a value (the next token).
constexpr std::array<std::string_view, 31> value_keywords{{
    "tlsswitchchannel", "saslswitchchannel", "pool", "maxjobs", "subdirs", "maxprocchars",
    "threaddepth", "backoff", "after", "notices", "maxblocks", "maxlines", "linelength", "daemon",
    "defaulthost", "alternatechannel", "alternateblocklimit", "alternatelinelimit",
    "alternaterecipientlimit", "charset7", "charset8", "charsetesc", "sourcefilter",
    "destinationfilter", "maxheaderaddrs", "maxheaderchars", "addrsperfile", "addrsperjob",
    "filesperjob", "user", "queue",
}};

constexpr bool fits_lowered(std::string_view word) { return word.size() <= Lowered::capacity; }
static_assert(std::all_of(tls_keywords.begin(), tls_keywords.end(),
                          [](const TlsKeyword& k) { return fits_lowered(k.name); }));
static_assert(std::all_of(value_keywords.begin(), value_keywords.end(), fits_lowered));

// For each length, the keywords of that length, as a mask of their indexes: a word is compared with
// those alone (a configuration's words are looked up many times over).
template <std::size_t N>
constexpr std::array<std::uint64_t, Lowered::capacity + 1> by_length(const std::array<std::string_view, N>& names) {
  static_assert(N <= 64);
  std::array<std::uint64_t, Lowered::capacity + 1> masks{};
  for (std::size_t i = 0; i < N; ++i) masks[names[i].size()] |= std::uint64_t{1} << i;
  return masks;
}

constexpr std::array<std::string_view, tls_keywords.size()> tls_names = [] {
  std::array<std::string_view, tls_keywords.size()> names{};
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = tls_keywords[i].name;
  return names;
}();
constexpr auto tls_by_length = by_length(tls_names);
constexpr auto value_by_length = by_length(value_keywords);

// The index of the lowered word among names, by the mask of its length; -1 when it is none of them.
template <std::size_t N>
int find_keyword(const Lowered& word, const std::array<std::string_view, N>& names,
                 const std::array<std::uint64_t, Lowered::capacity + 1>& masks) {
  const std::string_view w = word.view();
  for (std::uint64_t m = masks[w.size()]; m != 0; m &= m - 1) {
    const int i = std::countr_zero(m);
    if (names[static_cast<std::size_t>(i)] == w) return i;
  }
  return -1;
}

}  // namespace

const char* to_string(Policy p) {
  switch (p) {
    case Policy::no: return "no";
    case Policy::may: return "may";
    case Policy::must: return "must";
  }
  return "?";
}

const char* to_string(Side s) { return s == Side::server ? "server" : "client"; }

std::optional<Policy> parse_policy(std::string_view text) {
  const Lowered t(text);
  if (t == "no") return Policy::no;
  if (t == "may") return Policy::may;
  if (t == "must") return Policy::must;
  return std::nullopt;
}

bool keyword_takes_value(std::string_view keyword) {
  return find_keyword(Lowered(keyword), value_keywords, value_by_length) >= 0;
}

namespace {

template <class Word>
Expected<ChannelPolicy, PolicyError> resolve(std::span<const Word> tokens) {
  ChannelPolicy result;
  std::optional<std::size_t> server_from, client_from, switch_from;

  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Lowered k(tokens[i]);
    if (const int found = find_keyword(k, tls_names, tls_by_length); found >= 0) {
      const TlsKeyword* tls = &tls_keywords[static_cast<std::size_t>(found)];
      if (tls->server) {
        if (server_from) result.overrides.push_back({*server_from, i, Side::server});
        result.server = tls->policy;
        server_from = i;
      }
      if (tls->client) {
        if (client_from) result.overrides.push_back({*client_from, i, Side::client});
        result.client = tls->policy;
        client_from = i;
      }
      continue;
    }
    if (k == "tlsswitchchannel") {
      if (i + 1 >= tokens.size() || tokens[i + 1].empty()) {
        return unexpected(PolicyError{i, "found tlsswitchchannel without a value, expected a channel name after it"});
      }
      if (switch_from) result.overrides.push_back({*switch_from, i, std::nullopt});
      result.switch_target = std::string(tokens[i + 1]);
      switch_from = i;
      ++i;
      continue;
    }
    if (find_keyword(k, value_keywords, value_by_length) >= 0) ++i;  // its value is not a keyword
  }
  return result;
}

}  // namespace

Expected<ChannelPolicy, PolicyError> resolve_channel_policy(std::span<const std::string> tokens) {
  return resolve(tokens);
}

Expected<ChannelPolicy, PolicyError> resolve_channel_policy(std::span<const std::string_view> tokens) {
  return resolve(tokens);
}

}  // namespace tlschan

#include "tlschan/policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>

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
    std::transform(s.begin(), s.end(), buf_, [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
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
  const Lowered k(keyword);
  return std::find(value_keywords.begin(), value_keywords.end(), k) != value_keywords.end();
}

namespace {

template <class Word>
Expected<ChannelPolicy, PolicyError> resolve(std::span<const Word> tokens) {
  ChannelPolicy result;
  std::optional<std::size_t> server_from, client_from, switch_from;

  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Lowered k(tokens[i]);
    const auto tls = std::find_if(tls_keywords.begin(), tls_keywords.end(),
                                  [&](const TlsKeyword& t) { return t.name == k; });
    if (tls != tls_keywords.end()) {
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
    if (keyword_takes_value(k.view())) ++i;  // its value is not a keyword
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

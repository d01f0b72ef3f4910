// parse_imta_cnf on arbitrary text (semantics.md section 6). Checks, for every input:
// - a refused file comes with errors, each at a line and column of the file;
// - a table that loads prints (print_imta_cnf) to text that loads again to the same table
//   (same_channel_table), with the same resolved TLS policy on every channel, and prints the same
//   again (parse-print-parse round trip);
// - routing: every rule's own domain routes to a channel of the table, the same in both tables;
// - the lint checks (config_warnings, summarize_channels) run on every table that loads, and their
//   warnings are positioned like errors.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config_diagnostics_check.hpp"
#include "fuzz_check.hpp"
#include "tlschan/channel_table.hpp"
#include "tlschan/config.hpp"
#include "tlschan/config_lint.hpp"

namespace {

using tlschan::ChannelTable;

std::string policy_words(const tlschan::ChannelPolicy& p) {
  return std::string(tlschan::to_string(p.server)) + "/" + tlschan::to_string(p.client) + "/" +
         p.switch_target.value_or("-");
}

// A domain a rule's pattern matches, when there is an obvious one.
std::string domain_of(std::string_view pattern) {
  if (pattern == "$*" || pattern == ".") return "example.org";
  std::string d;
  std::size_t at = 0;
  while (at < pattern.size()) {
    const std::size_t dot = pattern.find('.', at);
    const std::string_view label =
        pattern.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at);
    if (!label.empty()) {
      if (!d.empty()) d += '.';
      d += label == "*" ? std::string_view("x") : label;
    }
    if (dot == std::string_view::npos) break;
    at = dot + 1;
  }
  return d.empty() ? "example.org" : d;
}

void check_routes(const ChannelTable& table, const ChannelTable& again) {
  std::size_t n = 0;
  for (const auto& rule : table.rules()) {
    if (++n > 16) break;
    const std::string domain = domain_of(rule.pattern.text);
    const auto a = table.route(domain);
    const auto b = again.route(domain);
    TLSCHAN_FUZZ_CHECK(a.has_value() == b.has_value(), "route " + domain + " differs after printing");
    if (!a) continue;
    TLSCHAN_FUZZ_CHECK(a->channel != nullptr && a->rule != nullptr,
                       "route " + domain + " without a channel or rule");
    TLSCHAN_FUZZ_CHECK(table.find_by_name(a->channel->name.text) == a->channel,
                       "route " + domain + " to a channel not found by name");
    TLSCHAN_FUZZ_CHECK(b->channel != nullptr && a->channel->name.text == b->channel->name.text,
                       "route " + domain + " goes to another channel after printing");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto table = tlschan::parse_imta_cnf(text, "imta.cnf");
  if (!table) {
    tlschan::fuzz::check_diagnostics(table.error(), {{"imta.cnf", text}}, /*refused=*/true);
    return 0;
  }
  const std::string printed = tlschan::print_imta_cnf(*table);
  auto again = tlschan::parse_imta_cnf(printed, "printed.cnf");
  TLSCHAN_FUZZ_CHECK(again.has_value(), "the printed table does not load: " +
                                            (again.has_value() || again.error().empty()
                                                 ? std::string()
                                                 : format_diagnostic(again.error().front())) +
                                            "\n--- printed ---\n" + printed);
  TLSCHAN_FUZZ_CHECK(tlschan::same_channel_table(*table, *again),
                     "the printed table loads as another table\n--- printed ---\n" + printed);
  for (std::size_t i = 0; i < table->channels().size(); ++i) {
    const auto& a = table->channels()[i];
    const auto& b = again->channels()[i];
    TLSCHAN_FUZZ_CHECK(a.policy.server == b.policy.server && a.policy.client == b.policy.client &&
                           a.policy.switch_target == b.policy.switch_target,
                       "channel " + a.name.text + ": policy " + policy_words(a.policy) + " becomes " +
                           policy_words(b.policy));
  }
  const std::string reprinted = tlschan::print_imta_cnf(*again);
  TLSCHAN_FUZZ_CHECK(reprinted == printed,
                     "printing is not stable\n--- first ---\n" + printed + "--- second ---\n" + reprinted);
  check_routes(*table, *again);

  std::vector<tlschan::Diagnostic> warnings = tlschan::config_warnings(*table, nullptr);
  tlschan::fuzz::check_diagnostics(warnings, {{"imta.cnf", text}}, /*refused=*/false);
  const std::size_t channels = table->channels().size();
  const tlschan::Config config{std::move(*table), std::nullopt, std::move(warnings)};
  TLSCHAN_FUZZ_CHECK(tlschan::summarize_channels(config).size() == channels,
                     "the lint summary has another number of channels");
  return 0;
}

// What `tlschan lint` reports beyond errors: warnings about configurations that load but do not do
// what they seem to, and a per-channel summary.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tlschan/channel_table.hpp"
#include "tlschan/config_diagnostics.hpp"
#include "tlschan/dispatcher_config.hpp"
#include "tlschan/policy.hpp"

namespace tlschan {

struct Config;

// Warnings, in file order per check:
// - a TLS keyword overridden by a later one (naming both, semantics.md section 2);
// - a rewrite rule whose pattern an earlier rule already has (it never matches);
// - a service with no PORT and no TLS_PORT;
// - a TLS_PORT whose incoming channel's server policy is no (every connection there is closed);
// - port 25 handed to a channel whose server policy is must (RFC 3207 section 4: a publicly
//   referenced server must not require TLS);
// - on a tlsswitchchannel target that no service hands connections to: a keyword setting its server
//   policy, or its own tlsswitchchannel, which never apply (the switch happens after TLS).
// `dispatcher` may be null (no dispatcher.cnf: no services).
std::vector<Diagnostic> config_warnings(const ChannelTable& table, const DispatcherConfig* dispatcher);

// One row of lint's table.
struct ChannelSummary {
  std::string name;
  Policy server = Policy::no;
  Policy client = Policy::no;
  std::optional<std::string> switch_target;
  std::string tag;
  // What leads to the channel: `SMTP port 25`, `SMTP_SUBMIT tls_port 465`,
  // `tlsswitchchannel from tcp_local`, `rule .example.com`.
  std::vector<std::string> reached_by;
};

std::vector<ChannelSummary> summarize_channels(const Config& config);

}  // namespace tlschan

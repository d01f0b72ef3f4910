// The checks of `probe`, one file each; check_list.cpp puts them in their running order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tlschan/audit/probe.hpp"

namespace tlschan::audit::checks {

// What the first connection learned: the greeting, the EHLO reply and so what the server offers.
struct GreetingFacts {
  bool reachable = false;  // connected and greeted with 220
  std::string unreachable_reason;
  Outcome greeting;        // the greeting-ehlo check
  bool ehlo_ok = false;
  bool starttls_listed = false;
  bool pipelining = false;
};
GreetingFacts probe_greeting(const ProbeOptions& options, Exchange& exchange);
Outcome starttls_advertised(const ProbeOptions& options, Policy expect, const GreetingFacts& facts);

Outcome handshake(CheckContext& ctx);

enum class InjectionMode { same_segment, second_segment, before_clienthello };
struct InjectionPayload {
  std::string name;   // "noop"
  std::string bytes;  // "NOOP\r\n"
};
const std::vector<InjectionPayload>& injection_payloads();
const char* to_string(InjectionMode mode);
Outcome injection(CheckContext& ctx, const InjectionPayload& payload, InjectionMode mode);

Outcome second_starttls(CheckContext& ctx);
Outcome starttls_relisted(CheckContext& ctx);
Outcome mail_without_ehlo_after_tls(CheckContext& ctx);

enum class GatedCommand { mail, rcpt, data, vrfy };
const char* to_string(GatedCommand c);
Outcome must_gate(CheckContext& ctx, GatedCommand command);

Outcome starttls_argument(CheckContext& ctx);
Outcome starttls_on_no_server(CheckContext& ctx);

struct SmugglingSequence {
  std::string name;   // "lf-dot-lf"
  std::string bytes;  // "\n.\n"; empty for the pipelined form
};
const std::vector<SmugglingSequence>& smuggling_sequences();
Outcome smuggling(CheckContext& ctx, const SmugglingSequence& sequence, bool inside_tls);
Outcome smuggling_pipelined(CheckContext& ctx);

enum class LineFault { bare_lf, bare_cr, nul, octets_512, very_long };
const char* to_string(LineFault f);
Outcome line_hygiene(CheckContext& ctx, LineFault fault);
Outcome data_line_over_1000(CheckContext& ctx);
Outcome error_limit(CheckContext& ctx);

// Shared wording.
std::string quoted_bytes(std::string_view bytes);  // "\n.\n" as a person reads it
bool needs_tls(CheckContext& ctx, Outcome& skip_reason);  // false with a SKIP when TLS is not on offer
std::string one_line(std::string_view text);

}  // namespace tlschan::audit::checks

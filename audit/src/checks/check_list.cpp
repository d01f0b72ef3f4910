// The checks in their running order, with their stable ids (documented in docs/probe.md).
#include "checks.hpp"

namespace tlschan::audit {

using namespace checks;

const std::vector<CheckSpec>& all_checks() {
  static const std::vector<CheckSpec> list = [] {
    std::vector<CheckSpec> l;
    // Run by the runner itself on the first connection (they decide whether the rest can run).
    l.push_back({"greeting-ehlo", "greeting", "220 greeting and a 250 answer to EHLO", nullptr});
    l.push_back({"starttls-advertised", "greeting", "STARTTLS listed or not, against --expect", nullptr});
    l.push_back({"handshake", "handshake", "STARTTLS and a real handshake; version, cipher, certificate", handshake});
    for (const auto mode : {InjectionMode::same_segment, InjectionMode::second_segment, InjectionMode::before_clienthello}) {
      for (const auto& p : injection_payloads()) {
        l.push_back({"injection-" + p.name + "-" + to_string(mode), "injection",
                     "a " + p.name + " command injected after STARTTLS (" + to_string(mode) + ") is never answered",
                     [p, mode](CheckContext& ctx) { return injection(ctx, p, mode); }});
      }
    }
    l.push_back({"second-starttls", "state-after-tls", "a STARTTLS inside TLS is refused with 5xx and the session goes on",
                 second_starttls});
    l.push_back({"starttls-relisted", "state-after-tls", "STARTTLS is not listed again after TLS", starttls_relisted});
    l.push_back({"mail-without-ehlo-after-tls", "state-after-tls", "MAIL after TLS without a fresh EHLO (INFO)",
                 mail_without_ehlo_after_tls});
    for (const auto cmd : {GatedCommand::mail, GatedCommand::rcpt, GatedCommand::data, GatedCommand::vrfy}) {
      l.push_back({std::string("must-530-") + to_string(cmd), "must", "before TLS on a must server: 530",
                   [cmd](CheckContext& ctx) { return must_gate(ctx, cmd); }});
    }
    l.push_back({"starttls-argument", "starttls-replies", "STARTTLS with an argument gets 501", starttls_argument});
    l.push_back({"starttls-on-no-server", "starttls-replies", "a no server does not accept STARTTLS", starttls_on_no_server});
    for (const bool tls : {false, true}) {
      for (const auto& s : smuggling_sequences()) {
        l.push_back({"smuggling-" + s.name + (tls ? "-tls" : ""), "smuggling",
                     "the message does not end at " + quoted_bytes(s.bytes) + (tls ? " (inside TLS)" : ""),
                     [s, tls](CheckContext& ctx) { return smuggling(ctx, s, tls); }});
      }
    }
    l.push_back({"smuggling-pipelined", "smuggling", "the same in one pipelined transaction", smuggling_pipelined});
    for (const auto f : {LineFault::bare_lf, LineFault::bare_cr, LineFault::nul, LineFault::octets_512, LineFault::very_long}) {
      l.push_back({std::string("line-") + to_string(f), "line-hygiene", "what the server does with a bad command line",
                   [f](CheckContext& ctx) { return line_hygiene(ctx, f); }});
    }
    l.push_back({"data-line-over-1000", "line-hygiene", "a message line over 1000 octets", data_line_over_1000});
    l.push_back({"error-limit", "error-limit", "whether a burst of bad commands ends the session (INFO)", error_limit});
    return l;
  }();
  return list;
}

}  // namespace tlschan::audit

// The invariants every simulated run keeps (semantics.md section 5), checked in every build: a
// broken one is a violation in the run's result and its transcript, never an assert.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/policy.hpp"
#include "tlschan/sim/simulation.hpp"

namespace tlschan::sim::detail {

class Invariants {
 public:
  void violation(std::string what) { violations_.push_back(std::move(what)); }
  // Bytes a real client sent; a must client never sends MAIL or RCPT outside TLS.
  void client_sent(int connection, Policy client_policy, bool inside_tls, std::string_view bytes);
  // A message the real server accepted; a must server never accepts one without TLS.
  void server_accepted(int connection, Policy server_policy, bool tls);
  // A queued message at the end of the run: nothing lost, no copy outside the RFC 1047 window.
  void message_ended(std::size_t index, const MessageResult& m, bool scripted_server);
  const std::vector<std::string>& violations() const { return violations_; }

 private:
  std::vector<std::string> violations_;
};

// Whether the client's bytes (whole command lines) hold a MAIL FROM or RCPT TO command line; the
// same words inside another line (an EHLO name, say) are no command.
bool contains_mail_command(std::string_view bytes);

}  // namespace tlschan::sim::detail

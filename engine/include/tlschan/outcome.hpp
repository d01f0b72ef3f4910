// The words every layer shares for what happened to a message and for the state of a server's
// TLS, each defined once with its text form (the vocabulary of semantics.md section 5).
#pragma once

#include <optional>
#include <string_view>

namespace tlschan {

// What became of a message (or of one recipient): taken, given back, or still queued.
enum class Disposition { delivered, deferred, bounced };
const char* to_string(Disposition d);  // "delivered", "deferred", "bounced"

// A message's outcome in the matrix: a delivery over TLS or in plaintext, a bounce, a deferral.
enum class Outcome { delivered_tls, delivered_plain, bounced, deferred };
const char* to_string(Outcome o);  // "delivered-tls", "delivered-plain", "bounced", "deferred"
std::optional<Outcome> parse_outcome(std::string_view word);
// The outcome of a message with this disposition, delivered (when it was) over TLS or not.
Outcome outcome_of(Disposition d, bool tls);

// A server's TLS: a working certificate, none (semantics.md 3.3), or one whose handshake fails.
enum class Health { ok, unavailable, broken };
const char* to_string(Health h);  // "ok", "unavailable", "broken"
std::optional<Health> parse_health(std::string_view word);

}  // namespace tlschan

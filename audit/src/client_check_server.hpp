// One connection of client-check: the case's server over a blocking socket (every wait capped),
// the engine's CommandLineParser and DataReader for the client's commands and message, and its
// TlsSession (memory BIOs) for STARTTLS. Every byte goes into the case's Exchange; what the client
// did goes into ConnectionFacts.
#pragma once

#include <chrono>

#include "tlschan/audit/client_check.hpp"
#include "tlschan/tls.hpp"

namespace tlschan::audit {

struct ServeLimits {
  Duration timeout;                                   // every wait for the client
  std::chrono::steady_clock::time_point deadline;     // the whole run's end (--max-seconds)
  std::string hostname;
};

// Serves `fd` (takes ownership, closes it) as `script` says, with `tls` for the handshake.
void serve_case_connection(int fd, const CaseScript& script, const TlsContext& tls, const ServeLimits& limits,
                           Exchange& exchange, ConnectionFacts& facts);

}  // namespace tlschan::audit

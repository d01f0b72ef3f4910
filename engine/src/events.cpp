#include "tlschan/events.hpp"

namespace tlschan {

const char* to_string(CloseReason r) {
  switch (r) {
    case CloseReason::quit: return "quit";
    case CloseReason::error_limit: return "error-limit";
    case CloseReason::idle_timeout: return "idle-timeout";
    case CloseReason::tls_failed: return "tls-failed";
    case CloseReason::tls_port_refused: return "tls-port-refused";
    case CloseReason::peer_closed: return "peer-closed";
    case CloseReason::protocol_error: return "protocol-error";
    case CloseReason::tls_required: return "tls-required";
    case CloseReason::shutdown: return "shutdown";
  }
  return "?";
}

}  // namespace tlschan

#include "invariants.hpp"
#include "text.hpp"

#include <algorithm>
#include <cctype>

namespace tlschan::sim::detail {

namespace {

// Whether `bytes` starts with `upper` (upper case) in any case, without a copy.
bool starts_upper(std::string_view bytes, std::string_view upper) {
  if (bytes.size() < upper.size()) return false;
  for (std::size_t i = 0; i < upper.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(bytes[i])) != upper[i]) return false;
  }
  return true;
}

}  // namespace

bool contains_mail_command(std::string_view bytes) {
  // The client's output is whole lines, so a command starts the batch or follows an LF.
  for (std::size_t at = 0; at < bytes.size();) {
    const std::string_view line = bytes.substr(at);
    if (starts_upper(line, "MAIL FROM") || starts_upper(line, "RCPT TO")) return true;
    const std::size_t lf = line.find('\n');
    if (lf == std::string_view::npos) break;
    at += lf + 1;
  }
  return false;
}

void Invariants::client_sent(int connection, Policy client_policy, bool inside_tls, std::string_view bytes) {
  if (client_policy == Policy::must && !inside_tls && contains_mail_command(bytes)) {
    violation(cat("c", std::to_string(connection), ": a must client sent MAIL or RCPT in plaintext"));
  }
}

void Invariants::server_accepted(int connection, Policy server_policy, bool tls) {
  if (server_policy == Policy::must && !tls) {
    violation(cat("c", std::to_string(connection), ": a must server accepted a message without TLS"));
  }
}

void Invariants::message_ended(std::size_t index, const MessageResult& m, bool scripted_server) {
  const std::string id = "message " + std::to_string(index + 1);
  const bool delivered_any = std::any_of(m.recipients.begin(), m.recipients.end(),
                                         [](const RecipientOutcome& o) { return o.disposition == Disposition::delivered; });
  if (scripted_server) return;  // no real server counts the copies
  if (delivered_any && m.deliveries == 0) violation(id + ": reported delivered but the server never accepted it (lost)");
  if (m.deliveries > 1 && !m.rfc1047_window) {
    violation(id + ": delivered " + std::to_string(m.deliveries) + " times outside the RFC 1047 window");
  }
  if (!delivered_any && m.deliveries > 0 && !m.rfc1047_window) {
    violation(id + ": the server accepted it but the client did not see it delivered, outside the RFC 1047 window");
  }
}

}  // namespace tlschan::sim::detail

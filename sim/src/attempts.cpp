#include "attempts.hpp"

#include <algorithm>

namespace tlschan::sim {

std::string message_tag(std::size_t index) { return "X-Tlschan-Message: " + std::to_string(index) + "\r\n"; }

}  // namespace tlschan::sim

namespace tlschan::sim::detail {

std::optional<std::size_t> read_message_tag(std::string_view data) {
  constexpr std::string_view key = "X-Tlschan-Message: ";
  const auto at = data.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t v = 0, i = at + key.size();
  bool any = false;
  while (i < data.size() && data[i] >= '0' && data[i] <= '9') {
    v = v * 10 + static_cast<std::size_t>(data[i++] - '0');
    any = true;
  }
  return any ? std::optional<std::size_t>(v) : std::nullopt;
}

Expected<ClientSession, UsageError> start_attempt_session(const ClientSpec& client, const TlsContext& tls,
                                                          const MessageSpec& message, Time now) {
  ClientConfig cc;
  cc.helo_name = client.name;
  cc.policy = client.policy;
  cc.tls = tls;
  cc.mode = client.implicit_tls ? ClientMode::implicit_tls : ClientMode::starttls;
  return ClientSession::create(cc, OutgoingMessage{{message.from, message.to}, message.body}, now);
}

std::optional<Duration> end_attempt(MessageState& m, std::size_t index, const RetrySpec& retry, Time now,
                                    TranscriptWriter& transcript) {
  const ClientSession& client = *m.client;
  const std::string msg = "msg" + std::to_string(index + 1);
  m.finished_at = now;
  m.result.recipients = client.outcomes();
  m.result.disposition = client.message_disposition();
  m.result.tls = m.result.disposition == Disposition::delivered;
  for (const auto& o : m.result.recipients) {
    if (o.disposition == Disposition::delivered && !o.tls) m.result.tls = false;
  }
  transcript.line(msg + " attempt " + std::to_string(m.result.attempts) + " " + to_string(m.result.disposition) +
                  (m.result.recipients.empty() ? "" : ": " + m.result.recipients.front().reason));
  if (m.result.disposition != Disposition::deferred || retry.backoff.empty()) {
    m.finished = true;  // without a retry schedule a deferred message stays queued, deferred
    return std::nullopt;
  }
  // The backoff schedule, its last delay repeating, until the queue lifetime runs out.
  const std::size_t k = std::min(static_cast<std::size_t>(m.result.attempts) - 1, retry.backoff.size() - 1);
  const Duration delay = retry.backoff[k];
  if (now + delay - m.queued < retry.lifetime) return delay;
  for (auto& o : m.result.recipients) {
    if (o.disposition == Disposition::deferred) {
      o.disposition = Disposition::bounced;
      o.reason = "queue lifetime expired: " + o.reason;
    }
  }
  m.result.disposition = Disposition::bounced;
  transcript.line(msg + " bounced: queue lifetime expired");
  m.finished = true;
  return std::nullopt;
}

}  // namespace tlschan::sim::detail

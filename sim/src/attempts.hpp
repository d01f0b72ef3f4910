// The client host's queue: each message's delivery attempts, and the retry schedule that follows a
// deferred one (the scenario's backoff delays, the last repeating) until the queue lifetime ends it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "tlschan/client_session.hpp"
#include "tlschan/sim/scenario.hpp"
#include "tlschan/sim/simulation.hpp"
#include "transcript_writer.hpp"

namespace tlschan::sim::detail {

struct MessageState {
  MessageSpec spec;                    // its body starts with the message tag
  std::optional<ClientSession> client;  // the attempt under way
  MessageResult result;
  Time queued{};  // when its first attempt started
  Time finished_at{};
  bool finished = false;
};

// Reads back the index of sim::message_tag (scenario.hpp) from a message's data.
std::optional<std::size_t> read_message_tag(std::string_view data);

// The client session of one attempt (a usage error when the message cannot be sent as given).
Expected<ClientSession, UsageError> start_attempt_session(const ClientSpec& client, const TlsContext& tls,
                                                                const MessageSpec& message, Time now);

// Records the outcome of the attempt that just ended. Returns the delay before the next attempt,
// or nothing when the message has its outcome: delivered, bounced, deferred with no retry
// schedule, or bounced when the next attempt would come after the queue lifetime.
std::optional<Duration> end_attempt(MessageState& m, std::size_t index, const RetrySpec& retry, Time now,
                                    TranscriptWriter& transcript);

}  // namespace tlschan::sim::detail

// The durable spool of `tlschan serve`: one accepted message is `<id>.eml` (the data exactly as
// received, dot-unstuffed) and `<id>.json` beside it (mail_from, rcpt_to, channel, tls, tls_version,
// cipher, received_at). Both are written under temporary names, synced, renamed, and the folder is
// synced, before store() returns: only then may the server reply 250.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "tlschan/expected.hpp"
#include "tlschan/server_session.hpp"

namespace tlschan::net {

struct SpoolError {
  std::string message;  // names the file and the system's reason
};

class Spool {
 public:
  // Creates the folder if needed and checks that it is a folder.
  static Expected<Spool, SpoolError> open(const std::filesystem::path& dir);

  Spool(Spool&& other) noexcept : dir_(std::move(other.dir_)), next_(other.next_.load()) {}

  // Writes and syncs one message; returns its id. Safe to call from several threads at once. On
  // failure nothing of the message is left under its final names.
  Expected<std::string, SpoolError> store(const MessageAccepted& message,
                                          std::chrono::system_clock::time_point received_at);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  explicit Spool(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::string next_id(std::chrono::system_clock::time_point received_at);

  std::filesystem::path dir_;
  std::atomic<std::uint64_t> next_{1};
};

// The `<id>.json` text of a message.
std::string spool_json(const MessageAccepted& message, std::chrono::system_clock::time_point received_at);

// RFC 3339 in UTC with milliseconds: 2024-05-01T12:00:00.123Z.
std::string format_utc(std::chrono::system_clock::time_point t);

}  // namespace tlschan::net

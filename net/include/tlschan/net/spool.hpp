// The durable spool of `tlschan serve`: one accepted message is `<id>.eml` (the data exactly as
// received, dot-unstuffed) and `<id>.json` beside it (mail_from, rcpt_to, channel, tls, tls_version,
// cipher, received_at). Both are written under temporary names, synced, renamed, and the folder is
// synced, before store() returns: only then may the server reply 250. store_batch() does the same for
// several messages at once and shares the syncs among them (a group commit): the batch's files are
// synced together (several syncs in flight at once), then renamed, then the folder is synced once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/expected.hpp"
#include "tlschan/server_session.hpp"

namespace tlschan::net {

struct SpoolError {
  std::string message;  // names the file and the system's reason
};

// What syncs a file or the folder: fsync(2) unless a test replaces it (to make a sync fail). Gets the
// open descriptor and its path; returns 0 or an errno value.
using SyncFunction = std::function<int(int fd, const std::filesystem::path& path)>;

// One message of a batch, and the time it was received.
struct SpoolEntry {
  const MessageAccepted* message = nullptr;
  std::chrono::system_clock::time_point received_at;
};

class Spool {
 public:
  // Creates the folder if needed and checks that it is a folder.
  static Expected<Spool, SpoolError> open(const std::filesystem::path& dir, SyncFunction sync = {});

  Spool(Spool&& other) noexcept;
  ~Spool();

  // Writes and syncs one message; returns its id. Safe to call from several threads at once. On
  // failure nothing of the message is left under its final names.
  Expected<std::string, SpoolError> store(const MessageAccepted& message,
                                          std::chrono::system_clock::time_point received_at);

  // The most messages store_batch() takes at once: it holds two descriptors per message.
  static constexpr std::size_t max_batch = 32;

  // Stores up to max_batch messages with shared syncs; one result per entry, in order. A message
  // gets its id only once its two files, their renames and the folder are synced. A message whose
  // own file cannot be written or synced gets its error alone; when the folder cannot be synced,
  // every message of the batch gets the error. A message that gets an error leaves nothing under
  // its final names. Safe to call from several threads at once.
  std::vector<Expected<std::string, SpoolError>> store_batch(const std::vector<SpoolEntry>& batch);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  // The threads that sync a batch's files beside the thread that stores it; they live as long as
  // the spool (none where they could not be started: then one thread syncs every file).
  struct SyncHelpers;

  Spool(std::filesystem::path dir, SyncFunction sync);
  std::string next_id(std::chrono::system_clock::time_point received_at);
  int sync(int fd, const std::filesystem::path& path) const;

  std::filesystem::path dir_;
  SyncFunction sync_;
  std::atomic<std::uint64_t> next_{1};
  std::unique_ptr<SyncHelpers> helpers_;
};

// The `<id>.json` text of a message.
std::string spool_json(const MessageAccepted& message, std::chrono::system_clock::time_point received_at);

// RFC 3339 in UTC with milliseconds: 2024-05-01T12:00:00.123Z.
std::string format_utc(std::chrono::system_clock::time_point t);

}  // namespace tlschan::net

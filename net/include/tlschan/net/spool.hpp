// The durable spool of `tlschan serve`: one accepted message is `<id>.eml` (the data exactly as
// received, dot-unstuffed) and `<id>.json` beside it (mail_from, rcpt_to, channel, tls, tls_version,
// cipher, received_at). Both are written under temporary names, synced, renamed, and the folder is
// synced, before store() returns: only then may the server reply 250. store_batch() does the same for
// several messages at once and shares the syncs among them (a group commit): the batch's files are
// synced together, then renamed, then the folder is synced once. How the files are synced is the
// spool's SpoolSync: by one syncfs(2) of the file system for the whole batch (the default), or by an
// fsync(2) of each file, several in flight at once.
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

// How store_batch() makes a batch's files durable before it renames them.
enum class SpoolSync {
  // One syncfs(2) of the spool's file system for the whole batch: every dirty file of that file
  // system is written once and the device's cache flushed once, whatever the batch's size. It also
  // writes what other programs left unwritten on that file system, so a batch waits for that too.
  // A failure fails every message of the batch (syncfs cannot say whose file it was). Linux only:
  // syncfs reports the file system's write-back errors since 5.8, and the errors of its own
  // commit and flush since 5.17; on an older kernel Spool::open syncs each file instead.
  file_system,
  // An fsync(2) of each file, up to eight at once: only the batch's own files are written, each
  // with its own flush of the device's cache; a failure fails that file's message alone.
  each_file,
};

// What a SyncFunction is asked to sync: one file of a batch (SpoolSync::each_file), the spool's
// file system (SpoolSync::file_system; the descriptor is the folder's), or the folder.
enum class SyncTarget { file, file_system, folder };

// What syncs: fsync(2) of a file or the folder and syncfs(2) of the file system, unless a test
// replaces it (to see the order of the syncs, or to make one fail). Gets the open descriptor, its
// path (the folder's for the file system) and the target; returns 0 or an errno value.
using SyncFunction = std::function<int(int fd, const std::filesystem::path& path, SyncTarget target)>;

// One message of a batch, and the time it was received.
struct SpoolEntry {
  const MessageAccepted* message = nullptr;
  std::chrono::system_clock::time_point received_at;
};

class Spool {
 public:
  // Creates the folder if needed and checks that it is a folder. SpoolSync::file_system becomes
  // each_file on a kernel whose syncfs does not report every error (before Linux 5.17), unless a
  // test gives its own sync function; mode() says which one the spool uses.
  // Whether a stacked file system (overlayfs) passes the errors of the one under it to syncfs is not
  // known here: give each_file there.
  static Expected<Spool, SpoolError> open(const std::filesystem::path& dir, SyncFunction sync = {},
                                          SpoolSync mode = SpoolSync::file_system);

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
  // own file cannot be written (or, with SpoolSync::each_file, synced) gets its error alone; when
  // the file system or the folder cannot be synced, every message of the batch gets the error. A message that gets an error leaves nothing under
  // its final names. Safe to call from several threads at once.
  std::vector<Expected<std::string, SpoolError>> store_batch(const std::vector<SpoolEntry>& batch);

  const std::filesystem::path& dir() const { return dir_; }
  SpoolSync mode() const { return mode_; }
  // Whether this kernel's syncfs reports every error of a sync (Linux 5.17 and later).
  static bool file_system_sync_reports_errors();

  // How many batches a server should have stored at once, by the spool's SpoolSync: one with
  // file_system (a batch waits for the last, then takes every message that came meanwhile; a second
  // batch's syncfs at the same time writes the first's files again and flushes again: under
  // smtp-source at 20 sessions, 0.8-0.9 of the messages per second of one), two with each_file
  // (one batch writes its files while the other waits on its fsyncs). At most max_batches_in_flight.
  std::size_t batches_in_flight() const { return mode_ == SpoolSync::file_system ? 1 : 2; }
  static constexpr std::size_t max_batches_in_flight = 2;

 private:
  // The threads that sync a batch's files beside the thread that stores it, with
  // SpoolSync::each_file; they live as long as the spool (none where they could not be started:
  // then one thread syncs every file).
  struct SyncHelpers;

  Spool(std::filesystem::path dir, SyncFunction sync, SpoolSync mode);
  std::string next_id(std::chrono::system_clock::time_point received_at);
  int sync(int fd, const std::filesystem::path& path, SyncTarget target) const;

  std::filesystem::path dir_;
  SyncFunction sync_;
  SpoolSync mode_;
  std::atomic<std::uint64_t> next_{1};
  std::unique_ptr<SyncHelpers> helpers_;
};

// The `<id>.json` text of a message.
std::string spool_json(const MessageAccepted& message, std::chrono::system_clock::time_point received_at);

// RFC 3339 in UTC with milliseconds: 2024-05-01T12:00:00.123Z.
std::string format_utc(std::chrono::system_clock::time_point t);

}  // namespace tlschan::net

// The spool's group commit: Spool::store_batch on its own, and `tlschan serve`'s Server with a real
// spool under many concurrent sessions. Each client checks, at the moment its 250 arrives, that its
// message's files are in the spool, complete, and were synced before the folder sync that followed
// their renames. Syncs go through a recording function, which also makes chosen syncs fail. Both ways
// of syncing a batch's files are tested: one sync of the file system (SpoolSync::file_system, the
// default), and an fsync of each file (SpoolSync::each_file).
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tlschan/net/server.hpp"
#include "tlschan/net/spool.hpp"

namespace tlschan::net {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A new empty folder, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "tlschan-spool-test-XXXXXX").string();
    EXPECT_NE(::mkdtemp(t.data()), nullptr);
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Every sync in order, and which ones fail. A file's sync is logged as its name, the folder's as "".
// A sync of the file system is logged as "<file system>" followed by the name of every file in the
// folder at that moment: those are the files it made durable.
struct SyncLog {
  std::mutex mutex;
  std::vector<std::string> synced;
  std::function<bool(const fs::path&, SyncTarget)> fails = [](const fs::path&, SyncTarget) { return false; };
  std::chrono::milliseconds folder_delay{0};

  SyncFunction function(const fs::path& folder) {
    return [this, folder](int fd, const fs::path& path, SyncTarget target) -> int {
      if (target == SyncTarget::folder && folder_delay.count() > 0) std::this_thread::sleep_for(folder_delay);
      if (fails(path, target)) return EIO;
      if ((target == SyncTarget::file_system ? ::syncfs(fd) : ::fsync(fd)) != 0) return errno;
      std::lock_guard lock(mutex);
      switch (target) {
        case SyncTarget::file:
          synced.push_back(path.filename().string());
          break;
        case SyncTarget::folder:
          synced.push_back(std::string());
          break;
        case SyncTarget::file_system:
          synced.push_back("<file system>");
          for (auto& name : names_in(folder)) synced.push_back(std::move(name));
          break;
      }
      return 0;
    };
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return synced;
  }
};

MessageAccepted message(int i) {
  MessageAccepted m;
  m.envelope.mail_from = "sender-" + std::to_string(i) + "@client.tlschan.test";
  m.envelope.rcpt_to = {"bob@mx.tlschan.test"};
  m.channel = "tcp_local";
  m.data = "Subject: " + std::to_string(i) + "\r\n\r\nbody " + std::to_string(i) + "\r\n";
  return m;
}

std::vector<MessageAccepted> messages(int n) {
  std::vector<MessageAccepted> all;
  for (int i = 0; i < n; ++i) all.push_back(message(i));
  return all;
}

std::vector<SpoolEntry> batch_of(const std::vector<MessageAccepted>& messages) {
  std::vector<SpoolEntry> batch;
  for (const auto& m : messages) batch.push_back({&m, std::chrono::system_clock::now()});
  return batch;
}

// Without a sync function of its own, the spool syncs by file system where the kernel's syncfs reports
// every error, and file by file where it does not; with the real syscalls, every message is stored.
// Every result is an error that says `why`.
void expect_every_message_failed(const std::vector<Expected<std::string, SpoolError>>& results,
                                 std::string_view why) {
  for (const auto& r : results) {
    EXPECT_FALSE(r.has_value());
    if (r) continue;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  }
}

TEST(SpoolBatch, TheDefaultSyncsByFileSystemWhereTheKernelReportsEveryError) {
  TempDir dir;
  auto spool = Spool::open(dir.path);
  ASSERT_TRUE(spool.has_value());
  EXPECT_EQ(spool->mode(),
            Spool::file_system_sync_reports_errors() ? SpoolSync::file_system : SpoolSync::each_file);
  SyncLog log;
  EXPECT_EQ(Spool::open(dir.path, log.function(dir.path))->mode(), SpoolSync::file_system);
  EXPECT_EQ(Spool::open(dir.path, {}, SpoolSync::each_file)->mode(), SpoolSync::each_file);
  // With the real syncfs and fsync: every message stored.
  const auto all = messages(3);
  const auto results = spool->store_batch(batch_of(all));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(results[i].has_value()) << results[i].error().message;
    EXPECT_EQ(read_file(dir.path / (*results[i] + ".eml")), all[i].data);
  }
  EXPECT_EQ(names_in(dir.path).size(), 6u);
}

// The file system synced once, when every file of the batch is written under its temporary name and
// none is renamed; then the renames; then the folder once.
TEST(SpoolBatch, OneFileSystemSyncBeforeTheRenamesThenOneFolderSync) {
  TempDir dir;
  SyncLog log;
  std::vector<std::string> at_folder_sync;
  const fs::path folder = dir.path;
  log.fails = [&](const fs::path&, SyncTarget target) {
    if (target == SyncTarget::folder) at_folder_sync = names_in(folder);
    return false;
  };
  auto spool = Spool::open(dir.path, log.function(dir.path), SpoolSync::file_system);
  ASSERT_TRUE(spool.has_value());
  const auto all = messages(5);
  const auto results = spool->store_batch(batch_of(all));
  const auto synced = log.snapshot();
  ASSERT_EQ(synced.size(), 1u + 10u + 1u);  // the file system (the 10 files it saw), the folder
  EXPECT_EQ(synced.front(), "<file system>");
  EXPECT_EQ(synced.back(), "");
  std::vector<std::string> expected_tmp, expected_final;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(results[i].has_value()) << results[i].error().message;
    const std::string& id = *results[i];
    for (const char* ext : {".eml", ".json"}) {
      expected_tmp.push_back("." + id + ext + ".tmp");
      expected_final.push_back(id + ext);
    }
    EXPECT_EQ(read_file(dir.path / (id + ".eml")), all[i].data);
  }
  std::sort(expected_tmp.begin(), expected_tmp.end());
  std::sort(expected_final.begin(), expected_final.end());
  EXPECT_EQ(std::vector<std::string>(synced.begin() + 1, synced.end() - 1), expected_tmp);
  EXPECT_EQ(at_folder_sync, expected_final);
  EXPECT_EQ(names_in(dir.path), expected_final);
}

TEST(SpoolBatch, AFileSystemSyncFailureFailsEveryMessageOfTheBatchAndLeavesNothing) {
  TempDir dir;
  SyncLog log;
  log.fails = [](const fs::path&, SyncTarget target) { return target == SyncTarget::file_system; };
  auto spool = Spool::open(dir.path, log.function(dir.path));
  ASSERT_TRUE(spool.has_value());
  const auto all = messages(4);
  const auto results = spool->store_batch(batch_of(all));
  ASSERT_EQ(results.size(), 4u);
  expect_every_message_failed(results, "cannot sync the file system of");
  EXPECT_TRUE(log.snapshot().empty());  // no folder sync either: nothing was renamed
  EXPECT_TRUE(names_in(dir.path).empty());
}

TEST(SpoolBatch, EveryMessageStoredWithOneFolderSyncAfterEveryFileSync) {
  TempDir dir;
  SyncLog log;
  auto spool = Spool::open(dir.path, log.function(dir.path), SpoolSync::each_file);
  ASSERT_TRUE(spool.has_value());
  const auto all = messages(5);
  const auto results = spool->store_batch(batch_of(all));
  ASSERT_EQ(results.size(), 5u);
  const auto synced = log.snapshot();
  ASSERT_EQ(synced.size(), 11u);  // two files per message, then the folder once
  EXPECT_EQ(synced.back(), "");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(results[i].has_value()) << results[i].error().message;
    const std::string& id = *results[i];
    EXPECT_EQ(read_file(dir.path / (id + ".eml")), all[i].data);
    const auto meta = nlohmann::json::parse(read_file(dir.path / (id + ".json")));
    EXPECT_EQ(meta["mail_from"], all[i].envelope.mail_from);
    EXPECT_NE(std::find(synced.begin(), synced.end() - 1, "." + id + ".eml.tmp"), synced.end() - 1);
    EXPECT_NE(std::find(synced.begin(), synced.end() - 1, "." + id + ".json.tmp"), synced.end() - 1);
  }
  EXPECT_EQ(names_in(dir.path).size(), 10u);  // no temporary file left
}

// The threads that sync a batch's files beside the caller are the spool's own, started once: over
// many batches from two threads at once, the files are synced by at most the two callers and the
// spool's seven helpers (threads started per batch would be new threads, with new thread ids, every
// time), and every file exactly once. (The order of a batch's syncs, its folder after its files, is
// EveryMessageStoredWithOneFolderSyncAfterEveryFileSync's.)
TEST(SpoolBatch, BatchesFromTwoThreadsShareTheSpoolsOwnSyncThreads) {
  TempDir dir;
  std::mutex mutex;
  std::set<pid_t> syncing_threads;
  std::map<std::string, int> file_syncs;
  auto spool = Spool::open(
      dir.path,
      [&](int fd, const fs::path& path, SyncTarget target) -> int {
        // Long enough that every thread of a batch takes a file.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (::fsync(fd) != 0) return errno;
        std::lock_guard lock(mutex);
        syncing_threads.insert(::gettid());
        if (target == SyncTarget::file) ++file_syncs[path.filename().string()];
        return 0;
      },
      SpoolSync::each_file);
  ASSERT_TRUE(spool.has_value());
  constexpr int batches = 6, per_batch = 8;
  std::vector<MessageAccepted> messages;
  for (int i = 0; i < 2 * batches * per_batch; ++i) messages.push_back(message(i));
  std::atomic<int> stored{0};
  const auto store = [&](int first) {
    for (int b = 0; b < batches; ++b) {
      std::vector<SpoolEntry> batch;
      for (int i = 0; i < per_batch; ++i)
        batch.push_back({&messages[first + b * per_batch + i], std::chrono::system_clock::now()});
      for (const auto& r : spool->store_batch(batch)) {
        EXPECT_TRUE(r.has_value()) << r.error().message;
        if (r) ++stored;
      }
    }
  };
  std::thread other(store, batches * per_batch);
  store(0);
  other.join();
  EXPECT_EQ(stored.load(), 2 * batches * per_batch);
  EXPECT_EQ(file_syncs.size(), 2u * 2 * batches * per_batch);
  for (const auto& [name, count] : file_syncs) EXPECT_EQ(count, 1) << name;
  EXPECT_LE(syncing_threads.size(), 2u + 7u);
  EXPECT_EQ(names_in(dir.path).size(), 2u * 2 * batches * per_batch);
}

TEST(SpoolBatch, AFileSyncFailureFailsThatMessageAloneAndLeavesNothingOfIt) {
  TempDir dir;
  SyncLog log;
  log.fails = [](const fs::path& p, SyncTarget) {
    return p.filename().string().ends_with(".eml.tmp") && read_file(p).find("body 2") != std::string::npos;
  };
  auto spool = Spool::open(dir.path, log.function(dir.path), SpoolSync::each_file);
  ASSERT_TRUE(spool.has_value());
  const auto all = messages(4);
  const auto results = spool->store_batch(batch_of(all));
  ASSERT_EQ(results.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(results[i].has_value(), i != 2) << i;
  ASSERT_FALSE(results[2].has_value());
  EXPECT_NE(results[2].error().message.find("cannot sync"), std::string::npos) << results[2].error().message;
  const auto names = names_in(dir.path);
  EXPECT_EQ(names.size(), 6u);
  for (const auto& n : names) EXPECT_EQ(read_file(dir.path / n).find("body 2"), std::string::npos) << n;
}

class SpoolModes : public testing::TestWithParam<SpoolSync> {};

INSTANTIATE_TEST_SUITE_P(BothWays, SpoolModes, testing::Values(SpoolSync::file_system, SpoolSync::each_file),
                         [](const testing::TestParamInfo<SpoolSync>& info) {
                           return info.param == SpoolSync::file_system ? std::string("FileSystem")
                                                                       : std::string("EachFile");
                         });

// The folder gone when a batch comes: every message gets that error, and nothing is made.
TEST_P(SpoolModes, AFolderThatCannotBeOpenedFailsEveryMessageWithThatError) {
  TempDir dir;
  SyncLog log;
  auto spool = Spool::open(dir.path / "spool", log.function(dir.path / "spool"), GetParam());
  ASSERT_TRUE(spool.has_value());
  fs::remove(dir.path / "spool");
  const auto all = messages(3);
  const auto results = spool->store_batch(batch_of(all));
  ASSERT_EQ(results.size(), 3u);
  expect_every_message_failed(results, "cannot open the folder");
  EXPECT_TRUE(log.snapshot().empty());
  EXPECT_FALSE(fs::exists(dir.path / "spool"));
}

TEST_P(SpoolModes, AFolderSyncFailureFailsEveryMessageOfTheBatch) {
  TempDir dir;
  SyncLog log;
  log.fails = [](const fs::path&, SyncTarget target) { return target == SyncTarget::folder; };
  auto spool = Spool::open(dir.path, log.function(dir.path), GetParam());
  ASSERT_TRUE(spool.has_value());
  const auto all = messages(3);
  const auto results = spool->store_batch(batch_of(all));
  expect_every_message_failed(results, "cannot sync the folder");
  EXPECT_TRUE(names_in(dir.path).empty());
  // store() is a batch of one, with the same rule.
  EXPECT_FALSE(spool->store(all[0], std::chrono::system_clock::now()).has_value());
  EXPECT_TRUE(names_in(dir.path).empty());
}

// serve's Server on a real spool, its io_context on its own thread, and `clients` blocking SMTP
// clients at once, one message each. Each returns the reply to its end of data and whether, when
// that reply came, its message was in the spool, complete and synced as the contract says.
struct Outcome {
  std::string reply;
  bool in_spool = false;
  bool complete = false;
  bool synced_before_folder = false;
};

std::vector<Outcome> run_clients(const fs::path& dir, SyncLog& log, int clients, SpoolSync mode) {
  auto spool = Spool::open(dir, log.function(dir), mode);
  EXPECT_TRUE(spool.has_value());
  boost::asio::io_context io(1);
  std::ostream no_log(nullptr);
  std::optional<Server> server;
  server.emplace(io, *spool, ServerOptions{}, no_log);
  Listener listener;
  listener.endpoint = boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0);
  listener.session.hostname = "mx.tlschan.test";
  listener.session.channel = "tcp_local";
  listener.session.policy = Policy::no;
  listener.session.acknowledge_messages = true;
  listener.service = "test";
  const auto bound = server->add_listener(std::move(listener));
  EXPECT_TRUE(bound.has_value());
  server->start();
  std::thread io_thread([&] { io.run(); });

  std::vector<Outcome> outcomes(clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      Outcome& out = outcomes[i];
      boost::asio::io_context cio;
      boost::asio::ip::tcp::socket s(cio);
      boost::system::error_code ec;
      s.connect(*bound, ec);
      if (ec) return;
      boost::asio::streambuf buf;
      // One whole reply (its last line has a space after the code).
      const auto reply = [&]() -> std::string {
        std::string all;
        for (;;) {
          boost::asio::read_until(s, buf, "\r\n", ec);
          if (ec) return all;
          std::istream in(&buf);
          std::string line;
          std::getline(in, line);
          all += line + "\n";
          if (line.size() < 4 || line[3] != '-') return all;
        }
      };
      const auto say = [&](const std::string& text) {
        boost::asio::write(s, boost::asio::buffer(text), ec);
        return reply();
      };
      const MessageAccepted m = message(i);
      reply();
      say("EHLO client.tlschan.test\r\n");
      say("MAIL FROM:<" + m.envelope.mail_from + ">\r\n");
      say("RCPT TO:<bob@mx.tlschan.test>\r\n");
      say("DATA\r\n");
      out.reply = say(m.data + ".\r\n");
      // Now, before anything else: is the message where the 250 says it is?
      const auto synced = log.snapshot();
      for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (!name.ends_with(".json") || name.starts_with(".")) continue;
        const auto meta = nlohmann::json::parse(read_file(e.path()), nullptr, false);
        if (meta.is_discarded() || meta["mail_from"] != m.envelope.mail_from) continue;
        out.in_spool = true;
        const std::string id = name.substr(0, name.size() - 5);
        out.complete = read_file(dir / (id + ".eml")) == m.data;
        const auto at = [&](const std::string& n) { return std::find(synced.begin(), synced.end(), n); };
        const auto eml = at("." + id + ".eml.tmp");
        const auto json = at("." + id + ".json.tmp");
        out.synced_before_folder = eml != synced.end() && json != synced.end() &&
                                   std::find(std::max(eml, json), synced.end(), "") != synced.end();
      }
      say("QUIT\r\n");
    });
  }
  for (auto& t : threads) t.join();
  server->shutdown();
  io_thread.join();
  server.reset();
  return outcomes;
}

TEST_P(SpoolModes, ConcurrentSessionsGetTheir250OnlyOnceTheirMessageIsSynced) {
  TempDir dir;
  SyncLog log;
  log.folder_delay = std::chrono::milliseconds(20);  // messages pile up behind a sync: batches
  constexpr int clients = 40;
  const auto outcomes = run_clients(dir.path, log, clients, GetParam());
  for (int i = 0; i < clients; ++i) {
    EXPECT_TRUE(outcomes[i].reply.starts_with("250 ")) << i << ": " << outcomes[i].reply;
    EXPECT_TRUE(outcomes[i].in_spool) << i;
    EXPECT_TRUE(outcomes[i].complete) << i;
    EXPECT_TRUE(outcomes[i].synced_before_folder) << i;
  }
  const auto synced = log.snapshot();
  const auto folder_syncs = std::count(synced.begin(), synced.end(), "");
  if (GetParam() == SpoolSync::each_file) {
    EXPECT_EQ(synced.size() - static_cast<std::size_t>(folder_syncs), 2u * clients);
  } else {
    const auto file_system_syncs = std::count(synced.begin(), synced.end(), "<file system>");
    EXPECT_EQ(file_system_syncs, folder_syncs);
  }
  EXPECT_LT(folder_syncs, clients) << "no batch held more than one message";
}

// A file's own sync failing (SpoolSync::each_file): its message alone is refused.
TEST(SpoolServer, AFileSyncFailureGives451AndNoSpoolEntryWhileTheBatchGoesOn) {
  TempDir dir;
  SyncLog log;
  log.folder_delay = std::chrono::milliseconds(20);
  log.fails = [](const fs::path& p, SyncTarget) {
    return p.filename().string().ends_with(".json.tmp") &&
           read_file(p).find("\"sender-7@client.tlschan.test\"") != std::string::npos;
  };
  constexpr int clients = 20;
  const auto outcomes = run_clients(dir.path, log, clients, SpoolSync::each_file);
  for (int i = 0; i < clients; ++i) {
    if (i == 7) {
      EXPECT_TRUE(outcomes[i].reply.starts_with("451 ")) << outcomes[i].reply;
      EXPECT_FALSE(outcomes[i].in_spool);
    } else {
      EXPECT_TRUE(outcomes[i].reply.starts_with("250 ")) << i << ": " << outcomes[i].reply;
      EXPECT_TRUE(outcomes[i].in_spool && outcomes[i].complete && outcomes[i].synced_before_folder) << i;
    }
  }
  EXPECT_EQ(names_in(dir.path).size(), 2u * (clients - 1));
}

// The file system's sync failing (SpoolSync::file_system): every message of the batch is refused,
// and nothing of them stays.
TEST(SpoolServer, AFileSystemSyncFailureGives451ToEverySessionOfTheBatch) {
  TempDir dir;
  SyncLog log;
  log.fails = [](const fs::path&, SyncTarget target) { return target == SyncTarget::file_system; };
  constexpr int clients = 10;
  const auto outcomes = run_clients(dir.path, log, clients, SpoolSync::file_system);
  for (int i = 0; i < clients; ++i) {
    EXPECT_TRUE(outcomes[i].reply.starts_with("451 ")) << i << ": " << outcomes[i].reply;
    EXPECT_FALSE(outcomes[i].in_spool) << i;
  }
  EXPECT_TRUE(names_in(dir.path).empty());
}

TEST_P(SpoolModes, AFolderSyncFailureGives451ToEverySessionOfTheBatch) {
  TempDir dir;
  SyncLog log;
  log.fails = [](const fs::path&, SyncTarget target) { return target == SyncTarget::folder; };
  constexpr int clients = 10;
  const auto outcomes = run_clients(dir.path, log, clients, GetParam());
  for (int i = 0; i < clients; ++i) {
    EXPECT_TRUE(outcomes[i].reply.starts_with("451 ")) << i << ": " << outcomes[i].reply;
    EXPECT_FALSE(outcomes[i].in_spool) << i;
  }
  EXPECT_TRUE(names_in(dir.path).empty());
}

}  // namespace
}  // namespace tlschan::net

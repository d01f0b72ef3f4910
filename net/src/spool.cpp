#include "tlschan/net/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <system_error>

namespace tlschan::net {

namespace {

std::string system_reason(int err) {
  return std::generic_category().message(err);
}

SpoolError failure(std::string_view what, const std::filesystem::path& path, int err) {
  return SpoolError{"spool: cannot " + std::string(what) + " " + path.string() + ": " + system_reason(err)};
}

// Writes `bytes` to a new file and syncs it; the file must not exist yet.
std::optional<SpoolError> write_synced(const std::filesystem::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return failure("create", path, errno);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return failure("write", path, err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return failure("sync", path, err);
  }
  if (::close(fd) != 0) return failure("close", path, errno);
  return std::nullopt;
}

std::optional<SpoolError> sync_folder(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return failure("open the folder", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return failure("sync the folder", dir, err);
  return std::nullopt;
}

std::optional<SpoolError> rename_into_place(const std::filesystem::path& from,
                                            const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return failure("rename into", to, errno);
  return std::nullopt;
}

}  // namespace

std::string format_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string spool_json(const MessageAccepted& message, std::chrono::system_clock::time_point received_at) {
  nlohmann::ordered_json j;
  j["mail_from"] = message.envelope.mail_from;
  j["rcpt_to"] = message.envelope.rcpt_to;
  j["channel"] = message.channel;
  j["tls"] = message.tls;
  j["tls_version"] =
      message.tls ? nlohmann::ordered_json(message.tls_version) : nlohmann::ordered_json(nullptr);
  j["cipher"] = message.tls ? nlohmann::ordered_json(message.cipher) : nlohmann::ordered_json(nullptr);
  j["received_at"] = format_utc(received_at);
  j["size"] = message.data.size();
  // Addresses are whatever the client sent: bytes that are not UTF-8 are replaced, never thrown on.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Expected<Spool, SpoolError> Spool::open(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return unexpected(SpoolError{"spool: cannot create the folder " + dir.string() + ": " + ec.message()});
  if (!std::filesystem::is_directory(dir, ec)) {
    return unexpected(SpoolError{"spool: " + dir.string() + " is not a folder"});
  }
  return Spool(dir);
}

std::string Spool::next_id(std::chrono::system_clock::time_point received_at) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(received_at.time_since_epoch()).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld-%ld-%llu", static_cast<long long>(ms), static_cast<long>(::getpid()),
                static_cast<unsigned long long>(next_.fetch_add(1)));
  return buf;
}

Expected<std::string, SpoolError> Spool::store(const MessageAccepted& message,
                                               std::chrono::system_clock::time_point received_at) {
  const std::string id = next_id(received_at);
  const auto eml = dir_ / (id + ".eml");
  const auto json = dir_ / (id + ".json");
  const auto eml_tmp = dir_ / ("." + id + ".eml.tmp");
  const auto json_tmp = dir_ / ("." + id + ".json.tmp");
  const auto give_up = [&](SpoolError e) {
    ::unlink(eml_tmp.c_str());
    ::unlink(json_tmp.c_str());
    ::unlink(json.c_str());
    ::unlink(eml.c_str());
    return unexpected(std::move(e));
  };
  // The .json is renamed last: a reader that sees it finds the .eml complete beside it.
  if (auto e = write_synced(eml_tmp, message.data)) return give_up(*e);
  if (auto e = write_synced(json_tmp, spool_json(message, received_at))) return give_up(*e);
  if (auto e = rename_into_place(eml_tmp, eml)) return give_up(*e);
  if (auto e = rename_into_place(json_tmp, json)) return give_up(*e);
  if (auto e = sync_folder(dir_)) return give_up(*e);
  return id;
}

}  // namespace tlschan::net

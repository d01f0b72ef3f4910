#include "tlschan/views/pcap_recorder.hpp"

#include <algorithm>


namespace tlschan::views {

namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t name_hash(std::string_view s) {  // FNV-1a
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t microseconds(Time t) { return static_cast<std::uint64_t>(since_epoch(t).count()) * 1000; }

}  // namespace

// 10.x.y.z, from the seed and the host's name; the next free one when two collide.
std::uint32_t PcapRecorder::host(std::string_view name) {
  if (const auto it = hosts_.find(name); it != hosts_.end()) return it->second;
  const std::uint64_t h = mix(seed_ ^ name_hash(name));
  std::uint32_t ip = (10u << 24) | (static_cast<std::uint32_t>(h & 0xffff) << 8) | static_cast<std::uint32_t>(1 + (h >> 16) % 254);
  const auto taken = [this](std::uint32_t a) {
    return std::any_of(hosts_.begin(), hosts_.end(), [a](const auto& e) { return e.second == a; });
  };
  while (taken(ip)) ip = (10u << 24) | (((ip & 0xffffff) + 1) % 0xffffff);
  hosts_.emplace(std::string(name), ip);
  return ip;
}

std::uint32_t PcapRecorder::address_of(std::string_view name) const {
  const auto it = hosts_.find(name);
  return it == hosts_.end() ? 0 : it->second;
}

void PcapRecorder::connection_opened(int id, std::string_view client, std::string_view server, bool tls_port, Time at) {
  const auto n = static_cast<std::uint64_t>(id);
  TcpEnd c, s;
  c.ip = host(client);
  s.ip = host(server);
  if (c.ip == s.ip) c.ip = host(std::string(client) + " (client)");
  c.port = static_cast<std::uint16_t>(49152 + (mix(seed_ ^ 0x706f7274) + n) % 16384);
  s.port = tls_port ? smtps_port : smtp_port;
  c.isn = static_cast<std::uint32_t>(mix(seed_ ^ (n << 1)));
  s.isn = static_cast<std::uint32_t>(mix(seed_ ^ ((n << 1) | 1)));
  c.ip_id = static_cast<std::uint16_t>(mix(seed_ + n));
  s.ip_id = static_cast<std::uint16_t>(mix(seed_ + n + 0x10000));
  streams_.open(id, c, s, microseconds(at));
}

void PcapRecorder::segment(int id, bool c2s, std::string_view bytes, Time at, std::string_view meddled) {
  streams_.data(id, c2s, bytes, microseconds(at), meddled);
}

void PcapRecorder::closed(int id, bool c2s, Time at) { streams_.fin(id, c2s, microseconds(at)); }

void PcapRecorder::reset(int id, Time at) { streams_.reset(id, true, microseconds(at)); }

void PcapRecorder::key_log(std::string_view line) {
  key_log_.append(line);
  key_log_.push_back('\n');
}

// One block of every secret, ahead of every packet (and so of the first one it decrypts).
std::string PcapRecorder::pcapng() const { return streams_.pcapng(key_log_); }

}  // namespace tlschan::views

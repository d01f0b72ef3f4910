#include "tlschan/views/wire_capture.hpp"

#include <chrono>

namespace tlschan::views {

namespace {

constexpr std::uint32_t client_net = (192u << 24) | (0u << 16) | (2u << 8);     // 192.0.2.0/24
constexpr std::uint32_t server_net = (198u << 24) | (51u << 16) | (100u << 8);  // 198.51.100.0/24

// The made-up address of `real` in `net`: .1 for the first one seen, .2 for the next, ... (.254,
// then again from .1: a capture of more hosts than that reuses addresses, ports tell them apart).
std::uint32_t shown(std::map<std::string, std::uint32_t, std::less<>>& seen, std::uint32_t net,
                    std::string_view real) {
  if (const auto it = seen.find(real); it != seen.end()) return it->second;
  const std::uint32_t ip = net | static_cast<std::uint32_t>(1 + seen.size() % 254);
  seen.emplace(std::string(real), ip);
  return ip;
}

std::uint32_t lookup(const std::map<std::string, std::uint32_t, std::less<>>& seen, std::string_view real) {
  const auto it = seen.find(real);
  return it == seen.end() ? 0 : it->second;
}

// A fixed scramble of the connection number: made-up but stable sequence numbers.
std::uint32_t scramble(std::uint64_t x) {
  x = (x ^ (x >> 31) ^ 0x5bd1e995) * 0x9e3779b97f4a7c15ULL;
  return static_cast<std::uint32_t>(x >> 29);
}

std::string with_port(std::string_view address, std::uint16_t port) {
  const bool v6 = address.find(':') != std::string_view::npos;
  return (v6 ? "[" + std::string(address) + "]" : std::string(address)) + ":" + std::to_string(port);
}

}  // namespace

std::string dotted(std::uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
         std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff);
}

std::uint64_t WireCapture::real_clock() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

void WireCapture::opened(int id, std::string_view client_address, std::uint16_t client_port,
                         std::string_view server_address, std::uint16_t server_port,
                         std::uint16_t shown_port) {
  const auto n = static_cast<std::uint64_t>(id);
  TcpEnd c, s;
  c.ip = shown(clients_, client_net, client_address);
  s.ip = shown(servers_, server_net, server_address);
  c.port = client_port != 0 ? client_port : static_cast<std::uint16_t>(49152 + n % 16384);
  s.port = shown_port;
  c.isn = scramble(n << 1);
  s.isn = scramble((n << 1) | 1);
  c.ip_id = static_cast<std::uint16_t>(scramble(n + 0x1000));
  s.ip_id = static_cast<std::uint16_t>(scramble(n + 0x2000));
  const std::string comment = "real addresses: client " + with_port(client_address, client_port) +
                              ", server " + with_port(server_address, server_port) + " (shown as " +
                              dotted(c.ip) + ":" + std::to_string(c.port) + " and " + dotted(s.ip) + ":" +
                              std::to_string(s.port) + ")";
  streams_.open(id, c, s, now(), comment);
}

void WireCapture::bytes(int id, bool from_client, std::string_view bytes) {
  if (!bytes.empty()) streams_.data(id, from_client, bytes, now());
}

void WireCapture::closed(int id, bool by_client) {
  streams_.fin(id, by_client, now());
}

void WireCapture::reset(int id, bool by_client) {
  streams_.reset(id, by_client, now());
}

void WireCapture::key_log(int id, std::string_view line) {
  std::string& keys = keys_[id];
  keys.append(line);
  keys.push_back('\n');
}

std::string WireCapture::pcapng() const {
  return streams_.pcapng({}, keys_);
}

std::string WireCapture::key_log_lines(int id) const {
  const auto it = keys_.find(id);
  return it == keys_.end() ? std::string() : it->second;
}

std::string WireCapture::key_log_lines() const {
  std::string all;
  for (const auto& [id, keys] : keys_) all += keys;
  return all;
}

std::uint32_t WireCapture::shown_client(std::string_view real) const {
  return lookup(clients_, real);
}
std::uint32_t WireCapture::shown_server(std::string_view real) const {
  return lookup(servers_, real);
}

}  // namespace tlschan::views

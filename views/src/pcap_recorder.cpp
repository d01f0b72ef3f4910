#include "tlschan/views/pcap_recorder.hpp"

#include <algorithm>

#include "tlschan/views/pcapng.hpp"

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

void PcapRecorder::send(Side& from, Side& to, std::uint8_t flags, std::string_view payload, Time at,
                        std::string_view comment) {
  TcpSegment s;
  s.src = from.ip;
  s.dst = to.ip;
  s.sport = from.port;
  s.dport = to.port;
  s.seq = from.next_seq;
  s.ack = (flags & tcp_ack) ? to.next_seq : 0;
  s.flags = flags;
  s.ip_id = from.ip_id++;
  s.payload = payload;
  packets_.push_back({microseconds(at), ipv4_tcp_packet(s), std::string(comment)});
  from.next_seq += static_cast<std::uint32_t>(payload.size()) + ((flags & (tcp_syn | tcp_fin)) ? 1 : 0);
}

void PcapRecorder::connection_opened(int id, std::string_view client, std::string_view server, bool tls_port, Time at) {
  Stream st;
  const auto n = static_cast<std::uint64_t>(id);
  st.client.ip = host(client);
  st.server.ip = host(server);
  if (st.client.ip == st.server.ip) st.client.ip = host(std::string(client) + " (client)");
  st.client.port = static_cast<std::uint16_t>(49152 + (mix(seed_ ^ 0x706f7274) + n) % 16384);
  st.server.port = tls_port ? smtps_port : smtp_port;
  st.client.next_seq = static_cast<std::uint32_t>(mix(seed_ ^ (n << 1)));
  st.server.next_seq = static_cast<std::uint32_t>(mix(seed_ ^ ((n << 1) | 1)));
  st.client.ip_id = static_cast<std::uint16_t>(mix(seed_ + n));
  st.server.ip_id = static_cast<std::uint16_t>(mix(seed_ + n + 0x10000));
  Stream& s = streams_[id] = st;
  send(s.client, s.server, tcp_syn, {}, at);
  send(s.server, s.client, tcp_syn | tcp_ack, {}, at);
  send(s.client, s.server, tcp_ack, {}, at);
}

void PcapRecorder::segment(int id, bool c2s, std::string_view bytes, Time at, std::string_view meddled) {
  const auto it = streams_.find(id);
  if (it == streams_.end() || it->second.over) return;
  Side& from = c2s ? it->second.client : it->second.server;
  Side& to = c2s ? it->second.server : it->second.client;
  // The simulator's segment, in as many IPv4 packets as it needs (one, but for huge segments).
  for (std::size_t at_byte = 0; at_byte < bytes.size(); at_byte += max_tcp_payload) {
    send(from, to, tcp_psh | tcp_ack, bytes.substr(at_byte, max_tcp_payload), at, meddled);
    send(to, from, tcp_ack, {}, at);
  }
}

void PcapRecorder::closed(int id, bool c2s, Time at) {
  const auto it = streams_.find(id);
  if (it == streams_.end() || it->second.over) return;
  Side& from = c2s ? it->second.client : it->second.server;
  Side& to = c2s ? it->second.server : it->second.client;
  if (from.fin) return;
  from.fin = true;
  send(from, to, tcp_fin | tcp_ack, {}, at);
  send(to, from, tcp_ack, {}, at);
}

void PcapRecorder::reset(int id, Time at) {
  const auto it = streams_.find(id);
  if (it == streams_.end() || it->second.over) return;
  it->second.over = true;
  send(it->second.client, it->second.server, tcp_rst | tcp_ack, {}, at);
}

void PcapRecorder::key_log(std::string_view line) {
  key_log_.append(line);
  key_log_.push_back('\n');
}

std::string PcapRecorder::pcapng() const {
  PcapngWriter w(linktype_raw_ipv4);
  // One block of every secret, ahead of every packet (and so of the first one it decrypts).
  if (!key_log_.empty()) w.secrets(key_log_);
  for (const Packet& p : packets_) w.packet(p.microseconds, p.data, p.comment);
  return w.bytes();
}

}  // namespace tlschan::views

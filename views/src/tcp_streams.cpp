#include "tlschan/views/tcp_streams.hpp"

#include <set>

#include "tlschan/views/pcapng.hpp"

namespace tlschan::views {

void TcpStreams::send(int id, Side& from, Side& to, std::uint8_t flags, std::string_view payload,
                      std::uint64_t microseconds, std::string_view comment) {
  TcpSegment s;
  s.src = from.end.ip;
  s.dst = to.end.ip;
  s.sport = from.end.port;
  s.dport = to.end.port;
  s.seq = from.next_seq;
  s.ack = (flags & tcp_ack) ? to.next_seq : 0;
  s.flags = flags;
  s.ip_id = from.end.ip_id++;
  s.payload = payload;
  packets_.push_back({id, microseconds, ipv4_tcp_packet(s), std::string(comment)});
  from.next_seq += static_cast<std::uint32_t>(payload.size()) + ((flags & (tcp_syn | tcp_fin)) ? 1 : 0);
}

void TcpStreams::open(int id, const TcpEnd& client, const TcpEnd& server, std::uint64_t microseconds,
                      std::string_view comment) {
  Stream st;
  st.client.end = client;
  st.client.next_seq = client.isn;
  st.server.end = server;
  st.server.next_seq = server.isn;
  Stream& s = streams_[id] = st;
  send(id, s.client, s.server, tcp_syn, {}, microseconds, comment);
  send(id, s.server, s.client, tcp_syn | tcp_ack, {}, microseconds);
  send(id, s.client, s.server, tcp_ack, {}, microseconds);
}

void TcpStreams::data(int id, bool c2s, std::string_view bytes, std::uint64_t microseconds,
                      std::string_view comment) {
  const auto it = streams_.find(id);
  if (it == streams_.end() || it->second.over) return;
  Side& from = c2s ? it->second.client : it->second.server;
  Side& to = c2s ? it->second.server : it->second.client;
  if (from.fin) return;
  for (std::size_t at = 0; at < bytes.size(); at += max_tcp_payload) {
    send(id, from, to, tcp_psh | tcp_ack, bytes.substr(at, max_tcp_payload), microseconds, comment);
    send(id, to, from, tcp_ack, {}, microseconds);
  }
}

void TcpStreams::fin(int id, bool c2s, std::uint64_t microseconds) {
  const auto it = streams_.find(id);
  if (it == streams_.end() || it->second.over) return;
  Side& from = c2s ? it->second.client : it->second.server;
  Side& to = c2s ? it->second.server : it->second.client;
  if (from.fin) return;
  from.fin = true;
  send(id, from, to, tcp_fin | tcp_ack, {}, microseconds);
  send(id, to, from, tcp_ack, {}, microseconds);
}

void TcpStreams::reset(int id, bool c2s, std::uint64_t microseconds) {
  const auto it = streams_.find(id);
  if (it == streams_.end() || it->second.over) return;
  it->second.over = true;
  Side& from = c2s ? it->second.client : it->second.server;
  Side& to = c2s ? it->second.server : it->second.client;
  send(id, from, to, tcp_rst | tcp_ack, {}, microseconds);
}

std::string TcpStreams::pcapng(std::string_view leading_secrets,
                               const std::map<int, std::string>& stream_secrets) const {
  PcapngWriter w(linktype_raw_ipv4);
  if (!leading_secrets.empty()) w.secrets(leading_secrets);
  std::set<int> started;
  for (const Packet& p : packets_) {
    if (started.insert(p.stream).second) {
      const auto keys = stream_secrets.find(p.stream);
      if (keys != stream_secrets.end() && !keys->second.empty()) w.secrets(keys->second);
    }
    w.packet(p.microseconds, p.data, p.comment);
  }
  return w.bytes();
}

}  // namespace tlschan::views

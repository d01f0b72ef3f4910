#include "network.hpp"

#include <algorithm>

#include "tlschan/sim/transcript_bytes.hpp"

namespace tlschan::sim::detail {

Duration Network::draw_latency() {
  return Duration(static_cast<std::int64_t>(
      prng_.between(static_cast<std::uint64_t>(spec_.latency_min.count()),
                    static_cast<std::uint64_t>(std::max(spec_.latency_min, spec_.latency_max).count()))));
}

void Network::open(Connection& c) {
  c.c2s.lane = loop_.lane();
  c.s2c.lane = loop_.lane();
}

const FaultSpec* Network::fault_for(const Connection& c, bool c2s) const {
  for (const auto& f : faults_) {
    if (f.connection == c.id && f.client_to_server == c2s) return &f;
  }
  return nullptr;
}

void Network::send(Connection& c, bool c2s, std::string_view bytes, bool atomic) {
  Pipe& p = c.pipe(c2s);
  if (p.fin_sent || p.stalled || bytes.empty()) return;
  if (const FaultSpec* f = fault_for(c, c2s); f && p.sent + bytes.size() > f->after_bytes) {
    const std::size_t keep = f->after_bytes > p.sent ? static_cast<std::size_t>(f->after_bytes - p.sent) : 0;
    bytes = bytes.substr(0, keep);
    p.sent += keep;
    segment(c, c2s, bytes, atomic);
    const std::string where = std::string(c2s ? "c>s" : "s>c") + " after " + std::to_string(f->after_bytes) + " bytes";
    switch (f->kind) {
      case FaultKind::stall:
        p.stalled = true;
        transcript_.connection(c.id, "fault stall " + where);
        return;
      case FaultKind::truncate:
        transcript_.connection(c.id, "fault truncate " + where);
        send_close(c, true);
        send_close(c, false);
        return;
      case FaultKind::reset:
        transcript_.connection(c.id, "fault reset " + where);
        reset(c);
        return;
    }
  }
  p.sent += bytes.size();
  segment(c, c2s, bytes, atomic);
}

void Network::segment(Connection& c, bool c2s, std::string_view bytes, bool atomic) {
  const std::size_t lo = spec_.segment_min, hi = std::max(spec_.segment_min, spec_.segment_max);
  std::size_t at = 0;
  while (at < bytes.size()) {
    std::size_t n = bytes.size() - at;
    if (!atomic && hi > 0) n = std::min<std::size_t>(n, prng_.between(std::max<std::size_t>(lo, 1), hi));
    deliver_later(c, c2s, bytes.substr(at, n));
    at += n;
  }
}

Time Network::arrival(Pipe& p) {
  const Time t = std::max(loop_.now() + p.latency, p.last_arrival);
  p.last_arrival = t;
  return t;
}

// The segment joins the bytes on their way; its delivery event carries only its size (a pipe
// delivers in the order it was sent: arrival times never decrease, and ties keep their order).
void Network::deliver_later(Connection& c, bool c2s, std::string_view seg) {
  Pipe& p = c.pipe(c2s);
  p.flight.append(seg);
  loop_.at(p.lane, arrival(p), [this, &c, c2s, n = seg.size()] { arrive(c, c2s, n); });
}

void Network::arrive(Connection& c, bool c2s, std::size_t n) {
  Pipe& p = c.pipe(c2s);
  // The segment leaves the pipe whether or not anyone still reads it.
  segment_.assign(p.flight, p.flight_head, n);
  const std::uint64_t offset = p.delivered;
  p.flight_head += n;
  p.delivered += n;
  if (p.flight_head == p.flight.size()) {
    p.flight.clear();
    p.flight_head = 0;
  } else if (p.flight_head >= 65536 && p.flight_head * 2 >= p.flight.size()) {
    p.flight.erase(0, p.flight_head);
    p.flight_head = 0;
  }
  if (c2s ? c.server_gone : c.client_gone) return;
  transcript_.segment(c.id, c2s, segment_, offset, p.tls_at);
  if (observer_) {
    note_.clear();
    for (const MeddledBytes& m : p.meddled) {
      if (m.from < offset + n && offset < m.to && note_.find(m.what) == std::string::npos) {
        note_ += note_.empty() ? "" : "; ";
        note_ += m.what;
      }
    }
    std::erase_if(p.meddled, [end = offset + n](const MeddledBytes& m) { return m.to <= end; });
    observer_->segment(c.id, c2s, segment_, loop_.now(), note_);
  }
  receiver_.segment_arrived(c, c2s, segment_);
}

void Network::answer_client(Connection& c, std::string answer, std::string meddled) {
  loop_.after(c.s2c.latency, [this, &c, a = std::move(answer), m = std::move(meddled)] {
    if (c.client_gone) return;
    if (transcript_.on()) transcript_.connection(c.id, "s>c " + escape_bytes(a));
    if (observer_) observer_->segment(c.id, false, a, loop_.now(), m);
    receiver_.segment_arrived(c, false, a);
  });
}

void Network::send_close(Connection& c, bool c2s) {
  Pipe& p = c.pipe(c2s);
  if (p.fin_sent) return;
  p.fin_sent = true;
  if (p.stalled) return;
  loop_.at(p.lane, arrival(p), [this, &c, c2s] {
    // The FIN is on the wire even when the other side has already closed.
    if (observer_) observer_->closed(c.id, c2s, loop_.now());
    if (c2s ? c.server_gone : c.client_gone) return;
    transcript_.connection(c.id, c2s ? "c>s close" : "s>c close");
    receiver_.close_arrived(c, c2s);
  });
}

void Network::reset(Connection& c) {
  c.c2s.fin_sent = c.s2c.fin_sent = true;
  loop_.after(c.c2s.latency, [this, &c] {
    if (observer_) observer_->reset(c.id, loop_.now());
    receiver_.reset_arrived(c);
  });
}

}  // namespace tlschan::sim::detail

// Writes a run's transcript body: one line per event, headed by its virtual time and, for a
// connection's events, the connection ("c3"). Off (every call returns at once) when the run keeps
// no transcript.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tlschan/sim/event_loop.hpp"

namespace tlschan::sim::detail {

class TranscriptWriter {
 public:
  TranscriptWriter(std::string* out, const EventLoop& loop) : out_(out), loop_(loop) {}

  bool on() const { return out_ != nullptr; }
  void line(const std::string& text) { line_at(loop_.now(), text); }
  void line_at(Time t, const std::string& text);
  void connection(int id, const std::string& text);
  // The segment at stream offset `offset` of one direction: the part before the sender's switch to
  // TLS (`tls_at`) as escaped text, the rest as its length and digest (a segment holding both is
  // shown as two lines).
  void segment(int id, bool c2s, std::string_view seg, std::uint64_t offset, std::optional<std::uint64_t> tls_at);

 private:
  std::string* out_;
  const EventLoop& loop_;
};

}  // namespace tlschan::sim::detail

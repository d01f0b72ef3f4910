#include "transcript_writer.hpp"
#include "text.hpp"

#include <algorithm>

#include "tlschan/sim/transcript_bytes.hpp"

namespace tlschan::sim::detail {

void TranscriptWriter::line_at(Time t, const std::string& text) {
  if (!out_) return;
  *out_ += time_stamp(t);
  *out_ += ' ';
  *out_ += text;
  *out_ += '\n';
}

void TranscriptWriter::connection(int id, const std::string& text) {
  if (out_) line(cat("c", std::to_string(id), " ", text));
}

// The switch is known by the time the segment arrives: it was set when the sender started TLS,
// before it sent a TLS byte.
void TranscriptWriter::segment(int id, bool c2s, std::string_view seg, std::uint64_t offset,
                               std::optional<std::uint64_t> tls_at) {
  if (!out_) return;
  const char* dir = c2s ? "c>s " : "s>c ";
  std::size_t text = seg.size();
  if (tls_at && *tls_at <= offset) {
    text = 0;
  } else if (tls_at) {
    text = static_cast<std::size_t>(std::min<std::uint64_t>(seg.size(), *tls_at - offset));
  }
  if (text > 0) connection(id, std::string(dir) + escape_bytes(seg.substr(0, text)));
  if (text < seg.size()) {
    const std::string_view tls = seg.substr(text);
    connection(id, std::string(dir) + "tls " + std::to_string(tls.size()) + " bytes sha256:" + short_digest(tls));
  }
}

}  // namespace tlschan::sim::detail

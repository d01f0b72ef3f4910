#include "diagram_labels.hpp"

#include <algorithm>

#include "tlschan/escape.hpp"

namespace tlschan::views::detail {

namespace {

std::string cut(std::string line) {
  if (line.size() > label_width) {
    line.resize(label_width - 3);
    line += "...";
  }
  return line;
}

// Bytes as lines, folded to at most `room`: each CRLF (or LF) ends a line; a line is escaped the
// transcript's way and cut at the width. When there are more lines, the first room - 1 are kept
// (the others are counted, not escaped) and a last one says how many more there were.
std::vector<std::string> folded_lines(const std::string& bytes, std::size_t room) {
  std::vector<std::string> lines;
  std::size_t count = 0;
  std::size_t at = 0;
  while (at < bytes.size()) {
    auto lf = bytes.find('\n', at);
    std::size_t end = lf == std::string::npos ? bytes.size() : lf;
    std::size_t text_end = end;
    if (lf != std::string::npos && text_end > at && bytes[text_end - 1] == '\r') --text_end;
    if (++count <= room) lines.push_back(cut(escape_bytes(std::string_view(bytes).substr(at, text_end - at))));
    at = lf == std::string::npos ? bytes.size() : lf + 1;
  }
  if (count > room) {
    lines.resize(room - 1);
    lines.push_back(cut("... " + std::to_string(count - (room - 1)) + " more lines (" + std::to_string(bytes.size()) +
                        " bytes in all)"));
  }
  return lines;
}

}  // namespace

std::vector<std::string> segment_label(const DiagramEvent& e) {
  if (e.tls) return {"TLS " + std::to_string(e.tls_bytes) + " bytes"};
  std::vector<std::string> lines = folded_lines(e.text, label_lines_max);
  if (lines.empty()) lines.emplace_back();
  if (e.inside_tls) lines.front() = cut("in TLS: " + lines.front());
  return lines;
}

std::vector<std::string> meddler_label(const DiagramEvent& e) {
  std::vector<std::string> lines{"meddler " + escape_bytes(e.text) + (e.c2s ? " (client to server)" : " (server to client)")};
  if (!e.old_bytes.empty()) {
    lines.push_back(cut("\"" + escape_bytes(e.old_bytes) + "\" -> \"" + escape_bytes(e.bytes) + "\""));
    return lines;
  }
  auto more = folded_lines(e.bytes, label_lines_max);
  lines.insert(lines.end(), more.begin(), more.end());
  return lines;
}

std::vector<std::string> note_label(const DiagramEvent& e) {
  std::string text = escape_bytes(e.text);
  std::vector<std::string> lines;
  // Words wrapped at the width; a single longer word is cut.
  while (text.size() > label_width && lines.size() + 1 < label_lines_max) {
    std::size_t sp = text.rfind(' ', label_width);
    if (sp == std::string::npos || sp == 0) sp = label_width;
    lines.push_back(text.substr(0, sp));
    text.erase(0, sp < text.size() && text[sp] == ' ' ? sp + 1 : sp);
  }
  lines.push_back(cut(text));
  return lines;
}

std::vector<std::string> label_of(const DiagramEvent& e) {
  switch (e.kind) {
    case DiagramEvent::Kind::segment: return segment_label(e);
    case DiagramEvent::Kind::meddler: return meddler_label(e);
    default: return note_label(e);
  }
}

std::vector<ConnectionSpan> connection_spans(const Sequence& s) {
  std::vector<ConnectionSpan> spans;
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const DiagramEvent& e = s.events[i];
    if (e.connection == 0) continue;
    auto it = std::find_if(spans.begin(), spans.end(), [&](const ConnectionSpan& c) { return c.id == e.connection; });
    if (it == spans.end()) {
      spans.push_back({e.connection, i, i, std::nullopt, e.kind == DiagramEvent::Kind::open ? e.text : std::string()});
      it = spans.end() - 1;
    }
    it->last = i;
    if (!it->tls_from && e.kind == DiagramEvent::Kind::segment && e.tls) it->tls_from = i;
  }
  return spans;
}

}  // namespace tlschan::views::detail

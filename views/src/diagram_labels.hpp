// What each event of a diagram says, as lines of printable ASCII: shared by the SVG and the text
// diagram, so both show the same words.
#pragma once

#include <string>
#include <vector>

#include "tlschan/views/diagram.hpp"

namespace tlschan::views::detail {

inline constexpr std::size_t label_width = 72;   // a longer line is cut, ending in "..."
inline constexpr std::size_t label_lines_max = 4;  // more lines are folded into a last one

// An arrow's label: its SMTP lines (long data folded) or "TLS n bytes".
std::vector<std::string> segment_label(const DiagramEvent& e);
// A meddler act: what it did, then the bytes.
std::vector<std::string> meddler_label(const DiagramEvent& e);
// Any other event: its words, folded to the width.
std::vector<std::string> note_label(const DiagramEvent& e);
std::vector<std::string> label_of(const DiagramEvent& e);

// Each connection's first TLS event (the start of its band), by connection id.
struct ConnectionSpan {
  int id = 0;
  std::size_t first = 0, last = 0;  // event indexes
  std::optional<std::size_t> tls_from;
  std::string names;  // the open line's words
};
std::vector<ConnectionSpan> connection_spans(const Sequence& s);

}  // namespace tlschan::views::detail

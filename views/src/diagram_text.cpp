// The diagram for a terminal: one row per event, the lifelines as columns (client, meddler when
// there is one, server), the words at the right. Inside TLS a connection's lifelines are '#'.
#include <algorithm>
#include <map>

#include "diagram_labels.hpp"
#include "tlschan/escape.hpp"
#include "tlschan/views/diagram.hpp"

namespace tlschan::views {

namespace {

using Kind = DiagramEvent::Kind;
using Where = DiagramEvent::Where;

constexpr std::size_t time_column = 10;  // "  123456ms"
constexpr std::size_t conn_column = 5;   // " c12 "

std::string pad_left(std::string s, std::size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }

class TextWriter {
 public:
  TextWriter(const Sequence& s, const DiagramMarks& marks) : s_(s), marks_(marks) {
    middle_ = s.meddler.empty() ? 0 : 18;
    server_ = s.meddler.empty() ? 24 : 36;
    for (const auto& c : detail::connection_spans(s)) {
      if (c.tls_from) tls_from_[c.id] = *c.tls_from;
    }
  }

  std::string text() {
    std::string out = escape_bytes(s_.title) + "\n";
    for (const auto& d : s_.details) out += "  " + escape_line(d) + "\n";
    out += "\n" + pad_left("time", time_column) + " conn client";
    if (middle_) out += std::string(middle_ - 6, ' ') + "meddler";
    out += std::string(server_ - (middle_ ? middle_ + 7 : 6), ' ') + "server\n";
    for (std::size_t i = 0; i < s_.events.size(); ++i) row(out, i);
    if (marks_.divergence_line && !divergence_drawn_) {
      out += "!! FIRST DIFFERENCE at run line " + std::to_string(*marks_.divergence_line) +
             ", after the end of this run: " + escape_line(marks_.divergence_note) + "\n";
    }
    return out;
  }

 private:
  static std::string escape_line(const std::string& s) {
    DiagramEvent e;
    e.text = s;
    return detail::note_label(e).front();
  }

  // The lifelines of a row: '|' in plaintext, '#' inside TLS, ' ' for a row that is not the connection's.
  std::string lifelines(std::size_t i, int connection) const {
    std::string l(server_ + 1, ' ');
    if (connection == 0) return l;
    const auto t = tls_from_.find(connection);
    const char c = t != tls_from_.end() && i >= t->second ? '#' : '|';
    l[0] = c;
    if (middle_) l[middle_] = c;
    l[server_] = c;
    return l;
  }

  void row(std::string& out, std::size_t i) {
    const DiagramEvent& e = s_.events[i];
    const auto lines = detail::label_of(e);
    std::string head = pad_left(std::to_string(e.ms) + "ms", time_column) + " " +
                       (e.connection ? pad_left("c" + std::to_string(e.connection), 3) : std::string(3, ' ')) + "  ";
    std::string lanes = lifelines(i, e.connection);
    std::string marker;
    switch (e.kind) {
      case Kind::segment: {
        std::size_t from = e.c2s ? 0 : server_, to = e.c2s ? server_ : 0;
        if (e.from_meddler && middle_) from = middle_;
        const std::size_t lo = std::min(from, to) + 1, hi = std::max(from, to);
        const char shaft = e.tls ? '=' : (e.meddled || e.from_meddler) ? '!' : '-';
        for (std::size_t k = lo; k < hi; ++k) lanes[k] = shaft;
        if (to > from) {
          lanes[hi - 1] = '>';
        } else {
          lanes[lo] = '<';
        }
        if (e.meddled || e.from_meddler) marker = "[meddler] ";
        break;
      }
      case Kind::open:
        std::fill(lanes.begin(), lanes.end(), '=');
        marker = "open ";
        break;
      case Kind::meddler: lanes[middle_ ? middle_ : server_ / 2] = '!'; marker = "!! "; break;
      case Kind::note:
        if (e.where == Where::client) lanes[0] = '*';
        if (e.where == Where::server) lanes[server_] = '*';
        if (e.where == Where::run) lanes[server_ / 2] = '*';
        marker = e.where == Where::client ? "client: " : e.where == Where::server ? "server: " : "";
        break;
      case Kind::outcome: marker = e.failed ? "!! VERDICT (failed): " : "VERDICT: "; break;
      case Kind::info: break;
    }
    const bool diverges = marks_.divergence_line && e.line == *marks_.divergence_line;
    if (diverges) {
      divergence_drawn_ = true;
      out += "!! FIRST DIFFERENCE at run line " + std::to_string(e.line) + " (next row): " +
             escape_line(marks_.divergence_note) + "\n";
    }
    for (std::size_t k = 0; k < lines.size(); ++k) {
      if (k == 0) {
        out += head + lanes + "  " + marker + lines[k] + "\n";
      } else {
        out += std::string(head.size(), ' ') + lifelines(i, e.connection) + "  " + std::string(marker.size(), ' ') + lines[k] + "\n";
      }
    }
  }

  const Sequence& s_;
  const DiagramMarks& marks_;
  std::size_t middle_ = 0, server_ = 0;
  std::map<int, std::size_t> tls_from_;
  bool divergence_drawn_ = false;
};

}  // namespace

std::string diagram_text(const Sequence& s, const DiagramMarks& marks) { return TextWriter(s, marks).text(); }

}  // namespace tlschan::views

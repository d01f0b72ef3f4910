// The diagram as SVG, and the HTML page around it. One row per event, top to bottom in virtual time;
// one column group (client, meddler, server) per connection, side by side.
#include <algorithm>

#include "diagram_labels.hpp"
#include "tlschan/views/diagram.hpp"

namespace tlschan::views {

namespace {

using Kind = DiagramEvent::Kind;
using Where = DiagramEvent::Where;

constexpr int line_height = 15;
constexpr int char_width = 8;  // of 12 px monospace, rounded up
constexpr int time_width = 90;
constexpr int title_height = 24;
constexpr int group_gap = 40;
constexpr int lifeline_pad = 20;

constexpr const char* ink = "#1b1b1b";
constexpr const char* plain_ink = "#1f4e79";
constexpr const char* tls_ink = "#1e7b34";
constexpr const char* meddler_ink = "#d0021b";
constexpr const char* verdict_ink = "#6a1b9a";
constexpr const char* divergence_ink = "#ff00c8";

std::string num(long long v) { return std::to_string(v); }

// The valid UTF-8 sequence at s[i], its length; 0 when the octets there are not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, cp = c & 0x1f, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, cp = c & 0x0f, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

struct Group {
  int client = 0, meddler = 0, server = 0;  // lifeline x
};

class SvgWriter {
 public:
  SvgWriter(const Sequence& s, const DiagramMarks& marks) : s_(s), marks_(marks), spans_(detail::connection_spans(s)) {
    const bool with_meddler = !s.meddler.empty();
    const int span = with_meddler ? 660 : 600;
    int x = time_width + lifeline_pad;
    for (std::size_t k = 0; k < spans_.size(); ++k) {
      Group g;
      g.client = x;
      g.server = x + span;
      g.meddler = with_meddler ? x + span / 2 : 0;
      groups_.push_back(g);
      x += span + group_gap + 2 * lifeline_pad;
    }
    width_ = std::max(x, time_width + 2 * lifeline_pad + span);
  }

  std::string svg() {
    lay_out();
    std::string body;
    bands(body);
    lifelines(body);
    for (std::size_t i = 0; i < s_.events.size(); ++i) event(body, i);
    if (marks_.divergence_line && !divergence_drawn_) divergence_at_end(body);
    std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sequence-diagram\" width=\"" + num(width_) +
                      "\" height=\"" + num(height_) + "\" viewBox=\"0 0 " + num(width_) + " " + num(height_) +
                      "\" font-family=\"monospace\" font-size=\"12\" xml:space=\"preserve\">\n";
    out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" + num(width_) + "\" height=\"" + num(height_) +
           "\" fill=\"#ffffff\"/>\n";
    out += "<text class=\"title\" x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"bold\" fill=\"" + std::string(ink) +
           "\">" + xml_text(s_.title) + "</text>\n";
    int y = 18;
    for (const auto& d : s_.details) {
      y += line_height;
      out += "<text class=\"detail\" x=\"8\" y=\"" + num(y) + "\" fill=\"#555555\">" + xml_text(d) + "</text>\n";
    }
    out += body;
    out += "</svg>\n";
    return out;
  }

 private:
  int group_of(int connection) const {
    for (std::size_t k = 0; k < spans_.size(); ++k) {
      if (spans_[k].id == connection) return static_cast<int>(k);
    }
    return -1;
  }

  void lay_out() {
    int y = title_height + static_cast<int>(s_.details.size()) * line_height + 16;
    for (const DiagramEvent& e : s_.events) {
      const auto lines = static_cast<int>(detail::label_of(e).size());
      int h = 0;
      switch (e.kind) {
        case Kind::open: h = 40; break;
        case Kind::segment: h = lines * line_height + 12; break;
        default: h = lines * line_height + 10; break;
      }
      top_.push_back(y);
      y += h;
      bottom_.push_back(y);
    }
    height_ = y + 24;
  }

  bool divergent(const DiagramEvent& e) const {
    return marks_.divergence_line && e.kind != Kind::info && e.line == *marks_.divergence_line;
  }
  bool divergent_row(std::size_t i) const {
    return marks_.divergence_line && s_.events[i].line == *marks_.divergence_line;
  }

  void bands(std::string& out) const {
    for (std::size_t k = 0; k < spans_.size(); ++k) {
      if (!spans_[k].tls_from) continue;
      const Group& g = groups_[k];
      const int y0 = top_[*spans_[k].tls_from];
      const int y1 = bottom_[spans_[k].last];
      out += "<rect class=\"tls-band\" data-connection=\"" + num(spans_[k].id) + "\" x=\"" + num(g.client - 12) +
             "\" y=\"" + num(y0) + "\" width=\"" + num(g.server - g.client + 24) + "\" height=\"" + num(y1 - y0) +
             "\" fill=\"#dff3e3\" stroke=\"" + tls_ink + "\" stroke-opacity=\"0.4\"/>\n";
      out += "<text class=\"tls-band-label\" x=\"" + num(g.server + 16) + "\" y=\"" + num(y0 + 12) + "\" fill=\"" +
             tls_ink + "\" font-weight=\"bold\">TLS</text>\n";
    }
  }

  void lifelines(std::string& out) const {
    for (std::size_t k = 0; k < spans_.size(); ++k) {
      const Group& g = groups_[k];
      const int y0 = top_[spans_[k].first] + 34;
      const int y1 = bottom_[spans_[k].last];
      out += "<g class=\"lifelines\" data-connection=\"" + num(spans_[k].id) + "\" stroke=\"#888888\" stroke-dasharray=\"4 3\">";
      for (int x : {g.client, g.meddler, g.server}) {
        if (x == 0) continue;
        out += "<line x1=\"" + num(x) + "\" y1=\"" + num(y0) + "\" x2=\"" + num(x) + "\" y2=\"" + num(y1) + "\"/>";
      }
      out += "</g>\n";
    }
  }

  // A multi-line label as one <text>, each line a <tspan>.
  static std::string text(const std::vector<std::string>& lines, int x, int y, const char* anchor, const char* fill,
                          bool bold = false) {
    std::string out = "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\" fill=\"" + fill +
                      "\"" + (bold ? " font-weight=\"bold\"" : "") + ">";
    for (std::size_t i = 0; i < lines.size(); ++i) {
      out += "<tspan x=\"" + num(x) + "\"" + (i == 0 ? std::string() : " dy=\"" + num(line_height) + "\"") + ">" +
             xml_text(lines[i]) + "</tspan>";
    }
    return out + "</text>";
  }

  static std::string box(int x, int y, int w, int h, const char* fill, const char* stroke) {
    return "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" + num(h) + "\" rx=\"3\" fill=\"" +
           fill + "\" stroke=\"" + stroke + "\"/>";
  }

  static int text_width(const std::vector<std::string>& lines) {
    std::size_t w = 0;
    for (const auto& l : lines) w = std::max(w, l.size());
    return static_cast<int>(w) * char_width + 12;
  }

  void event(std::string& out, std::size_t i) {
    const DiagramEvent& e = s_.events[i];
    const int y = top_[i];
    const int h = bottom_[i] - y;
    const auto lines = detail::label_of(e);
    const bool diverges = divergent(e);
    if (diverges) divergence_drawn_ = true;
    const std::string extra = diverges ? " divergence" : "";
    const std::string line_attr = " data-line=\"" + num(static_cast<long long>(e.line)) + "\"";
    const bool time_changed = i == 0 || s_.events[i - 1].ms != e.ms;
    if (time_changed) {
      out += "<text class=\"time\" x=\"" + num(time_width - 8) + "\" y=\"" + num(y + 12) +
             "\" text-anchor=\"end\" fill=\"#555555\">" + num(e.ms) + "ms</text>\n";
    }
    const int k = group_of(e.connection);
    if (diverges || (divergent_row(i) && e.kind == Kind::info)) {
      out += "<rect class=\"divergence-mark\" x=\"2\" y=\"" + num(y) + "\" width=\"" + num(width_ - 4) + "\" height=\"" +
             num(h) + "\" fill=\"none\" stroke=\"" + divergence_ink + "\" stroke-width=\"2\"/>\n";
      divergence_drawn_ = true;
    }
    if (k < 0 || e.kind == Kind::info || e.kind == Kind::outcome) {
      run_event(out, e, lines, y, extra, line_attr);
    } else {
      const Group& g = groups_[static_cast<std::size_t>(k)];
      switch (e.kind) {
        case Kind::open: open(out, e, g, y, extra, line_attr); break;
        case Kind::segment: arrow(out, e, g, lines, y, extra, line_attr); break;
        default: note(out, e, g, lines, y, extra, line_attr); break;
      }
    }
    if (diverges && !marks_.divergence_note.empty()) {
      out += "<text class=\"divergence-note\" x=\"" + num(width_ - 8) + "\" y=\"" + num(y + 12) +
             "\" text-anchor=\"end\" fill=\"" + divergence_ink + "\" font-weight=\"bold\">" +
             xml_text("first difference: " + marks_.divergence_note) + "</text>\n";
    }
  }

  void run_event(std::string& out, const DiagramEvent& e, const std::vector<std::string>& lines, int y,
                 const std::string& extra, const std::string& line_attr) const {
    const int x = time_width;
    if (e.kind == Kind::outcome) {
      const char* stroke = e.failed ? meddler_ink : verdict_ink;
      out += "<g class=\"verdict" + std::string(e.failed ? " failed" : "") + extra + "\"" + line_attr + ">" +
             box(x, y + 2, text_width(lines), static_cast<int>(lines.size()) * line_height + 6,
                 e.failed ? "#fde2e4" : "#f3e5f5", stroke) +
             text(lines, x + 6, y + 14, "start", stroke, true) + "</g>\n";
      return;
    }
    out += "<g class=\"info" + extra + "\"" + line_attr + ">" + text(lines, x, y + 12, "start", "#666666") + "</g>\n";
  }

  void open(std::string& out, const DiagramEvent& e, const Group& g, int y, const std::string& extra,
            const std::string& line_attr) const {
    out += "<g class=\"open" + extra + "\"" + line_attr + ">";
    const auto head = [&](int x, const std::string& name, const char* colour) {
      const int w = static_cast<int>(name.size()) * char_width + 12;
      out += box(x - w / 2, y + 14, w, 20, "#ffffff", colour);
      out += text({name}, x, y + 28, "middle", colour, true);
    };
    head(g.client, "client c" + num(e.connection), ink);
    if (g.meddler != 0) head(g.meddler, "meddler " + s_.meddler, meddler_ink);
    head(g.server, "server", ink);
    out += text({detail::note_label(e).front()}, (g.client + g.server) / 2, y + 10, "middle", "#555555");
    out += "</g>\n";
  }

  void arrow(std::string& out, const DiagramEvent& e, const Group& g, const std::vector<std::string>& lines, int y,
             const std::string& extra, const std::string& line_attr) const {
    int from = e.c2s ? g.client : g.server;
    int to = e.c2s ? g.server : g.client;
    if (e.from_meddler && g.meddler != 0) from = g.meddler;
    const bool meddled = e.meddled || e.from_meddler;
    const char* colour = meddled ? meddler_ink : e.tls ? tls_ink : plain_ink;
    std::string cls = std::string("arrow ") + (e.c2s ? "c2s" : "s2c") + (e.tls ? " tls" : e.inside_tls ? " inside-tls" : " plain");
    if (meddled) cls += " meddler";
    const int ly = y + static_cast<int>(lines.size()) * line_height + 4;
    const int dir = to > from ? 1 : -1;
    out += "<g class=\"" + cls + extra + "\"" + line_attr + ">";
    out += text(lines, (from + to) / 2, y + 12, "middle", meddled ? meddler_ink : ink, meddled);
    out += "<line x1=\"" + num(from) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(to - dir * 8) + "\" y2=\"" + num(ly) +
           "\" stroke=\"" + colour + "\" stroke-width=\"" + (e.tls ? "2.5" : "1.5") + "\"/>";
    out += "<polygon points=\"" + num(to) + "," + num(ly) + " " + num(to - dir * 9) + "," + num(ly - 4) + " " +
           num(to - dir * 9) + "," + num(ly + 4) + "\" fill=\"" + colour + "\"/>";
    out += "</g>\n";
  }

  void note(std::string& out, const DiagramEvent& e, const Group& g, const std::vector<std::string>& lines, int y,
            const std::string& extra, const std::string& line_attr) const {
    const int w = text_width(lines);
    const int h = static_cast<int>(lines.size()) * line_height + 6;
    int x = 0;
    std::string cls = "note";
    const char* fill = "#f4f4f4";
    const char* stroke = "#999999";
    const char* colour = ink;
    bool bold = false;
    switch (e.where) {
      case Where::client: x = g.client + 6, cls += " client"; break;
      case Where::server: x = g.server - 6 - w, cls += " server"; break;
      case Where::meddler:
        x = (g.meddler != 0 ? g.meddler : (g.client + g.server) / 2) - w / 2;
        cls += " meddler";
        fill = "#ffe5e5";
        stroke = colour = meddler_ink;
        bold = true;
        break;
      case Where::run: x = (g.client + g.server) / 2 - w / 2, cls += " network"; break;
    }
    out += "<g class=\"" + cls + extra + "\"" + line_attr + ">" + box(x, y + 2, w, h, fill, stroke) +
           text(lines, x + 6, y + 14, "start", colour, bold) + "</g>\n";
  }

  void divergence_at_end(std::string& out) {
    const int y = height_ - 22;
    out += "<g class=\"divergence\"><text x=\"" + num(time_width) + "\" y=\"" + num(y + 12) + "\" fill=\"" +
           divergence_ink + "\" font-weight=\"bold\">" +
           xml_text("first difference at run line " + std::to_string(*marks_.divergence_line) +
                    ", after the end of this run: " + marks_.divergence_note) +
           "</text></g>\n";
  }

  const Sequence& s_;
  const DiagramMarks& marks_;
  std::vector<detail::ConnectionSpan> spans_;
  std::vector<Group> groups_;
  std::vector<int> top_, bottom_;
  int width_ = 0, height_ = 0;
  bool divergence_drawn_ = false;
};

constexpr const char* page_css = R"(body { margin: 16px; background: #ffffff; color: #1b1b1b; font-family: monospace; }
ul.legend { list-style: none; padding: 0; margin: 0 0 12px 0; display: flex; gap: 18px; flex-wrap: wrap; }
ul.legend li::before { content: "\25A0  "; }
ul.legend .plain::before { color: #1f4e79; }
ul.legend .tls::before { color: #1e7b34; }
ul.legend .meddler::before { color: #d0021b; }
ul.legend .verdict::before { color: #6a1b9a; }
ul.legend .divergence::before { color: #ff00c8; }
div.diagram { overflow-x: auto; }
svg.sequence-diagram text { white-space: pre; }
)";

}  // namespace

std::string xml_text(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (c >= 0x80) {
          if (const std::size_t n = utf8_length(s, i)) {
            out.append(s.substr(i, n));
            i += n;
            continue;
          }
        }
        if (c < 0x20 || c == 0x7f || c >= 0x80) {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out;
}

std::string diagram_svg(const Sequence& s, const DiagramMarks& marks) { return SvgWriter(s, marks).svg(); }

std::string diagram_svg(const sim::TranscriptFile& t) { return diagram_svg(sequence_of(t)); }

std::string diagram_svg_file(const Sequence& s, const DiagramMarks& marks) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + diagram_svg(s, marks);
}

std::string diagram_html(const Sequence& s, const DiagramMarks& marks) {
  // The SVG carries the title and the details itself (as it does when a page embeds it).
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + xml_text(s.title) +
                    "</title>\n<style>\n" + page_css + "</style>\n</head>\n<body>\n";
  out += "<ul class=\"legend\"><li class=\"plain\">plaintext</li><li class=\"tls\">TLS (shaded band: the "
         "connection speaks TLS)</li>";
  if (!s.meddler.empty()) out += "<li class=\"meddler\">what the meddler did</li>";
  out += "<li class=\"verdict\">outcome and verdict</li>";
  if (marks.divergence_line) out += "<li class=\"divergence\">where the replay first differs</li>";
  out += "</ul>\n<div class=\"diagram\">\n" + diagram_svg(s, marks) + "</div>\n</body>\n</html>\n";
  return out;
}

std::string diagram_html(const sim::TranscriptFile& t) { return diagram_html(sequence_of(t)); }

}  // namespace tlschan::views

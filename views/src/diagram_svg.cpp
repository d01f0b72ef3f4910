// The diagram as SVG, and the HTML page around it. One row per event, top to bottom in virtual time;
// one column group (client, meddler, server) per connection, side by side.
#include <algorithm>
#include <charconv>

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

// xml_text appended to out: the text of an element or an attribute's value, as it is shown.
void append_xml_text(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
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
}

// Appends markup to a string: words as they are, numbers in decimal, with no string built for
// either (a diagram is thousands of elements).
class Markup {
 public:
  explicit Markup(std::string& out) : out_(out) {}
  Markup& operator<<(std::string_view s) {
    out_.append(s);
    return *this;
  }
  Markup& operator<<(const char* s) { return *this << std::string_view(s); }
  Markup& operator<<(const std::string& s) { return *this << std::string_view(s); }
  Markup& operator<<(long long v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  Markup& operator<<(unsigned long long v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  Markup& operator<<(int v) { return *this << static_cast<long long>(v); }
  // Text of the input, escaped (xml_text).
  struct Escaped {
    std::string_view s;
  };
  Markup& operator<<(Escaped e) {
    append_xml_text(out_, e.s);
    return *this;
  }

 private:
  std::string& out_;
};

Markup::Escaped escaped(std::string_view s) { return {s}; }

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

  void svg(std::string& out) {
    lay_out();
    Markup m(out);
    m << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sequence-diagram\" width=\"" << width_ << "\" height=\""
      << height_ << "\" viewBox=\"0 0 " << width_ << " " << height_
      << "\" font-family=\"monospace\" font-size=\"12\" xml:space=\"preserve\">\n";
    m << "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" << width_ << "\" height=\"" << height_
      << "\" fill=\"#ffffff\"/>\n";
    m << "<text class=\"title\" x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"bold\" fill=\"" << ink << "\">"
      << escaped(s_.title) << "</text>\n";
    int y = 18;
    for (const auto& d : s_.details) {
      y += line_height;
      m << "<text class=\"detail\" x=\"8\" y=\"" << y << "\" fill=\"#555555\">" << escaped(d) << "</text>\n";
    }
    bands(m);
    lifelines(m);
    for (std::size_t i = 0; i < s_.events.size(); ++i) event(m, i);
    if (marks_.divergence_line && !divergence_drawn_) divergence_at_end(m);
    m << "</svg>\n";
  }

 private:
  int group_of(int connection) const {
    for (std::size_t k = 0; k < spans_.size(); ++k) {
      if (spans_[k].id == connection) return static_cast<int>(k);
    }
    return -1;
  }

  // Each event's label (drawn below) and its row: computed once.
  void lay_out() {
    int y = title_height + static_cast<int>(s_.details.size()) * line_height + 16;
    labels_.reserve(s_.events.size());
    top_.reserve(s_.events.size());
    bottom_.reserve(s_.events.size());
    for (const DiagramEvent& e : s_.events) {
      labels_.push_back(detail::label_of(e));
      const auto lines = static_cast<int>(labels_.back().size());
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

  void bands(Markup& m) const {
    for (std::size_t k = 0; k < spans_.size(); ++k) {
      if (!spans_[k].tls_from) continue;
      const Group& g = groups_[k];
      const int y0 = top_[*spans_[k].tls_from];
      const int y1 = bottom_[spans_[k].last];
      m << "<rect class=\"tls-band\" data-connection=\"" << spans_[k].id << "\" x=\"" << g.client - 12 << "\" y=\""
        << y0 << "\" width=\"" << g.server - g.client + 24 << "\" height=\"" << y1 - y0
        << "\" fill=\"#dff3e3\" stroke=\"" << tls_ink << "\" stroke-opacity=\"0.4\"/>\n";
      m << "<text class=\"tls-band-label\" x=\"" << g.server + 16 << "\" y=\"" << y0 + 12 << "\" fill=\"" << tls_ink
        << "\" font-weight=\"bold\">TLS</text>\n";
    }
  }

  void lifelines(Markup& m) const {
    for (std::size_t k = 0; k < spans_.size(); ++k) {
      const Group& g = groups_[k];
      const int y0 = top_[spans_[k].first] + 34;
      const int y1 = bottom_[spans_[k].last];
      m << "<g class=\"lifelines\" data-connection=\"" << spans_[k].id
        << "\" stroke=\"#888888\" stroke-dasharray=\"4 3\">";
      for (int x : {g.client, g.meddler, g.server}) {
        if (x == 0) continue;
        m << "<line x1=\"" << x << "\" y1=\"" << y0 << "\" x2=\"" << x << "\" y2=\"" << y1 << "\"/>";
      }
      m << "</g>\n";
    }
  }

  // A multi-line label as one <text>, each line a <tspan>.
  static void text(Markup& m, const std::vector<std::string>& lines, int x, int y, const char* anchor,
                   const char* fill, bool bold = false) {
    m << "<text x=\"" << x << "\" y=\"" << y << "\" text-anchor=\"" << anchor << "\" fill=\"" << fill << "\""
      << (bold ? " font-weight=\"bold\"" : "") << ">";
    for (std::size_t i = 0; i < lines.size(); ++i) {
      m << "<tspan x=\"" << x << "\"";
      if (i != 0) m << " dy=\"" << line_height << "\"";
      m << ">" << escaped(lines[i]) << "</tspan>";
    }
    m << "</text>";
  }
  static void text(Markup& m, std::string_view line, int x, int y, const char* anchor, const char* fill,
                   bool bold = false) {
    m << "<text x=\"" << x << "\" y=\"" << y << "\" text-anchor=\"" << anchor << "\" fill=\"" << fill << "\""
      << (bold ? " font-weight=\"bold\"" : "") << "><tspan x=\"" << x << "\">" << escaped(line) << "</tspan></text>";
  }

  static void box(Markup& m, int x, int y, int w, int h, const char* fill, const char* stroke) {
    m << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << h << "\" rx=\"3\" fill=\""
      << fill << "\" stroke=\"" << stroke << "\"/>";
  }

  static int text_width(const std::vector<std::string>& lines) {
    std::size_t w = 0;
    for (const auto& l : lines) w = std::max(w, l.size());
    return static_cast<int>(w) * char_width + 12;
  }

  // The class attribute's end, and the event's data-line: `" data-line="N"` after the classes.
  void close_class(Markup& m, const DiagramEvent& e, bool diverges) const {
    if (diverges) m << " divergence";
    m << "\" data-line=\"" << static_cast<long long>(e.line) << "\">";
  }

  void event(Markup& m, std::size_t i) {
    const DiagramEvent& e = s_.events[i];
    const int y = top_[i];
    const int h = bottom_[i] - y;
    const auto& lines = labels_[i];
    const bool diverges = divergent(e);
    if (diverges) divergence_drawn_ = true;
    const bool time_changed = i == 0 || s_.events[i - 1].ms != e.ms;
    if (time_changed) {
      m << "<text class=\"time\" x=\"" << time_width - 8 << "\" y=\"" << y + 12
        << "\" text-anchor=\"end\" fill=\"#555555\">" << e.ms << "ms</text>\n";
    }
    const int k = group_of(e.connection);
    if (diverges || (divergent_row(i) && e.kind == Kind::info)) {
      m << "<rect class=\"divergence-mark\" x=\"2\" y=\"" << y << "\" width=\"" << width_ - 4 << "\" height=\"" << h
        << "\" fill=\"none\" stroke=\"" << divergence_ink << "\" stroke-width=\"2\"/>\n";
      divergence_drawn_ = true;
    }
    if (k < 0 || e.kind == Kind::info || e.kind == Kind::outcome) {
      run_event(m, e, lines, y, diverges);
    } else {
      const Group& g = groups_[static_cast<std::size_t>(k)];
      switch (e.kind) {
        case Kind::open: open(m, e, g, y, diverges); break;
        case Kind::segment: arrow(m, e, g, lines, y, diverges); break;
        default: note(m, e, g, lines, y, diverges); break;
      }
    }
    if (diverges && !marks_.divergence_note.empty()) {
      m << "<text class=\"divergence-note\" x=\"" << width_ - 8 << "\" y=\"" << y + 12
        << "\" text-anchor=\"end\" fill=\"" << divergence_ink << "\" font-weight=\"bold\">"
        << escaped("first difference: ") << escaped(marks_.divergence_note) << "</text>\n";
    }
  }

  void run_event(Markup& m, const DiagramEvent& e, const std::vector<std::string>& lines, int y,
                 bool diverges) const {
    const int x = time_width;
    if (e.kind == Kind::outcome) {
      const char* stroke = e.failed ? meddler_ink : verdict_ink;
      m << "<g class=\"verdict" << (e.failed ? " failed" : "");
      close_class(m, e, diverges);
      box(m, x, y + 2, text_width(lines), static_cast<int>(lines.size()) * line_height + 6,
          e.failed ? "#fde2e4" : "#f3e5f5", stroke);
      text(m, lines, x + 6, y + 14, "start", stroke, true);
      m << "</g>\n";
      return;
    }
    m << "<g class=\"info";
    close_class(m, e, diverges);
    text(m, lines, x, y + 12, "start", "#666666");
    m << "</g>\n";
  }

  void open(Markup& m, const DiagramEvent& e, const Group& g, int y, bool diverges) const {
    m << "<g class=\"open";
    close_class(m, e, diverges);
    const auto head = [&](int x, const std::string& name, const char* colour) {
      const int w = static_cast<int>(name.size()) * char_width + 12;
      box(m, x - w / 2, y + 14, w, 20, "#ffffff", colour);
      text(m, name, x, y + 28, "middle", colour, true);
    };
    head(g.client, "client c" + std::to_string(e.connection), ink);
    if (g.meddler != 0) head(g.meddler, "meddler " + s_.meddler, meddler_ink);
    head(g.server, "server", ink);
    text(m, detail::note_label(e).front(), (g.client + g.server) / 2, y + 10, "middle", "#555555");
    m << "</g>\n";
  }

  void arrow(Markup& m, const DiagramEvent& e, const Group& g, const std::vector<std::string>& lines, int y,
             bool diverges) const {
    int from = e.c2s ? g.client : g.server;
    int to = e.c2s ? g.server : g.client;
    if (e.from_meddler && g.meddler != 0) from = g.meddler;
    const bool meddled = e.meddled || e.from_meddler;
    const char* colour = meddled ? meddler_ink : e.tls ? tls_ink : plain_ink;
    const int ly = y + static_cast<int>(lines.size()) * line_height + 4;
    const int dir = to > from ? 1 : -1;
    m << "<g class=\"arrow " << (e.c2s ? "c2s" : "s2c") << (e.tls ? " tls" : e.inside_tls ? " inside-tls" : " plain")
      << (meddled ? " meddler" : "");
    close_class(m, e, diverges);
    text(m, lines, (from + to) / 2, y + 12, "middle", meddled ? meddler_ink : ink, meddled);
    m << "<line x1=\"" << from << "\" y1=\"" << ly << "\" x2=\"" << to - dir * 8 << "\" y2=\"" << ly << "\" stroke=\""
      << colour << "\" stroke-width=\"" << (e.tls ? "2.5" : "1.5") << "\"/>";
    m << "<polygon points=\"" << to << "," << ly << " " << to - dir * 9 << "," << ly - 4 << " " << to - dir * 9 << ","
      << ly + 4 << "\" fill=\"" << colour << "\"/>";
    m << "</g>\n";
  }

  void note(Markup& m, const DiagramEvent& e, const Group& g, const std::vector<std::string>& lines, int y,
            bool diverges) const {
    const int w = text_width(lines);
    const int h = static_cast<int>(lines.size()) * line_height + 6;
    int x = 0;
    const char* cls = "note";
    const char* fill = "#f4f4f4";
    const char* stroke = "#999999";
    const char* colour = ink;
    bool bold = false;
    switch (e.where) {
      case Where::client: x = g.client + 6, cls = "note client"; break;
      case Where::server: x = g.server - 6 - w, cls = "note server"; break;
      case Where::meddler:
        x = (g.meddler != 0 ? g.meddler : (g.client + g.server) / 2) - w / 2;
        cls = "note meddler";
        fill = "#ffe5e5";
        stroke = colour = meddler_ink;
        bold = true;
        break;
      case Where::run: x = (g.client + g.server) / 2 - w / 2, cls = "note network"; break;
    }
    m << "<g class=\"" << cls;
    close_class(m, e, diverges);
    box(m, x, y + 2, w, h, fill, stroke);
    text(m, lines, x + 6, y + 14, "start", colour, bold);
    m << "</g>\n";
  }

  void divergence_at_end(Markup& m) {
    const int y = height_ - 22;
    m << "<g class=\"divergence\"><text x=\"" << time_width << "\" y=\"" << y + 12 << "\" fill=\"" << divergence_ink
      << "\" font-weight=\"bold\">" << escaped("first difference at run line ")
      << static_cast<unsigned long long>(*marks_.divergence_line) << escaped(", after the end of this run: ")
      << escaped(marks_.divergence_note) << "</text></g>\n";
  }

  const Sequence& s_;
  const DiagramMarks& marks_;
  std::vector<detail::ConnectionSpan> spans_;
  std::vector<Group> groups_;
  std::vector<std::vector<std::string>> labels_;
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
  std::string out;
  out.reserve(s.size());
  append_xml_text(out, s);
  return out;
}

std::string diagram_svg(const Sequence& s, const DiagramMarks& marks) {
  std::string out;
  SvgWriter(s, marks).svg(out);
  return out;
}

std::string diagram_svg(const sim::TranscriptFile& t) { return diagram_svg(sequence_of(t)); }

std::string diagram_svg_file(const Sequence& s, const DiagramMarks& marks) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  SvgWriter(s, marks).svg(out);
  return out;
}

std::string diagram_html(const Sequence& s, const DiagramMarks& marks) {
  // The SVG carries the title and the details itself (as it does when a page embeds it).
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
  append_xml_text(out, s.title);
  out += "</title>\n<style>\n";
  out += page_css;
  out += "</style>\n</head>\n<body>\n";
  out += "<ul class=\"legend\"><li class=\"plain\">plaintext</li><li class=\"tls\">TLS (shaded band: the "
         "connection speaks TLS)</li>";
  if (!s.meddler.empty()) out += "<li class=\"meddler\">what the meddler did</li>";
  out += "<li class=\"verdict\">outcome and verdict</li>";
  if (marks.divergence_line) out += "<li class=\"divergence\">where the replay first differs</li>";
  out += "</ul>\n<div class=\"diagram\">\n";
  SvgWriter(s, marks).svg(out);
  out += "</div>\n</body>\n</html>\n";
  return out;
}

std::string diagram_html(const sim::TranscriptFile& t) { return diagram_html(sequence_of(t)); }

}  // namespace tlschan::views

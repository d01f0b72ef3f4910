// Reading the transcripts tlschan writes into the events a diagram draws: the simulator's
// transcripts (format v1 and v2), the evidence files of probe and client-check (the same line
// format under their own header) and the JSON of `send --json`.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/transcript.hpp"
#include "tlschan/views/diagram.hpp"

namespace tlschan::views {

namespace {

using Kind = DiagramEvent::Kind;
using Where = DiagramEvent::Where;

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The transcript's escape read back (\r, \n, \\, \xhh); anything else stays as it is.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    const char e = s[i + 1];
    if (e == 'r') {
      out += '\r';
      ++i;
    } else if (e == 'n') {
      out += '\n';
      ++i;
    } else if (e == '\\') {
      out += '\\';
      ++i;
    } else if (e == 'x' && i + 3 < s.size() && hex_digit(s[i + 2]) >= 0 && hex_digit(s[i + 3]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 2]) * 16 + hex_digit(s[i + 3]));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool parse_number(std::string_view s, unsigned long long& v) {
  if (s.empty() || s.size() > 18) return false;
  v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long long>(c - '0');
  }
  return true;
}

std::string_view word(std::string_view& rest) {
  const auto sp = rest.find(' ');
  const std::string_view w = rest.substr(0, sp);
  rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
  return w;
}

// Bytes of a connection's direction a meddler changed or injected (stream offsets), to mark the
// segments that carry them; and its own answers, to draw them from the meddler.
struct MeddledRange {
  int connection = 0;
  bool c2s = true;
  unsigned long long from = 0, to = 0;
};

class BodyReader {
 public:
  explicit BodyReader(Sequence& s) : s_(s) {}

  // One run line; the error is the column (1-based) where it stops making sense, with a sentence.
  std::optional<std::pair<std::size_t, std::string>> line(std::string_view l, std::size_t number) {
    DiagramEvent e;
    e.line = number;
    std::size_t at = 0;
    while (at < l.size() && l[at] == ' ') ++at;
    const std::size_t digits = at;
    while (at < l.size() && l[at] >= '0' && l[at] <= '9') ++at;
    unsigned long long ms = 0;
    if (at == digits || !parse_number(l.substr(digits, at - digits), ms) || l.substr(at, 3) != "ms ") {
      return std::make_pair(digits + 1, std::string("expected a time stamp (\"1234ms \") at the start of a run line"));
    }
    e.ms = static_cast<long long>(ms);
    std::string_view rest = l.substr(at + 3);
    if (rest.size() > 1 && rest[0] == 'c' && std::isdigit(static_cast<unsigned char>(rest[1]))) {
      const std::size_t col = l.size() - rest.size() + 1;
      std::string_view conn = word(rest);
      unsigned long long id = 0;
      if (!parse_number(conn.substr(1), id) || id > 1'000'000) {
        return std::make_pair(col, "expected a connection (\"c3\"), found '" + std::string(conn) + "'");
      }
      e.connection = static_cast<int>(id);
      connection_line(e, rest);
    } else {
      run_line(e, rest);
    }
    s_.events.push_back(std::move(e));
    return std::nullopt;
  }

  // A line that does not read, shown as it is at the time before it.
  void unread(std::string_view l, std::size_t number) {
    DiagramEvent e;
    e.line = number;
    e.ms = s_.events.empty() ? 0 : s_.events.back().ms;
    e.text = std::string(l);
    record_offsets(e);
    s_.events.push_back(std::move(e));
  }

  void finish() {
    // A segment carries meddled bytes when its stream range meets a range the meddler changed.
    for (DiagramEvent& e : s_.events) {
      if (e.kind != Kind::segment || e.from_meddler) continue;
      for (const MeddledRange& m : meddled_) {
        if (m.connection == e.connection && m.c2s == e.c2s && m.from < offset_end_[&e - s_.events.data()] &&
            offset_start_[&e - s_.events.data()] < m.to) {
          e.meddled = true;
        }
      }
    }
  }

 private:
  void run_line(DiagramEvent& e, std::string_view rest) {
    e.text = std::string(rest);
    if (starts_with(rest, "outcome ")) {
      e.kind = Kind::outcome;
    } else if (starts_with(rest, "violation ")) {
      e.kind = Kind::outcome;
      e.failed = true;
    } else {
      e.kind = Kind::info;
      if (starts_with(rest, "seed ")) {
        const auto m = rest.find(" meddler=");
        if (m != std::string_view::npos) {
          std::string_view v = rest.substr(m + 9);
          const std::string_view name = word(v);
          if (name != "none") s_.meddler = std::string(name);
        }
      }
    }
    record_offsets(e);
  }

  void connection_line(DiagramEvent& e, std::string_view rest) {
    const bool c2s = starts_with(rest, "c>s ");
    if (c2s || starts_with(rest, "s>c ")) {
      e.c2s = c2s;
      std::string_view what = rest.substr(4);
      if (what == "close") {
        e.kind = Kind::note;
        e.where = c2s ? Where::client : Where::server;
        e.text = c2s ? "client closes its side" : "server closes its side";
      } else if (starts_with(what, "tls ")) {
        std::string_view r = what.substr(4);
        unsigned long long n = 0;
        if (parse_number(word(r), n)) {
          e.kind = Kind::segment;
          e.tls = true;
          e.tls_bytes = static_cast<std::size_t>(n);
        } else {
          e.kind = Kind::note;
          e.text = std::string(rest);
        }
      } else if (starts_with(what, "in-tls ")) {
        e.kind = Kind::segment;
        e.inside_tls = true;
        e.text = unescape(what.substr(7));
      } else {
        e.kind = Kind::segment;
        e.text = unescape(what);
      }
      if (e.kind == Kind::segment) take_answer(e);
      record_offsets(e);
      return;
    }
    if (starts_with(rest, "meddler ")) {
      meddler_line(e, rest.substr(8));
      record_offsets(e);
      return;
    }
    e.text = std::string(rest);
    if (starts_with(rest, "open ")) {
      e.kind = Kind::open;
      e.text = std::string(rest.substr(5));
    } else if (starts_with(rest, "client ")) {
      e.kind = Kind::note;
      e.where = Where::client;
      e.text = std::string(rest.substr(7));
    } else if (starts_with(rest, "server ")) {
      e.kind = Kind::note;
      e.where = Where::server;
      e.text = std::string(rest.substr(7));
    } else {
      e.kind = Kind::note;
      e.where = Where::run;
    }
    record_offsets(e);
  }

  // "KIND DIR [tls] ACTION ...": injected at OFF: BYTES | changed N bytes at OFF: OLD -> NEW |
  // dropped: BYTES | answered: BYTES.
  void meddler_line(DiagramEvent& e, std::string_view rest) {
    e.kind = Kind::meddler;
    e.where = Where::meddler;
    const std::string_view kind = word(rest);
    if (s_.meddler.empty()) s_.meddler = std::string(kind);
    const std::string_view dir = word(rest);
    e.c2s = dir == "c>s";
    if (starts_with(rest, "tls ")) {
      e.tls = true;
      rest.remove_prefix(4);
    }
    // The action's words run to the first ": "; the bytes follow it.
    const auto colon = rest.find(": ");
    std::string_view args = colon == std::string_view::npos ? rest : rest.substr(0, colon);
    const std::string bytes = colon == std::string_view::npos ? std::string() : unescape(rest.substr(colon + 2));
    const std::string_view action = word(args);
    e.text = std::string(kind) + " " + std::string(action);
    std::string_view a = args;
    unsigned long long n = 0, off = 0;
    if (action == "injected" && word(a) == "at" && parse_number(word(a), off)) {
      e.bytes = bytes;
      meddled_.push_back({e.connection, e.c2s, off, off + bytes.size()});
    } else if (action == "changed" && parse_number(word(a), n) && starts_with(a, "byte") && n * 2 + 4 == bytes.size()) {
      word(a);
      if (word(a) == "at" && parse_number(word(a), off)) meddled_.push_back({e.connection, e.c2s, off, off + n});
      e.old_bytes = bytes.substr(0, static_cast<std::size_t>(n));
      e.bytes = bytes.substr(static_cast<std::size_t>(n) + 4);
      e.text += " " + std::to_string(n) + (n == 1 ? " byte" : " bytes");
    } else if (action == "answered") {
      e.bytes = bytes;
      answers_.push_back({e.connection, bytes});
    } else {
      e.bytes = bytes;
    }
  }

  // The meddler's own answer arrives as a segment of the direction it answers, outside the stream.
  void take_answer(DiagramEvent& e) {
    if (e.c2s) return;
    for (auto it = answers_.begin(); it != answers_.end(); ++it) {
      if (it->first == e.connection && it->second == e.text) {
        e.from_meddler = true;
        e.meddled = true;
        answers_.erase(it);
        return;
      }
    }
  }

  void record_offsets(const DiagramEvent& e) {
    unsigned long long start = 0, end = 0;
    if (e.kind == Kind::segment && !e.from_meddler && !e.inside_tls) {
      unsigned long long& at = stream_[{e.connection, e.c2s}];
      start = at;
      at += e.tls ? e.tls_bytes : e.text.size();
      end = at;
    }
    offset_start_.push_back(start);
    offset_end_.push_back(end);
  }

  Sequence& s_;
  std::map<std::pair<int, bool>, unsigned long long> stream_;
  std::vector<unsigned long long> offset_start_, offset_end_;  // per event
  std::vector<MeddledRange> meddled_;
  std::vector<std::pair<int, std::string>> answers_;
};

// What the scenario expected, to say whether the outcome lines meet it.
void judge_outcomes(Sequence& s, const std::string& scenario_toml) {
  auto scenario = sim::parse_scenario(scenario_toml, "scenario");
  if (!scenario) return;
  s.title = "tlschan run: " + scenario->name;
  if (!scenario->expect) return;
  const std::string expected = to_string(*scenario->expect);
  s.details.push_back("expected outcome: " + expected);
  for (DiagramEvent& e : s.events) {
    if (e.kind != Kind::outcome || !starts_with(e.text, "outcome msg")) continue;
    std::string_view rest = e.text;
    word(rest);
    word(rest);
    const std::string_view got = word(rest);
    if (got != expected) {
      e.failed = true;
      e.text += " (expected " + expected + ")";
    }
  }
}

using ReadResult = Expected<Sequence, std::string>;

std::string at(const std::string& file, std::size_t line, std::size_t column) {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: ";
}

// The run lines from `first` (file line `first + 1`) to the "end" line.
std::optional<std::string> read_body(Sequence& s, const std::vector<std::string_view>& lines, std::size_t first,
                                     const std::string& file) {
  BodyReader reader(s);
  std::size_t i = first;
  for (; i < lines.size() && lines[i] != "end"; ++i) {
    if (auto bad = reader.line(lines[i], i - first + 1)) return at(file, i + 1, bad->first) + bad->second;
  }
  if (i >= lines.size()) return at(file, lines.size(), 1) + "the run is cut short (no \"end\" line)";
  reader.finish();
  return std::nullopt;
}

ReadResult read_simulator_transcript(std::string_view text, const std::string& file) {
  auto t = sim::parse_transcript(text, file);
  if (!t) return unexpected(t.error());
  Sequence s;
  const auto lines = sim::text_lines(text);
  // Four header lines, the scenario's lines, then "run" (parse_transcript checked them).
  std::size_t scenario_lines = 0;
  for (const char c : t->scenario_toml) scenario_lines += c == '\n';
  const std::size_t run = 4 + scenario_lines;
  if (auto bad = read_body(s, lines, run + 1, file)) return unexpected(*bad);
  s.title = "tlschan run";
  judge_outcomes(s, t->scenario_toml);
  s.title += " (seed " + std::to_string(t->seed) + ")";
  s.details.insert(s.details.begin(), "transcript v" + std::to_string(t->version) + ", recorded with " + t->openssl);
  return s;
}

// "tlschan probe evidence v1" / "tlschan client-check evidence v1".
ReadResult read_evidence(std::string_view text, const std::string& file) {
  const auto lines = sim::text_lines(text);
  Sequence s;
  const std::string_view first = lines[0];
  s.title = std::string(first.substr(0, first.find(" evidence v")));
  std::string verdict, reason;
  std::size_t i = 1;
  for (; i < lines.size() && lines[i] != "run"; ++i) {
    std::string_view rest = lines[i];
    const std::string_view key = word(rest);
    if (key.empty()) return unexpected(at(file, i + 1, 1) + "expected a header line \"KEY VALUE\" before \"run\"");
    if (key == "verdict") {
      verdict = std::string(rest);
    } else if (key == "reason") {
      reason = std::string(rest);
    } else if (key == "check" || key == "case") {
      s.title += ": " + std::string(rest);
    } else {
      s.details.push_back(std::string(key) + " " + std::string(rest));
    }
  }
  if (i >= lines.size()) return unexpected(at(file, lines.size(), 1) + "expected \"run\" after the header");
  if (verdict.empty()) return unexpected(at(file, i + 1, 1) + "expected a \"verdict\" line before \"run\"");
  if (auto bad = read_body(s, lines, i + 1, file)) return unexpected(*bad);
  DiagramEvent v;
  v.kind = Kind::outcome;
  v.ms = s.events.empty() ? 0 : s.events.back().ms;
  v.text = "verdict " + verdict + (reason.empty() ? "" : ": " + reason);
  v.failed = verdict == "FAIL";
  s.events.push_back(std::move(v));
  return s;
}

// Line and column (1-based) of a byte offset.
std::pair<std::size_t, std::size_t> position(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

// The JSON `send --json` prints: {"transcript": [{"connection", "ms", "event"} or
// {"connection", "ms", "direction", "text" | "tls_bytes"}], "disposition", ...}.
ReadResult read_send_json(std::string_view text, const std::string& file) {
  // The parser recurses once per level: a file nested deeper than send ever writes is refused first.
  constexpr int max_depth = 32;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        const auto [line, column] = position(text, i);
        return unexpected(at(file, line, column) + "nested more than " + std::to_string(max_depth) +
                          " deep: not the JSON of `tlschan send --json`");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    const auto [line, column] = position(text, e.byte > 0 ? e.byte - 1 : 0);
    return unexpected(at(file, line, column) + "not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!j.is_object() || !j.contains("transcript") || !j["transcript"].is_array()) {
    return unexpected(at(file, 1, 1) + "expected the JSON of `tlschan send --json` (an object with a \"transcript\" array)");
  }
  Sequence s;
  s.title = "tlschan send";
  if (j.contains("client_policy") && j["client_policy"].is_string()) {
    s.details.push_back("client policy: " + j["client_policy"].get<std::string>());
  }
  std::size_t n = 0;
  std::set<int> opened;
  for (const auto& entry : j["transcript"]) {
    ++n;
    const auto bad = [&](const std::string& what) {
      return unexpected(at(file, 1, 1) + "transcript entry " + std::to_string(n) + ": " + what);
    };
    if (!entry.is_object() || !entry.contains("connection") || !entry["connection"].is_number_integer() ||
        !entry.contains("ms") || !entry["ms"].is_number_integer()) {
      return bad("expected an object with \"connection\" and \"ms\" numbers");
    }
    DiagramEvent e;
    e.line = n;
    e.connection = entry["connection"].get<int>();
    e.ms = entry["ms"].get<long long>();
    if (opened.insert(e.connection).second) {
      DiagramEvent o = e;
      o.kind = Kind::open;
      o.text = "connection " + std::to_string(e.connection);
      s.events.push_back(o);
    }
    if (entry.contains("event") && entry["event"].is_string()) {
      e.kind = Kind::note;
      e.text = entry["event"].get<std::string>();
    } else if (entry.contains("direction") && entry["direction"].is_string()) {
      e.kind = Kind::segment;
      e.c2s = entry["direction"].get<std::string>() == "c>s";
      if (entry.contains("tls_bytes") && entry["tls_bytes"].is_number_unsigned()) {
        e.tls = true;
        e.tls_bytes = entry["tls_bytes"].get<std::size_t>();
      } else if (entry.contains("text") && entry["text"].is_string()) {
        e.text = entry["text"].get<std::string>();
      } else {
        return bad("expected \"text\" or \"tls_bytes\" beside \"direction\"");
      }
    } else {
      return bad("expected \"event\" or \"direction\"");
    }
    s.events.push_back(std::move(e));
  }
  if (j.contains("disposition") && j["disposition"].is_string()) {
    DiagramEvent v;
    v.kind = Kind::outcome;
    v.ms = s.events.empty() ? 0 : s.events.back().ms;
    v.text = "disposition " + j["disposition"].get<std::string>();
    v.failed = j["disposition"].get<std::string>() != "delivered";
    s.events.push_back(std::move(v));
  }
  return s;
}

}  // namespace

Sequence sequence_of(const sim::TranscriptFile& t) {
  Sequence s;
  BodyReader reader(s);
  const auto lines = sim::text_lines(t.body);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (reader.line(lines[i], i + 1)) reader.unread(lines[i], i + 1);
  }
  reader.finish();
  s.title = "tlschan run";
  judge_outcomes(s, t.scenario_toml);
  s.title += " (seed " + std::to_string(t.seed) + ")";
  s.details.insert(s.details.begin(), "transcript v" + std::to_string(t.version) + ", recorded with " + t.openssl);
  return s;
}

Expected<Sequence, std::string> read_sequence(std::string_view text, const std::string& file) {
  std::size_t lead = 0;
  while (lead < text.size() && std::isspace(static_cast<unsigned char>(text[lead]))) ++lead;
  if (lead < text.size() && text[lead] == '{') return read_send_json(text, file);
  if (starts_with(text, "tlschan transcript v")) return read_simulator_transcript(text, file);
  const std::string_view first = text.substr(0, text.find('\n'));
  if (starts_with(first, "tlschan ") && first.find(" evidence v1") != std::string_view::npos &&
      first.size() == first.find(" evidence v1") + 12) {
    return read_evidence(text, file);
  }
  return unexpected(at(file, 1, 1) +
                    "not a tlschan transcript (expected \"tlschan transcript v2\", \"tlschan probe evidence v1\", "
                    "\"tlschan client-check evidence v1\" or the JSON of `tlschan send --json`)");
}

}  // namespace tlschan::views

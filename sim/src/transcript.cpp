#include "tlschan/sim/transcript.hpp"

#include <openssl/crypto.h>

#include <vector>

namespace tlschan::sim {

namespace {

bool is_tls_bytes_line(std::string_view line) {
  return line.find(" c>s tls ") != std::string_view::npos || line.find(" s>c tls ") != std::string_view::npos;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

std::string openssl_version() { return OpenSSL_version(OPENSSL_VERSION); }

std::vector<std::string_view> text_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto lf = text.find('\n', at);
    if (lf == std::string_view::npos) {
      lines.push_back(text.substr(at));
      break;
    }
    lines.push_back(text.substr(at, lf - at));
    at = lf + 1;
  }
  return lines;
}

std::string format_transcript(const TranscriptFile& t) {
  std::string out = "tlschan transcript v" + std::to_string(t.version) + "\n";
  out += "seed " + std::to_string(t.seed) + "\n";
  out += "openssl " + t.openssl + "\n";
  const auto scenario_lines = text_lines(t.scenario_toml);
  out += "scenario " + std::to_string(scenario_lines.size()) + " lines\n";
  for (const auto& l : scenario_lines) {
    out.append(l);
    out += '\n';
  }
  out += "run\n";
  out += t.body;
  out += "end\n";
  return out;
}

Expected<TranscriptFile, std::string> parse_transcript(std::string_view text, const std::string& file) {
  const auto lines = text_lines(text);
  auto err = [&](std::size_t line, const std::string& what) {
    return unexpected(file + ":" + std::to_string(line) + ":1: error: " + what);
  };
  TranscriptFile t;
  std::size_t i = 0;
  if (lines.empty() || !starts_with(lines[0], "tlschan transcript v")) {
    return err(1, "not a tlschan transcript (expected a first line \"tlschan transcript v" + std::to_string(transcript_version) + "\")");
  }
  const std::string_view version = lines[0].substr(20);
  t.version = 0;
  for (int v = oldest_transcript_version; v <= transcript_version; ++v) {
    if (version == std::to_string(v)) t.version = v;
  }
  if (t.version == 0) {
    return err(1, "transcript format v" + std::string(version) + ", this tlschan reads v" +
                      std::to_string(oldest_transcript_version) + " to v" + std::to_string(transcript_version));
  }
  i = 1;
  if (i >= lines.size() || !starts_with(lines[i], "seed ")) return err(i + 1, "expected \"seed N\"");
  try {
    std::size_t used = 0;
    const std::string digits(lines[i].substr(5));
    t.seed = std::stoull(digits, &used);
    if (used != digits.size()) return err(i + 1, "expected \"seed N\" with N a number");
  } catch (...) {
    return err(i + 1, "expected \"seed N\" with N a number");
  }
  ++i;
  if (i >= lines.size() || !starts_with(lines[i], "openssl ")) return err(i + 1, "expected \"openssl VERSION\"");
  t.openssl = std::string(lines[i].substr(8));
  ++i;
  if (i >= lines.size() || !starts_with(lines[i], "scenario ")) return err(i + 1, "expected \"scenario N lines\"");
  std::size_t n = 0;
  {
    const std::string_view rest = lines[i].substr(9);
    const auto space = rest.find(' ');
    try {
      n = std::stoul(std::string(rest.substr(0, space)));
    } catch (...) {
      return err(i + 1, "expected \"scenario N lines\" with N a number");
    }
  }
  ++i;
  if (n > lines.size() - i) return err(i + 1, "the scenario is cut short");
  for (std::size_t k = 0; k < n; ++k, ++i) {
    t.scenario_toml.append(lines[i]);
    t.scenario_toml += '\n';
  }
  if (i >= lines.size() || lines[i] != "run") return err(i + 1, "expected \"run\" after the scenario");
  ++i;
  for (; i < lines.size() && lines[i] != "end"; ++i) {
    t.body.append(lines[i]);
    t.body += '\n';
  }
  if (i >= lines.size()) return err(i, "the run is cut short (no \"end\" line)");
  return t;
}

namespace {
// "      1234ms c3 meddler ...": a line v2 added.
bool is_meddler_line(std::string_view line) {
  std::size_t at = 0;
  while (at < line.size() && line[at] == ' ') ++at;
  while (at < line.size() && line[at] >= '0' && line[at] <= '9') ++at;
  if (line.substr(at, 4) != "ms c") return false;
  at += 4;
  while (at < line.size() && line[at] >= '0' && line[at] <= '9') ++at;
  return line.substr(at, 9) == " meddler ";
}
}  // namespace

std::string body_in_version(std::string_view body, int version) {
  if (version >= 2) return std::string(body);
  std::string out;
  out.reserve(body.size());
  for (const auto line : text_lines(body)) {
    if (is_meddler_line(line)) continue;
    out.append(line);
    out += '\n';
  }
  return out;
}

Divergence compare_runs(std::string_view recorded, std::string_view replayed, bool compare_tls) {
  Divergence d;
  d.tls_compared = compare_tls;
  const auto a = text_lines(recorded);
  const auto b = text_lines(replayed);
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (!compare_tls) {
      while (i < a.size() && is_tls_bytes_line(a[i])) ++i;
      while (j < b.size() && is_tls_bytes_line(b[j])) ++j;
      if (i >= a.size() && j >= b.size()) break;
    }
    const std::string_view x = i < a.size() ? a[i] : std::string_view("(the recorded run ends here)");
    const std::string_view y = j < b.size() ? b[j] : std::string_view("(the replayed run ends here)");
    if (x != y || i >= a.size() || j >= b.size()) {
      d.identical = false;
      d.line = i + 1;
      d.replayed_line = j + 1;
      d.recorded = std::string(x);
      d.replayed = std::string(y);
      return d;
    }
    ++i;
    ++j;
  }
  return d;
}

}  // namespace tlschan::sim

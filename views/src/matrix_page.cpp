#include "tlschan/views/matrix_page.hpp"

#include "tlschan/sim/transcript.hpp"
#include "tlschan/views/diagram.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace tlschan::views {

namespace {

// Outcome colours that read apart in print and for the common colour blindnesses (light fills,
// dark text); a disagreeing cell has a red frame and says what the oracle expected. A run section
// is hidden until its cell's link targets it, then covers the page (no script needed).
constexpr std::string_view page_style = R"(
body{font:14px/1.4 "DejaVu Sans",system-ui,sans-serif;margin:1.2em 1.5em;color:#1a1a1a;background:#fff}
h1{font-size:1.45em;margin:0 0 .3em}
h2{font-size:1.1em;margin:0 0 .35em}
h3{font-size:1.05em;margin:.2em 0 .4em}
.facts p{margin:.1em 0;color:#333}
.legend{margin:.6em 0 0}
.legend>span{display:inline-block;padding:.1em .5em;margin:0 .4em .2em 0;border:1px solid #888;border-radius:3px}
.grids{display:flex;flex-wrap:wrap;gap:1.2em 2.2em;margin:1em 0 1.4em}
table{border-collapse:collapse}
th,td{border:1px solid #8c8c8c;padding:.2em .45em;text-align:center;white-space:nowrap}
thead th{background:#ececec;font-weight:600}
tbody th{background:#ececec;text-align:left;font-weight:600}
th.axis{font-weight:400;font-style:italic;color:#444}
table.grid td.cell,table.grid thead th{min-width:8em}
td a{display:block;color:inherit;text-decoration:none}
td a:hover,td a:focus{text-decoration:underline}
table.rows td,table.rows th{text-align:left}
.outcome-delivered-tls{background:#b9e6c3}
.outcome-delivered-plain{background:#ffe28c}
.outcome-deferred{background:#c6d9f5}
.outcome-bounced{background:#f5baba}
.disagrees{outline:3px solid #b3001b;outline-offset:-3px;font-weight:700}
.expected{display:block;font-size:.85em;font-weight:700;color:#8a0015}
.broken{display:block;font-size:.85em;color:#8a0015}
.run{display:none}
.run:target{display:block;position:fixed;top:0;right:0;bottom:0;left:0;overflow:auto;background:rgba(30,30,30,.45);z-index:1}
.run-box{background:#fff;margin:1.5em auto;max-width:78em;padding:.8em 1.4em 1.2em;border-radius:6px;box-shadow:0 2px 12px rgba(0,0,0,.4)}
.close{float:right;font-weight:600}
.run-outcome{display:inline-block;padding:.1em .5em;border:1px solid #888;border-radius:3px}
.diagram{margin:.6em 0;overflow-x:auto}
.transcript pre{font:12px/1.35 "DejaVu Sans Mono",monospace;background:#f6f6f6;border:1px solid #ddd;padding:.6em;overflow:auto;white-space:pre}
summary{cursor:pointer;color:#333}
)";

constexpr std::string_view outcome_words[] = {"delivered-tls", "delivered-plain", "deferred", "bounced"};

void append_escaped(std::string& out, std::string_view text) { out += xml_text(text); }

// A transcript in a <pre>: each line escaped, the line ends kept.
void append_escaped_lines(std::string& out, std::string_view text) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    append_escaped(out, text.substr(0, end));
    if (end == std::string_view::npos) break;
    out += '\n';
    text.remove_prefix(end + 1);
  }
}

// An outcome's first word as a class name; anything but a-z, 0-9 and '-' is left out.
std::string outcome_class(std::string_view outcome) {
  const std::string_view word = outcome.substr(0, outcome.find(' '));
  std::string out = "outcome-";
  for (const char c : word) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') out += c;
  }
  return out;
}

// An id from `prefix` and `key`: letters and digits kept, each other run of characters one '-'.
std::string anchor(std::string_view prefix, std::string_view key) {
  std::string out(prefix);
  bool dash = true;
  for (const char c : key) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (keep) {
      out += c;
      dash = false;
    } else if (!dash) {
      out += '-';
      dash = true;
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

void add_once(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

// The link a cell or row holds: its outcome, and where it disagrees, the expected outcome.
void append_run_link(std::string& out, const PageRun& run, const std::string& target, const std::string& what) {
  out += "<a href=\"#" + target + "\" title=\"";
  append_escaped(out, what);
  out += ": open its run\"><span class=\"outcome\">";
  append_escaped(out, run.outcome);
  out += "</span>";
  if (run.outcome != run.expected) {
    out += "<span class=\"expected\">expected ";
    append_escaped(out, run.expected);
    out += "</span>";
  }
  if (!run.violations.empty()) {
    out += "<span class=\"broken\">" + std::to_string(run.violations.size()) +
           (run.violations.size() == 1 ? " invariant broken" : " invariants broken") + "</span>";
  }
  out += "</a>";
}

std::string agreement_class(const PageRun& run) { return run.agrees ? "agrees" : "disagrees"; }

std::size_t line_count(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) +
         (!text.empty() && text.back() != '\n' ? 1 : 0);
}

// The section a cell or row opens: what it stands for, its outcome against the oracle's, and the run.
void append_run_section(std::string& out, const std::string& id, const std::string& back, const std::string& heading,
                        const PageRun& run) {
  out += "<section class=\"run\" id=\"" + id + "\"><div class=\"run-box\">\n";
  out += "<a class=\"close\" href=\"#" + back + "\">close</a>\n<h3>";
  append_escaped(out, heading);
  out += "</h3>\n<p><span class=\"run-outcome " + outcome_class(run.outcome) + "\">";
  append_escaped(out, run.outcome);
  out += "</span> ";
  if (run.agrees) {
    out += "agrees with the oracle";
  } else {
    out += "<strong>disagrees with the oracle</strong>, which expects <span class=\"run-outcome " +
           outcome_class(run.expected) + "\">";
    append_escaped(out, run.expected);
    out += "</span>";
  }
  out += "; seed " + std::to_string(run.seed) + "</p>\n";
  if (!run.violations.empty()) {
    out += "<ul class=\"violations\">\n";
    for (const auto& v : run.violations) {
      out += "<li>";
      append_escaped(out, v);
      out += "</li>\n";
    }
    out += "</ul>\n";
  }
  if (run.transcript.empty()) {
    out += "<p>No transcript was kept of this run.</p>\n";
  } else {
    // The diagram, drawn from the transcript; the transcript itself folded under it.
    const auto transcript = sim::parse_transcript(run.transcript, heading);
    if (transcript) {
      out += "<figure class=\"diagram\">" + diagram_svg(*transcript) + "</figure>\n";
    } else {
      out += "<p class=\"unreadable\">No diagram: ";
      append_escaped(out, transcript.error());
      out += "</p>\n";
    }
    out += std::string("<details class=\"transcript\"") + (transcript ? "" : " open") + "><summary>transcript, " +
           std::to_string(line_count(run.transcript)) +
           " lines (save it as a file: <code>tlschan replay FILE</code> re-runs it, <code>tlschan show FILE</code> draws it)"
           "</summary><pre>";
    append_escaped_lines(out, run.transcript);
    out += "</pre></details>\n";
  }
  out += "</div></section>\n";
}

struct Tally {
  std::size_t all = 0;
  std::size_t agree = 0;
  void add(const PageRun& run) {
    ++all;
    agree += run.agrees ? 1 : 0;
  }
};

void append_legend(std::string& out) {
  out += "<p class=\"legend\">";
  for (const auto word : outcome_words) {
    out += "<span class=\"outcome-" + std::string(word) + "\">" + std::string(word) + "</span>";
  }
  out += "<span class=\"disagrees\">disagrees with the oracle<span class=\"expected\">expected OUTCOME</span></span>";
  out += " Each cell opens its run.</p>\n";
}

void append_grid(std::string& out, const MatrixPage& page, const std::string& grid, const std::vector<std::string>& rows,
                 const std::vector<std::string>& columns) {
  out += "<section class=\"grid\" id=\"" + anchor("m-", grid) + "\">\n<h2>meddler: ";
  append_escaped(out, grid);
  out += "</h2>\n<table class=\"grid\">\n<thead><tr><th class=\"axis\">client \\ server</th>";
  for (const auto& column : columns) {
    out += "<th scope=\"col\">";
    append_escaped(out, column);
    out += "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr><th scope=\"row\">";
    append_escaped(out, row);
    out += "</th>";
    for (const auto& column : columns) {
      const auto cell = std::find_if(page.cells.begin(), page.cells.end(), [&](const PageCell& c) {
        return c.grid == grid && c.row == row && c.column == column;
      });
      if (cell == page.cells.end()) {
        out += "<td class=\"empty\"></td>";
        continue;
      }
      out += "<td class=\"cell " + outcome_class(cell->run.outcome) + " " + agreement_class(cell->run) + "\" data-cell=\"";
      append_escaped(out, cell->key);
      out += "\" data-outcome=\"";
      append_escaped(out, cell->run.outcome);
      out += "\" data-expected=\"";
      append_escaped(out, cell->run.expected);
      out += "\">";
      append_run_link(out, cell->run, anchor("run-", cell->key), cell->key);
      out += "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
}

std::string row_anchor(std::size_t index) { return "row-" + std::to_string(index + 1); }

void append_rows(std::string& out, const std::vector<PageRow>& rows) {
  out += "<section id=\"rows\">\n<h2>The TLS port, tlsswitchchannel and the configuration's own rows</h2>\n";
  out += "<table class=\"rows\">\n<thead><tr><th>row</th><th>outcome</th></tr></thead>\n<tbody>\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const PageRow& r = rows[i];
    out += "<tr><th scope=\"row\">";
    append_escaped(out, r.name);
    out += "</th><td class=\"row-outcome " + outcome_class(r.run.outcome) + " " + agreement_class(r.run) + "\" data-row=\"";
    append_escaped(out, r.name);
    out += "\" data-outcome=\"";
    append_escaped(out, r.run.outcome);
    out += "\" data-expected=\"";
    append_escaped(out, r.run.expected);
    out += "\">";
    append_run_link(out, r.run, row_anchor(i), r.name);
    out += "</td></tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
}

}  // namespace

std::string matrix_page_html(const MatrixPage& page) {
  std::vector<std::string> grids, rows, columns;
  Tally cells, extra;
  for (const auto& c : page.cells) {
    add_once(grids, c.grid);
    add_once(rows, c.row);
    add_once(columns, c.column);
    cells.add(c.run);
  }
  for (const auto& r : page.rows) extra.add(r.run);

  std::string out;
  out.reserve(4096 + 256 * page.cells.size() + [&] {
    std::size_t n = 0;
    for (const auto& c : page.cells) n += c.run.transcript.size() + 512;
    for (const auto& r : page.rows) n += r.run.transcript.size() + 512;
    return n;
  }());
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
  append_escaped(out, page.title);
  out += "</title>\n<style>";
  out += page_style;
  out += "</style>\n</head>\n<body id=\"top\">\n<h1>";
  append_escaped(out, page.title);
  out += "</h1>\n<div class=\"facts\">\n";
  for (const auto& f : page.facts) {
    out += "<p>";
    append_escaped(out, f);
    out += "</p>\n";
  }
  out += "<p class=\"tally\">" + std::to_string(cells.agree) + "/" + std::to_string(cells.all) +
         " cells agree with the oracle, " + std::to_string(extra.agree) + "/" + std::to_string(extra.all) +
         " rows</p>\n";
  out += "</div>\n";
  append_legend(out);
  out += "<div class=\"grids\">\n";
  for (const auto& grid : grids) append_grid(out, page, grid, rows, columns);
  out += "</div>\n";
  if (!page.rows.empty()) append_rows(out, page.rows);

  // The runs, each hidden until its cell or row opens it.
  for (const auto& c : page.cells) {
    append_run_section(out, anchor("run-", c.key), anchor("m-", c.grid), c.key, c.run);
  }
  for (std::size_t i = 0; i < page.rows.size(); ++i) {
    append_run_section(out, row_anchor(i), "rows", page.rows[i].name, page.rows[i].run);
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace tlschan::views

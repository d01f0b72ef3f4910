// The matrix page: a marked cell per matrix cell, the expected outcome where a cell disagrees, each
// cell linking to the section of its own run, escaped transcripts, and nothing fetched or run.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/simulation.hpp"
#include "tlschan/sim/transcript.hpp"
#include "tlschan/views/matrix_page.hpp"

namespace tlschan::views {
namespace {

std::size_t occurrences(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The element that starts at the first occurrence of `start`, up to its end tag `end`.
std::string element(const std::string& page, const std::string& start, const std::string& end) {
  const std::size_t from = page.find(start);
  if (from == std::string::npos) return {};
  const std::size_t to = page.find(end, from);
  return to == std::string::npos ? std::string{} : page.substr(from, to + end.size() - from);
}

PageRun run_of(std::string outcome, std::string expected, std::string transcript) {
  PageRun r;
  r.agrees = outcome == expected;
  r.outcome = std::move(outcome);
  r.expected = std::move(expected);
  r.seed = 7;
  r.transcript = std::move(transcript);
  return r;
}

// Two meddlers by two clients by two server columns; the cell (strip, must, may/ok) disagrees.
MatrixPage small_page() {
  MatrixPage p;
  p.title = "a small matrix";
  p.facts = {"seed 1"};
  for (const char* meddler : {"none", "strip"}) {
    for (const char* client : {"may", "must"}) {
      for (const char* column : {"no", "may/ok"}) {
        PageCell c;
        c.grid = meddler;
        c.row = client;
        c.column = column;
        c.key = std::string("meddler=") + meddler + " client=" + client + " server=" + column;
        const bool odd = std::string(meddler) == "strip" && std::string(client) == "must" && std::string(column) == "may/ok";
        c.run = odd ? run_of("deferred", "delivered-tls", "transcript of " + c.key + "\n")
                    : run_of("delivered-plain", "delivered-plain", "transcript of " + c.key + "\n");
        p.cells.push_back(std::move(c));
      }
    }
  }
  p.rows.push_back({"tls-port client=must server=no", run_of("deferred", "deferred", "row transcript\n")});
  return p;
}

TEST(MatrixPage, EveryCellIsMarkedOnce) {
  const std::string page = matrix_page_html(small_page());
  EXPECT_EQ(occurrences(page, "<td class=\"cell "), 8u);
  for (const auto& c : small_page().cells) {
    EXPECT_EQ(occurrences(page, "data-cell=\"" + c.key + "\""), 1u) << c.key;
  }
  EXPECT_EQ(occurrences(page, "<section class=\"grid\""), 2u);  // one grid per meddler
  EXPECT_EQ(occurrences(page, "<th scope=\"row\">must</th>"), 2u);
}

TEST(MatrixPage, CellsAreColouredByOutcome) {
  const std::string page = matrix_page_html(small_page());
  const std::string plain = element(page, "<td class=\"cell outcome-delivered-plain agrees\" data-cell=\"meddler=none client=may server=no\"", "</td>");
  ASSERT_FALSE(plain.empty());
  EXPECT_NE(page.find(".outcome-delivered-plain{background:"), std::string::npos);
  EXPECT_NE(page.find(".outcome-deferred{background:"), std::string::npos);
}

TEST(MatrixPage, ADisagreeingCellShowsTheExpectedOutcome) {
  const std::string page = matrix_page_html(small_page());
  const std::string odd = element(page, "data-cell=\"meddler=strip client=must server=may/ok\"", "</td>");
  ASSERT_FALSE(odd.empty());
  EXPECT_NE(odd.find("<span class=\"expected\">expected delivered-tls</span>"), std::string::npos) << odd;
  const std::string cell_start = page.substr(0, page.find(odd));
  EXPECT_EQ(cell_start.substr(cell_start.rfind("<td ")), "<td class=\"cell outcome-deferred disagrees\" ");
  // Only that cell says what was expected (the legend shows the form once).
  EXPECT_EQ(occurrences(page, "<span class=\"expected\">expected delivered-tls</span>"), 1u);
  EXPECT_NE(page.find("<p class=\"tally\">7/8 cells agree with the oracle, 1/1 rows</p>"), std::string::npos);
}

TEST(MatrixPage, EachCellOpensItsOwnRun) {
  const MatrixPage p = small_page();
  const std::string page = matrix_page_html(p);
  for (const auto& c : p.cells) {
    const std::string cell = element(page, "data-cell=\"" + c.key + "\"", "</td>");
    const std::size_t href = cell.find("href=\"#");
    ASSERT_NE(href, std::string::npos) << c.key;
    const std::string id = cell.substr(href + 7, cell.find('"', href + 7) - (href + 7));
    const std::string section = element(page, "<section class=\"run\" id=\"" + id + "\">", "</section>");
    ASSERT_FALSE(section.empty()) << id;
    EXPECT_NE(section.find("transcript of " + c.key), std::string::npos) << id;
    EXPECT_EQ(occurrences(page, "id=\"" + id + "\""), 1u) << id;
  }
  const std::string row = element(page, "data-row=\"tls-port client=must server=no\"", "</td>");
  EXPECT_NE(row.find("href=\"#row-1\""), std::string::npos) << row;
  EXPECT_NE(element(page, "<section class=\"run\" id=\"row-1\">", "</section>").find("row transcript"), std::string::npos);
  // A run shows over the page only when its link targets it.
  EXPECT_NE(page.find(".run{display:none}"), std::string::npos);
  EXPECT_NE(page.find(".run:target{display:block"), std::string::npos);
}

TEST(MatrixPage, TranscriptsAndNamesAreEscaped) {
  MatrixPage p = small_page();
  p.cells[0].run.transcript = "c>s MAIL FROM:<a@b> \"x\" & <script>alert(1)</script>\n";
  p.rows[0].name = "row <b>&";
  const std::string page = matrix_page_html(p);
  EXPECT_NE(page.find("c&gt;s MAIL FROM:&lt;a@b&gt; &quot;x&quot; &amp; &lt;script&gt;alert(1)&lt;/script&gt;"),
            std::string::npos);
  EXPECT_NE(page.find("row &lt;b&gt;&amp;"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);
}

TEST(MatrixPage, IsSelfContained) {
  const std::string page = matrix_page_html(small_page());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>\n", 0), 0u);
  EXPECT_NE(page.find("<meta charset=\"utf-8\">"), std::string::npos);
  for (const char* fetch : {"<script", "src=", "http:", "https:", "@import", "url(", "<link"}) {
    EXPECT_EQ(page.find(fetch), std::string::npos) << fetch;
  }
}

TEST(MatrixPage, ARunWithoutTranscriptSaysSo) {
  MatrixPage p = small_page();
  p.cells[3].run.transcript.clear();
  const std::string page = matrix_page_html(p);
  EXPECT_EQ(occurrences(page, "No transcript was kept of this run."), 1u);
  EXPECT_EQ(occurrences(page, "<details class=\"transcript\""), p.cells.size() + p.rows.size() - 1);
}

// The transcript file of a scenario of corpus/scenarios under a seed.
std::string transcript_of(const std::string& scenario_file, std::uint64_t seed) {
  auto simulator = sim::Simulator::create();
  EXPECT_TRUE(simulator.has_value());
  auto scenario = sim::load_scenario(TLSCHAN_SOURCE_DIR "/corpus/scenarios/" + scenario_file);
  EXPECT_TRUE(scenario.has_value());
  if (!simulator || !scenario) return {};
  sim::TranscriptFile t;
  t.seed = seed;
  t.openssl = sim::openssl_version();
  t.scenario_toml = sim::print_scenario(*scenario);
  simulator->run(*scenario, seed, &t.body);
  return sim::format_transcript(t);
}

TEST(MatrixPage, ARunsSectionDrawsItsDiagramAndFoldsItsTranscript) {
  MatrixPage p = small_page();
  p.cells[1].run.transcript = transcript_of("inject-command.toml", 3);
  const std::string page = matrix_page_html(p);
  const std::string section = element(page, "<section class=\"run\" id=\"run-meddler-none-client-may-server-may-ok\">", "</section>");
  ASSERT_FALSE(section.empty());
  const std::size_t figure = section.find("<figure class=\"diagram\"><svg");
  const std::size_t folded = section.find("<details class=\"transcript\"><summary>");
  ASSERT_NE(figure, std::string::npos) << section.substr(0, 2000);
  ASSERT_NE(folded, std::string::npos);
  EXPECT_LT(figure, folded);  // the diagram first, the transcript folded under it
  EXPECT_NE(section.find("class=\"tls-band\""), std::string::npos);
  EXPECT_NE(section.find("MAIL FROM:&lt;injected@meddler.test&gt;"), std::string::npos);
  EXPECT_NE(section.find("<pre>tlschan transcript v"), std::string::npos);
  EXPECT_EQ(section.find("No diagram"), std::string::npos);
  // A transcript that does not read still shows, open, with the reason there is no diagram.
  const std::string other = element(page, "<section class=\"run\" id=\"run-meddler-none-client-may-server-no\">", "</section>");
  EXPECT_NE(other.find("<p class=\"unreadable\">No diagram: "), std::string::npos) << other;
  EXPECT_NE(other.find("<details class=\"transcript\" open>"), std::string::npos);
}

}  // namespace
}  // namespace tlschan::views

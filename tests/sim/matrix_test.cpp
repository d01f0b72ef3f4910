// The whole outcome matrix through the simulator agrees with the oracle; with its transcripts kept
// (for the page) it gives the same outcomes, and its page marks all 126 cells.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "tlschan/matrix/outcome_matrix.hpp"
#include "tlschan/sim/transcript.hpp"
#include "tlschan/views/matrix_page.hpp"

namespace tlschan::matrix {
namespace {

const sim::Simulator& simulator() {
  static const sim::Simulator s = [] {
    auto made = sim::Simulator::create();
    EXPECT_TRUE(made.has_value()) << (made ? "" : made.error());
    return std::move(*made);
  }();
  return s;
}

TEST(OutcomeMatrix, EveryCellAgreesWithTheOracle) {
  const MatrixResult m = run_matrix(simulator(), 1);
  ASSERT_EQ(m.cells.size(), 126u);
  for (const auto& c : m.cells) {
    EXPECT_TRUE(c.agrees) << "client=" << to_string(c.client) << " server=" << to_string(c.server)
                          << " health=" << sim::to_string(c.health) << " meddler=" << sim::to_string(c.meddler)
                          << ": got " << c.outcome << ", want " << c.expected << " seed " << c.seed
                          << (c.violations.empty() ? "" : " violation: " + c.violations.front());
  }
  for (const auto& e : m.extra) EXPECT_TRUE(e.agrees) << e.name << ": got " << e.outcome << ", want " << e.expected;
}

TEST(OutcomeMatrix, JsonHasTheArchitecturesShape) {
  const auto j = nlohmann::json::parse(to_json(run_matrix(simulator(), 2)));
  ASSERT_TRUE(j.contains("cells"));
  ASSERT_TRUE(j.contains("extra"));
  ASSERT_EQ(j["cells"].size(), 126u);
  const std::set<std::string> policies{"no", "may", "must"}, healths{"ok", "unavailable", "broken"},
      meddlers{"none", "strip", "refuse", "tamper", "inject-command", "inject-response"},
      outcomes{"delivered-tls", "delivered-plain", "bounced", "deferred"};
  std::set<std::string> distinct;
  for (const auto& c : j["cells"]) {
    EXPECT_TRUE(policies.count(c["client"].get<std::string>()));
    EXPECT_TRUE(policies.count(c["server"].get<std::string>()));
    EXPECT_TRUE(healths.count(c["health"].get<std::string>()));
    if (c["server"] == "no") {
      EXPECT_EQ(c["health"], "ok");
    }
    EXPECT_TRUE(meddlers.count(c["meddler"].get<std::string>()));
    EXPECT_TRUE(outcomes.count(c["outcome"].get<std::string>()));
    EXPECT_TRUE(outcomes.count(c["expected"].get<std::string>()));
    EXPECT_TRUE(c["agrees"].is_boolean());
    distinct.insert(c["client"].get<std::string>() + c["server"].get<std::string>() + c["health"].get<std::string>() +
                    c["meddler"].get<std::string>());
  }
  EXPECT_EQ(distinct.size(), 126u);  // every cell once
}

TEST(OutcomeMatrix, TheDefaultConfigurationsOwnRowsAgree) {
  auto config = load_config(TLSCHAN_SOURCE_DIR "/corpus/configs/default");
  ASSERT_TRUE(config.has_value());
  const MatrixResult m = run_matrix(simulator(), 3, {}, &*config);
  std::size_t service_rows = 0, channel_rows = 0;
  for (const auto& e : m.extra) {
    EXPECT_TRUE(e.agrees) << e.name << ": got " << e.outcome << ", want " << e.expected;
    service_rows += e.name.rfind("service ", 0) == 0 ? 1 : 0;
    channel_rows += e.name.rfind("channel ", 0) == 0 ? 1 : 0;
  }
  // 4 regular ports (25, 587, 2525, 2526) x 3 client policies, and TLS_PORT 465 x 2 (may, must).
  EXPECT_EQ(service_rows, 4u * 3u + 2u);
  EXPECT_GT(channel_rows, 0u);
  // The switch is visible: tcp_local's TLS deliveries land on tcp_tls.
  bool switched = false;
  for (const auto& e : m.extra) switched = switched || e.outcome == "delivered-tls channel=tcp_tls";
  EXPECT_TRUE(switched);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

TEST(MatrixTranscripts, KeepingThemChangesNoOutcomeAndEachIsTheCellsOwnRun) {
  const MatrixResult plain = run_matrix(simulator(), 4);
  const MatrixResult kept = run_matrix(simulator(), 4, {}, nullptr, Transcripts::keep);
  ASSERT_EQ(plain.cells.size(), kept.cells.size());
  ASSERT_EQ(plain.extra.size(), kept.extra.size());
  for (std::size_t i = 0; i < kept.cells.size(); ++i) {
    const CellResult& a = plain.cells[i];
    const CellResult& b = kept.cells[i];
    EXPECT_TRUE(a.transcript.empty());
    EXPECT_EQ(a.outcome, b.outcome);
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_EQ(a.agrees, b.agrees);
    auto t = sim::parse_transcript(b.transcript, "cell");
    ASSERT_TRUE(t.has_value()) << t.error();
    EXPECT_EQ(t->seed, b.seed);
    // The cell's own scenario: its name says the cell.
    EXPECT_NE(t->scenario_toml.find(std::string("meddler=") + sim::to_string(b.meddler)), std::string::npos);
    EXPECT_NE(t->scenario_toml.find(std::string("client=") + to_string(b.client)), std::string::npos);
    EXPECT_FALSE(t->body.empty());
  }
  for (std::size_t i = 0; i < kept.extra.size(); ++i) {
    EXPECT_EQ(plain.extra[i].outcome, kept.extra[i].outcome);
    auto t = sim::parse_transcript(kept.extra[i].transcript, "row");
    ASSERT_TRUE(t.has_value()) << t.error();
    EXPECT_EQ(t->seed, kept.extra[i].seed);
  }
}

TEST(OutcomeMatrixPage, TheWholeMatrixIs126MarkedCellsInSixGrids) {
  const MatrixResult m = run_matrix(simulator(), 5, {}, nullptr, Transcripts::keep);
  const views::MatrixPage page = to_page(m);
  ASSERT_EQ(page.cells.size(), 126u);
  std::set<std::string> keys, grids;
  for (const auto& c : page.cells) {
    keys.insert(c.key);
    grids.insert(c.grid);
    EXPECT_FALSE(c.run.transcript.empty()) << c.key;
  }
  EXPECT_EQ(keys.size(), 126u);
  EXPECT_EQ(grids.size(), 6u);
  EXPECT_EQ(page.rows.size(), m.extra.size());
  const std::string html = views::matrix_page_html(page);
  EXPECT_EQ(occurrences(html, "<td class=\"cell "), 126u);
  EXPECT_EQ(occurrences(html, "<section class=\"run\" id=\"run-"), 126u);
  EXPECT_EQ(occurrences(html, "<td class=\"empty\">"), 0u);
  // The same matrix gives the same page, byte for byte.
  EXPECT_EQ(html, views::matrix_page_html(to_page(run_matrix(simulator(), 5, {}, nullptr, Transcripts::keep))));
}

}  // namespace
}  // namespace tlschan::matrix

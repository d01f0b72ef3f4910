// The outcome matrix as one self-contained HTML page: a grid per meddler (client policy rows by
// server columns), each cell coloured by its outcome, the oracle's expected outcome where the two
// disagree, and each cell opening its own run (its sequence diagram, drawn by diagram_svg from the
// run's transcript, and the transcript itself, folded); then the rows of the configuration. Inline CSS only: no script, no fetched font or image. The page is a function of its
// input: the same matrix gives the same page, byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tlschan::views {

// One run the page shows: its outcome against the oracle's, and the transcript that decided it.
struct PageRun {
  std::string outcome;   // delivered-tls, delivered-plain, bounced or deferred; more words may follow
  std::string expected;  // the oracle's, in the same form
  bool agrees = true;
  std::vector<std::string> violations;  // broken invariants of the run
  std::uint64_t seed = 0;
  std::string transcript;  // the run's transcript file; empty: not kept
};

// A cell of one grid. Grids, rows and columns appear in the order their first cell does.
struct PageCell {
  std::string grid;    // the meddler
  std::string row;     // the client policy
  std::string column;  // the server column: "no", "may ok", "must broken", ...
  std::string key;     // what the cell stands for, unique on the page: "meddler=none client=no server=may health=ok"
  PageRun run;
};

// A row of the list below the grids (the TLS port, tlsswitchchannel, the configuration's own).
struct PageRow {
  std::string name;
  PageRun run;
};

struct MatrixPage {
  std::string title;
  std::vector<std::string> facts;  // a line each under the title: seed, configuration, how to rerun
  std::vector<PageCell> cells;
  std::vector<PageRow> rows;
};

// The page. Every cell is `<td class="cell outcome-WORD agrees|disagrees" data-cell="KEY" ...>`,
// linking to `#run-...`, the section that holds its run (shown over the page when targeted). A
// transcript that does not read is shown as text, with the reason it has no diagram.
std::string matrix_page_html(const MatrixPage& page);

}  // namespace tlschan::views

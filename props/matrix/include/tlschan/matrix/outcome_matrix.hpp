// The outcome matrix: every cell of semantics.md section 5 (client policy x server policy x server
// TLS health x meddler) run through the simulator and checked against the oracle, plus the TLS-port
// and tlsswitchchannel rows.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tlschan/config.hpp"
#include "tlschan/sim/simulation.hpp"
#include "tlschan/views/matrix_page.hpp"

namespace tlschan::matrix {

struct CellResult {
  Policy client = Policy::no;
  Policy server = Policy::no;
  sim::Health health = sim::Health::ok;
  sim::MeddlerKind meddler = sim::MeddlerKind::none;
  std::string outcome;   // delivered-tls, delivered-plain, bounced, deferred
  std::string expected;  // the oracle's
  bool agrees = false;
  std::vector<std::string> violations;
  std::uint64_t seed = 0;
  std::string transcript;  // the run's transcript file (replayable alone); empty unless kept
};

struct ExtraResult {
  std::string name;      // what the row checks
  std::string outcome;
  std::string expected;
  bool agrees = false;
  std::uint64_t seed = 0;
  std::string transcript;  // the run's transcript file (replayable alone); empty unless kept
};

struct MatrixResult {
  std::vector<CellResult> cells;  // always 126: 3 client x 7 server columns x 6 meddlers
  std::vector<ExtraResult> extra;
  bool all_agree() const;
};

// The scenario of one cell (one message, the given policies, health and meddler).
sim::Scenario cell_scenario(Policy client, Policy server, sim::Health health, sim::MeddlerKind meddler);

// Whether each cell and row keeps the transcript of its run (the matrix page embeds them). The
// transcript is taken from the very run that decided the outcome: keeping it changes nothing else.
enum class Transcripts : bool { drop, keep };

// Runs every cell with seeds derived from `seed`; `progress` (if given) is told of each cell done.
// With a configuration, `extra` also holds its own rows: every service port (regular and TLS port)
// with its incoming channel's policy and switch target, against clients of every policy; and every
// outgoing channel the rewrite rules route to, against servers of every policy.
MatrixResult run_matrix(const sim::Simulator& simulator, std::uint64_t seed,
                        const std::function<void(std::size_t done, std::size_t total)>& progress = {},
                        const Config* config = nullptr, Transcripts transcripts = Transcripts::drop);

std::string to_json(const MatrixResult& m);
std::string to_table(const MatrixResult& m);
// The matrix as the page's cells and rows (a grid per meddler, columns as in to_table), each with its
// transcript when the run kept it; the caller sets the page's title and facts.
views::MatrixPage to_page(const MatrixResult& m);

}  // namespace tlschan::matrix

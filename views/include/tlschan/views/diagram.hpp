// Sequence diagrams of a transcript: who sent what, when TLS started, what the engine reported,
// what a meddler did and how the run ended, drawn as SVG (inside a self-contained HTML page) or as
// text for a terminal. A diagram is drawn from a transcript alone, never from a run; the same
// transcript always gives the same bytes.
//
// Hooks an embedding page or a test may rely on, in the SVG: the TLS band of a connection is a
// <rect class="tls-band">; each segment is a <g class="arrow ..."> holding a <text> with its label;
// whatever a meddler did carries the class `meddler` too (<g class="arrow meddler">, <g class="note
// meddler">); engine events are <g class="note ...">; the run's verdict is <g class="verdict ...">;
// the first line that differs from a recording has the class `divergence`.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/expected.hpp"
#include "tlschan/sim/transcript.hpp"

namespace tlschan::views {

// One line of a transcript's run, as a diagram draws it.
struct DiagramEvent {
  enum class Kind {
    open,     // a connection opens: `text` names its two hosts
    segment,  // bytes one way: `text` (plaintext) or `tls_bytes` (inside TLS, only their length)
    note,     // an engine or network event of a connection (plaintext-discarded 72, closed quit, ...)
    meddler,  // what a meddler did to a connection's bytes
    outcome,  // how a message, or the whole run, ended (the verdict)
    info,     // anything else of the run (attempts, the run's parameters)
  };
  // Whose lifeline a note or a meddler act stands on.
  enum class Where { client, meddler, server, run };
  Kind kind = Kind::info;
  Where where = Where::run;
  std::size_t line = 0;      // the run line (1-based) it was read from
  long long ms = 0;          // virtual (or real) time since the run started
  int connection = 0;        // 0: the run's, not a connection's
  bool c2s = true;           // segment, meddler: the direction of the bytes
  bool tls = false;          // segment: TLS bytes, `tls_bytes` long
  bool inside_tls = false;   // segment: plaintext read inside TLS (evidence of probe and client-check)
  std::size_t tls_bytes = 0;
  bool meddled = false;      // segment: it holds bytes a meddler changed, injected or wrote itself
  bool from_meddler = false; // segment: the meddler wrote it (its own answer), not the peer
  bool failed = false;       // outcome: the verdict is a failure
  std::string text;          // segment: its bytes (unescaped); meddler: what it did ("injected");
                             // otherwise the line's own words
  std::string bytes;         // meddler: the bytes it injected, dropped, answered or wrote over
  std::string old_bytes;     // meddler: the bytes it overwrote
};

// What a diagram draws: the events of one run and where it came from.
struct Sequence {
  std::string title;                  // e.g. "tlschan run: command injection after STARTTLS (seed 7)"
  std::vector<std::string> details;   // a few lines under the title (OpenSSL, expected outcome, ...)
  std::string meddler;                // the meddler's name, empty when the run has none
  std::vector<DiagramEvent> events;
};

// The transcript of a simulator run (run, explore, replay): its events, titled by its scenario.
Sequence sequence_of(const sim::TranscriptFile& t);

// Reads any transcript tlschan writes: a simulator transcript (v1 and v2), the evidence file of
// `probe` or `client-check`, or the JSON that `send --json` prints. Errors say "FILE:LINE:COLUMN:
// error: ...".
Expected<Sequence, std::string> read_sequence(std::string_view text, const std::string& file_name);

// Marks on a diagram: the run line (1-based) of the drawn run where it first differs from another
// (a replay from its recording), and what the other has there. A line past the run's last marks
// its end.
struct DiagramMarks {
  std::optional<std::size_t> divergence_line;
  std::string divergence_note;  // e.g. "the recording has: 30ms c1 s>c 220 ..."
};

// The <svg> element alone (with its xmlns, no XML declaration): what a page embeds, one per
// diagram. Colours and fonts are attributes of its elements, so it needs no stylesheet.
std::string diagram_svg(const Sequence& s, const DiagramMarks& marks = {});
std::string diagram_svg(const sim::TranscriptFile& t);
// A standalone SVG file: the XML declaration and the <svg> element.
std::string diagram_svg_file(const Sequence& s, const DiagramMarks& marks = {});
// One self-contained HTML page (inline SVG and CSS; no script, no fetched font or file).
std::string diagram_html(const Sequence& s, const DiagramMarks& marks = {});
std::string diagram_html(const sim::TranscriptFile& t);
// The diagram for a terminal: plain text, one row per event.
std::string diagram_text(const Sequence& s, const DiagramMarks& marks = {});

// Text made safe inside XML and HTML: <, >, &, quotes escaped, control octets and invalid UTF-8
// shown as \xhh (the transcript's own escape), valid UTF-8 kept.
std::string xml_text(std::string_view bytes);

}  // namespace tlschan::views

// Sequence diagrams: every segment is an arrow, every engine event a note, every meddler act and the
// verdict drawn, the TLS band where TLS starts; hostile bytes escaped; the same file, the same bytes;
// each input format read, bad input reported with file:line:column.
#include <gtest/gtest.h>

#include <limits>
#include <regex>
#include <sstream>

#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/simulation.hpp"
#include "tlschan/views/diagram.hpp"

namespace tlschan::views {
namespace {

sim::TranscriptFile recorded(const std::string& scenario_file, std::uint64_t seed) {
  static auto simulator = sim::Simulator::create();
  EXPECT_TRUE(simulator.has_value());
  auto sc = sim::load_scenario(TLSCHAN_SOURCE_DIR "/corpus/scenarios/" + scenario_file);
  EXPECT_TRUE(sc.has_value());
  sim::TranscriptFile t;
  t.seed = seed;
  t.openssl = sim::openssl_version();
  t.scenario_toml = sim::print_scenario(*sc);
  simulator->run(*sc, seed, &t.body);
  return t;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

std::vector<std::string> body_lines(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The <g ...>...</g> elements of the SVG whose class attribute starts with `cls`.
std::vector<std::string> groups(const std::string& svg, const std::string& cls) {
  std::vector<std::string> out;
  const std::string open = "<g class=\"" + cls;
  for (auto at = svg.find(open); at != std::string::npos; at = svg.find(open, at + 1)) {
    out.push_back(svg.substr(at, svg.find("</g>", at) - at));
  }
  return out;
}

TEST(Diagram, EverySegmentIsAnArrow_EveryEngineEventANote) {
  const sim::TranscriptFile t = recorded("inject-command.toml", 7);
  const std::string svg = diagram_svg(t);
  std::size_t segments = 0, events = 0;
  for (const auto& l : body_lines(t.body)) {
    if (l.find(" meddler ") != std::string::npos && l.find(" seed ") == std::string::npos) continue;
    if ((l.find(" c1 c>s ") != std::string::npos || l.find(" c1 s>c ") != std::string::npos) &&
        l.find(" close") == std::string::npos) {
      ++segments;
    }
    for (const char* side : {" c1 client ", " c1 server "}) {
      if (const auto at = l.find(side); at != std::string::npos) {
        ++events;
        // The note holds the event's words (escaped for XML).
        std::string words = l.substr(at + std::string(side).size());
        words = words.substr(0, words.find('<'));
        EXPECT_NE(svg.find(words), std::string::npos) << words;
      }
    }
  }
  ASSERT_GT(segments, 10u);
  EXPECT_EQ(groups(svg, "arrow ").size(), segments);
  EXPECT_EQ(groups(svg, "note client").size() + groups(svg, "note server").size(), events);
  // Each arrow holds a <text> label: the SMTP text or "TLS n bytes".
  for (const auto& a : groups(svg, "arrow ")) EXPECT_NE(a.find("<text"), std::string::npos) << a;
  EXPECT_NE(svg.find(">EHLO client.tlschan.test</tspan>"), std::string::npos);
  EXPECT_NE(svg.find(">TLS 177 bytes</tspan>"), std::string::npos) << "the first TLS segment's length";
  EXPECT_NE(svg.find("plaintext-discarded 72"), std::string::npos);
}

TEST(Diagram, InjectedCommandsAreMeddlerElements_TheBandStartsAtTheFirstTlsArrow) {
  const std::string svg = diagram_svg(recorded("inject-command.toml", 7));
  const auto notes = groups(svg, "note meddler");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("MAIL FROM:&lt;injected@meddler.test&gt;"), std::string::npos) << notes[0];
  const auto arrows = groups(svg, "arrow c2s plain meddler");
  ASSERT_EQ(arrows.size(), 1u) << "the segment carrying the injected bytes";
  EXPECT_NE(arrows[0].find("RCPT TO:&lt;victim@meddler.test&gt;"), std::string::npos);
  EXPECT_EQ(groups(svg, "arrow s2c plain meddler").size(), 0u);

  ASSERT_EQ(count(svg, "<rect class=\"tls-band\""), 1u);
  const std::smatch band = [&] {
    std::smatch m;
    std::regex_search(svg, m, std::regex("<rect class=\"tls-band\"[^>]* y=\"([0-9]+)\""));
    return m;
  }();
  ASSERT_EQ(band.size(), 2u);
  // The first TLS arrow is drawn from the band's top; no plaintext arrow below it.
  const auto first_tls = svg.find("<g class=\"arrow c2s tls\"");
  ASSERT_NE(first_tls, std::string::npos);
  std::smatch label;
  const std::string after = svg.substr(first_tls);
  ASSERT_TRUE(std::regex_search(after, label, std::regex("<text x=\"[0-9]+\" y=\"([0-9]+)\"")));
  EXPECT_EQ(std::stoi(label[1]) - 12, std::stoi(band[1]));
  EXPECT_EQ(svg.find("class=\"arrow c2s plain", first_tls), std::string::npos);
}

TEST(Diagram, VerdictDrawn_FailedOutcomeMarked) {
  sim::TranscriptFile t = recorded("inject-command.toml", 7);
  const auto verdicts = groups(diagram_svg(t), "verdict");
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_NE(verdicts[0].find("outcome msg1 delivered-tls"), std::string::npos);
  EXPECT_EQ(verdicts[0].find("failed"), std::string::npos);
  // The same run judged against another expectation is a failure.
  const auto at = t.scenario_toml.find("outcome = \"delivered-tls\"");
  ASSERT_NE(at, std::string::npos) << t.scenario_toml;
  t.scenario_toml.replace(at, 25, "outcome = \"bounced\"");
  const auto failed = groups(diagram_svg(t), "verdict failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].find("(expected bounced)"), std::string::npos);
}

TEST(Diagram, RefuseAnswerIsAnArrowFromTheMeddler_StripChangeMarked) {
  const std::string refuse = "tlschan transcript v2\nseed 1\nopenssl x\nscenario 1 lines\nname = 'r'\nrun\n"
                             "         0ms c1 open msg1 a -> b port latency=5ms\n"
                             "         5ms c1 meddler refuse c>s dropped: STARTTLS\\r\\n\n"
                             "         5ms c1 meddler refuse s>c answered: 454 4.7.0 TLS not available\\r\\n\n"
                             "        10ms c1 s>c 454 4.7.0 TLS not available\\r\\n\n"
                             "        12ms c1 meddler strip s>c changed 8 bytes at 4: STARTTLS -> XXXXXXXA\n"
                             "        15ms c1 s>c 250 XXXXXXXA\\r\\n\n"
                             "        20ms c1 s>c 250 OK\\r\\n\n"
                             "end\n";
  auto s = read_sequence(refuse, "r.transcript");
  ASSERT_TRUE(s.has_value()) << s.error();
  const std::string svg = diagram_svg(*s);
  EXPECT_EQ(groups(svg, "note meddler").size(), 3u);
  const auto meddled = groups(svg, "arrow s2c plain meddler");
  ASSERT_EQ(meddled.size(), 2u);
  EXPECT_NE(meddled[0].find("454 4.7.0 TLS not available"), std::string::npos);
  EXPECT_NE(meddled[1].find("250 XXXXXXXA"), std::string::npos);
  EXPECT_NE(svg.find("&quot;STARTTLS&quot; -&gt; &quot;XXXXXXXA&quot;"), std::string::npos);
  EXPECT_EQ(groups(svg, "arrow s2c plain\"").size(), 1u) << "250 OK: not meddled with";
  EXPECT_EQ(s->meddler, "refuse");
}

TEST(Diagram, HostileBytesAreEscaped) {
  const std::string hostile = "tlschan transcript v2\nseed 1\nopenssl x\nscenario 1 lines\nname = 'h'\nrun\n"
                              "         1ms c1 s>c </text><script>alert(1)</script>&\"'\\x00\\x1b[31m\\xff\\xc3\\xa9\\r\\n\n"
                              "         2ms c1 server ]]><!-- \\x07\n"
                              "end\n";
  auto s = read_sequence(hostile, "h.transcript");
  ASSERT_TRUE(s.has_value()) << s.error();
  for (const std::string& out : {diagram_svg(*s), diagram_html(*s), diagram_svg_file(*s)}) {
    EXPECT_EQ(out.find("<script"), std::string::npos);
    EXPECT_EQ(out.find("<!--"), std::string::npos);
    EXPECT_EQ(out.find('\x1b'), std::string::npos);
    EXPECT_EQ(out.find('\0'), std::string::npos);
    EXPECT_EQ(out.find('\xff'), std::string::npos);
  }
  // A scenario's name is the file's too: escaped in the title.
  auto named = read_sequence("tlschan transcript v2\nseed 1\nopenssl x\nscenario 1 lines\nname = \"\\u001b]0;x\\u0007<b>\"\nrun\nend\n",
                             "n.transcript");
  ASSERT_TRUE(named.has_value()) << named.error();
  EXPECT_EQ(named->title, "tlschan run: \x1b]0;x\x07<b> (seed 1)");
  EXPECT_EQ(diagram_text(*named).find('\x1b'), std::string::npos);
  EXPECT_NE(diagram_svg(*named).find("\\x1b]0;x\\x07&lt;b&gt;"), std::string::npos);
  const std::string text = diagram_text(*s);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_NE(text.find("\\x1b[31m"), std::string::npos) << text;
}

// A meddler line's own words (its kind and what it did) are the file's too, raw octets included:
// every view escapes them (found by transcript_fuzzer: the text view printed them as they were).
TEST(Diagram, HostileMeddlerWordsAreEscaped) {
  const std::string hostile = "tlschan transcript v2\nseed 1\nopenssl x\nscenario 1 lines\nname = 'm'\nrun\n"
                              "         1ms c1 meddler tamper s>c tl\x8d\xde\x1b[31mchanged 1 byte at 194: { -> !\n"
                              "end\n";
  auto s = read_sequence(hostile, "m.transcript");
  ASSERT_TRUE(s.has_value()) << s.error();
  for (const std::string& out : {diagram_text(*s), diagram_svg(*s), diagram_html(*s)}) {
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
    EXPECT_EQ(out.find('\x8d'), std::string::npos) << out;
    EXPECT_EQ(out.find('\xde'), std::string::npos) << out;
  }
  EXPECT_NE(diagram_text(*s).find("tl\\x8d\\xde\\x1b[31mchanged"), std::string::npos) << diagram_text(*s);
}

TEST(Diagram, XmlTextEscapesMarkupControlAndInvalidUtf8_KeepsValidUtf8) {
  EXPECT_EQ(xml_text("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(xml_text(std::string("\x00\x01\x1f\x7f", 4)), "\\x00\\x01\\x1f\\x7f");
  EXPECT_EQ(xml_text("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93");
  EXPECT_EQ(xml_text("\xff\xc3"), "\\xff\\xc3");                // invalid, cut short
  EXPECT_EQ(xml_text("\xc0\xaf"), "\\xc0\\xaf");                // overlong
  EXPECT_EQ(xml_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");       // a surrogate
}

TEST(Diagram, SameTranscriptSameBytes_SeveralConnectionsSeveralGroups) {
  const sim::TranscriptFile t = recorded("broken-tls-fallback.toml", 3);
  EXPECT_EQ(diagram_svg(t), diagram_svg(t));
  EXPECT_EQ(diagram_html(t), diagram_html(t));
  const Sequence s = sequence_of(t);
  EXPECT_EQ(diagram_text(s), diagram_text(s));
  std::size_t opens = 0;
  for (const auto& l : body_lines(t.body)) opens += l.find(" open ") != std::string::npos;
  ASSERT_GE(opens, 2u) << t.body;
  const std::string svg = diagram_svg(t);
  EXPECT_EQ(count(svg, "<g class=\"lifelines\""), opens);
  EXPECT_EQ(count(svg, "<g class=\"open"), opens);
  EXPECT_NE(svg.find("tls-fallback"), std::string::npos);
}

TEST(Diagram, AThousandSegmentsAllDrawn) {
  std::string text = "tlschan transcript v2\nseed 1\nopenssl x\nscenario 1 lines\nname = 'big'\nrun\n"
                     "         0ms c1 open msg1 a -> b port latency=1ms\n";
  for (int i = 0; i < 1000; ++i) {
    text += "      " + std::to_string(1000 + i) + "ms c1 " + (i % 2 ? "s>c 250 ok " : "c>s NOOP ") + std::to_string(i) +
            "\\r\\n\n";
  }
  text += "end\n";
  auto s = read_sequence(text, "big.transcript");
  ASSERT_TRUE(s.has_value()) << s.error();
  const std::string svg = diagram_svg(*s);
  EXPECT_EQ(groups(svg, "arrow ").size(), 1000u);
  EXPECT_NE(svg.find(">NOOP 998</tspan>"), std::string::npos);
  EXPECT_NE(svg.find(">250 ok 999</tspan>"), std::string::npos);
  EXPECT_LT(svg.size(), 1000u * 1000u);
  // One text row per event.
  // One text row per event (1001), under the title, a detail, a blank line and the lifelines' names.
  EXPECT_EQ(count(diagram_text(*s), "\n"), 1001u + 4u);
}

TEST(Diagram, LongDataIsFolded) {
  std::string data;
  for (int i = 0; i < 50; ++i) data += "line " + std::to_string(i) + " of the message body\\r\\n";
  const std::string text = "tlschan transcript v2\nseed 1\nopenssl x\nscenario 1 lines\nname = 'd'\nrun\n"
                           "         1ms c1 c>s " + data + "\nend\n";
  auto s = read_sequence(text, "d.transcript");
  ASSERT_TRUE(s.has_value()) << s.error();
  const auto arrows = groups(diagram_svg(*s), "arrow ");
  ASSERT_EQ(arrows.size(), 1u);
  EXPECT_NE(arrows[0].find(">line 2 of the message body</tspan>"), std::string::npos);
  EXPECT_EQ(arrows[0].find("line 3 of"), std::string::npos);
  EXPECT_NE(arrows[0].find("... 47 more lines ("), std::string::npos) << arrows[0];
}

TEST(Diagram, DivergenceMarkedOnItsLine) {
  const sim::TranscriptFile t = recorded("starttls-may-to-must.toml", 2);
  DiagramMarks marks;
  marks.divergence_line = 5;
  marks.divergence_note = "the recording has X";
  const std::string svg = diagram_svg(sequence_of(t), marks);
  EXPECT_EQ(count(svg, " divergence\" data-line=\"5\""), 1u) << svg;
  EXPECT_NE(svg.find("first difference: the recording has X"), std::string::npos);
  EXPECT_EQ(count(diagram_svg(sequence_of(t)), "divergence"), 0u);
  EXPECT_NE(diagram_text(sequence_of(t), marks).find("FIRST DIFFERENCE at run line 5"), std::string::npos);
  marks.divergence_line = 100000;
  EXPECT_NE(diagram_svg(sequence_of(t), marks).find("first difference at run line 100000, after the end of this run"),
            std::string::npos);
  // Any line number is written as the number it is, in the SVG as in the text.
  marks.divergence_line = std::numeric_limits<std::size_t>::max();
  const std::string largest = std::to_string(std::numeric_limits<std::size_t>::max());
  EXPECT_NE(diagram_svg(sequence_of(t), marks).find("first difference at run line " + largest + ","), std::string::npos);
  EXPECT_NE(diagram_text(sequence_of(t), marks).find("FIRST DIFFERENCE at run line " + largest + ","), std::string::npos);
}

TEST(Diagram, EvidenceAndSendJsonRead) {
  const std::string evidence = "tlschan probe evidence v1\nopenssl x\ntarget mx:25\ncheck starttls-purge (tls)\n"
                               "verdict FAIL\nreason the server answered the injected command\nrun\n"
                               "         0ms c1 s>c 220 mx\\r\\n\n"
                               "         3ms c1 c>s tls 300 bytes sha256:00\n"
                               "         4ms c1 c>s in-tls EHLO x\\r\\n\n"
                               "end\n";
  auto e = read_sequence(evidence, "e.txt");
  ASSERT_TRUE(e.has_value()) << e.error();
  const std::string svg = diagram_svg(*e);
  EXPECT_EQ(groups(svg, "arrow ").size(), 3u);
  EXPECT_NE(svg.find(">in TLS: EHLO x</tspan>"), std::string::npos);
  const auto verdict = groups(svg, "verdict failed");
  ASSERT_EQ(verdict.size(), 1u);
  EXPECT_NE(verdict[0].find("verdict FAIL: the server answered the injected command"), std::string::npos);

  const std::string json = R"({"client_policy": "may", "disposition": "delivered", "transcript": [
    {"connection": 1, "ms": 0, "direction": "s>c", "text": "220 mx\r\n"},
    {"connection": 1, "ms": 2, "event": "tls-established TLSv1.3"},
    {"connection": 1, "ms": 3, "direction": "c>s", "tls_bytes": 77}]})";
  auto j = read_sequence(json, "send.json");
  ASSERT_TRUE(j.has_value()) << j.error();
  const std::string jsvg = diagram_svg(*j);
  EXPECT_EQ(groups(jsvg, "arrow ").size(), 2u);
  EXPECT_EQ(count(jsvg, "<rect class=\"tls-band\""), 1u);
  EXPECT_EQ(groups(jsvg, "note").size(), 1u);
  EXPECT_EQ(groups(jsvg, "verdict\"").size(), 1u);
}

TEST(Diagram, BadInputNamesFileLineColumn) {
  auto not_one = read_sequence("hello\n", "x.txt");
  ASSERT_FALSE(not_one.has_value());
  EXPECT_EQ(not_one.error().rfind("x.txt:1:1: error: not a tlschan transcript", 0), 0u) << not_one.error();

  auto bad_time = read_sequence("tlschan transcript v2\nseed 1\nopenssl x\nscenario 1 lines\nname = 'b'\nrun\n"
                                "         0ms c1 c>s A\n   12xs c1 c>s B\nend\n",
                                "b.transcript");
  ASSERT_FALSE(bad_time.has_value());
  EXPECT_EQ(bad_time.error().rfind("b.transcript:8:4: error: expected a time stamp", 0), 0u) << bad_time.error();

  auto cut = read_sequence("tlschan transcript v2\nseed 1\nopenssl x\nscenario 1 lines\nname = 'b'\nrun\n", "c.t");
  ASSERT_FALSE(cut.has_value());
  EXPECT_NE(cut.error().find("c.t:"), std::string::npos);

  auto json = read_sequence("{\n  \"transcript\": [\n    {\"connection\": 1,, }\n", "j.json");
  ASSERT_FALSE(json.has_value());
  EXPECT_EQ(json.error().rfind("j.json:3:", 0), 0u) << json.error();

  auto deep = read_sequence("{\"transcript\": " + std::string(100000, '['), "deep.json");
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().rfind("deep.json:1:47: error: nested more than 32 deep", 0), 0u) << deep.error();

  auto evidence = read_sequence("tlschan client-check evidence v1\nopenssl x\nrun\nend\n", "e.txt");
  ASSERT_FALSE(evidence.has_value());
  EXPECT_EQ(evidence.error().rfind("e.txt:3:1: error: expected a \"verdict\"", 0), 0u) << evidence.error();
}

}  // namespace
}  // namespace tlschan::views

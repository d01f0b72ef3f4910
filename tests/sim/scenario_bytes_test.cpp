// Scenario strings hold any octets: what print_scenario writes, parse_scenario reads back byte for
// byte (a string that is not UTF-8 as { bytes = "..." }), so that a transcript replays the bytes
// its run sent. Malformed escapes are errors that name the file, line, column and key.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tlschan/sim/prng.hpp"
#include "tlschan/sim/scenario_file.hpp"
#include "tlschan/sim/simulation.hpp"
#include "tlschan/sim/transcript.hpp"

#include "sim_test_support.hpp"

namespace tlschan::sim {
namespace {

const Simulator& simulator() { return testing::shared_simulator(); }

// Appends the UTF-8 form of the Unicode scalar value `cp`.
void append_utf8(std::string& s, std::uint32_t cp) {
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xe0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::string hex(std::string_view s) {
  std::string out;
  char buf[4];
  for (const char c : s) {
    std::snprintf(buf, sizeof buf, "%02x ", static_cast<unsigned char>(c));
    out += buf;
  }
  return out;
}

// A scenario with every kind of string field a scenario prints.
Scenario every_field_scenario() {
  Scenario s;
  s.server.switch_target = "tcp_tls";
  s.messages = {MessageSpec{}, MessageSpec{}};
  s.messages[1].to = {"a@x.test", "b@x.test"};
  s.scripts = {ScriptSpec{{"EHLO a\r\n", "QUIT\r\n"}, false, true}, ScriptSpec{{"HELO b\r\n"}, true, false}};
  s.server_script = ServerScriptSpec{{"220 x\r\n", "250 y\r\n"}, true};
  return s;
}

// Every string field of the scenario, in a fixed order.
std::vector<std::string*> text_fields(Scenario& s) {
  std::vector<std::string*> f{&s.name, &s.server.name, &s.server.channel, &s.client.name, &s.client.channel};
  if (s.server.switch_target) f.push_back(&*s.server.switch_target);
  for (auto& m : s.messages) {
    f.push_back(&m.from);
    for (auto& to : m.to) f.push_back(&to);
    f.push_back(&m.body);
  }
  for (auto& sp : s.scripts) {
    for (auto& chunk : sp.send) f.push_back(&chunk);
  }
  if (s.server_script) {
    for (auto& chunk : s.server_script->replies) f.push_back(&chunk);
  }
  return f;
}

// The values, in turn, in every string field.
Scenario filled(const std::vector<std::string>& values) {
  Scenario s = every_field_scenario();
  const auto fields = text_fields(s);
  for (std::size_t i = 0; i < fields.size(); ++i) *fields[i] = values[i % values.size()];
  return s;
}

// print, parse: every field the same octets; printed again: the same text.
void expect_round_trip(const Scenario& original, const std::string& what) {
  const std::string text = print_scenario(original);
  auto back = parse_scenario(text, "bytes.toml");
  ASSERT_TRUE(back.has_value()) << what << ": " << back.error().message << "\n" << text;
  Scenario a = original, b = *back;
  const auto fa = text_fields(a), fb = text_fields(b);
  ASSERT_EQ(fa.size(), fb.size()) << what << "\n" << text;
  for (std::size_t i = 0; i < fa.size(); ++i) {
    EXPECT_EQ(*fa[i], *fb[i]) << what << ", field " << i << ": " << hex(*fa[i]) << "read back as "
                              << hex(*fb[i]);
  }
  EXPECT_EQ(print_scenario(*back), text) << what;
}

TEST(ScenarioBytes, EveryOctetInEveryField) {
  for (int v = 0; v < 256; ++v) {
    const std::string b(1, static_cast<char>(v));
    expect_round_trip(
        filled({b, "x" + b + "y", b + "\xc3\xa9" + b, "\\x41" + b + "\\", "\"" + b + "'", b + b + "\r\n"}),
        "octet " + std::to_string(v));
  }
}

TEST(ScenarioBytes, AllOctetsAndAllPairsOfOctets) {
  std::string all, pairs;
  for (int v = 0; v < 256; ++v) all += static_cast<char>(v);
  for (int v = 0; v < 65536; ++v) {
    pairs += static_cast<char>(v >> 8);
    pairs += static_cast<char>(v & 0xff);
  }
  expect_round_trip(filled({all, pairs}), "all octets, all pairs");
}

TEST(ScenarioBytes, RandomOctetStrings) {
  Prng prng(20240611);
  const auto random_string = [&] {
    std::string s;
    const std::uint64_t length = prng.below(48);
    while (s.size() < length) {
      switch (prng.below(4)) {
        case 0: s += static_cast<char>(prng.below(256)); break;          // any octet
        case 1: s += "\\\"'\r\n\t\x7f\x00x"[prng.below(9)]; break;       // the awkward ones
        case 2: s += static_cast<char>(0x80 + prng.below(0x40)); break;  // a lone continuation
        default: {                                                       // a UTF-8 character
          std::uint64_t cp = prng.below(0x110000);
          if (cp >= 0xd800 && cp < 0xe000) cp = 0xe9;
          append_utf8(s, static_cast<std::uint32_t>(cp));
        }
      }
    }
    return s;
  };
  for (int round = 0; round < 400; ++round) {
    std::vector<std::string> values;
    for (int i = 0; i < 7; ++i) values.push_back(random_string());
    expect_round_trip(filled(values), "round " + std::to_string(round));
  }
}

TEST(ScenarioBytes, EveryUnicodeScalarValueStaysPlainText) {
  for (std::uint32_t base = 0; base < 0x110000; base += 0x1000) {
    std::string s;
    for (std::uint32_t cp = base; cp < base + 0x1000; ++cp) {
      if (cp >= 0xd800 && cp < 0xe000) continue;
      append_utf8(s, cp);
    }
    Scenario sc = every_field_scenario();
    sc.messages[0].body = s;
    expect_round_trip(sc, "code points from " + std::to_string(base));
    EXPECT_EQ(print_scenario(sc).find("{ bytes ="), std::string::npos) << "UTF-8 printed as octets";
  }
}

TEST(ScenarioBytes, OnlyStringsThatAreNotUtf8TakeTheBytesForm) {
  // Ordinary scenarios print as before: no bytes form anywhere.
  for (const auto& entry : std::filesystem::directory_iterator(TLSCHAN_SOURCE_DIR "/corpus/scenarios")) {
    auto s = load_scenario(entry.path().string());
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ(print_scenario(*s).find("{ bytes ="), std::string::npos) << entry.path();
  }
  Scenario s = every_field_scenario();
  s.scripts[0].send = {"EHLO \xff\r\n", "caf\xc3\xa9\r\n",  "\xc3\r\n", "\xed\xa0\x80",
                       "\xc0\x80",      "\xf4\x90\x80\x80", "a\\b\x80"};
  const std::string text = print_scenario(s);
  // Octets from 0x80 up as \xHH and a backslash as \\ (each backslash doubled again by TOML); a
  // surrogate, an overlong form and a code point past U+10FFFF are not UTF-8.
  EXPECT_NE(text.find("send = [\n"
                      R"({ bytes = "EHLO \\xff\r\n" },)"
                      "\n"
                      R"("caf\u00E9\r\n",)"
                      "\n"
                      R"({ bytes = "\\xc3\r\n" },)"
                      "\n"
                      R"({ bytes = "\\xed\\xa0\\x80" },)"
                      "\n"
                      R"({ bytes = "\\xc0\\x80" },)"
                      "\n"
                      R"({ bytes = "\\xf4\\x90\\x80\\x80" },)"
                      "\n"
                      R"({ bytes = "a\\\\b\\x80" })"
                      "\n]\n"),
            std::string::npos)
      << text;
  expect_round_trip(s, "printed forms");
}

TEST(ScenarioBytes, HandWrittenBytesForms) {
  // In a literal string the notation is written as in a transcript line; in a basic string its
  // backslashes are doubled; hex digits in either case; text (UTF-8 too) stands for itself.
  auto s = parse_scenario(
      "[[script]]\n"
      "send = [{ bytes = 'EHLO \\xff\\r\\n' }, { bytes = \"EHLO \\\\xFF\\r\\n\" }, { bytes = 'é\\\\\\x00' "
      "}]\n",
      "hand.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  ASSERT_EQ(s->scripts.size(), 1u);
  ASSERT_EQ(s->scripts[0].send.size(), 3u);
  EXPECT_EQ(s->scripts[0].send[0], "EHLO \xff\r\n");
  EXPECT_EQ(s->scripts[0].send[1], "EHLO \xff\r\n");
  EXPECT_EQ(s->scripts[0].send[2], std::string("\xc3\xa9\\\0", 4));
}

TEST(ScenarioBytes, MalformedEscapesNameFileLineColumnAndKey) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      // The column is the offending backslash's, in a basic string (after TOML escapes and a
      // character of two octets), a literal string and a multi-line string.
      {"name = { bytes = \"ab\\\\q\" }\n",
       "b.toml:1:21: error: name.bytes: found \"\\q\", expected \\xHH (two hex digits), \\r, \\n or \\\\ (a "
       "backslash)"},
      {"[server]\nname = { bytes = 'ab\\x4' }\n", "b.toml:2:21: error: server.name.bytes: found \"\\x4\""},
      {"[[script]]\nsend = [\"x\", { bytes = \"\\u00e9\\t\\\\z\" }]\n",
       "b.toml:2:33: error: script[0].send.bytes: found \"\\z\""},
      {"[[script]]\nsend = [{ bytes = \"\"\"\nab\nc\\\\xzz\"\"\" }]\n",
       "b.toml:4:2: error: script[0].send.bytes: found \"\\xzz\""},
      {"name = { bytes = \"é\\\\q\" }\n", "b.toml:1:20: error: name.bytes: found \"\\q\""},
      {"name = { bytes = 'x\\' }\n", "b.toml:1:20: error: name.bytes: found a backslash at the end"},
      {"[[message]]\nto = [{ bytes = 'a\\xg0@b' }]\n",
       "b.toml:2:19: error: message[0].to.bytes: found \"\\xg0\""},
      {"[server_script]\nreplies = [{ bytes = \"a\\\\\\u0001\" }]\n",
       "b.toml:2:24: error: server_script.replies.bytes: found \"\\\\x01\""},
      // The form itself.
      {"name = { bytes = 'x', other = 1 }\n", "b.toml:1:31: error: name.other: unknown key"},
      {"name = {}\n", "b.toml:1:8: error: name: expected { bytes = \"...\" }"},
      {"name = { bytes = 1 }\n", "b.toml:1:18: error: name.bytes: found a integer, expected a string"},
      {"name = 3\n", "b.toml:1:8: error: name: found a integer, expected a string (or { bytes = \"...\" }"},
  };
  for (const Case& c : cases) {
    auto s = parse_scenario(c.text, "b.toml");
    ASSERT_FALSE(s.has_value()) << c.text;
    EXPECT_EQ(s.error().message.rfind(c.error, 0), 0u)
        << c.text << "\n  got: " << s.error().message << "\n  expected: " << c.error;
  }
}

// The transcript file alone replays the run, whatever octets the scenario sends.
void expect_replays_identically(const Scenario& s, std::uint64_t seed) {
  std::string body;
  simulator().run(s, seed, &body);
  testing::expect_transcript_replays(s, seed, body);
}

TEST(ScenarioBytes, TranscriptsOfAnyOctetsReplayIdentically) {
  std::string all;
  for (int v = 0; v < 256; ++v) all += static_cast<char>(v);
  // A scripted client, plaintext then inside TLS, as server_session_fuzzer's inputs are run.
  Scenario client = every_field_scenario();
  client.messages.clear();
  client.server_script.reset();
  client.server.policy = Policy::may;
  client.network.segment_min = client.network.segment_max = 0;
  client.scripts = {
      ScriptSpec{
          {"EHLO \xff\xfe\r\n", "NOOP \x80\r\n", "STARTTLS\r\n", "EHLO \xc3\r\n", all + "\r\n"}, false, true},
      ScriptSpec{{"HELO \xa0\r\n", all, "QUIT\r\n"}, true, false}};
  // A scripted server, as client_session_fuzzer's inputs are run, and a message of 8-bit octets.
  Scenario server = every_field_scenario();
  server.scripts.clear();
  server.messages.resize(1);
  server.messages[0].body = "Subject: \xff\r\n\r\n\xfe\x80 8-bit\r\n";
  server.server_script =
      ServerScriptSpec{{"220 \xff ESMTP\r\n", "250-x\r\n250 STARTTLS\r\n", "220 go \x80\r\n", "250 \xc3\r\n",
                        "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n"},
                       true};
  for (const Scenario* s : {&client, &server}) {
    for (std::uint64_t seed : {1u, 2u, 3u}) expect_replays_identically(*s, seed);
  }
  std::string t;
  simulator().run(client, 1, &t);
  EXPECT_NE(t.find("c>s EHLO \\xff\\xfe\\r\\n"), std::string::npos) << t;
}

}  // namespace
}  // namespace tlschan::sim

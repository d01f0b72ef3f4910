// Helpers shared by the configuration tests (channel table, dispatcher, lint).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/channel_table.hpp"
#include "tlschan/config.hpp"

namespace tlschan::test {

inline std::vector<std::string> formatted(const std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics) out.push_back(format_diagnostic(d));
  return out;
}

inline std::string joined_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// The table of a text that must parse.
inline std::optional<ChannelTable> parse_table(std::string_view text) {
  auto table = parse_imta_cnf(text, "imta.cnf");
  if (!table) {
    ADD_FAILURE() << "unexpected errors:\n" << joined_lines(formatted(table.error()));
    return std::nullopt;
  }
  return std::move(table).value();
}

// The formatted errors of an imta.cnf text that must not parse.
inline std::vector<std::string> imta_errors(std::string_view text) {
  auto table = parse_imta_cnf(text, "imta.cnf");
  if (table) {
    ADD_FAILURE() << "parsed, expected errors";
    return {};
  }
  return formatted(table.error());
}

inline std::vector<std::string> texts(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  for (const Token& t : tokens) out.push_back(t.text);
  return out;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline ConfigText default_config_text() {
  ConfigText text;
  text.imta_cnf = read_text(TLSCHAN_TEST_CONFIGS "/default/imta.cnf");
  text.dispatcher_cnf = read_text(TLSCHAN_TEST_CONFIGS "/default/dispatcher.cnf");
  return text;
}

}  // namespace tlschan::test

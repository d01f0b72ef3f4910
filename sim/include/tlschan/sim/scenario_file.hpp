// Scenarios as TOML files (corpus/scenarios/). Errors name the file, the line, the column and the
// key at fault.
//
// A string field (a name, an address, a body, a script's chunk) holds any octets. One that is not
// UTF-8, which a TOML string cannot hold, is written as { bytes = "..." }: its string gives the
// octets in the notation of a transcript's byte lines, \xHH for the octet HH, \r, \n, \\ for CR,
// LF and a backslash, any other character for its own UTF-8 octets; any other backslash is an
// error. In a literal string it reads as in a transcript, send = [{ bytes = 'EHLO \xff\r\n' }];
// print_scenario writes basic strings, where TOML doubles the backslashes ("EHLO \\xff\r\n").
#pragma once

#include <string>
#include <string_view>

#include "tlschan/expected.hpp"
#include "tlschan/sim/scenario.hpp"

namespace tlschan::sim {

struct ScenarioError {
  std::string message;  // "FILE:LINE:COL: error: KEY: what was found, what was expected"
};

Expected<Scenario, ScenarioError> parse_scenario(std::string_view text, const std::string& file_name);
Expected<Scenario, ScenarioError> load_scenario(const std::string& path);

// TOML that parse_scenario reads back to the same scenario, every string octet for octet.
std::string print_scenario(const Scenario& scenario);

}  // namespace tlschan::sim

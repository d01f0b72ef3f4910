// How findings leave the program: as JSON (one object per finding, shared by `probe` and
// `client-check`) and as evidence files, one transcript per check in the simulator's format.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tlschan/audit/verdict.hpp"
#include "tlschan/expected.hpp"

namespace tlschan::audit {

nlohmann::ordered_json exchange_json(const Exchange& exchange);
// {"id", "group", "verdict", "reason", "decided_by", "exchange": [...]}
nlohmann::ordered_json finding_json(const Finding& finding);

// The evidence transcript of one finding: a header naming the tool, the target, the check and its
// verdict, then "run", the exchange in the simulator's line format, and "end".
std::string evidence_text(const Finding& finding, const std::string& target);

// Writes DIR/<id>.txt for the finding (DIR is created when missing); the error says which file.
Expected<std::string, std::string> write_evidence(const std::string& dir, const Finding& finding,
                                                  const std::string& target);

}  // namespace tlschan::audit

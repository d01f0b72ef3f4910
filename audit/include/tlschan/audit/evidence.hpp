// How findings leave the program: as JSON (one object per finding, shared by `probe` and
// `client-check`) and as evidence files, one transcript per check in the simulator's format.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tlschan/audit/verdict.hpp"
#include "tlschan/expected.hpp"

namespace tlschan::audit {

nlohmann::ordered_json exchange_json(const Exchange& exchange);
// {"id", "group", "verdict", "reason", "decided_by", "exchange": [...]}
nlohmann::ordered_json finding_json(const Finding& finding);

// An evidence transcript, shared by `probe` and `client-check`: "tlschan TOOL evidence v1", the
// OpenSSL version, the HEADER lines ("key value"), the finding's verdict, reason and deciding
// line, then "run", the exchange in the simulator's line format, and "end".
std::string evidence_transcript(const std::string& tool, const std::vector<std::pair<std::string, std::string>>& header,
                                const Finding& finding);

// probe's evidence transcript of one finding: the target and the check (with its group).
std::string evidence_text(const Finding& finding, const std::string& target);

// Writes DIR/<id>.txt for the finding (DIR is created when missing), and beside it DIR/<id>.pcapng
// when the check opened a connection (write_evidence_pcapng); the error says which file.
Expected<std::string, std::string> write_evidence(const std::string& dir, const Finding& finding,
                                                  const std::string& target);

// The pcapng of an exchange's connections beside its transcript `transcript_path` (same name,
// .pcapng): the bytes both ways as TCP streams, real timestamps, made-up addresses, the server on
// its service's well-known port, each connection's TLS key log inside. Nothing is written for an
// exchange without a connection (the path is then empty).
Expected<std::string, std::string> write_evidence_pcapng(const std::string& transcript_path, const Exchange& exchange);

}  // namespace tlschan::audit

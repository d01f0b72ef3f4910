// What one check (of `probe`) or one case (of `client-check`) concluded: the verdict, the reason in
// words, the reply or event that decided it, and the exchange it was decided from.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tlschan/audit/exchange.hpp"

namespace tlschan::audit {

enum class Verdict { pass, fail, warn, info, skip, not_run };

const char* to_string(Verdict v);  // "PASS", "FAIL", "WARN", "INFO", "SKIP", "NOT RUN"

// What a check decided, before the runner files it under the check's id.
struct Outcome {
  Verdict verdict = Verdict::info;
  std::string reason;      // one sentence, for people
  std::string decided_by;  // the reply (or event) that decided it, as one line; may be empty
};

Outcome pass(std::string reason, std::string decided_by = {});
Outcome fail(std::string reason, std::string decided_by = {});
Outcome warn(std::string reason, std::string decided_by = {});
Outcome info(std::string reason, std::string decided_by = {});
Outcome skip(std::string reason);

// A check's outcome filed under its stable id, with the exchange that decided it.
struct Finding {
  std::string id;     // stable, documented in docs/probe.md
  std::string group;  // "greeting", "handshake", "injection", ...
  Outcome outcome;
  Exchange exchange;
};

}  // namespace tlschan::audit

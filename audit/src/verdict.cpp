#include "tlschan/audit/verdict.hpp"

namespace tlschan::audit {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::pass: return "PASS";
    case Verdict::fail: return "FAIL";
    case Verdict::warn: return "WARN";
    case Verdict::info: return "INFO";
    case Verdict::skip: return "SKIP";
    case Verdict::not_run: return "NOT RUN";
  }
  return "?";
}

Outcome pass(std::string reason, std::string decided_by) { return {Verdict::pass, std::move(reason), std::move(decided_by)}; }
Outcome fail(std::string reason, std::string decided_by) { return {Verdict::fail, std::move(reason), std::move(decided_by)}; }
Outcome warn(std::string reason, std::string decided_by) { return {Verdict::warn, std::move(reason), std::move(decided_by)}; }
Outcome info(std::string reason, std::string decided_by) { return {Verdict::info, std::move(reason), std::move(decided_by)}; }
Outcome skip(std::string reason) { return {Verdict::skip, std::move(reason), {}}; }

}  // namespace tlschan::audit

#include <algorithm>

#include "cases.hpp"

namespace tlschan::audit {

const std::vector<CaseSpec>& all_cases() {
  static const std::vector<CaseSpec> list{
      cases::no_starttls(),       cases::ehlo_refused(),     cases::starttls_454(),     cases::starttls_502(),
      cases::starttls_odd_reply(), cases::handshake_broken(), cases::handshake_eof(),    cases::response_injection(),
      cases::starttls_relisted(),  cases::cert_self_signed(), cases::cert_expired(),     cases::cert_wrong_name(),
      cases::clean()};
  return list;
}

std::vector<std::string> unknown_case_names(const std::vector<std::string>& names) {
  std::vector<std::string> unknown;
  const auto& all = all_cases();
  for (const auto& n : names) {
    if (std::none_of(all.begin(), all.end(), [&](const CaseSpec& c) { return c.name == n; })) unknown.push_back(n);
  }
  return unknown;
}

bool CaseSpec::fallback_possible(const CaseFacts& facts) const {
  return !facts.connections.empty() && facts.connections.back().handshake_failed;
}

}  // namespace tlschan::audit

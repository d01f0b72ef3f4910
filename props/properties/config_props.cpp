// 8. Configuration: for generated channel tables, print then parse gives the same table.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "tlschan/channel_table.hpp"

namespace tlschan::props {
namespace {

rc::Gen<std::string> gen_name() {
  return rc::gen::map(rc::gen::inRange(0, 1000), [](int n) { return "tcp_c" + std::to_string(n); });
}

// imta.cnf text: rewrite rules, a blank line, blocks with TLS keywords (any case), value keywords,
// unknown keywords, defaults/nodefaults lines, comments and continuations.
rc::Gen<std::string> gen_imta_cnf() {
  return rc::gen::exec([] {
    auto names = *rc::gen::unique<std::vector<std::string>>(gen_name());
    if (names.empty()) names.push_back("tcp_local");
    std::string text = "! generated\n";
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string n = std::to_string(i);
      const std::string domain = i == 0 && *rc::gen::arbitrary<bool>()
                                     ? "$*"
                                     : *rc::gen::element<std::string>("d" + n + ".example.com", ".d" + n + ".example.org",
                                                                     "*.d" + n + ".corp.test");
      text += domain + "  $U%$D@" + names[i] + "-daemon\n";
    }
    text += "\n";
    static const std::vector<std::string> tls = {"notls", "notlsserver", "notlsclient", "maytls", "maytlsserver",
                                                 "maytlsclient", "musttls", "musttlsserver", "musttlsclient",
                                                 "MayTLS", "MUSTTLSCLIENT"};
    static const std::vector<std::string> other = {"smtp", "mx", "single_sys", "identnone", "subdirs 20", "maxjobs 7",
                                                   "pool SMTP_POOL", "backoff \"pt5m\"", "daemon router.example"};
    bool first = true;
    for (const auto& name : names) {
      if (!first) text += "\n";
      first = false;
      if (*rc::gen::weightedElement<int>({{5, 0}, {1, 1}, {1, 2}}) == 1) {
        text += "defaults " + *rc::gen::elementOf(tls) + "\n\n";
      } else if (*rc::gen::weightedElement<int>({{6, 0}, {1, 1}}) == 1) {
        text += "nodefaults\n\n";
      }
      text += name;
      const auto words = *rc::gen::inRange(0, 6);
      for (int w = 0; w < words; ++w) {
        // A continuation only between words: a `\` before a blank line would end the block.
        if (w > 0 && *rc::gen::weightedElement<bool>({{8, false}, {1, true}})) text += " \\\n   ";
        switch (*rc::gen::inRange(0, 4)) {
          case 0:
          case 1: text += ' '; text += *rc::gen::elementOf(tls); break;
          case 2: text += ' '; text += *rc::gen::elementOf(other); break;
          default: text += " tlsswitchchannel " + *rc::gen::elementOf(names); break;
        }
      }
      if (*rc::gen::weightedElement<bool>({{5, false}, {1, true}})) text += "  ! a comment";
      text += "\n" + name + "-daemon\n";
    }
    return text;
  });
}

RC_GTEST_PROP(Configuration, PrintThenParseGivesTheSameTable, ()) {
  const std::string text = *gen_imta_cnf();
  RC_LOG() << text;
  auto first = parse_imta_cnf(text, "generated.cnf");
  RC_ASSERT(first.has_value());
  const std::string printed = print_imta_cnf(*first);
  auto second = parse_imta_cnf(printed, "printed.cnf");
  RC_ASSERT(second.has_value());
  RC_ASSERT(same_channel_table(*first, *second));
  RC_ASSERT(print_imta_cnf(*second) == printed);
  for (const auto& ch : first->channels()) {
    const Channel* again = second->find_by_name(ch.name.text);
    RC_ASSERT(again != nullptr);
    RC_ASSERT(again->policy.server == ch.policy.server);
    RC_ASSERT(again->policy.client == ch.policy.client);
    RC_ASSERT(again->policy.switch_target == ch.policy.switch_target);
  }
}

}  // namespace
}  // namespace tlschan::props

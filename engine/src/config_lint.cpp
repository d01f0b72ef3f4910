// Warnings about configurations that load but do not do what they seem to, and lint's summary.
#include "tlschan/config_lint.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "config_lines.hpp"
#include "tlschan/config.hpp"

namespace tlschan {

namespace {

using config_text::in_quotes;

class Warnings {
 public:
  // A warning about a defaults line comes once, however many channels inherit the line.
  void add(const std::string& file, SourcePosition at, std::string message) {
    if (!seen_.emplace(file, at.line, at.column, message).second) return;
    list_.push_back({file, at, Severity::warning, std::move(message)});
  }
  // By file (in the order the files first appear), then by position.
  std::vector<Diagnostic> sorted() && {
    std::vector<std::string> files;
    for (const Diagnostic& d : list_) {
      if (std::find(files.begin(), files.end(), d.file) == files.end()) files.push_back(d.file);
    }
    const auto rank = [&](const Diagnostic& d) {
      return std::tuple(std::find(files.begin(), files.end(), d.file) - files.begin(), d.position.line,
                        d.position.column);
    };
    std::stable_sort(list_.begin(), list_.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
    return std::move(list_);
  }

 private:
  std::vector<Diagnostic> list_;
  std::set<std::tuple<std::string, std::size_t, std::size_t, std::string>> seen_;
};

std::string side_words(const KeywordOverride& o, bool both) {
  if (both) return " for both sides";
  return o.side ? std::string(" for the ") + to_string(*o.side) + " side" : std::string();
}

// A keyword as a message names it: tlsswitchchannel with its value.
std::string keyword_text(const Channel& channel, std::size_t index) {
  const std::string& word = channel.policy_token(index).text;
  if (config_text::iequals(word, "tlsswitchchannel") && index + 1 < channel.policy_token_count()) {
    return word + " " + channel.policy_token(index + 1).text;
  }
  return word;
}

void warn_overrides(const ChannelTable& table, const Channel& channel, Warnings& out) {
  const auto& overrides = channel.policy.overrides;
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    const KeywordOverride& o = overrides[i];
    // A keyword that overrides both sides of one keyword is one message.
    const bool both = i + 1 < overrides.size() && overrides[i + 1].overridden == o.overridden &&
                      overrides[i + 1].by == o.by && o.side && overrides[i + 1].side;
    if (both) ++i;
    const bool across = channel.from_defaults(o.overridden) && !channel.from_defaults(o.by);
    std::string message = keyword_text(channel, o.overridden) + (across ? " (from defaults)" : "") +
                          " is overridden" + side_words(o, both) + " by " + keyword_text(channel, o.by) +
                          " at " + format_position(channel.policy_token(o.by).position);
    if (across) message += " in channel " + in_quotes(channel.name.text);
    out.add(table.file(), channel.policy_token(o.overridden).position, std::move(message));
  }
}

void warn_shadowed_rules(const ChannelTable& table, Warnings& out) {
  std::map<std::string, const RewriteRule*> first;
  for (const RewriteRule& rule : table.rules()) {
    const auto [it, inserted] = first.emplace(config_text::ascii_lower(rule.pattern.text), &rule);
    if (inserted) continue;
    out.add(table.file(), rule.pattern.position,
            "found the rewrite rule pattern " + in_quotes(rule.pattern.text) +
                " again: this rule never applies, " + "the rule at " +
                format_position(it->second->pattern.position) + " comes first");
  }
}

void warn_services(const ChannelTable& table, const DispatcherConfig& dispatcher, Warnings& out) {
  for (const DispatcherService& service : dispatcher.services) {
    const Channel* channel = table.find_by_name(service.channel.text);
    if (channel == nullptr) continue;  // an error, reported by parse_config
    const std::string who = "service " + in_quotes(service.name.text);
    if (service.ports.empty() && service.tls_ports.empty()) {
      out.add(dispatcher.file, service.name.position,
              who + " has no PORT and no TLS_PORT, expected at least one: it accepts no connection");
    }
    if (channel->policy.server == Policy::no) {
      for (const ServicePort& port : service.tls_ports) {
        out.add(dispatcher.file, port.position,
                "TLS_PORT " + std::to_string(port.number) + " of " + who + " hands connections to channel " +
                    in_quotes(channel->name.text) +
                    ", whose server policy is no: every connection there is closed " +
                    "before a byte is sent; expected maytlsserver or musttlsserver on that channel");
      }
    }
    if (channel->policy.server == Policy::must) {
      for (const ServicePort& port : service.ports) {
        if (port.number != 25) continue;
        out.add(dispatcher.file, port.position,
                "port 25 of " + who + " hands connections to channel " + in_quotes(channel->name.text) +
                    ", whose server policy is must: public mail arrives on port 25, and RFC 3207 says a "
                    "publicly " +
                    "referenced server must not require TLS; expected maytlsserver there");
      }
    }
  }
}

// A tlsswitchchannel target that no service hands connections to is only ever entered after TLS:
// its server policy gates nothing there, and its own tlsswitchchannel is not followed (one switch
// per connection).
void warn_switch_targets(const ChannelTable& table, const DispatcherConfig* dispatcher, Warnings& out) {
  std::set<const Channel*> incoming;
  if (dispatcher != nullptr) {
    for (const DispatcherService& service : dispatcher->services)
      incoming.insert(table.find_by_name(service.channel.text));
  }
  std::set<const Channel*> done;
  for (const Channel& source : table.channels()) {
    if (!source.policy.switch_target) continue;
    const Channel* target = table.find_by_name(*source.policy.switch_target);
    if (target == nullptr || target == &source || incoming.count(target) != 0 || !done.insert(target).second)
      continue;
    const std::string reached = in_quotes(target->name.text) + " is reached only by tlsswitchchannel from " +
                                in_quotes(source.name.text) + ", which switches after TLS is established";
    if (const auto setter = target->policy_setter(Side::server)) {
      out.add(table.file(), target->policy_token(*setter).position,
              target->policy_token(*setter).text + " sets the server policy of channel " +
                  in_quotes(target->name.text) + " to " + to_string(target->policy.server) +
                  ", which never applies: " + reached + ", so its server policy (no, may or must) gates " +
                  "nothing; expected no server keyword there, or a service handing connections to it");
    }
    for (const std::size_t k : target->switch_keywords()) {
      out.add(table.file(), target->policy_token(k).position,
              keyword_text(*target, k) + " on channel " + in_quotes(target->name.text) +
                  " is never followed: " + reached + ", and a connection switches once");
    }
  }
}

}  // namespace

std::vector<Diagnostic> config_warnings(const ChannelTable& table, const DispatcherConfig* dispatcher) {
  Warnings out;
  for (const Channel& channel : table.channels()) warn_overrides(table, channel, out);
  warn_shadowed_rules(table, out);
  warn_switch_targets(table, dispatcher, out);
  if (dispatcher != nullptr) warn_services(table, *dispatcher, out);
  return std::move(out).sorted();
}

std::vector<ChannelSummary> summarize_channels(const Config& config) {
  const ChannelTable& table = config.table;
  std::vector<ChannelSummary> rows;
  for (const Channel& channel : table.channels()) {
    rows.push_back({channel.name.text,
                    channel.policy.server,
                    channel.policy.client,
                    channel.policy.switch_target,
                    channel.tag.text,
                    {}});
  }
  const auto row_of = [&](const Channel& channel) -> ChannelSummary& {
    return rows[static_cast<std::size_t>(&channel - table.channels().data())];
  };
  if (config.dispatcher) {
    for (const DispatcherService& service : config.dispatcher->services) {
      ChannelSummary& row = row_of(incoming_channel(config, service));
      for (const ServicePort& p : service.ports)
        row.reached_by.push_back(service.name.text + " port " + std::to_string(p.number));
      for (const ServicePort& p : service.tls_ports) {
        row.reached_by.push_back(service.name.text + " tls_port " + std::to_string(p.number));
      }
    }
  }
  for (const Channel& source : table.channels()) {
    if (!source.policy.switch_target) continue;
    row_of(*table.find_by_name(*source.policy.switch_target))
        .reached_by.push_back("tlsswitchchannel from " + source.name.text);
  }
  std::set<std::string> patterns;  // a rule whose pattern came before never applies
  for (const RewriteRule& rule : table.rules()) {
    if (!patterns.insert(config_text::ascii_lower(rule.pattern.text)).second) continue;
    row_of(*table.find_by_tag(rule.tag)).reached_by.push_back("rule " + rule.pattern.text);
  }
  return rows;
}

}  // namespace tlschan

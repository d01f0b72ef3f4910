// The imta.cnf format: parsing into a ChannelTable and printing one back.
#include <algorithm>
#include <iterator>
#include <span>

#include "config_lines.hpp"
#include "tlschan/channel_table.hpp"

namespace tlschan {

namespace {

using namespace config_text;

// A line as the format sees it: physical lines joined by trailing '\', comment lines skipped.
struct LogicalLine {
  std::vector<Token> words;
  SourcePosition start;
  bool damaged = false;  // a part was reported unreadable: the line holds its place but is not checked
};

// Blank lines separate the rules from the channels and the channel blocks from each other.
struct Item {
  bool blank = false;
  LogicalLine line;
};

std::vector<Item> logical_lines(const std::vector<PhysicalLine>& lines, ErrorSink& errors) {
  std::vector<Item> items;
  items.reserve(lines.size());
  std::size_t i = 0;
  while (i < lines.size()) {
    const PhysicalLine& first = lines[i++];
    LogicalLine line{{}, {first.number, 1}, first.damaged};
    bool continued = false;
    if (!first.damaged) {
      LineWords w = split_words(first, errors);
      if (w.words.empty() && !w.continued) {
        if (!w.comment) items.push_back({true, {}});
        continue;  // a comment line is not there at all
      }
      line.words = std::move(w.words);
      continued = w.continued;
    }
    std::size_t length = first.text.size();
    while (continued && i < lines.size()) {
      const PhysicalLine& next = lines[i];
      if (next.damaged) {
        line.damaged = true;
        ++i;
        break;
      }
      LineWords w = split_words(next, errors);
      // A continuation never swallows a blank line: it stays a separator.
      if (w.words.empty() && !w.continued && !w.comment) break;
      ++i;
      continued = w.continued || (w.words.empty() && w.comment);
      length += next.text.size();
      if (length > max_line_length && !line.damaged) {
        errors.error({next.number, 1}, "found a continued line of more than " +
                                           std::to_string(max_line_length) + " bytes, expected at most that");
        line.damaged = true;
      }
      if (!line.damaged) {
        line.words.insert(line.words.end(), std::make_move_iterator(w.words.begin()),
                          std::make_move_iterator(w.words.end()));
      }
    }
    if (line.words.empty() && !line.damaged) continue;  // only backslashes
    if (!line.words.empty()) line.start = line.words.front().position;
    items.push_back({false, std::move(line)});
  }
  return items;
}

bool is_host_name(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t dot = s.find('.'); dot != std::string_view::npos; dot = s.find('.')) {
    if (!is_word(s.substr(0, dot))) return false;
    s.remove_prefix(dot + 1);
  }
  return is_word(s);
}

// `$*`, `.`, `domain`, `.domain`, or `*.domain` with one `*` per leading label.
bool is_rule_pattern(std::string_view p) {
  if (p == "$*" || p == ".") return true;
  bool stars_allowed = true;
  if (!p.empty() && p.front() == '.') {
    p.remove_prefix(1);
    stars_allowed = false;
  }
  if (p.empty()) return false;
  while (true) {
    const std::size_t dot = p.find('.');
    const std::string_view label = p.substr(0, dot);
    if (label == "*") {
      if (!stars_allowed) return false;
    } else {
      if (!is_word(label)) return false;
      stars_allowed = false;
    }
    if (dot == std::string_view::npos) return true;
    p.remove_prefix(dot + 1);
  }
}

std::string word_or_line(const LogicalLine& line) {
  return line.words.empty() ? "a line" : in_quotes(line.words.front().text);
}

class ImtaParser {
 public:
  explicit ImtaParser(ErrorSink& errors) : errors_(errors) {}

  void parse(std::string_view text) {
    const std::vector<PhysicalLine> physical = split_lines(text, errors_);
    const std::vector<Item> items = logical_lines(physical, errors_);
    std::size_t i = 0;
    // The rewrite rules run up to the first blank line.
    for (; i < items.size() && !items[i].blank; ++i) parse_rule(items[i].line);
    // Each block is a run of items between blank lines, parsed where it lies.
    std::size_t block_start = i;
    for (; i <= items.size(); ++i) {
      if (i == items.size() || items[i].blank) {
        if (i > block_start) parse_block(std::span(items).subspan(block_start, i - block_start));
        block_start = i + 1;
      }
    }
    if (channels.empty() && !saw_damaged_block_) {
      errors_.error(
          {physical.empty() ? 1 : physical.size(), 1},
          "found no channel block, expected channel blocks after the rewrite rules and a blank line");
    }
  }

  std::vector<RewriteRule> rules;
  std::vector<Channel> channels;

 private:
  void parse_rule(const LogicalLine& line) {
    if (line.damaged) return;
    const Token& pattern = line.words[0];
    if (line.words.size() < 2) {
      errors_.error(pattern.position, "found the rewrite rule pattern " + in_quotes(pattern.text) +
                                          " alone, expected 'pattern template' (or a blank line before the "
                                          "channel blocks)");
      return;
    }
    if (line.words.size() > 2) {
      errors_.error(line.words[2].position,
                    "found " + in_quotes(line.words[2].text) +
                        " after the template of a rewrite rule, expected the end of the "
                        "rule ('pattern template')");
    }
    if (!is_rule_pattern(pattern.text)) {
      errors_.error(pattern.position, "found the rewrite rule pattern " + in_quotes(pattern.text) +
                                          ", expected a domain, .domain, *.domain, . or $*");
    }
    const Token& rewrite = line.words[1];
    const std::size_t at = rewrite.text.rfind('@');
    if (at == std::string::npos || at + 1 == rewrite.text.size()) {
      errors_.error(rewrite.position, "found the template " + in_quotes(rewrite.text) +
                                          ", expected a template ending in '@' and a channel tag, such as "
                                          "$U%$D@tcp-daemon");
      return;
    }
    const std::string tag = rewrite.text.substr(at + 1);
    if (!is_host_name(tag)) {
      errors_.error({rewrite.position.line, rewrite.position.column + at + 1},
                    "found the tag " + in_quotes(tag) +
                        " in a template, expected a channel tag (letters, digits, "
                        "'.', '-', '_')");
      return;
    }
    rules.push_back({pattern, rewrite, tag});
  }

  // A keyword line's words, each value-taking keyword followed by its value. A keyword whose value
  // is missing is reported and left out, so that nothing later reads the next line's words as it.
  std::vector<Token> keywords_of(std::span<const Token> words) {
    std::vector<Token> out;
    out.reserve(words.size());
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (keyword_takes_value(words[i].text)) {
        if (i + 1 == words.size()) {
          const bool is_switch = iequals(words[i].text, "tlsswitchchannel");
          errors_.error(words[i].position,
                        "found " + in_quotes(words[i].text) + " at the end of its line, expected " +
                            (is_switch ? "the name of the channel to switch to" : "its value") + " after it");
          break;
        }
        out.push_back(words[i]);
        ++i;
      }
      out.push_back(words[i]);
    }
    return out;
  }

  void parse_block(std::span<const Item> items) {
    // The block's lines, without copying them.
    const auto block = [&](std::size_t k) -> const LogicalLine& { return items[k].line; };
    const std::size_t block_size = items.size();
    const LogicalLine& first = block(0);
    if (first.damaged) {
      saw_damaged_block_ = true;
      return;
    }
    const Token& head = first.words[0];
    const std::span<const Token> rest = std::span(first.words).subspan(1);
    if (iequals(head.text, "defaults") || iequals(head.text, "nodefaults")) {
      const bool clears = iequals(head.text, "nodefaults");
      if (clears && !rest.empty()) {
        errors_.error(rest[0].position,
                      "found " + in_quotes(rest[0].text) + " after nodefaults, expected nothing");
      }
      defaults_ = clears ? std::vector<Token>{} : keywords_of(rest);
      if (block_size > 1 && !block(1).damaged) {
        errors_.error(block(1).start, "found " + word_or_line(block(1)) + " after a " +
                                          ascii_lower(head.text) +
                                          " line, expected a blank line (it has no tag line)");
      }
      return;
    }

    Channel channel;
    channel.name = head;
    channel.defaults = defaults_;
    channel.keywords = keywords_of(rest);
    channel.tag.position = first.start;
    if (!is_word(head.text)) {
      errors_.error(head.position, "found the channel name " + in_quotes(head.text) +
                                       ", expected letters, digits, '-' and '_'");
    }
    if (block_size < 2) {
      errors_.error(head.position, "found channel " + in_quotes(head.text) +
                                       " without a tag line, expected its tag (official host name) on the "
                                       "next line");
    } else if (!block(1).damaged) {
      const LogicalLine& tag_line = block(1);
      channel.tag = tag_line.words[0];
      if (!is_host_name(channel.tag.text)) {
        errors_.error(channel.tag.position, "found the tag " + in_quotes(channel.tag.text) +
                                                ", expected a host name (letters, digits, '.', '-', '_')");
      }
      if (tag_line.words.size() > 1) {
        errors_.error(tag_line.words[1].position, "found " + in_quotes(tag_line.words[1].text) +
                                                      " after the tag " + in_quotes(channel.tag.text) +
                                                      ", expected the tag alone");
      }
    }
    if (block_size > 2 && !block(2).damaged) {
      errors_.error(block(2).start, "found " + word_or_line(block(2)) + " after the tag line of channel " +
                                        in_quotes(head.text) +
                                        ", expected a blank line before the next block");
    }
    auto policy = resolve_channel_policy(channel.policy_views());
    if (policy) {
      channel.policy = std::move(*policy);
    } else {
      errors_.error(channel.policy_token(policy.error().keyword).position, policy.error().message);
    }
    channels.push_back(std::move(channel));
  }

  ErrorSink& errors_;
  std::vector<Token> defaults_;
  bool saw_damaged_block_ = false;  // perhaps a channel: "no channel block" would be a guess
};

// What only the whole table can tell: duplicates and references to channels and tags.
void check_references(const ChannelTable& table, ErrorSink& errors) {
  for (const Channel& channel : table.channels()) {
    const Channel* first = table.find_by_name(channel.name.text);
    if (first != &channel) {
      errors.error(channel.name.position, "found channel " + in_quotes(channel.name.text) +
                                              " again, expected each channel once (first at " +
                                              format_position(first->name.position) + ")");
    }
    if (const Channel* owner = table.find_by_tag(channel.tag.text); owner != nullptr && owner != &channel) {
      errors.error(channel.tag.position, "found the tag " + in_quotes(channel.tag.text) +
                                             " again, expected each " + "tag once (channel " +
                                             in_quotes(owner->name.text) + " has it at " +
                                             format_position(owner->tag.position) + ")");
    }
    for (const std::size_t k : channel.switch_keywords()) {
      const Token& target = channel.policy_token(k + 1);
      if (table.find_by_name(target.text) == nullptr) {
        errors.error(target.position, "found the tlsswitchchannel target " + in_quotes(target.text) +
                                          ", expected the name of a channel of the table");
      }
    }
  }
  for (const RewriteRule& rule : table.rules()) {
    if (table.find_by_tag(rule.tag) == nullptr) {
      errors.error({rule.rewrite.position.line,
                    rule.rewrite.position.column + rule.rewrite.text.size() - rule.tag.size()},
                   "found the tag " + in_quotes(rule.tag) + " in the template of rule " +
                       in_quotes(rule.pattern.text) + ", expected the tag of a channel (no channel has it)");
    }
  }
}

std::string joined(const std::vector<Token>& words) {
  std::string out;
  for (const Token& w : words) {
    if (!out.empty()) out += ' ';
    out += w.text;
  }
  return out;
}

}  // namespace

Expected<ChannelTable, std::vector<Diagnostic>> parse_imta_cnf(std::string_view text, std::string file_name) {
  ErrorSink errors(file_name);
  ImtaParser parser(errors);
  parser.parse(text);
  ChannelTable table(std::move(file_name), std::move(parser.rules), std::move(parser.channels));
  check_references(table, errors);
  if (!errors.empty()) return unexpected(errors.take());
  return table;
}

std::string print_imta_cnf(const ChannelTable& table) {
  std::string out;
  for (const RewriteRule& rule : table.rules()) out += rule.pattern.text + "  " + rule.rewrite.text + "\n";
  std::string defaults;  // the defaults line in effect for the parser of the output
  for (const Channel& channel : table.channels()) {
    const std::string wanted = joined(channel.defaults);
    if (wanted != defaults) {
      out += "\n";
      out += wanted.empty() ? "nodefaults\n" : "defaults " + wanted + "\n";
      defaults = wanted;
    }
    out += "\n" + channel.name.text;
    if (!channel.keywords.empty()) {
      out += ' ';
      out += joined(channel.keywords);
    }
    out += "\n" + channel.tag.text + "\n";
  }
  return out;
}

}  // namespace tlschan

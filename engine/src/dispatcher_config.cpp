// The dispatcher.cnf format.
#include "tlschan/dispatcher_config.hpp"

#include <algorithm>
#include <map>

#include "config_lines.hpp"

namespace tlschan {

namespace {

using namespace config_text;

// The options of one section (or of the global part) that the dispatcher interprets.
struct SectionValues {
  std::optional<std::vector<ServicePort>> ports;
  std::optional<std::vector<ServicePort>> tls_ports;
  std::optional<Token> channel;
  std::map<std::string, SourcePosition> seen;  // lower-cased option -> where it was set
};

class DispatcherParser {
 public:
  explicit DispatcherParser(ErrorSink& errors) : errors_(errors) {}

  DispatcherConfig parse(std::string_view text) {
    DispatcherConfig config;
    config.file = errors_.file();
    for (const PhysicalLine& line : split_lines(text, errors_)) {
      if (line.damaged) continue;
      const std::string_view content = trim(strip_comment(line.text));
      if (content.empty()) continue;
      const auto at = [&](std::string_view part) {
        return SourcePosition{line.number, static_cast<std::size_t>(part.data() - line.text.data()) + 1};
      };
      if (content.front() == '[') {
        parse_header(config, content, at);
      } else {
        parse_option(config, content, at);
      }
    }
    finish(config);
    return config;
  }

 private:
  template <class At>
  void parse_header(DispatcherConfig& config, std::string_view content, const At& at) {
    in_broken_section_ = true;
    const std::size_t eq = content.find('=');
    const std::string_view key =
        eq == std::string_view::npos ? std::string_view() : trim(content.substr(1, eq - 1));
    const std::string_view name = eq == std::string_view::npos || content.back() != ']'
                                      ? std::string_view()
                                      : trim(content.substr(eq + 1, content.size() - eq - 2));
    if (!iequals(key, "SERVICE") || !is_word(name)) {
      errors_.error(at(content), "found the section header " + in_quotes(content) +
                                     ", expected [SERVICE=name] (name: letters, digits, '-', '_')");
      return;
    }
    const auto first = std::find_if(config.services.begin(), config.services.end(),
                                    [&](const DispatcherService& s) { return iequals(s.name.text, name); });
    if (first != config.services.end()) {
      errors_.error(at(name), "found service " + in_quotes(name) +
                                  " again, expected each service once (first at " +
                                  format_position(first->name.position) + ")");
      return;
    }
    DispatcherService service;
    service.name = {std::string(name), at(name)};
    config.services.push_back(std::move(service));
    sections_.emplace_back();
    in_broken_section_ = false;
  }

  template <class At>
  void parse_option(DispatcherConfig& config, std::string_view content, const At& at) {
    const std::size_t eq = content.find('=');
    if (eq == std::string_view::npos) {
      errors_.error(at(content), "found " + in_quotes(content) + ", expected option=value or [SERVICE=name]");
      return;
    }
    const std::string_view name = trim(content.substr(0, eq));
    const std::string_view value = trim(content.substr(eq + 1));
    if (!is_word(name)) {
      errors_.error(at(content),
                    "found the option name " + in_quotes(name) + ", expected letters, digits, '-' and '_'");
      return;
    }
    const SourcePosition value_at =
        value.empty() ? SourcePosition{at(content).line, at(content).column + eq + 1} : at(value);
    DispatcherOption option{{std::string(name), at(name)}, {std::string(value), value_at}};
    if (in_broken_section_) return;  // reported at its header; its options go nowhere
    SectionValues& section = sections_.empty() ? global_ : sections_.back();
    (sections_.empty() ? config.global_options : config.services.back().options).push_back(option);

    const std::string key = ascii_lower(name);
    if (key != "port" && key != "tls_port" && key != "parameter") return;
    if (const auto seen = section.seen.find(key); seen != section.seen.end()) {
      errors_.error(option.name.position, "found " + std::string(name) +
                                              " again in this section, expected it " + "once (first at " +
                                              format_position(seen->second) + ")");
      return;
    }
    section.seen.emplace(key, option.name.position);
    if (key == "parameter") {
      section.channel = parse_channel_parameter(option.value);
    } else {
      (key == "port" ? section.ports : section.tls_ports) = parse_ports(option.name.text, value, at);
    }
  }

  template <class At>
  std::vector<ServicePort> parse_ports(const std::string& option, std::string_view value, const At& at) {
    std::vector<ServicePort> ports;
    if (value.empty()) {
      errors_.error(at(value),
                    "found " + option + " without a value, expected a port number from 1 to 65535");
      return ports;
    }
    while (true) {
      const std::size_t comma = value.find(',');
      const std::string_view item = trim(value.substr(0, comma));
      const bool digits = !item.empty() && item.size() <= 5 &&
                          std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; });
      const unsigned long number = digits ? std::stoul(std::string(item)) : 0;
      if (number < 1 || number > 65535) {
        errors_.error(at(item.empty() ? value : item), "found the " + option + " value " + in_quotes(item) +
                                                           ", expected a port number from 1 to 65535");
      } else {
        ports.push_back({static_cast<std::uint16_t>(number), at(item)});
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
    return ports;
  }

  std::optional<Token> parse_channel_parameter(const Token& value) {
    const std::size_t eq = value.text.find('=');
    const std::string_view key = trim(std::string_view(value.text).substr(0, eq));
    if (eq != std::string::npos && iequals(key, "CHANNEL")) {
      const std::string_view rest = std::string_view(value.text).substr(eq + 1);
      const std::string_view name = trim(rest);
      if (is_word(name)) {
        const std::size_t offset = static_cast<std::size_t>(name.data() - value.text.data());
        return Token{std::string(name), {value.position.line, value.position.column + offset}};
      }
    }
    errors_.error(value.position,
                  "found " + in_quotes("PARAMETER=" + value.text) + ", expected PARAMETER=CHANNEL=name");
    return std::nullopt;
  }

  // Services take what they do not set from the global part; no port serves two services.
  void finish(DispatcherConfig& config) {
    std::map<std::uint16_t, std::pair<const DispatcherService*, SourcePosition>> owners;
    for (std::size_t i = 0; i < config.services.size(); ++i) {
      DispatcherService& service = config.services[i];
      const SectionValues& own = sections_[i];
      service.ports = own.ports.value_or(global_.ports.value_or(std::vector<ServicePort>{}));
      service.tls_ports = own.tls_ports.value_or(global_.tls_ports.value_or(std::vector<ServicePort>{}));
      if (const auto& channel = own.channel ? own.channel : global_.channel) service.channel = *channel;
      for (const auto* list : {&service.ports, &service.tls_ports}) {
        for (const ServicePort& port : *list) {
          const auto [it, inserted] = owners.emplace(port.number, std::pair{&service, port.position});
          if (!inserted) {
            errors_.error(port.position, "found port " + std::to_string(port.number) + " again for service " +
                                             in_quotes(service.name.text) +
                                             ", expected each port once (service " +
                                             in_quotes(it->second.first->name.text) + " has it at " +
                                             format_position(it->second.second) + ")");
          }
        }
      }
    }
  }

  ErrorSink& errors_;
  SectionValues global_;
  std::vector<SectionValues> sections_;  // one per service, in order
  bool in_broken_section_ = false;
};

}  // namespace

Expected<DispatcherConfig, std::vector<Diagnostic>> parse_dispatcher_cnf(std::string_view text,
                                                                         std::string file_name) {
  ErrorSink errors(std::move(file_name));
  DispatcherConfig config = DispatcherParser(errors).parse(text);
  if (!errors.empty()) return unexpected(errors.take());
  return config;
}

}  // namespace tlschan

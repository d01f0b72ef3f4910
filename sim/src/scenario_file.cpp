#include "tlschan/sim/scenario_file.hpp"

#include "tlschan/config.hpp"
#include "tlschan/escape.hpp"
#include "tlschan/sim/default_config.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

namespace tlschan::sim {

namespace {

// ---- strings of any octets (scenario_file.hpp) -------------------------------------------------
//
// A string that is UTF-8 is a TOML string; any other is { bytes = "..." }. The printer writes each
// octet from 0x80 up as \xHH and a backslash as \\, and leaves the rest (CR, LF, quotes, control
// characters) to TOML's own escapes, so that the octets stay readable among the text.

// Well-formed UTF-8 (RFC 3629): no overlong form, no surrogate, nothing past U+10FFFF.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the second octet
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      n = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b == 0xe0) lo = 0xa0;
      if (b == 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b == 0xf0) lo = 0x90;
      if (b == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf)) return false;
    }
    i += n + 1;
  }
  return true;
}

std::string bytes_notation(std::string_view octets) { return escape_bytes(octets, Escape::non_ascii); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct NotationError {
  std::size_t at = 0;  // the offending backslash, an offset in the notation
  std::string what;
};

std::optional<NotationError> read_bytes_notation(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    const char e = i + 1 < text.size() ? text[i + 1] : '\0';
    if (e == '\\' || e == 'r' || e == 'n') {
      out += e == 'r' ? '\r' : e == 'n' ? '\n' : '\\';
      ++i;
    } else if (e == 'x' && i + 3 < text.size() && hex_digit(text[i + 2]) >= 0 &&
               hex_digit(text[i + 3]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 2]) * 16 + hex_digit(text[i + 3]));
      i += 3;
    } else {
      std::string found = "found \"\\";
      for (const char f : text.substr(i + 1, e == 'x' ? 3 : 1)) {
        const auto u = static_cast<unsigned char>(f);
        if (u < 0x20 || u >= 0x7f) {
          static constexpr char hex[] = "0123456789abcdef";
          found += std::string("\\x") + hex[u >> 4] + hex[u & 0xf];  // shown, not read
        } else {
          found += f;
        }
      }
      found += "\"";
      return NotationError{i, (i + 1 >= text.size() ? std::string("found a backslash at the end") : found) +
                                  ", expected \\xHH (two hex digits), \\r, \\n or \\\\ (a backslash)"};
    }
  }
  return std::nullopt;
}

std::size_t utf8_length(unsigned char lead) {
  return lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
}

// Where, in the document, the octet `target` of a string value starts: the value's TOML source is
// followed from its opening quote at `start` (a basic or literal string, one line or multi-line),
// so that an error inside a string names its own line and column (columns count code points, as
// toml++'s do). Nothing when the source does not read as expected.
std::optional<toml::source_position> locate_in_string(std::string_view doc, toml::source_position start,
                                                      std::size_t target) {
  std::size_t i = 0;
  for (std::uint32_t line = 1; line < start.line; ++line) {
    const auto lf = doc.find('\n', i);
    if (lf == std::string_view::npos) return std::nullopt;
    i = lf + 1;
  }
  for (std::uint32_t column = 1; column < start.column && i < doc.size(); ++column) {
    i += utf8_length(static_cast<unsigned char>(doc[i]));
  }
  if (i >= doc.size() || (doc[i] != '"' && doc[i] != '\'')) return std::nullopt;
  const char quote = doc[i];
  const bool basic = quote == '"';
  const bool multi = doc.substr(i, 3) == std::string(3, quote);
  toml::source_position at = start;
  const auto next_line = [&](std::size_t bytes) {
    i += bytes;
    ++at.line;
    at.column = 1;
  };
  const auto next_columns = [&](std::size_t bytes, std::uint32_t columns) {
    i += bytes;
    at.column += columns;
  };
  next_columns(multi ? 3 : 1, multi ? 3 : 1);
  if (multi && doc.substr(i, 1) == "\n") next_line(1);    // a newline right after the quotes
  if (multi && doc.substr(i, 2) == "\r\n") next_line(2);  // is not part of the string
  std::size_t decoded = 0;
  while (i < doc.size() && decoded <= target) {
    if (decoded == target) return at;
    const char c = doc[i];
    if (c == quote && (!multi || doc.substr(i, 3) == std::string(3, quote))) return std::nullopt;
    if (c == '\n' || doc.substr(i, 2) == "\r\n") {
      if (!multi) return std::nullopt;
      decoded += 1;  // a newline reads as LF
      next_line(c == '\n' ? 1 : 2);
    } else if (c == '\\' && basic) {
      const char e = i + 1 < doc.size() ? doc[i + 1] : '\0';
      if (e == 'u' || e == 'U') {
        const std::size_t digits = e == 'u' ? 4 : 8;
        std::uint32_t cp = 0;
        for (std::size_t k = 0; k < digits; ++k) {
          const int d = i + 2 + k < doc.size() ? hex_digit(doc[i + 2 + k]) : -1;
          if (d < 0) return std::nullopt;
          cp = cp * 16 + static_cast<std::uint32_t>(d);
        }
        decoded += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        next_columns(2 + digits, static_cast<std::uint32_t>(2 + digits));
      } else if (multi && (e == ' ' || e == '\t' || e == '\r' || e == '\n')) {
        next_columns(1, 1);  // a line-ending backslash: the whitespace after it is not read
        while (i < doc.size() && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\r' || doc[i] == '\n')) {
          if (doc[i] == '\n') {
            next_line(1);
          } else {
            next_columns(1, 1);
          }
        }
      } else {
        decoded += 1;  // one of b t n f r " and the backslash
        next_columns(2, 2);
      }
    } else {
      const std::size_t n = std::min(utf8_length(static_cast<unsigned char>(c)), doc.size() - i);
      decoded += n;
      next_columns(n, 1);
    }
  }
  return std::nullopt;
}

class Reader {
 public:
  Reader(std::string file, std::string_view text) : file_(std::move(file)), text_(text) {}

  std::string where(const toml::source_region& r) const { return where(r.begin); }
  std::string where(const toml::source_position& p) const {
    return file_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
  }

  // Records the first error; later ones would only follow from it.
  void fail(const toml::node* node, const std::string& key, const std::string& what) {
    if (error_) return;
    const std::string at = node ? where(node->source()) : file_ + ":1:1";
    error_ = at + ": error: " + key + ": " + what;
  }
  void fail_at(const toml::source_position& p, const std::string& key, const std::string& what) {
    if (error_) return;
    error_ = where(p) + ": error: " + key + ": " + what;
  }

  // A string of any octets: a TOML string, or { bytes = "..." } (above).
  bool text(const toml::node& n, const std::string& path, std::string& out) {
    if (auto v = n.value<std::string>()) {
      out = std::move(*v);
      return true;
    }
    const toml::table* t = n.as_table();
    if (!t) {
      fail(&n, path,
           std::string("found a ") + type_name(n.type()) +
               ", expected a string (or { bytes = \"...\" } for octets that are not UTF-8)");
      return false;
    }
    check_keys(*t, path, {"bytes"});
    const toml::node* b = t->get("bytes");
    if (!b) {
      fail(&n, path, "expected { bytes = \"...\" }: octets as \\xHH, \\r, \\n, \\\\ and text");
      return false;
    }
    const auto coded = b->value<std::string>();
    if (!coded) {
      fail(b, path + ".bytes", std::string("found a ") + type_name(b->type()) + ", expected a string");
      return false;
    }
    std::string octets;
    if (const auto bad = read_bytes_notation(*coded, octets)) {
      const auto at = locate_in_string(text_, b->source().begin, bad->at);
      fail_at(at.value_or(b->source().begin), path + ".bytes", bad->what);
      return false;
    }
    if (error_) return false;
    out = std::move(octets);
    return true;
  }
  bool text(const toml::table& t, std::string_view key, const std::string& path, std::string& out) {
    const toml::node* n = t.get(key);
    return n && text(*n, path, out);
  }

  template <class T>
  bool get(const toml::table& t, std::string_view key, const std::string& path, T& out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    if (auto v = n->value<T>()) {
      out = *v;
      return true;
    }
    fail(n, path, std::string("found a ") + type_name(n->type()) + ", expected a " + expected_name<T>());
    return false;
  }

  void check_keys(const toml::table& t, const std::string& path, std::initializer_list<std::string_view> known) {
    for (const auto& [k, v] : t) {
      bool ok = false;
      for (const auto& name : known) ok = ok || k.str() == name;
      if (!ok) fail(&v, path.empty() ? std::string(k.str()) : path + "." + std::string(k.str()), "unknown key");
    }
  }

  const std::optional<std::string>& error() const { return error_; }

 private:
  static const char* type_name(toml::node_type t) {
    switch (t) {
      case toml::node_type::string: return "string";
      case toml::node_type::integer: return "integer";
      case toml::node_type::floating_point: return "float";
      case toml::node_type::boolean: return "boolean";
      case toml::node_type::array: return "array";
      case toml::node_type::table: return "table";
      default: return "value";
    }
  }
  template <class T>
  static const char* expected_name() {
    if constexpr (std::is_same_v<T, std::string>) return "string";
    if constexpr (std::is_same_v<T, bool>) return "boolean";
    return "integer";
  }

  std::string file_;
  std::string_view text_;  // the document
  std::optional<std::string> error_;
};

const toml::table* subtable(Reader& r, const toml::table& root, std::string_view key) {
  const toml::node* n = root.get(key);
  if (!n) return nullptr;
  if (!n->is_table()) {
    r.fail(n, std::string(key), "expected a table");
    return nullptr;
  }
  return n->as_table();
}

void read_policy(Reader& r, const toml::table& t, const std::string& path, Policy& out) {
  std::string s;
  if (!r.get(t, "policy", path + ".policy", s)) return;
  if (auto p = parse_policy(s)) {
    out = *p;
  } else {
    r.fail(t.get("policy"), path + ".policy", "found \"" + s + "\", expected \"no\", \"may\" or \"must\"");
  }
}

// [lo, hi] of non-negative integers.
bool read_range(Reader& r, const toml::table& t, std::string_view key, const std::string& path, std::int64_t& lo, std::int64_t& hi) {
  const toml::node* n = t.get(key);
  if (!n) return false;
  const toml::array* a = n->as_array();
  if (!a || a->size() != 2 || !(*a)[0].is_integer() || !(*a)[1].is_integer()) {
    r.fail(n, path, "expected [low, high], two integers");
    return false;
  }
  lo = *(*a)[0].value<std::int64_t>();
  hi = *(*a)[1].value<std::int64_t>();
  if (lo < 0 || hi < lo) {
    r.fail(n, path, "expected 0 <= low <= high");
    return false;
  }
  return true;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// With `config`, the server is a service of the configuration (its incoming channel's policy and
// switch target) and the client an outgoing channel (named, or picked by the rewrite rules).
void resolve_with_config(Reader& r, const toml::table& root, const std::string& file_name, Scenario& s) {
  const toml::node* cn = root.get("config");
  const toml::table* server = root.get("server") ? root.get("server")->as_table() : nullptr;
  const toml::table* client = root.get("client") ? root.get("client")->as_table() : nullptr;
  if (!cn) {
    for (const auto& [table, key] : {std::pair{server, "service"}, std::pair{server, "port"}, std::pair{client, "route"}}) {
      if (table && table->get(key)) r.fail(table->get(key), std::string(table == server ? "server." : "client.") + key,
                                            "needs a configuration: expected a top-level config = \"default\" or a folder");
    }
    return;
  }
  const auto dir = cn->value<std::string>();
  if (!dir) return r.fail(cn, "config", "expected \"default\" or a folder holding imta.cnf and dispatcher.cnf");
  auto config = *dir == "default"
                    ? parse_config(default_config_text())
                    : load_config(std::filesystem::path(file_name).parent_path() / std::filesystem::path(*dir));
  if (!config) {
    return r.fail(cn, "config", "the configuration has errors; the first: " + format_diagnostic(config.error().front()));
  }
  if (server && server->get("service")) {
    if (server->get("policy") || server->get("switch") || server->get("channel") || server->get("tls_port")) {
      return r.fail(server->get("service"), "server.service",
                    "comes with its channel's policy, switch and port kind: expected no server.policy, switch, channel or tls_port beside it");
    }
    std::string name;
    r.get(*server, "service", "server.service", name);
    const DispatcherService* service = nullptr;
    if (config->dispatcher) {
      for (const auto& sv : config->dispatcher->services) {
        if (lower(sv.name.text) == lower(name)) service = &sv;
      }
    }
    if (!service) return r.fail(server->get("service"), "server.service", "found \"" + name + "\", expected a [SERVICE=...] of the dispatcher configuration");
    std::int64_t port = 0;
    bool tls_port = false;
    if (r.get(*server, "port", "server.port", port)) {
      const auto has = [&](const std::vector<ServicePort>& ports) {
        return std::any_of(ports.begin(), ports.end(), [&](const ServicePort& p) { return p.number == port; });
      };
      if (has(service->tls_ports)) {
        tls_port = true;
      } else if (!has(service->ports)) {
        return r.fail(server->get("port"), "server.port", "found " + std::to_string(port) + ", expected a PORT or TLS_PORT of service " + name);
      }
    } else if (service->ports.empty()) {
      tls_port = true;
    }
    const Channel& ch = incoming_channel(*config, *service);
    s.server.channel = ch.name.text;
    s.server.policy = ch.policy.server;
    s.server.switch_target = ch.policy.switch_target;
    s.server.tls_port = tls_port;
  }
  if (client && (client->get("policy"))) return;  // an explicit policy wins over the configuration
  std::string channel_name;
  const Channel* ch = nullptr;
  if (client && client->get("channel")) {
    r.text(*client, "channel", "client.channel", channel_name);
    ch = config->table.find_by_name(channel_name);
    if (!ch) return r.fail(client->get("channel"), "client.channel", "found \"" + channel_name + "\", expected a channel of the configuration");
  } else {
    std::string domain;
    if (client && client->get("route")) {
      r.get(*client, "route", "client.route", domain);
    } else if (!s.messages.empty() && !s.messages.front().to.empty()) {
      const std::string& rcpt = s.messages.front().to.front();
      domain = rcpt.substr(rcpt.rfind('@') + 1);
    }
    if (domain.empty()) return;
    auto route = config->table.route(domain);
    if (!route) return r.fail(client && client->get("route") ? client->get("route") : cn, "client.route", route.error());
    ch = route->channel;
  }
  s.client.channel = ch->name.text;
  s.client.policy = ch->policy.client;
  if (s.server.tls_port && s.client.policy != Policy::no) s.client.implicit_tls = true;
}

}  // namespace

Expected<Scenario, ScenarioError> parse_scenario(std::string_view text, const std::string& file_name) {
  Reader r(file_name, text);
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    return unexpected(ScenarioError{r.where(e.source()) + ": error: " + std::string(e.description())});
  }
  Scenario s;
  s.messages.clear();
  r.check_keys(root, "", {"name", "server", "client", "message", "network", "fault", "retry", "expect", "script",
                          "server_script", "config"});
  r.text(root, "name", "name", s.name);

  if (const toml::table* t = subtable(r, root, "server")) {
    r.check_keys(*t, "server", {"name", "channel", "policy", "health", "switch", "tls_port", "service", "port"});
    r.text(*t, "name", "server.name", s.server.name);
    r.text(*t, "channel", "server.channel", s.server.channel);
    read_policy(r, *t, "server", s.server.policy);
    std::string h;
    if (r.get(*t, "health", "server.health", h)) {
      if (auto v = parse_health(h)) {
        s.server.health = *v;
      } else {
        r.fail(t->get("health"), "server.health", "found \"" + h + "\", expected \"ok\", \"unavailable\" or \"broken\"");
      }
    }
    std::string sw;
    if (r.text(*t, "switch", "server.switch", sw)) s.server.switch_target = sw;
    r.get(*t, "tls_port", "server.tls_port", s.server.tls_port);
  }
  if (const toml::table* t = subtable(r, root, "client")) {
    r.check_keys(*t, "client", {"name", "channel", "policy", "implicit_tls", "route"});
    r.text(*t, "name", "client.name", s.client.name);
    r.text(*t, "channel", "client.channel", s.client.channel);
    read_policy(r, *t, "client", s.client.policy);
    r.get(*t, "implicit_tls", "client.implicit_tls", s.client.implicit_tls);
  }
  if (const toml::node* n = root.get("message")) {
    const toml::array* a = n->as_array();
    if (!a || !a->is_array_of_tables()) {
      r.fail(n, "message", "expected [[message]] tables");
    } else {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::table& t = *(*a)[i].as_table();
        const std::string path = "message[" + std::to_string(i) + "]";
        r.check_keys(t, path, {"from", "to", "body"});
        MessageSpec m;
        r.text(t, "from", path + ".from", m.from);
        r.text(t, "body", path + ".body", m.body);
        if (const toml::node* to = t.get("to")) {
          const toml::array* ta = to->as_array();
          m.to.clear();
          if (!ta || ta->empty()) {
            r.fail(to, path + ".to", "expected a non-empty array of addresses");
          } else {
            for (const auto& v : *ta) {
              std::string address;
              if (r.text(v, path + ".to", address)) m.to.push_back(std::move(address));
            }
          }
        }
        s.messages.push_back(std::move(m));
      }
    }
  }
  if (const toml::node* n = root.get("script")) {
    const toml::array* a = n->as_array();
    if (!a || !a->is_array_of_tables()) {
      r.fail(n, "script", "expected [[script]] tables");
    } else {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::table& t = *(*a)[i].as_table();
        const std::string path = "script[" + std::to_string(i) + "]";
        r.check_keys(t, path, {"send", "wait", "tls"});
        ScriptSpec sp;
        r.get(t, "wait", path + ".wait", sp.wait);
        r.get(t, "tls", path + ".tls", sp.tls);
        const toml::node* sendn = t.get("send");
        const toml::array* sa = sendn ? sendn->as_array() : nullptr;
        if (!sa || sa->empty()) {
          r.fail(sendn ? sendn : &(*a)[i], path + ".send", "expected a non-empty array of strings (the chunks to send)");
        } else {
          for (const auto& v : *sa) {
            std::string chunk;
            if (r.text(v, path + ".send", chunk)) sp.send.push_back(std::move(chunk));
          }
        }
        s.scripts.push_back(std::move(sp));
      }
    }
  }
  if (const toml::table* t = subtable(r, root, "server_script")) {
    r.check_keys(*t, "server_script", {"replies", "tls"});
    ServerScriptSpec sp;
    r.get(*t, "tls", "server_script.tls", sp.tls);
    const toml::node* rn = t->get("replies");
    const toml::array* ra = rn ? rn->as_array() : nullptr;
    if (!ra) {
      r.fail(rn ? rn : root.get("server_script"), "server_script.replies", "expected an array of strings (the greeting, then one chunk per command)");
    } else {
      for (const auto& v : *ra) {
        std::string chunk;
        if (r.text(v, "server_script.replies", chunk)) sp.replies.push_back(std::move(chunk));
      }
    }
    s.server_script = std::move(sp);
  }
  // A scenario of scripted clients alone sends no queued message.
  if (s.messages.empty() && !root.get("script")) s.messages.push_back(MessageSpec{});
  if (const toml::table* t = subtable(r, root, "network")) {
    r.check_keys(*t, "network", {"latency_ms", "segment", "meddler"});
    std::int64_t lo = 0, hi = 0;
    if (read_range(r, *t, "latency_ms", "network.latency_ms", lo, hi)) {
      s.network.latency_min = milliseconds(lo);
      s.network.latency_max = milliseconds(hi);
    }
    if (read_range(r, *t, "segment", "network.segment", lo, hi)) {
      s.network.segment_min = static_cast<std::size_t>(lo);
      s.network.segment_max = static_cast<std::size_t>(hi);
    }
    std::string m;
    if (r.get(*t, "meddler", "network.meddler", m)) {
      if (auto k = parse_meddler(m)) {
        s.network.meddler = *k;
      } else {
        r.fail(t->get("meddler"), "network.meddler",
               "found \"" + m + "\", expected none, strip, refuse, tamper, inject-command or inject-response");
      }
    }
  }
  if (const toml::node* n = root.get("fault")) {
    const toml::array* a = n->as_array();
    if (!a || !a->is_array_of_tables()) {
      r.fail(n, "fault", "expected [[fault]] tables");
    } else {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::table& t = *(*a)[i].as_table();
        const std::string path = "fault[" + std::to_string(i) + "]";
        r.check_keys(t, path, {"kind", "direction", "after_bytes", "connection"});
        FaultSpec f;
        std::string kind, dir;
        if (r.get(t, "kind", path + ".kind", kind)) {
          if (auto k = parse_fault(kind)) {
            f.kind = *k;
          } else {
            r.fail(t.get("kind"), path + ".kind", "found \"" + kind + "\", expected reset, stall or truncate");
          }
        } else {
          r.fail(&(*a)[i], path + ".kind", "missing; expected reset, stall or truncate");
        }
        if (r.get(t, "direction", path + ".direction", dir)) {
          if (dir == "c2s" || dir == "s2c") {
            f.client_to_server = dir == "c2s";
          } else {
            r.fail(t.get("direction"), path + ".direction", "found \"" + dir + "\", expected \"c2s\" or \"s2c\"");
          }
        }
        std::int64_t v = 0;
        if (r.get(t, "after_bytes", path + ".after_bytes", v)) {
          if (v < 0) r.fail(t.get("after_bytes"), path + ".after_bytes", "expected a count >= 0");
          f.after_bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(v, 0));
        }
        if (r.get(t, "connection", path + ".connection", v)) {
          if (v < 1) r.fail(t.get("connection"), path + ".connection", "expected a connection number >= 1");
          f.connection = static_cast<int>(v);
        }
        s.faults.push_back(f);
      }
    }
  }
  if (const toml::table* t = subtable(r, root, "retry")) {
    r.check_keys(*t, "retry", {"backoff_s", "lifetime_s"});
    if (const toml::node* n = t->get("backoff_s")) {
      const toml::array* a = n->as_array();
      if (!a) {
        r.fail(n, "retry.backoff_s", "expected an array of seconds");
      } else {
        for (const auto& v : *a) {
          auto x = v.value<std::int64_t>();
          if (!x || *x < 0) {
            r.fail(&v, "retry.backoff_s", "expected seconds >= 0");
          } else {
            s.retry.backoff.push_back(seconds(*x));
          }
        }
      }
    }
    std::int64_t life = 0;
    if (r.get(*t, "lifetime_s", "retry.lifetime_s", life)) s.retry.lifetime = seconds(life);
  }
  if (const toml::table* t = subtable(r, root, "expect")) {
    r.check_keys(*t, "expect", {"outcome", "script_messages"});
    std::int64_t n = 0;
    if (r.get(*t, "script_messages", "expect.script_messages", n)) s.expect_script_messages = static_cast<int>(n);
    std::string o;
    if (r.get(*t, "outcome", "expect.outcome", o)) {
      if (const auto outcome = parse_outcome(o)) {
        s.expect = *outcome;
      } else {
        r.fail(t->get("outcome"), "expect.outcome", "found \"" + o + "\", expected delivered-tls, delivered-plain, bounced or deferred");
      }
    }
  }
  if (!r.error()) resolve_with_config(r, root, file_name, s);
  if (r.error()) return unexpected(ScenarioError{*r.error()});
  return s;
}

Expected<Scenario, ScenarioError> load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(ScenarioError{path + ":1:1: error: cannot open the scenario file"});
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path);
}

namespace {

// A string of any octets: a TOML string when it is UTF-8, else { bytes = "..." }.
toml::table bytes_table(std::string_view octets) {
  toml::table t{{"bytes", bytes_notation(octets)}};
  t.is_inline(true);
  return t;
}
void put_text(toml::table& t, std::string_view key, const std::string& value) {
  if (valid_utf8(value)) {
    t.insert(key, value);
  } else {
    t.insert(key, bytes_table(value));
  }
}
void push_text(toml::array& a, const std::string& value) {
  if (valid_utf8(value)) {
    a.push_back(value);
  } else {
    a.push_back(bytes_table(value));
  }
}

}  // namespace

std::string print_scenario(const Scenario& s) {
  toml::table root;
  put_text(root, "name", s.name);
  toml::table server{{"policy", to_string(s.server.policy)},
                     {"health", to_string(s.server.health)},
                     {"tls_port", s.server.tls_port}};
  put_text(server, "name", s.server.name);
  put_text(server, "channel", s.server.channel);
  if (s.server.switch_target) put_text(server, "switch", *s.server.switch_target);
  root.insert("server", std::move(server));
  toml::table client{{"policy", to_string(s.client.policy)}, {"implicit_tls", s.client.implicit_tls}};
  put_text(client, "name", s.client.name);
  put_text(client, "channel", s.client.channel);
  root.insert("client", std::move(client));
  toml::array messages;
  for (const auto& m : s.messages) {
    toml::array to;
    for (const auto& r : m.to) push_text(to, r);
    toml::table message{{"to", std::move(to)}};
    put_text(message, "from", m.from);
    put_text(message, "body", m.body);
    messages.push_back(std::move(message));
  }
  if (!messages.empty()) root.insert("message", std::move(messages));
  root.insert("network", toml::table{{"latency_ms", toml::array{s.network.latency_min.count(), s.network.latency_max.count()}},
                                     {"segment", toml::array{static_cast<std::int64_t>(s.network.segment_min),
                                                             static_cast<std::int64_t>(s.network.segment_max)}},
                                     {"meddler", to_string(s.network.meddler)}});
  if (!s.faults.empty()) {
    toml::array faults;
    for (const auto& f : s.faults) {
      faults.push_back(toml::table{{"kind", to_string(f.kind)},
                                   {"direction", f.client_to_server ? "c2s" : "s2c"},
                                   {"after_bytes", static_cast<std::int64_t>(f.after_bytes)},
                                   {"connection", f.connection}});
    }
    root.insert("fault", std::move(faults));
  }
  toml::array backoff;
  for (const auto& d : s.retry.backoff) backoff.push_back(std::chrono::duration_cast<seconds>(d).count());
  root.insert("retry", toml::table{{"backoff_s", std::move(backoff)},
                                   {"lifetime_s", std::chrono::duration_cast<seconds>(s.retry.lifetime).count()}});
  if (!s.scripts.empty()) {
    toml::array scripts;
    for (const auto& sp : s.scripts) {
      toml::array send;
      for (const auto& chunk : sp.send) push_text(send, chunk);
      scripts.push_back(toml::table{{"send", std::move(send)}, {"wait", sp.wait}, {"tls", sp.tls}});
    }
    root.insert("script", std::move(scripts));
  }
  if (s.server_script) {
    toml::array replies;
    for (const auto& chunk : s.server_script->replies) push_text(replies, chunk);
    root.insert("server_script", toml::table{{"replies", std::move(replies)}, {"tls", s.server_script->tls}});
  }
  toml::table expect;
  if (s.expect) expect.insert("outcome", std::string(to_string(*s.expect)));
  if (s.expect_script_messages) expect.insert("script_messages", *s.expect_script_messages);
  if (!expect.empty()) root.insert("expect", std::move(expect));
  std::ostringstream out;
  // Basic strings with escapes only: a multi-line or literal string would not read back the same
  // for every value (a leading newline, three quotes).
  out << toml::toml_formatter{root, toml::format_flags::none} << "\n";
  return out.str();
}

}  // namespace tlschan::sim

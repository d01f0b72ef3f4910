#include "tlschan/sim/scenario_file.hpp"

#include "tlschan/config.hpp"
#include "tlschan/sim/default_config.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

namespace tlschan::sim {

namespace {

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  std::string where(const toml::source_region& r) const {
    return file_ + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
  }

  // Records the first error; later ones would only follow from it.
  void fail(const toml::node* node, const std::string& key, const std::string& what) {
    if (error_) return;
    const std::string at = node ? where(node->source()) : file_ + ":1:1";
    error_ = at + ": error: " + key + ": " + what;
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
    r.get(*client, "channel", "client.channel", channel_name);
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
  Reader r(file_name);
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
  r.get(root, "name", "name", s.name);

  if (const toml::table* t = subtable(r, root, "server")) {
    r.check_keys(*t, "server", {"name", "channel", "policy", "health", "switch", "tls_port", "service", "port"});
    r.get(*t, "name", "server.name", s.server.name);
    r.get(*t, "channel", "server.channel", s.server.channel);
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
    if (r.get(*t, "switch", "server.switch", sw)) s.server.switch_target = sw;
    r.get(*t, "tls_port", "server.tls_port", s.server.tls_port);
  }
  if (const toml::table* t = subtable(r, root, "client")) {
    r.check_keys(*t, "client", {"name", "channel", "policy", "implicit_tls", "route"});
    r.get(*t, "name", "client.name", s.client.name);
    r.get(*t, "channel", "client.channel", s.client.channel);
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
        r.get(t, "from", path + ".from", m.from);
        r.get(t, "body", path + ".body", m.body);
        if (const toml::node* to = t.get("to")) {
          const toml::array* ta = to->as_array();
          m.to.clear();
          if (!ta || ta->empty()) {
            r.fail(to, path + ".to", "expected a non-empty array of addresses");
          } else {
            for (const auto& v : *ta) {
              if (auto str = v.value<std::string>()) {
                m.to.push_back(*str);
              } else {
                r.fail(&v, path + ".to", "expected a string address");
              }
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
            if (auto str = v.value<std::string>()) {
              sp.send.push_back(*str);
            } else {
              r.fail(&v, path + ".send", "expected a string");
            }
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
        if (auto str = v.value<std::string>()) {
          sp.replies.push_back(*str);
        } else {
          r.fail(&v, "server_script.replies", "expected a string");
        }
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
      if (o == "delivered-tls" || o == "delivered-plain" || o == "bounced" || o == "deferred") {
        s.expect = o;
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

std::string print_scenario(const Scenario& s) {
  toml::table root;
  root.insert("name", s.name);
  toml::table server{{"name", s.server.name},
                     {"channel", s.server.channel},
                     {"policy", to_string(s.server.policy)},
                     {"health", to_string(s.server.health)},
                     {"tls_port", s.server.tls_port}};
  if (s.server.switch_target) server.insert("switch", *s.server.switch_target);
  root.insert("server", std::move(server));
  root.insert("client", toml::table{{"name", s.client.name},
                                    {"channel", s.client.channel},
                                    {"policy", to_string(s.client.policy)},
                                    {"implicit_tls", s.client.implicit_tls}});
  toml::array messages;
  for (const auto& m : s.messages) {
    toml::array to;
    for (const auto& r : m.to) to.push_back(r);
    messages.push_back(toml::table{{"from", m.from}, {"to", std::move(to)}, {"body", m.body}});
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
      for (const auto& chunk : sp.send) send.push_back(chunk);
      scripts.push_back(toml::table{{"send", std::move(send)}, {"wait", sp.wait}, {"tls", sp.tls}});
    }
    root.insert("script", std::move(scripts));
  }
  if (s.server_script) {
    toml::array replies;
    for (const auto& chunk : s.server_script->replies) replies.push_back(chunk);
    root.insert("server_script", toml::table{{"replies", std::move(replies)}, {"tls", s.server_script->tls}});
  }
  toml::table expect;
  if (s.expect) expect.insert("outcome", *s.expect);
  if (s.expect_script_messages) expect.insert("script_messages", *s.expect_script_messages);
  if (!expect.empty()) root.insert("expect", std::move(expect));
  std::ostringstream out;
  // Basic strings with escapes only: a multi-line or literal string would not read back the same
  // for every value (a leading newline, three quotes).
  out << toml::toml_formatter{root, toml::format_flags::none} << "\n";
  return out.str();
}

}  // namespace tlschan::sim

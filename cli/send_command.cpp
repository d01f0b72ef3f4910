#include "send_command.hpp"
#include "exit_status.hpp"

#include <boost/asio/ip/host_name.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tlschan/config.hpp"
#include "tlschan/net/delivery.hpp"
#include "tlschan/net/endpoint.hpp"
#include "tlschan/sim/default_config.hpp"
#include "tlschan/views/run_pcap.hpp"
#include "tlschan/views/wire_capture.hpp"

namespace tlschan::cli {

namespace {

constexpr int exit_delivered = 0;
constexpr int exit_bounced = exit_unavailable;
constexpr int exit_deferred = exit_tempfail;

struct SendOptions {
  std::string config_dir;
  std::string channel = "tcp_local";
  std::string policy;  // empty: the channel's client policy
  std::string server;
  bool implicit_tls = false;
  std::string from;
  std::vector<std::string> to;
  std::string data_file;
  bool json = false;
  std::string helo;
  double timeout_s = 0;
  std::string pcap;    // --pcap: the attempt's connections as a pcapng file
  std::string keylog;  // --keylog: their TLS key log (SSLKEYLOGFILE form)
};

// The attempt's sockets into a capture: the server shown on its service's well-known port.
class SendCapture final : public net::DeliveryObserver {
 public:
  explicit SendCapture(std::uint16_t shown_port) : shown_port_(shown_port) {}
  void opened(int connection, const std::string& client_address, std::uint16_t client_port,
              const std::string& server_address, std::uint16_t server_port) override {
    capture_.opened(connection, client_address, client_port, server_address, server_port, shown_port_);
  }
  void bytes(int connection, bool from_client, std::string_view bytes) override {
    capture_.bytes(connection, from_client, bytes);
  }
  void closed(int connection, bool by_client) override { capture_.closed(connection, by_client); }
  void reset(int connection, bool by_client) override { capture_.reset(connection, by_client); }
  void key_log(int connection, std::string_view line) override { capture_.key_log(connection, line); }
  const views::WireCapture& capture() const { return capture_; }

 private:
  std::uint16_t shown_port_;
  views::WireCapture capture_;
};

// Writes --pcap and --keylog; false when one cannot be written (said on stderr).
bool write_capture(const SendOptions& o, const views::WireCapture& capture) {
  bool ok = true;
  if (!o.pcap.empty()) {
    if (const auto w = views::write_bytes(o.pcap, capture.pcapng()); !w) {
      std::cerr << "tlschan send: --pcap: " << w.error() << "\n";
      ok = false;
    } else if (!o.json) {
      std::cout << "pcapng: " << o.pcap << " (TLS secrets inside: wireshark " << o.pcap << ")\n";
    }
  }
  if (!o.keylog.empty()) {
    if (const auto w = views::write_bytes(o.keylog, capture.key_log_lines()); !w) {
      std::cerr << "tlschan send: --keylog: " << w.error() << "\n";
      ok = false;
    } else if (!o.json) {
      std::cout << "key log: " << o.keylog << "\n";
    }
  }
  return ok;
}

std::string one_line(std::string_view s) {
  std::string out;
  for (const char c : s) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  return out;
}

nlohmann::ordered_json transcript_json(const std::vector<net::TranscriptEntry>& transcript) {
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (const auto& t : transcript) {
    nlohmann::ordered_json e{{"connection", t.connection}, {"ms", t.at.count()}};
    if (t.kind == net::TranscriptEntry::Kind::event) {
      e["event"] = t.text;
    } else {
      e["direction"] = t.kind == net::TranscriptEntry::Kind::client_bytes ? "c>s" : "s>c";
      if (t.tls) {
        e["tls_bytes"] = t.length;
      } else {
        e["text"] = t.text;
      }
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

// Which client policy applied, and where it came from.
struct PolicyChoice {
  Policy policy = Policy::may;
  std::string source;  // one line for the text output
};

void print_json(const net::DeliveryResult& r, const PolicyChoice& p) {
  nlohmann::ordered_json outcomes = nlohmann::ordered_json::array();
  for (const auto& o : r.outcomes) {
    outcomes.push_back({{"recipient", o.recipient},
                        {"disposition", to_string(o.disposition)},
                        {"tls", o.tls},
                        {"code", o.code ? nlohmann::ordered_json(*o.code) : nlohmann::ordered_json(nullptr)},
                        {"reason", o.reason}});
  }
  const nlohmann::ordered_json j{{"client_policy", to_string(p.policy)},
                                 {"policy_source", p.source},
                                 {"disposition", to_string(r.disposition)},
                                 {"connections", r.connections},
                                 {"tls_fallback", r.tls_fallback},
                                 {"outcomes", outcomes},
                                 {"transcript", transcript_json(r.transcript)}};
  // The server's bytes are whatever it sent: what is not UTF-8 is replaced, never thrown on.
  std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

void print_text(const net::DeliveryResult& r, const PolicyChoice& p) {
  std::cout << "client policy: " << to_string(p.policy) << " (" << p.source << ")\n";
  for (const auto& o : r.outcomes) {
    std::cout << o.recipient << ": " << to_string(o.disposition);
    if (o.disposition == Disposition::delivered) std::cout << (o.tls ? " over TLS" : " in plaintext");
    std::cout << ": " << one_line(o.reason) << "\n";
  }
  std::cout << "message: " << to_string(r.disposition) << " (" << r.connections << " connection"
            << (r.connections == 1 ? "" : "s") << (r.tls_fallback ? ", after the TLS fallback" : "") << ")\n";
}

int exit_status(Disposition d) {
  switch (d) {
    case Disposition::delivered: return exit_delivered;
    case Disposition::deferred: return exit_deferred;
    case Disposition::bounced: return exit_bounced;
  }
  return exit_deferred;
}

int run(const SendOptions& o) {
  const auto server = net::parse_host_port(o.server);
  if (!server || server->port == 0) {
    std::cerr << "tlschan send: --server: " << (server ? "expected a port from 1 to 65535" : server.error())
              << "\n";
    return exit_usage;
  }
  std::optional<Policy> forced;
  if (!o.policy.empty()) {
    forced = o.policy == "no" ? Policy::no : o.policy == "may" ? Policy::may : Policy::must;
  }
  const auto config = o.config_dir.empty() ? parse_config(sim::default_config_text()) : load_config(o.config_dir);
  if (!config) {
    for (const Diagnostic& d : config.error()) std::cerr << format_diagnostic(d) << "\n";
    return exit_config;
  }
  for (const Diagnostic& d : config->warnings) std::cerr << format_diagnostic(d) << "\n";
  const Channel* channel = config->table.find_by_name(o.channel);
  if (!channel) {
    std::cerr << "tlschan send: --channel: found '" << o.channel << "', expected the name of a channel of "
              << config->table.file() << "\n";
    return exit_usage;
  }

  std::string data;
  if (o.data_file.empty()) {
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(o.data_file, std::ios::binary);
    if (!in) {
      std::cerr << "tlschan send: --data: cannot read " << o.data_file << "\n";
      return exit_usage;
    }
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  net::DeliveryRequest request;
  request.host = server->host;
  request.port = server->port;
  request.client.helo_name = o.helo.empty() ? boost::asio::ip::host_name() : o.helo;
  PolicyChoice choice{channel->policy.client, "channel " + o.channel + " of " + config->table.file()};
  if (forced) {
    choice.policy = *forced;
    choice.source = "--policy, over channel " + o.channel + "'s " + std::string(to_string(channel->policy.client));
  }
  request.client.policy = choice.policy;
  request.client.mode = o.implicit_tls ? ClientMode::implicit_tls : ClientMode::starttls;
  if (o.timeout_s > 0) {
    const Duration cap(static_cast<std::int64_t>(o.timeout_s * 1000));
    for (Duration* t : {&request.client.timeouts.greeting, &request.client.timeouts.command,
                        &request.client.timeouts.data_start, &request.client.timeouts.data_end}) {
      *t = std::min(*t, cap);
    }
  }
  if (choice.policy != Policy::no) {
    auto tls = TlsContext::client();
    if (tls) {
      request.client.tls = *tls;
    } else {
      std::cerr << "tlschan send: TLS is unavailable on this client: " << tls.error().message << "\n";
    }
  }
  request.message.envelope.mail_from = o.from;
  request.message.envelope.rcpt_to = o.to;
  request.message.data = net::lf_to_crlf(data);
  SendCapture capture(views::service_port(o.implicit_tls, server->port));
  const bool capturing = !o.pcap.empty() || !o.keylog.empty();
  if (capturing) request.observer = &capture;

  const auto result = net::deliver(std::move(request));
  if (!result) {
    std::cerr << "tlschan send: " << result.error().message << "\n";
    return exit_usage;
  }
  if (o.json) {
    print_json(*result, choice);
  } else {
    print_text(*result, choice);
  }
  // The capture is written whatever the outcome: a failed attempt is what one wants to look at.
  if (capturing && !write_capture(o, capture.capture())) return exit_cant_create;
  return exit_status(result->disposition);
}

}  // namespace

void add_send_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "send",
      "One real delivery attempt of one message under the client policy of --channel or --policy (no: plaintext; "
      "may: STARTTLS when offered, plaintext otherwise or on a second connection after a failed "
      "handshake; must: TLS or deferred)");
  auto o = std::make_shared<SendOptions>();
  cmd->add_option("--config", o->config_dir, "Configuration folder (imta.cnf; default: the built-in default)");
  cmd->add_option("--channel", o->channel, "Outgoing channel whose client policy applies")->capture_default_str();
  cmd->add_option("--policy", o->policy, "Client policy for this attempt, over the channel's")
      ->check(CLI::IsMember({"no", "may", "must"}));
  cmd->add_option("--server", o->server, "A:P of the server")->required();
  cmd->add_flag("--implicit-tls", o->implicit_tls,
                "The server's port is a TLS port (RFC 8314): handshake first");
  cmd->add_option("--from", o->from, "Envelope sender (empty: the null sender)")->required();
  cmd->add_option("--to", o->to, "Envelope recipients")->required()->expected(1, -1);
  cmd->add_option("--data", o->data_file, "The message (default: stdin); LF line ends become CRLF");
  cmd->add_flag("--json", o->json,
                "Print the outcomes and the transcript (plaintext as text, TLS as lengths) as JSON");
  cmd->add_option("--helo", o->helo, "Name for EHLO/HELO (default: the host name)");
  cmd->add_option("--timeout", o->timeout_s,
                  "Cap every client timeout (RFC 5321 4.5.3.2) at this many seconds")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--pcap", o->pcap,
                  "Write the attempt's connections as a pcapng file: TCP streams of the bytes sent and received, real "
                  "timestamps, the server on port 25, 587 or 465, the TLS key log inside (Wireshark decrypts it with no "
                  "setting)");
  cmd->add_option("--keylog", o->keylog,
                  "Write the TLS key log of the attempt's handshakes (SSLKEYLOGFILE form)");
  cmd->footer(
      "Exit status: 0 all delivered, 75 any deferred, else 69 any bounced, 64 usage, 78 configuration "
      "error, 73 --pcap or --keylog could not be written.\n");
  cmd->callback([&exit_code, o] {
    try {
      exit_code = run(*o);
    } catch (const std::exception& e) {
      std::cerr << "tlschan send: " << e.what() << "\n";
      exit_code = exit_deferred;
    }
  });
}

}  // namespace tlschan::cli

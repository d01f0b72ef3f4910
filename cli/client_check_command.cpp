#include "client_check_command.hpp"
#include "exit_status.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tlschan/audit/client_check.hpp"
#include "tlschan/audit/evidence.hpp"
#include "tlschan/net/endpoint.hpp"

#include <filesystem>

namespace tlschan::cli {

namespace {


struct ClientCheckArgs {
  std::string listen;
  std::string expect;
  bool expect_verified = false;
  std::vector<std::string> cases;
  std::string cert;
  std::string key;
  int rounds = 1;
  double fallback_window_s = 5;
  double timeout_s = 30;
  bool json = false;
  std::string evidence;
  double max_seconds = 600;
  std::string hostname = "client-check.tlschan.invalid";
};

std::string one_line(const std::string& text) {
  std::string out;
  for (const char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  return out;
}

std::string verdict_text(const audit::Outcome& o) {
  std::string line = std::string(audit::to_string(o.verdict)) + "  " + o.reason;
  if (!o.decided_by.empty()) line += "  [" + o.decided_by + "]";
  return one_line(line);
}

std::string run_name(const audit::CaseRun& r, int rounds) {
  return rounds > 1 ? r.finding.id + " (round " + std::to_string(r.round) + ")" : r.finding.id;
}

nlohmann::ordered_json facts_json(const audit::ConnectionFacts& c) {
  return {{"connection", c.number},
          {"peer", c.peer},
          {"fallback", c.fallback},
          {"client_octets", c.client_octets},
          {"starttls", c.starttls},
          {"tls_established", c.tls_established},
          {"handshake_failed", c.handshake_failed},
          {"handshake_error", c.handshake_error},
          {"first_tls_command", c.first_tls_command},
          {"plain_mail", c.plain_mail},
          {"tls_mail", c.tls_mail},
          {"data_sent", c.data_sent},
          {"data_inside_tls", c.data_inside_tls},
          {"data_octets", c.data_octets},
          {"did", c.trail},
          {"end", c.end}};
}

std::string evidence_name(const audit::CaseRun& r) {
  return r.round > 1 ? r.finding.id + "-round" + std::to_string(r.round) + ".txt" : r.finding.id + ".txt";
}

int run(const ClientCheckArgs& a) {
  const auto listen = net::parse_host_port(a.listen);
  if (!listen) {
    std::cerr << "tlschan client-check: --listen: " << listen.error() << "\n";
    return exit_usage;
  }
  if (a.cert.empty() != a.key.empty()) {
    std::cerr << "tlschan client-check: --cert and --key go together\n";
    return exit_usage;
  }
  if (const auto unknown = audit::unknown_case_names(a.cases); !unknown.empty()) {
    std::cerr << "tlschan client-check: --cases: no case named '" << unknown.front()
              << "' (the names are in docs/client-check.md and --help)\n";
    return exit_usage;
  }
  audit::ClientCheckOptions o;
  o.listen_host = listen->host;
  o.listen_port = listen->port;
  o.expect = *parse_policy(a.expect);
  o.expect_verified = a.expect_verified;
  o.cases = a.cases;
  o.cert_file = a.cert;
  o.key_file = a.key;
  o.rounds = a.rounds;
  o.fallback_window = Duration(static_cast<std::int64_t>(a.fallback_window_s * 1000));
  o.max_time = Duration(static_cast<std::int64_t>(a.max_seconds * 1000));
  o.timeout = Duration(static_cast<std::int64_t>(a.timeout_s * 1000));
  o.hostname = a.hostname;

  std::ostream& progress = a.json ? std::cerr : std::cout;
  audit::ClientCheckEvents events;
  events.listening = [&](const std::string& address) {
    progress << "listening " << address << " (grading a " << a.expect << " client"
             << (a.expect_verified ? ", --expect-verified" : "") << ")" << std::endl;
  };
  events.connection = [&](const audit::CaseRun& r, const audit::ConnectionFacts& c) {
    progress << run_name(r, a.rounds) << ": connection " << c.number << " from " << c.peer
             << (c.fallback ? " (fallback: same peer within the fallback window after a failed handshake)" : "")
             << ": " << one_line([&] {
                  std::string did;
                  for (const auto& s : c.trail) did += (did.empty() ? "" : ", ") + s;
                  return (did.empty() ? std::string("nothing after the greeting") : did) + "; " + c.end;
                }())
             << "  =>  " << verdict_text(r.finding.outcome) << std::endl;
  };
  const auto report = audit::run_client_check(o, events);
  if (!report.setup_error.empty()) {
    std::cerr << "tlschan client-check: " << report.setup_error << "\n";
    return exit_usage;
  }
  if (!report.listening) {
    std::cerr << "tlschan client-check: " << report.listen_error << "\n";
    return 69;
  }
  if (!a.evidence.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.evidence, ec);
    for (const auto& r : report.runs) {
      const auto path = (std::filesystem::path(a.evidence) / evidence_name(r)).string();
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << audit::client_check_evidence_text(r, report.listen);
      out.close();
      if (!out) std::cerr << "tlschan client-check: --evidence: " << path << ": cannot write the evidence file\n";
      if (const auto pcap = audit::write_evidence_pcapng(path, r.finding.exchange); !pcap) {
        std::cerr << "tlschan client-check: --evidence: " << pcap.error() << "\n";
      }
    }
  }
  const int code = report.exit_code();
  std::size_t width = 4;
  for (const auto& r : report.runs) width = std::max(width, run_name(r, a.rounds).size());
  progress << "\n";
  for (const auto& r : report.runs) {
    const std::string name = run_name(r, a.rounds);
    progress << name << std::string(width + 2 - name.size(), ' ') << verdict_text(r.finding.outcome) << "\n";
  }
  progress << "graded as a " << a.expect << " client" << (a.expect_verified ? " (--expect-verified)" : "") << ": "
           << report.count(audit::Verdict::pass) << " PASS, " << report.count(audit::Verdict::fail) << " FAIL, "
           << report.count(audit::Verdict::info) << " INFO, " << report.count(audit::Verdict::not_run) << " NOT RUN"
           << (report.timed_out ? " (stopped by --max-seconds)" : "") << "; " << report.ignored_connections
           << " connection(s) without a byte ignored" << std::endl;
  if (a.json) {
    nlohmann::ordered_json cases = nlohmann::ordered_json::array();
    for (const auto& r : report.runs) {
      auto j = audit::finding_json(r.finding);
      j["round"] = r.round;
      nlohmann::ordered_json conns = nlohmann::ordered_json::array();
      for (const auto& c : r.facts.connections) conns.push_back(facts_json(c));
      j["connections"] = conns;
      cases.push_back(std::move(j));
    }
    const nlohmann::ordered_json j{{"listen", report.listen},
                                   {"expect", a.expect},
                                   {"expect_verified", a.expect_verified},
                                   {"fallback_window_ms", o.fallback_window.count()},
                                   {"summary",
                                    {{"pass", report.count(audit::Verdict::pass)},
                                     {"fail", report.count(audit::Verdict::fail)},
                                     {"info", report.count(audit::Verdict::info)},
                                     {"not_run", report.count(audit::Verdict::not_run)}}},
                                   {"ignored_connections", report.ignored_connections},
                                   {"timed_out", report.timed_out},
                                   {"exit", code},
                                   {"cases", cases}};
    std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  }
  return code;
}

std::string case_list() {
  std::string out = "Cases, in the order they run (names for --cases; docs/client-check.md says what each does):\n";
  for (const auto& c : audit::all_cases()) out += "  " + c.name + "  " + c.summary + "\n";
  return out;
}

}  // namespace

void add_client_check_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "client-check",
      "A hostile receiving server that grades an SMTP client's TLS policy: one misbehaving case per "
      "incoming connection (no STARTTLS, refusals, broken handshakes, injected replies, bad certificates), "
      "never accepting a message (451 after DATA)");
  auto a = std::make_shared<ClientCheckArgs>();
  cmd->add_option("--listen", a->listen, "A:P to listen on (port 0: a free port, printed)")->required();
  cmd->add_option("--expect", a->expect, "The client policy to grade against")
      ->required()
      ->check(CLI::IsMember({"no", "may", "must"}));
  cmd->add_flag("--expect-verified", a->expect_verified,
                "The client verifies certificates: going on with a bad certificate is a FAIL");
  cmd->add_option("--cases", a->cases, "Run only these cases, in the usual order (names, comma separated)")
      ->delimiter(',');
  cmd->add_option("--cert", a->cert, "PEM certificate for the correct cases (default: a throw-away self-signed one)");
  cmd->add_option("--key", a->key, "PEM key of --cert");
  cmd->add_option("--rounds", a->rounds, "Run the list of cases this many times")->check(CLI::Range(1, 100));
  cmd->add_option("--fallback-window", a->fallback_window_s,
                  "Seconds after a case whose handshake failed in which a connection from the same address is "
                  "that case's fallback (default 5)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--timeout", a->timeout_s, "Cap on every wait for the client, in seconds (default 30)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--hostname", a->hostname, "Name in the greeting and the generated certificates");
  cmd->add_flag("--json", a->json, "Print the table as one JSON object on stdout (progress goes to stderr)");
  cmd->add_option("--evidence", a->evidence, "Write one transcript per case into this folder, and beside each the pcapng of the case's connections "
                  "with their TLS key log (Wireshark decrypts it with no setting)");
  cmd->add_option("--max-seconds", a->max_seconds, "Stop after this many seconds (default 600)")
      ->check(CLI::PositiveNumber);
  cmd->footer(case_list() +
              "\nExit status: 0 every case ran and none failed, 1 a case failed, 2 none failed but a case did "
              "not run, 69 cannot listen, 64 usage.\n");
  cmd->callback([&exit_code, a] {
    try {
      exit_code = run(*a);
    } catch (const std::exception& e) {
      std::cerr << "tlschan client-check: " << e.what() << "\n";
      exit_code = 70;
    }
  });
}

}  // namespace tlschan::cli

#include "probe_command.hpp"
#include "exit_status.hpp"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tlschan/audit/evidence.hpp"
#include "tlschan/audit/probe.hpp"
#include "tlschan/net/endpoint.hpp"

namespace tlschan::cli {

namespace {


struct ProbeArgs {
  std::string server;
  bool implicit_tls = false;
  std::string expect;
  std::string from;
  std::string to;
  std::string helo = "probe.tlschan.invalid";
  std::vector<std::string> only;
  double timeout_s = 10;
  bool json = false;
  std::string evidence;
};

std::string line_of(const audit::Finding& f) {
  std::string line = std::string(audit::to_string(f.outcome.verdict)) + "  " + f.id + ": " + f.outcome.reason;
  if (!f.outcome.decided_by.empty()) line += "  [" + f.outcome.decided_by + "]";
  std::string out;
  for (const char c : line) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  return out;
}

int run(const ProbeArgs& a) {
  const auto target = net::parse_host_port(a.server);
  if (!target || target->port == 0) {
    std::cerr << "tlschan probe: HOST:PORT: " << (target ? "expected a port from 1 to 65535" : target.error()) << "\n";
    return exit_usage;
  }
  audit::ProbeOptions o;
  o.target = {target->host, target->port};
  o.implicit_tls = a.implicit_tls;
  if (!a.expect.empty()) o.expect = parse_policy(a.expect);
  if (a.from.empty() != a.to.empty()) {
    std::cerr << "tlschan probe: --from and --to go together (checks that send a message need both)\n";
    return exit_usage;
  }
  o.from = a.from;
  o.to = a.to;
  o.helo = a.helo;
  o.only = a.only;
  if (const auto unknown = audit::unknown_check_ids(o.only); !unknown.empty()) {
    std::cerr << "tlschan probe: --only: no check named '" << unknown.front() << "' (the ids are in docs/probe.md)\n";
    return exit_usage;
  }
  o.timeout = Duration(static_cast<std::int64_t>(a.timeout_s * 1000));
  o.settle = std::max(o.timeout, Duration(std::chrono::seconds(3)));

  std::ostream& progress = a.json ? std::cerr : std::cout;
  const std::string target_text = net::format_host_port(*target);
  progress << "probing " << target_text << (a.implicit_tls ? " (implicit TLS)" : "") << "\n";
  auto report = audit::run_probe(o, [&](const audit::Finding& f) { progress << line_of(f) << std::endl; });
  if (!a.evidence.empty()) {
    for (const auto& f : report.findings) {
      if (auto written = audit::write_evidence(a.evidence, f, target_text); !written) {
        std::cerr << "tlschan probe: --evidence: " << written.error() << "\n";
      }
    }
  }
  const int code = report.exit_code();
  std::ostringstream summary;
  if (!report.reachable) {
    summary << "unreachable: " << report.unreachable_reason;
  } else {
    summary << "graded as a " << to_string(report.expect) << " server ("
            << (report.expect_given ? "--expect" : "from the EHLO reply") << "): " << report.count(audit::Verdict::pass)
            << " PASS, " << report.count(audit::Verdict::fail) << " FAIL, " << report.count(audit::Verdict::warn) << " WARN, "
            << report.count(audit::Verdict::info) << " INFO, " << report.count(audit::Verdict::skip) << " SKIP";
  }
  progress << summary.str() << "\n";
  if (a.json) {
    nlohmann::ordered_json checks = nlohmann::ordered_json::array();
    for (const auto& f : report.findings) checks.push_back(audit::finding_json(f));
    const nlohmann::ordered_json j{
        {"target", target_text},
        {"implicit_tls", a.implicit_tls},
        {"reachable", report.reachable},
        {"unreachable_reason", report.unreachable_reason},
        {"expect", to_string(report.expect)},
        {"expect_from", report.expect_given ? "option" : "ehlo"},
        {"summary",
         {{"pass", report.count(audit::Verdict::pass)},
          {"fail", report.count(audit::Verdict::fail)},
          {"warn", report.count(audit::Verdict::warn)},
          {"info", report.count(audit::Verdict::info)},
          {"skip", report.count(audit::Verdict::skip)}}},
        {"exit", code},
        {"checks", checks}};
    std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  }
  return code;
}

std::string check_list() {
  std::string out = "Checks (ids for --only; docs/probe.md says what each means):\n";
  for (const auto& c : audit::all_checks()) out += "  " + c.id + "  " + c.summary + "\n";
  return out;
}

}  // namespace

void add_probe_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "probe",
      "Grade a real SMTP server: STARTTLS command injection, state after TLS, 530 under must, STARTTLS "
      "replies, SMTP smuggling, line hygiene; one connection per check, a definite verdict each");
  auto a = std::make_shared<ProbeArgs>();
  cmd->add_option("server", a->server, "HOST:PORT of the server")->required();
  cmd->add_flag("--implicit-tls", a->implicit_tls, "The port is a TLS port (RFC 8314): handshake first");
  cmd->add_option("--expect", a->expect, "The server policy you configured (default: what the EHLO reply suggests)")
      ->check(CLI::IsMember({"no", "may", "must"}));
  cmd->add_option("--from", a->from, "Envelope sender for checks that send a message (with --to)");
  cmd->add_option("--to", a->to, "A mailbox you own: the only recipient of every message a check sends");
  cmd->add_option("--helo", a->helo, "Name for EHLO");
  cmd->add_option("--only", a->only, "Run only these checks (ids, comma separated)")->delimiter(',');
  cmd->add_option("--timeout", a->timeout_s, "Cap on every wait for a reply, in seconds (default 10)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", a->json, "Print one JSON object with every check on stdout (progress goes to stderr)");
  cmd->add_option("--evidence", a->evidence, "Write one transcript per check into this folder, and beside each the pcapng of the check's "
                  "connections with their TLS key log (Wireshark decrypts it with no setting)");
  cmd->footer(check_list() + "\nExit status: 0 no check failed, 1 a check failed, 69 the server could not be reached "
              "or never greeted, 64 usage.\n");
  cmd->callback([&exit_code, a] {
    try {
      exit_code = run(*a);
    } catch (const std::exception& e) {
      std::cerr << "tlschan probe: " << e.what() << "\n";
      exit_code = 70;
    }
  });
}

}  // namespace tlschan::cli

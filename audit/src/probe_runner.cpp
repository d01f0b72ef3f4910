// The runner: the first connection (greeting-ehlo, starttls-advertised), then every check on its
// own connection. After a check whose connection ended badly, and when a check cannot connect at
// all, the runner tries fresh connections for `settle`: a server that does not greet again by then
// "stopped answering", which fails the check that did it, and the remaining checks are not run.
#include <algorithm>
#include <optional>
#include <thread>

#include "checks/checks.hpp"
#include "tlschan/views/tcp_streams.hpp"

namespace tlschan::audit {

namespace {

bool wanted(const ProbeOptions& o, const std::string& id) {
  return o.only.empty() || std::find(o.only.begin(), o.only.end(), id) != o.only.end();
}

// A connection ended in a way that may have hurt the server.
bool suspect(const Exchange& exchange) {
  if (exchange.connections() == 0) return true;
  for (const auto& e : exchange.entries()) {
    if (e.kind != ExchangeEntry::Kind::event) continue;
    if (e.text.rfind("server closed", 0) == 0 || e.text.rfind("connection lost", 0) == 0 ||
        e.text.rfind("no complete reply", 0) == 0 || e.text.rfind("tls failed", 0) == 0 ||
        e.text.rfind("write failed", 0) == 0 || e.text.rfind("no handshake", 0) == 0) {
      return true;
    }
  }
  return false;
}

bool heard_from_server(const Exchange& exchange) {
  for (const auto& e : exchange.entries()) {
    if (e.kind == ExchangeEntry::Kind::server_bytes || e.kind == ExchangeEntry::Kind::server_tls) return true;
  }
  return false;
}

// True when the server greets a fresh connection within `settle`.
bool answers(const ProbeOptions& o, Exchange& exchange) {
  const auto until = std::chrono::steady_clock::now() + o.settle;
  const Duration each = std::min(o.timeout, Duration(o.settle));
  for (;;) {
    std::string why;
    auto c = Connection::open(o.target, exchange, each, why);
    if (c) {
      bool greeted = false;
      if (!o.implicit_tls || c->start_tls().ok()) greeted = c->read_reply(each).code() == 220;
      if (greeted) {
        c->send("QUIT\r\n");
        c->read_reply(each);
        return true;
      }
    } else {
      exchange.event("liveness: " + why);
    }
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

int ProbeReport::count(Verdict v) const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [v](const Finding& f) { return f.outcome.verdict == v; }));
}

int ProbeReport::exit_code() const {
  if (!reachable) return 69;
  return count(Verdict::fail) > 0 ? 1 : 0;
}

std::vector<std::string> unknown_check_ids(const std::vector<std::string>& ids) {
  std::vector<std::string> unknown;
  for (const auto& id : ids) {
    const auto& all = all_checks();
    if (std::none_of(all.begin(), all.end(), [&](const CheckSpec& c) { return c.id == id; })) unknown.push_back(id);
  }
  return unknown;
}

ProbeReport run_probe(const ProbeOptions& given, const std::function<void(const Finding&)>& progress) {
  ProbeOptions options = given;
  // The evidence pcapng shows the server on its service's port: 465 with implicit TLS, 587 for a
  // submission port, else 25.
  if (options.target.shown_port == 0) options.target.shown_port = views::service_port(options.implicit_tls, options.target.port);
  ProbeReport report;
  report.target = options.target.host + ":" + std::to_string(options.target.port);
  const auto& specs = all_checks();

  Finding greeting{specs[0].id, specs[0].group, {}, {}};
  const auto facts = checks::probe_greeting(options, greeting.exchange);
  if (!facts.reachable) {
    report.unreachable_reason = facts.unreachable_reason;
    greeting.outcome = fail(facts.unreachable_reason);
    report.findings.push_back(std::move(greeting));
    progress(report.findings.back());
    return report;
  }
  report.reachable = true;
  report.expect_given = options.expect.has_value();
  report.expect = options.expect ? *options.expect : (facts.starttls_listed || options.implicit_tls ? Policy::may : Policy::no);
  greeting.outcome = facts.greeting;
  if (wanted(options, greeting.id)) {
    report.findings.push_back(std::move(greeting));
    progress(report.findings.back());
  }
  if (wanted(options, specs[1].id)) {
    report.findings.push_back({specs[1].id, specs[1].group, checks::starttls_advertised(options, report.expect, facts), {}});
    progress(report.findings.back());
  }

  bool stopped = false;
  std::optional<std::size_t> previous;  // the finding of the check run last
  for (std::size_t i = 2; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    if (!wanted(options, spec.id)) continue;
    Finding f{spec.id, spec.group, {}, {}};
    if (stopped) {
      f.outcome = skip("not run: the server stopped answering");
    } else if (!facts.ehlo_ok) {
      f.outcome = skip("not run: EHLO was not answered");
    } else {
      CheckContext ctx(options, report.expect, facts.starttls_listed, facts.pipelining, f.exchange);
      f.outcome = spec.run(ctx);
      if (suspect(f.exchange) && !answers(options, f.exchange)) {
        stopped = true;
        if (!heard_from_server(f.exchange) && previous) {
          // This check never heard from the server: the damage was done by the check before it,
          // whose own connection looked fine.
          Finding& before = report.findings[*previous];
          before.outcome = fail("the server stopped answering after this check (it had said: " + before.outcome.reason + ")",
                                before.outcome.decided_by);
          progress(before);
          f.outcome = skip("not run: the server stopped answering");
        } else {
          f.outcome = fail("the server stopped answering after this check (" + f.outcome.reason + ")", f.outcome.decided_by);
        }
      }
      previous = report.findings.size();
    }
    report.findings.push_back(std::move(f));
    progress(report.findings.back());
  }
  return report;
}

}  // namespace tlschan::audit

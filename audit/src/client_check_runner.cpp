// The client-check runner: one listening socket; each incoming connection is served, one at a time,
// by the next case (rounds repeat the list), or, when it comes from the peer address of a case whose
// handshake failed within the fallback window after that connection closed, by that case again as
// its fallback. A connection that closes without sending an octet is not a case.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "client_check_server.hpp"
#include "socket_end.hpp"
#include "tlschan/audit/evidence.hpp"
#include "tlschan/net/throwaway_cert.hpp"
#include "tlschan/sim/transcript.hpp"
#include "tlschan/views/tcp_streams.hpp"

namespace tlschan::audit {

namespace {

using Clock = std::chrono::steady_clock;

std::string address_text(const sockaddr_storage& a, bool with_port) {
  char host[INET6_ADDRSTRLEN] = {};
  std::uint16_t port = 0;
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    port = ntohs(in->sin6_port);
  }
  std::string h = host;
  if (!with_port) return h;
  return (a.ss_family == AF_INET6 ? "[" + h + "]" : h) + ":" + std::to_string(port);
}

// A listening socket on host:port, or -1 with `error` set.
int listen_on(const std::string& host, std::uint16_t port, std::string& error, std::string& bound) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port);
  if (const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  error = "no address for " + host;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 16) != 0) {
      error = "cannot listen on " + host + ":" + port_text + ": " + std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd >= 0) {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    bound = address_text(local, true);
  }
  return fd;
}

struct Contexts {
  std::optional<TlsContext> normal, self_signed, expired, wrong_name;
  const TlsContext& for_fault(CertificateFault f) const {
    switch (f) {
      case CertificateFault::self_signed: return *self_signed;
      case CertificateFault::expired: return *expired;
      case CertificateFault::wrong_name: return *wrong_name;
      case CertificateFault::none: break;
    }
    return *normal;
  }
};

// The server contexts of every case; the error names the certificate that failed.
std::optional<std::string> make_contexts(const ClientCheckOptions& o, Contexts& c) {
  auto generated = [&](const std::string& name, bool expired, std::optional<TlsContext>& into) -> std::optional<std::string> {
    // The wrong-name certificate must not name the loopback address the client dials either.
    const bool wrong_name = name != o.hostname;
    auto pem = net::make_throwaway_certificate(name, {.expired = expired, .loopback_names = !wrong_name});
    if (!pem) return pem.error().message;
    auto ctx = TlsContext::server_from_pem(pem->cert_pem, pem->key_pem);
    if (!ctx) return ctx.error().message;
    into.emplace(std::move(*ctx));
    return std::nullopt;
  };
  if (auto e = generated(o.hostname, false, c.self_signed)) return "the self-signed certificate: " + *e;
  if (auto e = generated(o.hostname, true, c.expired)) return "the expired certificate: " + *e;
  if (auto e = generated("wrong-name.tlschan.invalid", false, c.wrong_name)) return "the wrong-name certificate: " + *e;
  if (o.cert_file.empty()) {
    c.normal = c.self_signed;
  } else {
    auto ctx = TlsContext::server_from_files(o.cert_file, o.key_file);
    if (!ctx) return ctx.error().message;
    c.normal.emplace(std::move(*ctx));
  }
  return std::nullopt;
}

}  // namespace

int ClientCheckReport::count(Verdict v) const {
  return static_cast<int>(std::count_if(runs.begin(), runs.end(), [v](const CaseRun& r) { return r.finding.outcome.verdict == v; }));
}

int ClientCheckReport::exit_code() const {
  if (!setup_error.empty()) return 64;
  if (!listening) return 69;
  if (count(Verdict::fail) > 0) return 1;
  if (count(Verdict::not_run) > 0) return 2;
  return 0;
}

ClientCheckReport run_client_check(const ClientCheckOptions& o, const ClientCheckEvents& events) {
  ClientCheckReport report;
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::duration_cast<Clock::duration>(o.max_time);

  Contexts contexts;
  if (auto e = make_contexts(o, contexts)) {
    report.setup_error = *e;
    return report;
  }
  std::vector<const CaseSpec*> specs;
  for (int round = 1; round <= std::max(1, o.rounds); ++round) {
    for (const auto& spec : all_cases()) {
      if (!o.cases.empty() && std::find(o.cases.begin(), o.cases.end(), spec.name) == o.cases.end()) continue;
      specs.push_back(&spec);
      CaseRun run;
      run.finding.id = spec.name;
      run.finding.group = "client-check";
      run.finding.outcome = {Verdict::not_run, "no client reached this case", {}};
      run.round = round;
      report.runs.push_back(std::move(run));
    }
  }

  const int listener = listen_on(o.listen_host, o.listen_port, report.listen_error, report.listen);
  if (listener < 0) return report;
  report.listening = true;
  if (events.listening) events.listening(report.listen);

  const GradeContext grade{o.expect, o.expect_verified};
  const ServeLimits limits{o.timeout, deadline, o.hostname};
  std::size_t next = 0;
  // The case a fresh connection from `retry_peer` before `retry_until` is a fallback of.
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::size_t retry_run = none;
  std::string retry_peer;
  Clock::time_point retry_until{};

  for (;;) {
    const auto now = Clock::now();
    if (retry_run != none && now > retry_until) retry_run = none;
    if (next >= report.runs.size() && retry_run == none) break;
    if (now >= deadline) {
      report.timed_out = next < report.runs.size();
      break;
    }
    const auto wait_end = next >= report.runs.size() ? std::min(retry_until, deadline) : deadline;
    pollfd p{listener, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(wait_end - now).count();
    const int rc = ::poll(&p, 1, static_cast<int>(std::clamp<long long>(left, 0, 1000)));
    if (rc <= 0) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const std::string peer_host = address_text(peer, false);
    const bool is_fallback = retry_run != none && peer_host == retry_peer && Clock::now() <= retry_until;
    if (!is_fallback && next >= report.runs.size()) {
      ::close(fd);
      continue;
    }
    const std::size_t index = is_fallback ? retry_run : next;
    CaseRun& run = report.runs[index];
    const CaseSpec& spec = *specs[index];

    ConnectionFacts facts;
    facts.peer = address_text(peer, true);
    facts.fallback = is_fallback;
    const Exchange before = run.finding.exchange;
    facts.number = run.finding.exchange.open_connection(
        "from " + facts.peer + (is_fallback ? " (fallback of this case: same peer within the fallback window)" : ""));
    {
      const auto [client_address, client_port] = socket_end(fd, true);
      const auto [server_address, server_port] = socket_end(fd, false);
      run.finding.exchange.wire_opened(client_address, client_port, server_address, server_port,
                                       views::service_port(false, server_port));
    }
    serve_case_connection(fd, spec.script, contexts.for_fault(spec.script.certificate), limits, run.finding.exchange,
                          facts);
    if (facts.client_octets == 0) {
      run.finding.exchange = before;  // a port check, not a case
      ++report.ignored_connections;
      continue;
    }
    run.facts.connections.push_back(facts);
    run.finding.outcome = spec.grade(run.facts, grade);
    if (!is_fallback) ++next;
    if (spec.fallback_possible(run.facts)) {
      retry_run = index;
      retry_peer = peer_host;
      retry_until = Clock::now() + std::chrono::duration_cast<Clock::duration>(o.fallback_window);
    } else {
      retry_run = none;
    }
    if (events.connection) events.connection(run, run.facts.connections.back());
  }
  ::close(listener);
  return report;
}

std::string client_check_evidence_text(const CaseRun& run, const std::string& listen) {
  return evidence_transcript("client-check",
                             {{"listen", listen}, {"case", run.finding.id + " (round " + std::to_string(run.round) + ")"}},
                             run.finding);
}

}  // namespace tlschan::audit

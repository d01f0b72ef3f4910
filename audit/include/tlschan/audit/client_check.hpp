// `tlschan client-check`: a receiving SMTP server that misbehaves on purpose, one case per incoming
// connection, watches what the client under test does, and grades it against the policy the client
// claims. It shares probe's verdict type, exchange record, JSON shape and evidence format.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tlschan/audit/verdict.hpp"
#include "tlschan/expected.hpp"
#include "tlschan/policy.hpp"

namespace tlschan::audit {

// What the server does when the client sends STARTTLS.
enum class StartTlsAnswer {
  handshake,  // 220, then a correct handshake
  refuse454,  // 454 4.7.0
  refuse502,  // 502 5.5.1
  odd,        // a 3xx reply (semantics.md section 4: protocol error)
  broken,     // 220, then a TLS record no client can accept (the handshake fails)
  eof,        // 220, then the connection closes before the server's first flight
  inject,     // 220 with fake 250 replies in the same segment, then a correct handshake
};

enum class CertificateFault { none, self_signed, expired, wrong_name };

// How one case's server behaves on a connection.
struct CaseScript {
  bool refuse_ehlo = false;     // 500 to EHLO (HELO accepted)
  bool list_starttls = true;    // STARTTLS in the plaintext EHLO reply
  bool relist_in_tls = false;   // STARTTLS listed again in the EHLO reply inside TLS
  StartTlsAnswer starttls = StartTlsAnswer::handshake;
  CertificateFault certificate = CertificateFault::none;  // none: --cert/--key or the throw-away one
};

// What the client did on one connection (first occurrences, as the exact line the client sent).
struct ConnectionFacts {
  int number = 0;           // the connection's number within the case's exchange
  bool fallback = false;    // matched to the case as a retry after a failed handshake
  std::string peer;         // the client's address
  std::size_t client_octets = 0;
  std::string first_command;       // the first command line in plaintext
  std::string starttls;            // the first STARTTLS line in plaintext
  bool handshake_started = false;  // the client sent TLS records after a 220 (or odd reply)
  bool tls_established = false;
  bool handshake_failed = false;
  std::string handshake_error;
  std::string first_tls_command;   // the first command inside TLS
  std::string second_starttls;     // a STARTTLS inside TLS
  std::string plain_mail;          // the first MAIL in plaintext
  std::string plain_after_refusal; // the first command after STARTTLS was refused (454/502/3xx)
  std::string plain_after_failure; // the first plaintext command after a failed handshake
  std::string tls_mail;            // the first MAIL inside TLS
  std::string out_of_step;         // a command that arrived before the reply to the one before it
  std::string tls_record_after_odd;// TLS octets after the 3xx reply to STARTTLS (a handshake)
  bool data_sent = false;          // the client reached the end of a message (answered 451)
  bool data_inside_tls = false;
  std::uint64_t data_octets = 0;
  std::string end;                 // how the connection ended: "client QUIT", "client closed", ...
  std::vector<std::string> trail;  // what the client did, step by step ("EHLO", "STARTTLS", "TLS up", ...)
};

struct CaseFacts {
  std::vector<ConnectionFacts> connections;
  const ConnectionFacts& first() const { return connections.front(); }
};

struct GradeContext {
  Policy expect = Policy::may;
  bool expect_verified = false;
};

struct CaseSpec {
  std::string name;     // stable, documented in docs/client-check.md
  std::string summary;  // one line: what the server does
  CaseScript script;
  std::function<Outcome(const CaseFacts&, const GradeContext&)> grade;
  // True when a fresh connection from the same peer within the fallback window is this case's
  // retry (the handshake failed, or the connection ended on a TLS error).
  bool fallback_possible(const CaseFacts& facts) const;
};

// Every case, in the order they run.
const std::vector<CaseSpec>& all_cases();
std::vector<std::string> unknown_case_names(const std::vector<std::string>& names);

struct ClientCheckOptions {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;
  Policy expect = Policy::may;
  bool expect_verified = false;
  std::vector<std::string> cases;  // names; empty: every case
  std::string cert_file;
  std::string key_file;
  int rounds = 1;
  Duration fallback_window = std::chrono::seconds(5);
  Duration max_time = std::chrono::seconds(600);
  Duration timeout = std::chrono::seconds(30);  // every wait for the client within a connection
  std::string hostname = "client-check.tlschan.invalid";
};

// One case run (a case in one round): its finding (verdict NOT RUN when no client reached it) and
// what the client did on each connection.
struct CaseRun {
  Finding finding;
  int round = 1;
  CaseFacts facts;
};

struct ClientCheckReport {
  std::string listen;  // the bound address, "127.0.0.1:2525"
  bool listening = false;
  std::string listen_error;
  std::string setup_error;  // a certificate that cannot be loaded or made (a usage error)
  std::vector<CaseRun> runs;
  int ignored_connections = 0;  // closed without sending a byte
  bool timed_out = false;       // --max-seconds ended it
  int count(Verdict v) const;
  int exit_code() const;  // 0 all ran, none failed; 1 a FAIL; 2 a case did not run; 69 cannot listen;
                         // 64 setup_error
};

struct ClientCheckEvents {
  std::function<void(const std::string& address)> listening;
  // Each finished connection: the run it belongs to and its facts.
  std::function<void(const CaseRun&, const ConnectionFacts&)> connection;
};

ClientCheckReport run_client_check(const ClientCheckOptions& options, const ClientCheckEvents& events);

// The evidence transcript of one case run, in probe's evidence format.
std::string client_check_evidence_text(const CaseRun& run, const std::string& listen);

}  // namespace tlschan::audit

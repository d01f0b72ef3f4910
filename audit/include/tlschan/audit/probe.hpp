// `tlschan probe`: the battery of server checks, each on its own connection, run in order by the
// runner, which also notices a server that stops answering after a check.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tlschan/audit/connection.hpp"
#include "tlschan/audit/verdict.hpp"
#include "tlschan/policy.hpp"

namespace tlschan::audit {

struct ProbeOptions {
  Target target;
  bool implicit_tls = false;
  std::optional<Policy> expect;  // empty: what the EHLO reply suggests
  std::string from;              // both empty: checks that send a message are skipped
  std::string to;
  std::string helo = "probe.tlschan.invalid";
  std::vector<std::string> only;  // check ids; empty: every check
  Duration timeout = std::chrono::seconds(10);
  // How long a server may take to accept a fresh connection again after a check.
  Duration settle = std::chrono::seconds(3);
};

// What every check may use: the options, the policy it is graded against, what the first EHLO
// said, and helpers that open a connection and bring it to a given state, recording everything.
class CheckContext {
 public:
  CheckContext(const ProbeOptions& options, Policy expect, bool starttls_listed, bool pipelining, Exchange& exchange)
      : options_(options), expect_(expect), starttls_listed_(starttls_listed), pipelining_(pipelining),
        exchange_(exchange) {}

  const ProbeOptions& options() const { return options_; }
  Policy expect() const { return expect_; }
  bool starttls_listed() const { return starttls_listed_; }
  bool pipelining() const { return pipelining_; }
  bool has_mailbox() const { return !options_.from.empty() && !options_.to.empty(); }
  Exchange& exchange() { return exchange_; }

  // A connection with the greeting read (after the handshake with --implicit-tls); nullptr with
  // `why` set when that fails.
  std::unique_ptr<Connection> greeted(std::string& why);
  // greeted(), then EHLO answered 250; `ehlo` gets the reply.
  std::unique_ptr<Connection> after_ehlo(std::string& why, Reply* ehlo = nullptr);
  // after_ehlo(), then STARTTLS (unless implicit TLS), the handshake and EHLO again.
  std::unique_ptr<Connection> inside_tls(std::string& why, Reply* ehlo = nullptr);

  // MAIL FROM, RCPT TO and DATA, each waiting for its reply; true at the 354.
  bool open_data(Connection& c, std::string& why);
  // The header lines every probe message carries, naming the check.
  std::string message_header(const std::string& check_id) const;

 private:
  const ProbeOptions& options_;
  Policy expect_;
  bool starttls_listed_;
  bool pipelining_;
  Exchange& exchange_;
};

struct CheckSpec {
  std::string id;
  std::string group;
  std::string summary;  // one line, for --help and the docs
  std::function<Outcome(CheckContext&)> run;
};

// Every check, in the order they run (greeting-ehlo first).
const std::vector<CheckSpec>& all_checks();

struct ProbeReport {
  std::string target;
  Policy expect = Policy::no;
  bool expect_given = false;
  bool reachable = false;  // false: the server could not be reached or never greeted
  std::string unreachable_reason;
  std::vector<Finding> findings;
  int count(Verdict v) const;
  int exit_code() const;  // 0 no FAIL, 1 a FAIL, 69 unreachable
};

// Runs the checks (all, or options.only); `progress` is called with each finding as it is made.
ProbeReport run_probe(const ProbeOptions& options, const std::function<void(const Finding&)>& progress);

// The ids of options.only that name no check (a usage error).
std::vector<std::string> unknown_check_ids(const std::vector<std::string>& ids);

}  // namespace tlschan::audit

// The server's replies as semantics.md sections 3 and 7 give them, written from the spec alone
// (no engine code): a state and, for each command, the reply code it must get.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tlschan/oracle/outcome_oracle.hpp"

namespace tlschan::oracle {

// The commands the state-machine property sends, by what they are, not by their bytes.
enum class Command {
  ehlo, helo, hello_without_domain,
  mail, mail_bad_syntax, mail_unknown_parameter, mail_size_over_limit,
  rcpt, rcpt_without_path,
  data,  // DATA, then a body when the reply is 354
  data_with_argument,
  rset, noop, quit,
  vrfy, vrfy_without_argument, expn, help,
  starttls, starttls_with_argument,
  unknown_verb, line_too_long, bare_lf, nul, bare_cr,
  noop_at_line_limit,        // NOOP with an argument, 512 octets with its CRLF: the longest legal line
  noop_one_past_line_limit,  // the same, 513 octets
};

struct ModelReply {
  int code = 0;           // 0: no reply (the session is closed)
  std::string enhanced;   // where the spec fixes it ("" where it does not)
};

class ServerModel {
 public:
  ServerModel(Pol policy, Health health) : policy_(policy), health_(health) {}

  // The reply the command must get, and the state after it. For data, `body_malformed` and
  // `body_over_size` describe the body that follows a 354; the second reply is data_reply().
  ModelReply apply(Command c);
  ModelReply data_reply(bool body_malformed, bool body_over_size);

  // After a 220 to STARTTLS: the handshake succeeded (health ok) or the connection closed.
  void after_starttls_220();

  // A connection to the TLS port whose handshake succeeded (3.5): TLS-active from the start.
  void start_on_tls_port() { tls_active_ = true; }

  bool closed() const { return closed_; }
  bool tls_active() const { return tls_active_; }
  bool lists_starttls() const { return policy_ != Pol::no && !tls_active_; }  // in an EHLO reply
  bool error_limit_reached() const { return closed_ && error_closed_; }
  int messages_accepted() const { return accepted_; }
  bool awaiting_data() const { return awaiting_data_; }
  int errors() const { return errors_; }  // error replies so far (section 7)

 private:
  ModelReply error(int code, const char* enhanced);
  ModelReply ok(int code, const char* enhanced) { return ModelReply{code, enhanced}; }
  bool gated() const { return policy_ == Pol::must && !tls_active_; }

  Pol policy_;
  Health health_;
  bool tls_active_ = false;
  bool hello_ = false;
  bool mail_ = false;
  int rcpts_ = 0;
  int errors_ = 0;
  bool closed_ = false;
  bool error_closed_ = false;
  bool awaiting_data_ = false;
  int accepted_ = 0;
};

}  // namespace tlschan::oracle

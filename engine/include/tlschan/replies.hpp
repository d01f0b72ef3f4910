// Every reply the server sends, defined once (semantics.md sections 3 and 7). Where the spec fixes
// the text, this is that text.
#pragma once

#include <string>
#include <string_view>

namespace tlschan {

enum class ReplyId {
  greeting,              // 220 <host> ESMTP tlschan
  ehlo_hello,            // 250 <host> (HELO, and the first line of EHLO)
  ok,                    // 250 2.0.0 Ok (RSET, NOOP)
  sender_ok,             // 250 2.1.0
  recipient_ok,          // 250 2.1.5
  message_queued,        // 250 2.0.0
  start_mail_input,      // 354
  ready_to_start_tls,    // 220 2.0.0 Ready to start TLS
  bye,                   // 221 2.0.0
  cannot_vrfy,           // 252 2.5.2
  help,                  // 214 2.0.0
  line_error,            // 500 5.5.2
  line_too_long,         // 500 5.5.2 Line too long
  unknown_command,       // 500 5.5.1
  not_implemented,       // 502 5.5.1 (STARTTLS on a notls server, EXPN)
  syntax_starttls,       // 501 5.5.4 Syntax: STARTTLS
  syntax_error,          // 501 5.5.4
  bad_parameter,         // 555 5.5.4
  tls_already_active,    // 554 5.5.1 TLS already active
  tls_unavailable,       // 454 4.7.1 TLS library initialization failure
  must_starttls,         // 530 5.7.0 No STARTTLS command has been given.
  bad_sequence,          // 503 5.5.1
  message_too_big,       // 552 5.3.4
  message_malformed,     // 550 5.6.0
  store_failed,          // 451 4.3.0
  too_many_recipients,   // 452 4.5.3
  too_many_errors,       // 421 4.7.0
  idle_timeout,          // 421 4.4.2
  shutting_down,         // 421 4.3.2 (the server stops: semantics.md section 7)
  count_                 // not a reply: the number of replies, for the table's check
};

struct ReplySpec {
  int code;
  std::string_view enhanced;  // "" when the reply carries none
  std::string_view text;
};

const ReplySpec& reply_spec(ReplyId id);

// The wire form, "CODE ENH TEXT\r\n"; `detail` replaces the table's text when given.
std::string render(ReplyId id, std::string_view detail = {});
// The same, appended to `out`.
void render_to(std::string& out, ReplyId id, std::string_view detail = {});

// True for the replies that count toward the session's error limit (500, 501, 502, 503, 555).
bool counts_as_error(ReplyId id);

}  // namespace tlschan

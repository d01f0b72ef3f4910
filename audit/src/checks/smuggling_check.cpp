// smuggling-*: SMTP smuggling (CVE-2023-51764 class). The body holds an end-of-data sequence other
// than CRLF.CRLF, followed by a smuggled MAIL FROM, RCPT TO, DATA and message, then the real
// CRLF.CRLF and QUIT, all in one write. A server that keeps reading answers the real end of data
// and QUIT: two replies. One that ended the message at the sequence answers the smuggled commands
// too. So the verdict comes from the number of replies, never from a timeout.
#include "checks.hpp"

namespace tlschan::audit::checks {

namespace {

std::string smuggled_part(CheckContext& ctx, const std::string& id) {
  const auto& o = ctx.options();
  return "MAIL FROM:<" + o.from + ">\r\nRCPT TO:<" + o.to + ">\r\nDATA\r\n" + ctx.message_header(id + "-smuggled") +
         "This message was smuggled by the tlschan probe check " + id + ".\r\n";
}

// The replies to the whole write; `before_quit` is how many came before QUIT's 221 (or the close).
Outcome judge(const std::vector<Reply>& replies, ReadStatus end, std::size_t expected_before_quit,
              const std::string& sequence) {
  std::size_t before_quit = replies.size();
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].code == 221) {
      before_quit = i;
      break;
    }
  }
  if (replies.size() < expected_before_quit) {
    if (end == ReadStatus::timeout) return pass("the server kept reading after " + sequence + " (no reply within the timeout)");
    if (replies.empty() || replies.size() + 1 < expected_before_quit) {
      return fail("the connection was lost without a reply to the end of data", replies.empty() ? "" : describe(replies.back()));
    }
  }
  if (before_quit > expected_before_quit) {
    const auto& smuggled = replies[expected_before_quit];
    return fail("the server ended the message at " + sequence + ": the smuggled MAIL FROM was answered",
                describe(replies[expected_before_quit - 1]) + " / smuggled: " + describe(smuggled));
  }
  if (before_quit == 0) return info("no reply to the end of data", replies.empty() ? "" : describe(replies.front()));
  const Reply& end_of_data = replies[expected_before_quit - 1];
  if (end_of_data.klass() == 2) {
    return pass("the server kept reading after " + sequence + " and took the message as one, ending at CRLF.CRLF",
                describe(end_of_data));
  }
  return pass("the server refused the message holding " + sequence, describe(end_of_data));
}

}  // namespace

const std::vector<SmugglingSequence>& smuggling_sequences() {
  static const std::vector<SmugglingSequence> sequences = {
      {"lf-dot-lf", "\n.\n"},
      {"lf-dot-crlf", "\n.\r\n"},
      {"cr-dot-lf", "\r.\n"},
      {"cr-dot-cr", "\r.\r"},
      {"lf-dot-cr", "\n.\r"},
      {"crlf-dot-lf", "\r\n.\n"},
      {"cr-dot-crlf", "\r.\r\n"},
      {"crlf-dot-cr", "\r\n.\r"},
      {"crlf-nul-dot-crlf", std::string("\r\n\0.\r\n", 6)},
      {"crlf-dot-nul-crlf", std::string("\r\n.\0\r\n", 6)},
      {"crlf-dot-cr-crlf", "\r\n.\r\r\n"},
      {"cr-crlf-dot-cr-crlf", "\r\r\n.\r\r\n"},
  };
  return sequences;
}

Outcome smuggling(CheckContext& ctx, const SmugglingSequence& sequence, bool inside_tls) {
  if (!ctx.has_mailbox()) return skip("needs --from and --to");
  if (inside_tls) {
    Outcome skipped;
    if (!needs_tls(ctx, skipped)) return skipped;
  }
  const std::string id = "smuggling-" + sequence.name + (inside_tls ? "-tls" : "");
  std::string why;
  auto c = inside_tls ? ctx.inside_tls(why) : ctx.after_ehlo(why);
  if (!c) return skip(why);
  if (!ctx.open_data(*c, why)) return skip(why);
  c->send(ctx.message_header(id) + "This message is the tlschan probe check " + id + ".\r\nBefore the sequence." +
          sequence.bytes + smuggled_part(ctx, id) + "\r\n.\r\nQUIT\r\n");
  ReadStatus end = ReadStatus::closed;
  const auto replies = c->read_until_closed(end);
  return judge(replies, end, 1, quoted_bytes(sequence.bytes));
}

Outcome smuggling_pipelined(CheckContext& ctx) {
  if (!ctx.has_mailbox()) return skip("needs --from and --to");
  if (!ctx.pipelining()) return skip("the server does not list PIPELINING");
  const std::string id = "smuggling-pipelined";
  std::string why;
  auto c = ctx.after_ehlo(why);
  if (!c) return skip(why);
  const auto& o = ctx.options();
  c->send("MAIL FROM:<" + o.from + ">\r\nRCPT TO:<" + o.to + ">\r\nDATA\r\n" + ctx.message_header(id) +
          "This message is the tlschan probe check " + id + ".\r\nBefore the sequence.\n.\n" + smuggled_part(ctx, id) +
          "\r\n.\r\nQUIT\r\n");
  ReadStatus end = ReadStatus::closed;
  const auto replies = c->read_until_closed(end);
  if (replies.size() < 3 || replies[0].code != 250 || replies[2].code != 354) {
    return skip("the server did not take the pipelined transaction" +
                (replies.empty() ? std::string() : " (" + describe(replies.back()) + ")"));
  }
  return judge(replies, end, 4, "\\n.\\n in a pipelined transaction");
}

}  // namespace tlschan::audit::checks

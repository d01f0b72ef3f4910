#include "tlschan/replies.hpp"

#include <array>
#include <cstddef>

#include "tlschan/reply.hpp"

namespace tlschan {

namespace {

struct Entry {
  ReplyId id;
  ReplySpec spec;
};

constexpr std::array<Entry, static_cast<std::size_t>(ReplyId::count_)> table{{
    {ReplyId::greeting, {220, "", "ESMTP tlschan"}},
    {ReplyId::ehlo_hello, {250, "", "Hello"}},
    {ReplyId::ok, {250, "2.0.0", "Ok"}},
    {ReplyId::sender_ok, {250, "2.1.0", "Sender ok"}},
    {ReplyId::recipient_ok, {250, "2.1.5", "Recipient ok"}},
    {ReplyId::message_queued, {250, "2.0.0", "Ok: queued"}},
    {ReplyId::start_mail_input, {354, "", "End data with <CR><LF>.<CR><LF>"}},
    {ReplyId::ready_to_start_tls, {220, "2.0.0", "Ready to start TLS"}},
    {ReplyId::bye, {221, "2.0.0", "Bye"}},
    {ReplyId::cannot_vrfy, {252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery"}},
    {ReplyId::help, {214, "2.0.0", "See RFC 5321"}},
    {ReplyId::line_error, {500, "5.5.2", "Syntax error: bare CR, bare LF or NUL in command line"}},
    {ReplyId::line_too_long, {500, "5.5.2", "Line too long"}},
    {ReplyId::unknown_command, {500, "5.5.1", "Command unrecognized"}},
    {ReplyId::not_implemented, {502, "5.5.1", "Command not implemented"}},
    {ReplyId::syntax_starttls, {501, "5.5.4", "Syntax: STARTTLS"}},
    {ReplyId::syntax_error, {501, "5.5.4", "Syntax error in parameters or arguments"}},
    {ReplyId::bad_parameter, {555, "5.5.4", "Unsupported parameter"}},
    {ReplyId::tls_already_active, {554, "5.5.1", "TLS already active"}},
    {ReplyId::tls_unavailable, {454, "4.7.1", "TLS library initialization failure"}},
    {ReplyId::must_starttls, {530, "5.7.0", "No STARTTLS command has been given."}},
    {ReplyId::bad_sequence, {503, "5.5.1", "Bad sequence of commands"}},
    {ReplyId::message_too_big, {552, "5.3.4", "Message size exceeds fixed limit"}},
    {ReplyId::message_malformed, {550, "5.6.0", "Message refused: bare CR, bare LF, NUL or over-long line"}},
    {ReplyId::store_failed, {451, "4.3.0", "Error: could not store the message"}},
    {ReplyId::too_many_recipients, {452, "4.5.3", "Too many recipients"}},
    {ReplyId::too_many_errors, {421, "4.7.0", "Too many errors, closing connection"}},
    {ReplyId::idle_timeout, {421, "4.4.2", "Timeout, closing connection"}},
    {ReplyId::shutting_down, {421, "4.3.2", "Service shutting down"}},
}};

// The table has one row per ReplyId (its size is the number of ids, and a row left out leaves a
// default row, id 0, out of place), in enum order, so that an id indexes its row.
constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (static_cast<std::size_t>(table[i].id) != i || table[i].spec.code == 0) return false;
  }
  return true;
}
static_assert(table_in_enum_order(), "the reply table must list every ReplyId, once, in enum order");

}  // namespace

const ReplySpec& reply_spec(ReplyId id) { return table[static_cast<std::size_t>(id)].spec; }

std::string render(ReplyId id, std::string_view detail) {
  std::string out;
  render_to(out, id, detail);
  return out;
}

void render_to(std::string& out, ReplyId id, std::string_view detail) {
  const ReplySpec& s = reply_spec(id);
  append_reply(out, s.code, s.enhanced, detail.empty() ? s.text : detail);
}

bool counts_as_error(ReplyId id) {
  const int code = reply_spec(id).code;
  return code == 500 || code == 501 || code == 502 || code == 503 || code == 555;
}

}  // namespace tlschan

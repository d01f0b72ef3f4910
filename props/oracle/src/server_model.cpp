#include "tlschan/oracle/server_model.hpp"

namespace tlschan::oracle {

ModelReply ServerModel::error(int code, const char* enhanced) {
  // 500, 501, 502, 503 and 555 count; the 20th is followed by 421 4.7.0 and the close.
  if (++errors_ >= 20) {
    closed_ = true;
    error_closed_ = true;
  }
  return ModelReply{code, enhanced};
}

ModelReply ServerModel::apply(Command c) {
  if (closed_) return {};
  // Section 3.1, "which reply wins", in its order.
  switch (c) {
    case Command::line_too_long:
    case Command::noop_one_past_line_limit:
    case Command::bare_lf:
    case Command::nul:
    case Command::bare_cr:
      return error(500, "5.5.2");
    case Command::unknown_verb:
      return error(500, "5.5.1");
    default:
      break;
  }
  if ((c == Command::starttls || c == Command::starttls_with_argument) && policy_ == Pol::no) return error(502, "5.5.1");
  switch (c) {
    case Command::hello_without_domain:
    case Command::mail_bad_syntax:
    case Command::rcpt_without_path:
    case Command::data_with_argument:
    case Command::vrfy_without_argument:
    case Command::starttls_with_argument:
      return error(501, "5.5.4");
    case Command::mail_unknown_parameter:
      return error(555, "5.5.4");
    default:
      break;
  }
  if (c == Command::starttls) {
    if (tls_active_) return ModelReply{554, "5.5.1"};
    if (health_ == Health::unavailable) return ModelReply{454, "4.7.1"};
    return ok(220, "2.0.0");
  }
  const bool gated_command = c == Command::mail || c == Command::mail_size_over_limit || c == Command::rcpt ||
                             c == Command::data || c == Command::vrfy || c == Command::expn || c == Command::help;
  if (gated_command && gated()) return ModelReply{530, "5.7.0"};
  switch (c) {
    case Command::ehlo:
    case Command::helo:
      hello_ = true;
      mail_ = false;
      rcpts_ = 0;
      return ok(250, "");
    case Command::mail:
    case Command::mail_size_over_limit:
      if (!hello_ || mail_) return error(503, "5.5.1");
      if (c == Command::mail_size_over_limit) return ModelReply{552, "5.3.4"};
      mail_ = true;
      return ok(250, "2.1.0");
    case Command::rcpt:
      if (!mail_) return error(503, "5.5.1");
      ++rcpts_;
      return ok(250, "2.1.5");
    case Command::data:
      if (!mail_ || rcpts_ == 0) return error(503, "5.5.1");
      awaiting_data_ = true;
      return ok(354, "");
    case Command::rset:
      mail_ = false;
      rcpts_ = 0;
      return ok(250, "2.0.0");
    case Command::noop:
    case Command::noop_at_line_limit:
      return ok(250, "2.0.0");
    case Command::quit:
      closed_ = true;
      return ok(221, "2.0.0");
    case Command::vrfy:
      return ok(252, "2.5.2");
    case Command::expn:
      return error(502, "5.5.1");
    case Command::help:
      return ok(214, "2.0.0");
    default:
      return {};
  }
}

ModelReply ServerModel::data_reply(bool body_malformed, bool body_over_size) {
  awaiting_data_ = false;
  mail_ = false;
  rcpts_ = 0;
  if (body_malformed) return ModelReply{550, "5.6.0"};
  if (body_over_size) return ModelReply{552, "5.3.4"};
  ++accepted_;
  return ModelReply{250, "2.0.0"};
}

void ServerModel::after_starttls_220() {
  if (health_ != Health::ok) {
    closed_ = true;  // the handshake fails: nothing more from this connection
    return;
  }
  // RFC 3207 4.2: back to just after the greeting.
  tls_active_ = true;
  hello_ = false;
  mail_ = false;
  rcpts_ = 0;
}

}  // namespace tlschan::oracle

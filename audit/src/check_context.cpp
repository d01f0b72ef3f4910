#include "tlschan/audit/probe.hpp"

namespace tlschan::audit {

std::unique_ptr<Connection> CheckContext::greeted(std::string& why) {
  auto c = Connection::open(options_.target, exchange_, options_.timeout, why);
  if (!c) return nullptr;
  if (options_.implicit_tls) {
    const auto hs = c->start_tls();
    if (!hs.ok()) {
      why = "the TLS handshake on connect failed: " + hs.error;
      return nullptr;
    }
  }
  const auto greeting = c->read_reply();
  if (greeting.code() != 220) {
    why = "no 220 greeting (" + describe(greeting) + ")";
    return nullptr;
  }
  return c;
}

std::unique_ptr<Connection> CheckContext::after_ehlo(std::string& why, Reply* ehlo) {
  auto c = greeted(why);
  if (!c) return nullptr;
  c->send("EHLO " + options_.helo + "\r\n");
  auto r = c->read_reply();
  if (r.code() != 250) {
    why = "EHLO was not answered with 250 (" + describe(r) + ")";
    return nullptr;
  }
  if (ehlo) *ehlo = r.reply;
  return c;
}

std::unique_ptr<Connection> CheckContext::inside_tls(std::string& why, Reply* ehlo) {
  Reply first;
  auto c = after_ehlo(why, &first);
  if (!c) return nullptr;
  if (options_.implicit_tls) {
    if (ehlo) *ehlo = first;
    return c;
  }
  c->send("STARTTLS\r\n");
  auto r = c->read_reply();
  if (r.code() != 220) {
    why = "STARTTLS was not answered with 220 (" + describe(r) + ")";
    return nullptr;
  }
  const auto hs = c->start_tls();
  if (!hs.ok()) {
    why = "the TLS handshake failed: " + hs.error;
    return nullptr;
  }
  c->send("EHLO " + options_.helo + "\r\n");
  r = c->read_reply();
  if (r.code() != 250) {
    why = "EHLO inside TLS was not answered with 250 (" + describe(r) + ")";
    return nullptr;
  }
  if (ehlo) *ehlo = r.reply;
  return c;
}

bool CheckContext::open_data(Connection& c, std::string& why) {
  c.send("MAIL FROM:<" + options_.from + ">\r\n");
  auto r = c.read_reply();
  if (r.code() != 250) {
    why = "MAIL FROM was not accepted (" + describe(r) + ")";
    return false;
  }
  c.send("RCPT TO:<" + options_.to + ">\r\n");
  r = c.read_reply();
  if (r.code() != 250 && r.code() != 251) {
    why = "RCPT TO was not accepted (" + describe(r) + ")";
    return false;
  }
  c.send("DATA\r\n");
  r = c.read_reply();
  if (r.code() != 354) {
    why = "DATA was not answered with 354 (" + describe(r) + ")";
    return false;
  }
  return true;
}

std::string CheckContext::message_header(const std::string& check_id) const {
  return "From: <" + options_.from + ">\r\nTo: <" + options_.to + ">\r\nSubject: tlschan probe " + check_id +
         "\r\nX-Tlschan-Probe: " + check_id + "\r\n\r\n";
}

}  // namespace tlschan::audit

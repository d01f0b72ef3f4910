#include "tlschan/audit/exchange.hpp"

#include "tlschan/sim/transcript_bytes.hpp"

namespace tlschan::audit {

const char* direction(ExchangeEntry::Kind kind) {
  switch (kind) {
    case ExchangeEntry::Kind::client_bytes:
    case ExchangeEntry::Kind::client_tls:
    case ExchangeEntry::Kind::client_inside_tls: return "c>s";
    case ExchangeEntry::Kind::server_bytes:
    case ExchangeEntry::Kind::server_tls:
    case ExchangeEntry::Kind::server_inside_tls: return "s>c";
    case ExchangeEntry::Kind::event: return "";
  }
  return "";
}

Exchange::Exchange() : started_(std::chrono::steady_clock::now()) {}

Duration Exchange::since_start() const {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started_);
}

int Exchange::open_connection(std::string_view what) {
  ++connection_;
  event(std::string("open ") + std::string(what));
  return connection_;
}

void Exchange::wire_opened(std::string_view client_address, std::uint16_t client_port, std::string_view server_address,
                           std::uint16_t server_port, std::uint16_t shown_port) {
  wire_.opened(connection_, client_address, client_port, server_address, server_port, shown_port);
}

void Exchange::bytes(ExchangeEntry::Kind kind, std::string_view bytes) {
  if (bytes.empty()) return;
  switch (kind) {
    case ExchangeEntry::Kind::client_bytes:
    case ExchangeEntry::Kind::client_tls: wire_.bytes(connection_, true, bytes); break;
    case ExchangeEntry::Kind::server_bytes:
    case ExchangeEntry::Kind::server_tls: wire_.bytes(connection_, false, bytes); break;
    case ExchangeEntry::Kind::client_inside_tls:
    case ExchangeEntry::Kind::server_inside_tls:
    case ExchangeEntry::Kind::event: break;
  }
  ExchangeEntry e{kind, connection_, since_start(), {}, bytes.size()};
  if (kind == ExchangeEntry::Kind::client_tls || kind == ExchangeEntry::Kind::server_tls) {
    e.text = sim::short_digest(bytes);
  } else {
    e.text = std::string(bytes);
  }
  entries_.push_back(std::move(e));
}

void Exchange::event(std::string_view what) {
  entries_.push_back({ExchangeEntry::Kind::event, connection_, since_start(), std::string(what), 0});
}

std::string Exchange::transcript_body() const {
  std::string out;
  for (const auto& e : entries_) {
    out += sim::time_stamp(at(e.at));
    out += " c" + std::to_string(e.connection) + " ";
    switch (e.kind) {
      case ExchangeEntry::Kind::event: out += e.text; break;
      case ExchangeEntry::Kind::client_bytes:
      case ExchangeEntry::Kind::server_bytes:
        out += std::string(direction(e.kind)) + " " + sim::escape_bytes(e.text);
        break;
      case ExchangeEntry::Kind::client_tls:
      case ExchangeEntry::Kind::server_tls:
        out += std::string(direction(e.kind)) + " tls " + std::to_string(e.length) + " bytes sha256:" + e.text;
        break;
      case ExchangeEntry::Kind::client_inside_tls:
      case ExchangeEntry::Kind::server_inside_tls:
        out += std::string(direction(e.kind)) + " in-tls " + sim::escape_bytes(e.text);
        break;
    }
    out += '\n';
  }
  return out;
}

}  // namespace tlschan::audit

#include "tlschan/sim/scripted_peers.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace tlschan::sim {

std::vector<PeerAction> ScriptedPeerBase::take_actions() { return std::exchange(actions_, {}); }

void ScriptedPeerBase::send(std::string bytes, bool atomic) {
  if (bytes.empty()) return;
  actions_.push_back(PeerAction{PeerAction::Kind::send, std::move(bytes), atomic});
}

void ScriptedPeerBase::tls_starts() { actions_.push_back(PeerAction{PeerAction::Kind::tls_starts, {}, false}); }

void ScriptedPeerBase::note(std::string line) {
  actions_.push_back(PeerAction{PeerAction::Kind::note, std::move(line), false});
}

void ScriptedPeerBase::close() {
  if (closed_) return;
  closed_ = true;
  actions_.push_back(PeerAction{PeerAction::Kind::close, {}, false});
}

void ScriptedPeerBase::send_chunk(std::optional<TlsSession>& tls, const std::string& chunk) {
  if (!tls) {
    send(chunk, true);
    return;
  }
  tls->write(chunk);
  std::string wire;
  tls->take_output(wire);
  send(std::move(wire), true);
}

std::optional<std::string> ScriptedPeerBase::read_tls(TlsSession& tls, std::string_view wire, const char* who) {
  const bool was_up = tls.state() == TlsState::established;
  tls.feed(wire);
  std::string plain;
  const TlsState st = tls.advance(plain);
  std::string answer;
  tls.take_output(answer);
  send(std::move(answer), false);
  if (st == TlsState::failed || st == TlsState::closed) {
    close();
    return std::nullopt;
  }
  if (st != TlsState::established) return std::nullopt;
  if (!was_up) note(std::string(who) + " tls-established " + tls.version());
  return plain;
}

// ---- the scripted client -------------------------------------------------------------------------

ScriptedClient::ScriptedClient(const ScriptSpec& spec, const TlsContext& client_tls)
    : spec_(spec), tls_context_(client_tls) {}

void ScriptedClient::start() {
  if (!spec_.wait) send_chunks();
}

// Sends the script's next chunk (all of them without `wait`), stopping at a STARTTLS under `tls`.
void ScriptedClient::send_chunks() {
  while (next_ < spec_.send.size() && !closed()) {
    const std::string& chunk = spec_.send[next_++];
    send_chunk(tls_, chunk);
    if (spec_.tls && !tls_ && chunk.find("STARTTLS\r\n") != std::string::npos) {
      awaiting_220_ = true;
      reply_.clear();
      return;
    }
    if (spec_.wait) return;
  }
}

void ScriptedClient::receive(std::string_view wire) {
  if (closed()) return;
  if (!tls_) {
    reply_.append(wire);
  } else {
    const bool was_up = tls_->state() == TlsState::established;
    auto opened = read_tls(*tls_, wire, "script");
    if (!opened) return;
    reply_ += *opened;
    // After a handshake the client speaks first.
    if (!was_up && next_ < spec_.send.size()) send_chunks();
  }
  // Reads whole reply lines; a final line (code then space) ends a reply.
  std::size_t at = 0;
  while (!closed()) {
    const auto lf = reply_.find('\n', at);
    if (lf == std::string::npos) break;
    const std::string_view line = std::string_view(reply_).substr(at, lf + 1 - at);
    at = lf + 1;
    if (on_line_) on_line_(line, tls_.has_value());
    if (line.size() >= 4 && line[3] == '-') continue;
    const bool greeting = !greeted_;
    greeted_ = true;
    if (!greeting && awaiting_220_ && line.substr(0, 4) == "220 ") {
      // The answer to STARTTLS: whatever came after it is not read; the handshake starts.
      awaiting_220_ = false;
      reply_.clear();
      tls_.emplace(tls_context_);
      std::string ignored, hello;
      tls_->advance(ignored);
      tls_->take_output(hello);
      tls_starts();
      send(std::move(hello), false);
      return;
    }
    if (awaiting_220_) continue;
    // Without `wait` the script leaves the connection open until the server closes it.
    if (!spec_.wait) continue;
    if (next_ < spec_.send.size()) {
      send_chunks();
    } else {
      close();
    }
  }
  reply_.erase(0, at);
}

// ---- the scripted server -------------------------------------------------------------------------

ScriptedServer::ScriptedServer(const ServerScriptSpec& spec, const TlsContext& server_tls)
    : spec_(spec), tls_context_(server_tls) {}

void ScriptedServer::reply() {
  if (closed()) return;
  if (next_ >= spec_.replies.size()) {
    close();
    return;
  }
  const std::string& chunk = spec_.replies[next_++];
  send_chunk(tls_, chunk);
  if (spec_.tls && !tls_ && starttls_pending_ && chunk.rfind("220", 0) == 0) {
    tls_.emplace(tls_context_);
    tls_starts();
  }
  starttls_pending_ = false;
}

void ScriptedServer::receive(std::string_view wire) {
  if (closed()) return;
  std::optional<std::string> opened;
  if (tls_) {
    opened = read_tls(*tls_, wire, "script-server");
    if (!opened) return;
  }
  const std::string_view plain = opened ? std::string_view(*opened) : wire;
  if (on_read_) on_read_(plain, tls_.has_value() && tls_->state() == TlsState::established);
  // A STARTTLS line, in any case, may come cut across segments: the end of the previous one is
  // read with it.
  constexpr std::string_view starttls_line = "STARTTLS\r\n";
  const auto at = [&](std::size_t k) {  // octet k of the previous tail followed by `plain`, upper-cased
    const char ch = k < read_tail_.size() ? read_tail_[k] : plain[k - read_tail_.size()];
    return static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  };
  const std::size_t total = read_tail_.size() + plain.size();
  for (std::size_t end = starttls_line.size(); end <= total && !starttls_pending_; ++end) {
    if (at(end - 1) != '\n') continue;
    std::size_t i = 0;
    while (i < starttls_line.size() && at(end - starttls_line.size() + i) == starttls_line[i]) ++i;
    if (i == starttls_line.size()) starttls_pending_ = true;
  }
  std::string tail;
  for (std::size_t k = total - std::min(total, starttls_line.size() - 1); k < total; ++k) tail.push_back(at(k));
  read_tail_ = std::move(tail);
  if (plain.empty() || plain.back() != '\n') return;
  reply();
}

}  // namespace tlschan::sim

// The scripted peers of a scenario: a client (ScriptSpec) and a server (ServerScriptSpec) modeled by
// the bytes they send, in place of a ClientSession or a ServerSession. Like the engine's sessions
// they never touch a network: they are handed what arrives and hand back what they do, in order.
// The simulator drives them over its links; a fuzz target can drive the same classes directly.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tlschan/sim/scenario.hpp"
#include "tlschan/tls.hpp"

namespace tlschan::sim {

// One thing a scripted peer does; its actions are carried out in the order given.
struct PeerAction {
  enum class Kind {
    send,        // `bytes` go on the wire (`atomic`: as one segment, a script's chunk)
    tls_starts,  // every byte sent from here on is TLS (the transcript shows it so)
    close,       // the peer closes its side of the connection; it does nothing after
    note,        // `bytes` is a line for the transcript ("script tls-established TLSv1.3", ...)
  };
  Kind kind = Kind::send;
  std::string bytes;
  bool atomic = false;
};

class ScriptedPeerBase {
 public:
  // What the peer did since the last call.
  std::vector<PeerAction> take_actions();
  bool closed() const { return closed_; }

 protected:
  void send(std::string bytes, bool atomic);
  void tls_starts();
  void note(std::string line);
  void close();
  // A script's chunk as one segment: as it is, or inside TLS once TLS is up.
  void send_chunk(std::optional<TlsSession>& tls, const std::string& chunk);
  // Feeds TLS bytes to `tls` and sends what it answers; returns the plaintext it opened, or nullopt
  // when nothing more is to be read now (the handshake goes on, or TLS failed and the peer closed).
  std::optional<std::string> read_tls(TlsSession& tls, std::string_view wire, const char* who);

 private:
  std::vector<PeerAction> actions_;
  bool closed_ = false;
};

// A client that sends the script's chunks: all of them at once without `wait`, else one after each
// whole reply (the first after the greeting) and QUIT-less close after the last reply. With `tls`,
// a chunk holding STARTTLS waits for a 220, then a real handshake starts and the chunks after it
// go inside TLS.
class ScriptedClient : public ScriptedPeerBase {
 public:
  ScriptedClient(const ScriptSpec& spec, const TlsContext& client_tls);
  bool waits() const { return spec_.wait; }  // it speaks after the greeting, not at once
  void start();                                // sends its first chunks (without `wait`)
  void receive(std::string_view wire);
  void peer_closed() { close(); }

  // Called with each reply line the client reads (its CRLF included; the lines of a multiline
  // reply one by one), and whether TLS was up when it came. A fuzz target checks the server's
  // replies through it; the simulator sets none.
  using LineObserver = std::function<void(std::string_view line, bool inside_tls)>;
  void on_reply_line(LineObserver f) { on_line_ = std::move(f); }
  // Octets of a reply line that has not ended yet.
  std::size_t partial_reply_octets() const { return reply_.size(); }
  // This client started TLS (after a 220 to a STARTTLS line of its script).
  bool tls_started() const { return tls_.has_value(); }
  // A TLS handshake of this client has completed on the connection.
  bool tls_established() const { return tls_ && tls_->state() == TlsState::established; }

 private:
  void send_chunks();
  const ScriptSpec& spec_;
  const TlsContext& tls_context_;
  std::size_t next_ = 0;
  bool awaiting_220_ = false;
  bool greeted_ = false;
  std::optional<TlsSession> tls_;
  std::string reply_;  // the reply line being read
  LineObserver on_line_;
};

// A server that answers with the script's chunks: the first is the greeting, each next one answers
// client bytes that ended at a line end; it closes when they run out. With `tls`, a chunk starting
// with 220 that answers a STARTTLS line is followed by a real handshake (`server_tls`), and the
// chunks after it go inside TLS.
class ScriptedServer : public ScriptedPeerBase {
 public:
  ScriptedServer(const ServerScriptSpec& spec, const TlsContext& server_tls);
  void start() { reply(); }  // the greeting, or the close when the script is empty
  void receive(std::string_view wire);
  void peer_closed() { close(); }

  // Called with the plaintext of each segment the server reads (inside TLS, what it opened of it),
  // and whether TLS was up, before the server answers it. A fuzz target checks the client's
  // commands through it; the simulator sets none.
  using ReadObserver = std::function<void(std::string_view plain, bool inside_tls)>;
  void on_read(ReadObserver f) { on_read_ = std::move(f); }

 private:
  void reply();
  const ServerScriptSpec& spec_;
  const TlsContext& tls_context_;
  std::size_t next_ = 0;
  bool starttls_pending_ = false;
  std::string read_tail_;  // the last octets read, upper-cased (a STARTTLS line cut across segments)
  std::optional<TlsSession> tls_;
  ReadObserver on_read_;
};

}  // namespace tlschan::sim

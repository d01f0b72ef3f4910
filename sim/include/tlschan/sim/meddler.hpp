// A network adversary on one connection (semantics.md section 5). It sees both byte streams in
// order, follows the SMTP plaintext line by line until TLS starts, and then sees only TLS records.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/sim/prng.hpp"

namespace tlschan::sim {

enum class MeddlerKind { none, strip, refuse, tamper, inject_command, inject_response };

const char* to_string(MeddlerKind k);  // "none", "strip", ..., "inject-command", "inject-response"
std::optional<MeddlerKind> parse_meddler(std::string_view name);
inline constexpr MeddlerKind all_meddlers[] = {MeddlerKind::none,   MeddlerKind::strip,
                                               MeddlerKind::refuse, MeddlerKind::tamper,
                                               MeddlerKind::inject_command, MeddlerKind::inject_response};

// One thing a meddler did in a call, for the transcript's `meddler` lines.
struct MeddlerAct {
  enum class What { injected, changed, dropped, answered };
  What what = What::injected;
  std::size_t at = 0;    // injected, changed: where in `forward` the bytes are
  std::string bytes;     // injected, dropped or answered; changed: the bytes written over `original`
  std::string original;  // changed: the bytes that were there (as long as `bytes`)
};

// What the meddler lets through, and what it answers the sender itself.
struct MeddlerOutput {
  std::string forward;
  bool atomic = false;  // forward arrives as one segment (injected bytes ride with their line)
  std::string answer;   // bytes sent back to the sender, as if from the peer
  std::vector<MeddlerAct> acts;  // in the order done
};

class Meddler {
 public:
  Meddler(MeddlerKind kind, Prng prng, bool tls_from_start);

  MeddlerOutput client_to_server(std::string_view bytes);
  MeddlerOutput server_to_client(std::string_view bytes);
  // The sender closed: whatever partial line was held goes through.
  std::string flush_client();
  std::string flush_server();

  // True when client_to_server (server_to_client) would forward the bytes as they are, in their
  // own segments, with no answer and nothing to remember: the caller may skip it.
  bool passes_client_bytes() const { return tls_ || kind_ == MeddlerKind::none; }
  bool passes_server_bytes() const {
    return kind_ == MeddlerKind::none || (tls_ && (kind_ != MeddlerKind::tamper || tampered_));
  }

  MeddlerKind kind() const { return kind_; }
  bool acted() const { return acted_; }  // it changed something on this connection

 private:
  void client_line(std::string_view line, MeddlerOutput& out);
  void server_line(std::string_view line, MeddlerOutput& out);
  // `at`: where `bytes` will sit in `out.forward`.
  void tamper_records(std::string& bytes, std::size_t at, MeddlerOutput& out);

  MeddlerKind kind_;
  Prng prng_;
  bool tls_ = false;             // both directions carry TLS from here on
  bool starttls_pending_ = false;
  bool client_in_data_ = false;
  bool tampered_ = false;
  bool acted_ = false;
  std::string client_partial_;
  std::string server_partial_;
  // TLS record framing of the server's stream, for tamper.
  std::string record_header_;
  std::size_t payload_left_ = 0;
  std::size_t payload_pos_ = 0;
  std::size_t flip_at_ = 0;
  bool flipping_record_ = false;
};

}  // namespace tlschan::sim

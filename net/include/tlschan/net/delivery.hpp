// `tlschan send`: one delivery attempt of one message over real TCP, driven by a ClientSession under
// the outgoing channel's client policy, including the may fallback on a second connection. Every
// byte both ways is kept in a transcript (plaintext as text, TLS records as their length).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlschan/client_session.hpp"
#include "tlschan/expected.hpp"

namespace tlschan::net {

struct TranscriptEntry {
  enum class Kind { client_bytes, server_bytes, event };
  Kind kind = Kind::event;
  int connection = 1;  // counts from 1
  Duration at{};       // since the attempt started
  bool tls = false;    // bytes inside TLS: only their length is kept
  std::size_t length = 0;
  std::string text;  // the plaintext bytes, or the event
};

// What an attempt carried on its sockets, for a capture (`send --pcap`): each connection's real
// ends, the client's bytes both ways as it wrote and read them, the closes and resets, and the TLS
// key log of the connection's handshake (its own, however the TLS context is shared). Called on the
// io thread, connection numbers counting from 1 as in the transcript.
class DeliveryObserver {
 public:
  virtual ~DeliveryObserver() = default;
  virtual void opened(int connection, const std::string& client_address, std::uint16_t client_port,
                      const std::string& server_address, std::uint16_t server_port) = 0;
  virtual void bytes(int connection, bool from_client, std::string_view bytes) = 0;
  virtual void closed(int connection, bool by_client) = 0;
  virtual void reset(int connection, bool by_client) = 0;
  virtual void key_log(int connection, std::string_view line) = 0;
};

struct DeliveryRequest {
  std::string host;
  std::uint16_t port = 25;
  ClientConfig client;
  OutgoingMessage message;
  DeliveryObserver* observer = nullptr;  // must outlive the attempt; null: none
};

struct DeliveryResult {
  std::vector<RecipientOutcome> outcomes;
  Disposition disposition = Disposition::deferred;
  int connections = 0;
  bool tls_fallback = false;
  std::vector<TranscriptEntry> transcript;
};

// Runs the attempt to its end (every connection closed). A usage error (no recipient, implicit TLS
// on a channel whose client policy is no) sends nothing.
Expected<DeliveryResult, UsageError> deliver(DeliveryRequest request);

// The same attempt on `io`, beside whatever else runs there (a Server, other attempts): returns at once,
// and `done` gets the result on io's thread once every connection is closed. A usage error is returned
// instead, and nothing is sent.
std::optional<UsageError> start_delivery(boost::asio::io_context& io, DeliveryRequest request,
                                         std::function<void(DeliveryResult)> done);

// LF line ends become CRLF; CRLF stays as it is.
std::string lf_to_crlf(std::string_view data);

}  // namespace tlschan::net

// TLS over OpenSSL memory BIOs. The engine moves ciphertext between the wire and a TlsSession and
// plaintext between the TlsSession and the SMTP layer; no socket is involved.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tlschan/expected.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ossl_lib_ctx_st OSSL_LIB_CTX;

namespace tlschan {

struct TlsError {
  std::string message;  // one sentence naming the file or step that failed, and OpenSSL's reason
};

// What a context negotiates. The defaults are sensible for real use; the simulator and the fuzzers
// pin everything so that handshakes are reproducible.
struct TlsOptions {
  OSSL_LIB_CTX* libctx = nullptr;  // nullptr: OpenSSL's default library context
  int min_version = 0x0303;        // TLS1_2_VERSION
  int max_version = 0x0304;        // TLS1_3_VERSION
  std::string ciphersuites;        // TLS 1.3 suites; empty: OpenSSL's default
  std::string cipher_list;         // TLS 1.2 ciphers; empty: OpenSSL's default
  std::string groups;              // empty: OpenSSL's default
  std::string sigalgs;             // empty: OpenSSL's default
  std::optional<std::int64_t> verify_time;  // pinned certificate time (seconds since 1970)
  // Opt-in peer verification (off: the client policy is Postfix's "encrypt" level).
  bool verify_peer = false;
  std::string ca_file;
};

// A server's options whose every handshake with a client of these defaults fails for real: it
// speaks only TLS 1.1, which they never offer. The "broken" TLS health of the outcome matrix
// (semantics.md section 5), made the same way by the simulator, `tlschan pairs` and the tests.
TlsOptions broken_server_options(TlsOptions base = {});

class TlsContext {
 public:
  // A server context from PEM files. Missing, unreadable or unparsable files and a key that does
  // not match the certificate are errors, never crashes.
  static Expected<TlsContext, TlsError> server_from_files(const std::string& cert_file,
                                                          const std::string& key_file,
                                                          const TlsOptions& options = {});
  static Expected<TlsContext, TlsError> server_from_pem(std::string_view cert_pem,
                                                        std::string_view key_pem,
                                                        const TlsOptions& options = {});
  static Expected<TlsContext, TlsError> client(const TlsOptions& options = {});

  bool is_server() const { return server_; }
  SSL_CTX* native() const { return ctx_.get(); }

  // Where the TLS key log of this context's handshakes goes (OpenSSL's keylog callback): one NSS
  // key log line (SSLKEYLOGFILE form, no line end) per secret. An empty function turns it off.
  // Every copy of this context shares the OpenSSL context, and so the sink. Once a sink was set
  // (here or on a session) the context keeps OpenSSL's callback, which does nothing without one.
  using KeyLogSink = std::function<void(std::string_view line)>;
  void set_key_log(KeyLogSink sink) const;

 private:
  TlsContext(std::shared_ptr<SSL_CTX> ctx, bool server) : ctx_(std::move(ctx)), server_(server) {}
  std::shared_ptr<SSL_CTX> ctx_;
  bool server_ = false;
};

enum class TlsState {
  handshaking,
  established,
  failed,  // handshake or record error, alert received, or peer closed before the handshake ended
  closed,  // close_notify received after the handshake
};

// One TLS connection over two memory BIOs. Movable, not copyable.
class TlsSession {
 public:
  explicit TlsSession(const TlsContext& context);
  ~TlsSession();
  TlsSession(TlsSession&&) noexcept;
  TlsSession& operator=(TlsSession&&) noexcept;
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Ciphertext that arrived from the wire.
  void feed(std::string_view ciphertext);

  // Advances the handshake and decrypts what it can, appending application data to `plaintext`.
  // A client's first call produces its ClientHello. Returns the state afterwards.
  TlsState advance(std::string& plaintext);

  // Encrypts application data (only once established; ignored otherwise).
  void write(std::string_view plaintext);

  // Sends close_notify.
  void shutdown();

  // Where the TLS key log of this session's own handshake goes (besides its context's sink): the
  // lines of this connection alone, however many sessions share the context. An empty function
  // turns it off.
  void set_key_log(TlsContext::KeyLogSink sink);

  // Appends the ciphertext waiting to be sent to `out` and clears it.
  void take_output(std::string& out);
  bool has_output() const;

  TlsState state() const { return state_; }
  const std::string& error() const { return error_; }  // why it failed, when it did
  std::string version() const;                          // "TLSv1.3"
  std::string cipher() const;                           // "TLS_AES_256_GCM_SHA384"
  // How many times advance() called into OpenSSL to read (tests and benchmarks).
  std::uint64_t openssl_reads() const { return framing_.openssl_reads; }

 private:
  void read_application_data(std::string& plaintext);
  std::string describe(const char* what, int ssl_error) const;  // drains OpenSSL's error queue
  void fail_with(std::string message);
  void note_incoming(std::string_view ciphertext);

  SSL* ssl_ = nullptr;
  TlsState state_ = TlsState::handshaking;
  std::string error_;
  bool established_ = false;  // the handshake completed at some point (version() and cipher())

  // The incoming records, framed as OpenSSL frames them: it reads a record's 5-octet header, checks
  // it, then waits for the whole record. Between those two points new octets cannot move it, so
  // once OpenSSL has asked for more input, advance() calls it again only when a header or a record
  // is complete (or after write() or shutdown()). A stream segmented down to single octets then
  // costs two calls per record, not one per octet, and OpenSSL sees the same calls at the points
  // where it can act. A header that is not a TLS record's (type 20..23, version 3.x) turns the
  // framing off for the rest of the session: every advance() calls OpenSSL, as without it.
  struct Framing {
    bool may_progress = true;
    bool off = false;
    std::uint8_t header_have = 0;
    std::uint8_t header[5] = {};
    std::size_t body_left = 0;
    std::uint64_t openssl_reads = 0;
  };
  Framing framing_;
};

}  // namespace tlschan

// TLS over OpenSSL memory BIOs: contexts built from PEM, sessions that move ciphertext and plaintext.
// Every failure is a value (TlsError or TlsState::failed with error()); the OpenSSL error queue is
// cleared before and after every operation so that errors never leak from one session to another.
#include "tlschan/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace tlschan {
namespace {

// Clears the OpenSSL error queue on entry and on every exit of a scope.
// Empties this thread's OpenSSL error queue. Looking first is much cheaper than clearing an empty
// queue (which walks all its slots), and the engine calls this around every OpenSSL operation: for
// every segment that arrives, which in the simulator can be every octet.
void clear_openssl_errors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

class ErrorQueueGuard {
 public:
  ErrorQueueGuard() { clear_openssl_errors(); }
  ~ErrorQueueGuard() { clear_openssl_errors(); }
  ErrorQueueGuard(const ErrorQueueGuard&) = delete;
  ErrorQueueGuard& operator=(const ErrorQueueGuard&) = delete;
};

// Drains the OpenSSL error queue into one string ("reason; reason"), or "" when it is empty.
std::string drain_openssl_errors() {
  std::string reasons;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!reasons.empty()) reasons += "; ";
    reasons += buf;
  }
  return reasons;
}

// "what: OpenSSL's reason", or "what" alone when OpenSSL gave no reason.
TlsError make_error(std::string what) {
  std::string reasons = drain_openssl_errors();
  if (!reasons.empty()) {
    what += " (OpenSSL: ";
    what += reasons;
    what += ')';
  }
  return TlsError{std::move(what)};
}

Unexpected<TlsError> fail(std::string what) { return unexpected(make_error(std::move(what))); }

bool is_pem_no_start_line(unsigned long code) {
  return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A read-only memory BIO over `pem` (which must outlive it).
Expected<BioPtr, TlsError> memory_bio(std::string_view pem, const std::string& label) {
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) {
    return unexpected(TlsError{label + " is too large"});
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return fail("cannot create a memory BIO for " + label);
  return bio;
}

// Reads one PEM certificate from `bio` into an X509 bound to `libctx`. Returns nullptr with the
// OpenSSL error queue holding the reason when there is none (PEM_R_NO_START_LINE at the end).
X509Ptr read_certificate(BIO* bio, OSSL_LIB_CTX* libctx) {
  // There is no PEM_read_bio_X509_ex: an X509 created with X509_new_ex carries the library context
  // and PEM_read_bio_X509 fills it in place. On a parse error OpenSSL frees it and sets it to null.
  X509* x = X509_new_ex(libctx, nullptr);
  if (x == nullptr) return nullptr;
  if (PEM_read_bio_X509(bio, &x, nullptr, nullptr) == nullptr) {
    X509_free(x);
    return nullptr;
  }
  return X509Ptr(x);
}

constexpr std::size_t kMaxPemFileSize = 4 * 1024 * 1024;

// Reads a whole file; errors name the file and the system's reason.
Expected<std::string, TlsError> read_file(const std::string& path, const char* what) {
  auto sys_error = [&](const char* step, int err) {
    return unexpected(TlsError{std::string("cannot ") + step + ' ' + what + " file " + path + ": " +
                               std::generic_category().message(err)});
  };
  errno = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return sys_error("open", errno);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(f, &std::fclose);
  std::string data;
  char buf[8192];
  for (;;) {
    errno = 0;
    std::size_t n = std::fread(buf, 1, sizeof buf, f);
    data.append(buf, n);
    if (data.size() > kMaxPemFileSize) {
      return unexpected(TlsError{std::string(what) + " file " + path + " is larger than " +
                                 std::to_string(kMaxPemFileSize) + " bytes"});
    }
    if (n < sizeof buf) {
      if (std::ferror(f)) return sys_error("read", errno != 0 ? errno : EIO);
      break;
    }
  }
  return data;
}

// "0x0303": protocol versions as the TLS wire and OpenSSL's headers write them.
std::string hex_version(int version) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(version));
  return buf;
}

// Applies the options shared by server and client contexts.
Expected<bool, TlsError> configure(SSL_CTX* ctx, const TlsOptions& o) {
  if (SSL_CTX_set_min_proto_version(ctx, o.min_version) != 1) {
    return fail("invalid minimum TLS version " + hex_version(o.min_version));
  }
  if (SSL_CTX_set_max_proto_version(ctx, o.max_version) != 1) {
    return fail("invalid maximum TLS version " + hex_version(o.max_version));
  }
  if (!o.ciphersuites.empty()) {
    if (SSL_CTX_set_ciphersuites(ctx, o.ciphersuites.c_str()) != 1) {
      return fail("invalid TLS 1.3 ciphersuites \"" + o.ciphersuites + "\"");
    }
    // OpenSSL silently skips unknown TLS 1.3 suite names: check that each one made it into the
    // context's list (TLS 1.3 suites are named by their standard names).
    STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
    std::string_view rest = o.ciphersuites;
    while (!rest.empty()) {
      std::size_t colon = rest.find(':');
      std::string_view name = rest.substr(0, colon);
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
      if (name.empty()) continue;
      bool found = false;
      for (int i = 0; ciphers != nullptr && i < sk_SSL_CIPHER_num(ciphers); ++i) {
        const char* have = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(ciphers, i));
        if (have != nullptr && name == have) found = true;
      }
      if (!found) {
        return fail("invalid TLS 1.3 ciphersuites \"" + o.ciphersuites + "\": unknown or unavailable suite \"" +
                    std::string(name) + "\"");
      }
    }
  }
  if (!o.cipher_list.empty() && SSL_CTX_set_cipher_list(ctx, o.cipher_list.c_str()) != 1) {
    return fail("invalid TLS 1.2 cipher list \"" + o.cipher_list + "\"");
  }
  if (!o.groups.empty() && SSL_CTX_set1_groups_list(ctx, o.groups.c_str()) != 1) {
    return fail("invalid groups list \"" + o.groups + "\"");
  }
  if (!o.sigalgs.empty() && SSL_CTX_set1_sigalgs_list(ctx, o.sigalgs.c_str()) != 1) {
    return fail("invalid signature algorithms list \"" + o.sigalgs + "\"");
  }

  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_num_tickets(ctx, 0) != 1) return fail("cannot turn session tickets off");
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

  if (o.verify_time) {
    X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(ctx), static_cast<time_t>(*o.verify_time));
  }
  if (o.verify_peer) {
    if (o.ca_file.empty()) {
      return unexpected(TlsError{"peer verification is on but no CA file was given"});
    }
    if (SSL_CTX_load_verify_file(ctx, o.ca_file.c_str()) != 1) {
      return fail("cannot load CA file " + o.ca_file);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return true;
}

Expected<std::shared_ptr<SSL_CTX>, TlsError> new_context(const TlsOptions& options, bool server) {
  SSL_CTX* raw = SSL_CTX_new_ex(options.libctx, nullptr, server ? TLS_server_method() : TLS_client_method());
  if (raw == nullptr) return fail(std::string("cannot create a TLS ") + (server ? "server" : "client") + " context");
  std::shared_ptr<SSL_CTX> ctx(raw, &SSL_CTX_free);
  auto configured = configure(raw, options);
  if (!configured) return unexpected(configured.error());
  return ctx;
}

// The one code path for server contexts; labels name where the PEM came from ("certificate file
// /x/server.crt" or "the certificate PEM").
Expected<std::shared_ptr<SSL_CTX>, TlsError> build_server(std::string_view cert_pem, std::string_view key_pem,
                                                          const std::string& cert_label,
                                                          const std::string& key_label,
                                                          const TlsOptions& options) {
  auto made = new_context(options, true);
  if (!made) return unexpected(made.error());
  std::shared_ptr<SSL_CTX> ctx = std::move(made).value();

  // Certificate, then any further certificates as the chain.
  auto cert_bio = memory_bio(cert_pem, cert_label);
  if (!cert_bio) return unexpected(cert_bio.error());
  X509Ptr leaf = read_certificate(cert_bio->get(), options.libctx);
  if (!leaf) {
    unsigned long code = ERR_peek_last_error();
    if (code == 0 || is_pem_no_start_line(code)) {
      return fail(cert_label + " holds no PEM certificate");
    }
    return fail(cert_label + " holds no valid certificate");
  }
  if (SSL_CTX_use_certificate(ctx.get(), leaf.get()) != 1) {
    return fail("cannot use the certificate from " + cert_label);
  }
  for (int index = 2;; ++index) {
    X509Ptr extra = read_certificate(cert_bio->get(), options.libctx);
    if (!extra) {
      unsigned long code = ERR_peek_last_error();
      if (code == 0 || is_pem_no_start_line(code)) break;  // the end of the file
      return fail("certificate " + std::to_string(index) + " in " + cert_label + " is not valid");
    }
    if (SSL_CTX_add1_chain_cert(ctx.get(), extra.get()) != 1) {
      return fail("cannot add certificate " + std::to_string(index) + " from " + cert_label + " to the chain");
    }
  }
  clear_openssl_errors();

  // Private key.
  auto key_bio = memory_bio(key_pem, key_label);
  if (!key_bio) return unexpected(key_bio.error());
  PkeyPtr key(PEM_read_bio_PrivateKey_ex(key_bio->get(), nullptr, nullptr, nullptr, options.libctx, nullptr));
  if (!key) return fail(key_label + " holds no usable private key");
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1) {
    return fail("the private key in " + key_label + " does not match the certificate in " + cert_label);
  }
  return ctx;
}

}  // namespace

Expected<TlsContext, TlsError> TlsContext::server_from_files(const std::string& cert_file, const std::string& key_file,
                                                             const TlsOptions& options) {
  ErrorQueueGuard guard;
  auto cert = read_file(cert_file, "certificate");
  if (!cert) return unexpected(cert.error());
  auto key = read_file(key_file, "key");
  if (!key) return unexpected(key.error());
  auto ctx = build_server(*cert, *key, "certificate file " + cert_file, "key file " + key_file, options);
  if (!ctx) return unexpected(ctx.error());
  return TlsContext(std::move(ctx).value(), true);
}

Expected<TlsContext, TlsError> TlsContext::server_from_pem(std::string_view cert_pem, std::string_view key_pem,
                                                           const TlsOptions& options) {
  ErrorQueueGuard guard;
  auto ctx = build_server(cert_pem, key_pem, "the certificate PEM", "the key PEM", options);
  if (!ctx) return unexpected(ctx.error());
  return TlsContext(std::move(ctx).value(), true);
}

Expected<TlsContext, TlsError> TlsContext::client(const TlsOptions& options) {
  ErrorQueueGuard guard;
  auto ctx = new_context(options, false);
  if (!ctx) return unexpected(ctx.error());
  return TlsContext(std::move(ctx).value(), false);
}

namespace {

// The key log sink of a context lives in the context's ex_data and goes with it; a session's own
// sink lives in the session's (SSL) ex_data and goes with the session.
void free_sink(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<TlsContext::KeyLogSink*>(ptr); }

int key_log_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_sink);
  return index;
}

int session_key_log_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_sink);
  return index;
}

// OpenSSL's keylog callback of every context with a sink: the line goes to the session's own sink
// (the connection it belongs to), then to the context's (every handshake of the context).
void key_log_line(const SSL* ssl, const char* line) {
  const auto* own = static_cast<const TlsContext::KeyLogSink*>(SSL_get_ex_data(ssl, session_key_log_index()));
  if (own != nullptr && *own) (*own)(line);
  const auto* sink = static_cast<const TlsContext::KeyLogSink*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), key_log_index()));
  if (sink != nullptr && *sink) (*sink)(line);
}

}  // namespace

void TlsContext::set_key_log(KeyLogSink sink) const {
  SSL_CTX* ctx = ctx_.get();
  const int index = key_log_index();
  delete static_cast<KeyLogSink*>(SSL_CTX_get_ex_data(ctx, index));
  SSL_CTX_set_ex_data(ctx, index, nullptr);
  if (!sink) return;  // the callback stays: sessions of this context may have sinks of their own
  SSL_CTX_set_ex_data(ctx, index, new KeyLogSink(std::move(sink)));
  SSL_CTX_set_keylog_callback(ctx, key_log_line);
}

void TlsSession::set_key_log(TlsContext::KeyLogSink sink) {
  if (ssl_ == nullptr) return;
  const int index = session_key_log_index();
  delete static_cast<TlsContext::KeyLogSink*>(SSL_get_ex_data(ssl_, index));
  SSL_set_ex_data(ssl_, index, nullptr);
  if (!sink) return;
  SSL_set_ex_data(ssl_, index, new TlsContext::KeyLogSink(std::move(sink)));
  SSL_CTX* ctx = SSL_get_SSL_CTX(ssl_);
  if (SSL_CTX_get_keylog_callback(ctx) != key_log_line) SSL_CTX_set_keylog_callback(ctx, key_log_line);
}

// ---------------------------------------------------------------------------------------------
// TlsSession

TlsSession::TlsSession(const TlsContext& context) {
  ErrorQueueGuard guard;
  if (context.native() == nullptr) {
    state_ = TlsState::failed;
    error_ = "TLS session created from an empty (moved-from) context";
    return;
  }
  ssl_ = SSL_new(context.native());
  if (ssl_ == nullptr) {
    state_ = TlsState::failed;
    error_ = make_error("cannot create a TLS session").message;
    return;
  }
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  if (rbio == nullptr || wbio == nullptr) {
    BIO_free(rbio);
    BIO_free(wbio);
    SSL_free(ssl_);
    ssl_ = nullptr;
    state_ = TlsState::failed;
    error_ = make_error("cannot create the memory BIOs of a TLS session").message;
    return;
  }
  // An empty read BIO means "nothing yet" (want read), never end of stream.
  BIO_set_mem_eof_return(rbio, -1);
  SSL_set_bio(ssl_, rbio, wbio);  // the SSL owns both BIOs from here on
  if (context.is_server()) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::TlsSession(TlsSession&& other) noexcept
    : ssl_(std::exchange(other.ssl_, nullptr)),
      state_(std::exchange(other.state_, TlsState::failed)),
      error_(std::move(other.error_)),
      established_(std::exchange(other.established_, false)),
      framing_(std::exchange(other.framing_, {})) {
  other.error_.clear();
}

TlsSession& TlsSession::operator=(TlsSession&& other) noexcept {
  if (this != &other) {
    SSL_free(ssl_);
    ssl_ = std::exchange(other.ssl_, nullptr);
    state_ = std::exchange(other.state_, TlsState::failed);
    error_ = std::move(other.error_);
    other.error_.clear();
    established_ = std::exchange(other.established_, false);
    framing_ = std::exchange(other.framing_, {});
  }
  return *this;
}

void TlsSession::feed(std::string_view ciphertext) {
  if (ssl_ == nullptr || state_ == TlsState::failed || state_ == TlsState::closed) return;
  ErrorQueueGuard guard;
  BIO* rbio = SSL_get_rbio(ssl_);
  while (!ciphertext.empty()) {
    int chunk = ciphertext.size() > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(ciphertext.size());
    int n = BIO_write(rbio, ciphertext.data(), chunk);
    if (n <= 0) {
      fail_with(make_error("cannot buffer incoming TLS data").message);
      return;
    }
    note_incoming(ciphertext.substr(0, static_cast<std::size_t>(n)));
    ciphertext.remove_prefix(static_cast<std::size_t>(n));
  }
}

void TlsSession::note_incoming(std::string_view ciphertext) {
  Framing& f = framing_;
  if (f.off) {
    f.may_progress = true;
    return;
  }
  while (!ciphertext.empty()) {
    if (f.body_left > 0) {
      const std::size_t n = std::min(f.body_left, ciphertext.size());
      f.body_left -= n;
      ciphertext.remove_prefix(n);
      if (f.body_left == 0) f.may_progress = true;  // a whole record
      continue;
    }
    f.header[f.header_have++] = static_cast<std::uint8_t>(ciphertext.front());
    ciphertext.remove_prefix(1);
    if (f.header_have < sizeof f.header) continue;
    f.header_have = 0;
    f.may_progress = true;  // OpenSSL checks a header as soon as it has one
    if (f.header[0] < 20 || f.header[0] > 23 || f.header[1] != 3) {
      f.off = true;
      return;
    }
    f.body_left = (std::size_t{f.header[3]} << 8) | f.header[4];
  }
}

TlsState TlsSession::advance(std::string& plaintext) {
  if (ssl_ == nullptr || !framing_.may_progress) return state_;
  ErrorQueueGuard guard;
  if (state_ == TlsState::handshaking) {
    ++framing_.openssl_reads;
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      state_ = TlsState::established;
      established_ = true;
    } else {
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ) framing_.may_progress = false;
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return state_;
      // OpenSSL has already queued its alert, if any, in the write BIO.
      fail_with(describe("TLS handshake failed", e));
      return state_;
    }
  }
  if (state_ == TlsState::established) read_application_data(plaintext);
  return state_;
}

// Decrypts every complete record waiting in the read BIO. A TLS 1.3 client gets here in the same
// advance() that finished its handshake, so data that came with the server's Finished is not left
// behind. Records are read into a buffer on the stack and only what they hold is appended (growing the
// string by a whole record's room first would zero-fill 16 KiB on every call). With nothing in the
// read BIO and nothing buffered inside OpenSSL, there is nothing to read: no call at all.
void TlsSession::read_application_data(std::string& plaintext) {
  constexpr std::size_t kChunk = 16384;  // the largest TLS record's plaintext
  BIO* rbio = SSL_get_rbio(ssl_);
  if (BIO_ctrl_pending(rbio) == 0 && SSL_has_pending(ssl_) == 0) return;
  char chunk[kChunk];
  for (;;) {
    std::size_t n = 0;
    clear_openssl_errors();
    ++framing_.openssl_reads;
    int r = SSL_read_ex(ssl_, chunk, kChunk, &n);
    if (r == 1) {
      plaintext.append(chunk, n);
      continue;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) framing_.may_progress = false;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    if (e == SSL_ERROR_ZERO_RETURN) {
      state_ = TlsState::closed;
      return;
    }
    fail_with(describe("TLS connection failed", e));
    return;
  }
}

void TlsSession::write(std::string_view plaintext) {
  if (ssl_ == nullptr || state_ != TlsState::established || plaintext.empty()) return;
  if ((SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0) return;  // nothing may follow close_notify
  ErrorQueueGuard guard;
  framing_.may_progress = true;
  std::size_t written = 0;
  int r = SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written);
  if (r != 1) fail_with(describe("TLS write failed", SSL_get_error(ssl_, r)));
}

void TlsSession::shutdown() {
  if (ssl_ == nullptr) return;
  // Established, or closed by the peer (answering its close_notify with ours); once.
  if (state_ != TlsState::established && state_ != TlsState::closed) return;
  if ((SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0) return;
  ErrorQueueGuard guard;
  framing_.may_progress = true;
  SSL_shutdown(ssl_);
}

void TlsSession::take_output(std::string& out) {
  if (ssl_ == nullptr) return;
  BIO* wbio = SSL_get_wbio(ssl_);
  for (;;) {
    std::size_t pending = BIO_ctrl_pending(wbio);
    if (pending == 0) return;
    int chunk = pending > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(pending);
    std::size_t old = out.size();
    out.resize(old + static_cast<std::size_t>(chunk));
    int n = BIO_read(wbio, out.data() + old, chunk);
    out.resize(old + (n > 0 ? static_cast<std::size_t>(n) : 0));
    if (n <= 0) return;
  }
}

bool TlsSession::has_output() const { return ssl_ != nullptr && BIO_ctrl_pending(SSL_get_wbio(ssl_)) > 0; }

std::string TlsSession::version() const {
  if (ssl_ == nullptr || !established_) return {};
  const char* v = SSL_get_version(ssl_);
  return v != nullptr ? v : "";
}

std::string TlsSession::cipher() const {
  if (ssl_ == nullptr || !established_) return {};
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  const char* name = c != nullptr ? SSL_CIPHER_get_name(c) : nullptr;
  return name != nullptr ? name : "";
}

std::string TlsSession::describe(const char* what, int ssl_error) const {
  std::string message = what;
  unsigned long last = ERR_peek_last_error();
  bool verify_failed = ERR_GET_LIB(last) == ERR_LIB_SSL && ERR_GET_REASON(last) == SSL_R_CERTIFICATE_VERIFY_FAILED;
  std::string reasons = drain_openssl_errors();
  if (verify_failed && ssl_ != nullptr) {
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      if (!reasons.empty()) reasons += "; ";
      reasons += "certificate verification: ";
      reasons += X509_verify_cert_error_string(verify);
    }
  }
  if (reasons.empty()) {
    switch (ssl_error) {
      case SSL_ERROR_ZERO_RETURN: reasons = "the peer sent close_notify"; break;
      case SSL_ERROR_SYSCALL: reasons = "unexpected end of the stream"; break;
      default: reasons = "SSL_get_error " + std::to_string(ssl_error); break;
    }
  }
  message += " (OpenSSL: ";
  message += reasons;
  message += ')';
  return message;
}

void TlsSession::fail_with(std::string message) {
  state_ = TlsState::failed;
  error_ = std::move(message);
}

TlsOptions broken_server_options(TlsOptions base) {
  base.min_version = 0x0302;  // TLS1_1_VERSION
  base.max_version = 0x0302;
  return base;
}

}  // namespace tlschan

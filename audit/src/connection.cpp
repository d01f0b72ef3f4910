#include "tlschan/audit/connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "socket_end.hpp"
#include "tlschan/views/tcp_streams.hpp"

namespace tlschan::audit {

namespace {

using Clock = std::chrono::steady_clock;

int millis_until(Clock::time_point until) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

std::string name_text(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string time_text(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, t);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

// Records what the leaf certificate says and accepts it: probe grades the SMTP side, it does not
// verify the certificate (the client policy of semantics.md section 4), it reports it.
int record_certificate(X509_STORE_CTX* store, void* arg) {
  auto* info = static_cast<CertificateInfo*>(arg);
  X509* cert = X509_STORE_CTX_get0_cert(store);
  if (cert != nullptr) {
    info->seen = true;
    info->subject = name_text(X509_get_subject_name(cert));
    info->issuer = name_text(X509_get_issuer_name(cert));
    info->not_after = time_text(X509_get0_notAfter(cert));
    info->expired = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
    info->self_signed = X509_check_issued(cert, cert) == X509_V_OK;
  }
  return 1;
}

bool looks_like_tls_record(std::string_view bytes) {
  const auto first = static_cast<unsigned char>(bytes.front());
  return first >= 20 && first <= 23;
}

}  // namespace

std::pair<std::string, std::uint16_t> socket_end(int fd, bool peer) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  const int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) : getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  char host[INET6_ADDRSTRLEN] = {};
  if (rc != 0) return {"?", 0};
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return {host, ntohs(in->sin_port)};
  }
  if (a.ss_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    return {host, ntohs(in->sin6_port)};
  }
  return {"?", 0};
}

std::string describe(const Reply& r) {
  std::string out = std::to_string(r.code);
  if (!r.lines.empty()) out += " " + r.lines.front();
  if (r.lines.size() > 1) out += " (+" + std::to_string(r.lines.size() - 1) + " lines)";
  return out;
}

std::string describe(const ReadResult& r) {
  switch (r.status) {
    case ReadStatus::reply: return describe(r.reply);
    case ReadStatus::timeout: return "no reply before the timeout";
    case ReadStatus::closed: return "connection closed";
    case ReadStatus::malformed: return "not an SMTP reply (" + r.error + ")";
    case ReadStatus::tls_error: return "TLS error (" + r.error + ")";
  }
  return "?";
}

std::unique_ptr<Connection> Connection::open(const Target& target, Exchange& exchange, Duration timeout,
                                             std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(target.port);
  if (const int rc = getaddrinfo(target.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = "cannot resolve " + target.host + ": " + gai_strerror(rc);
    return nullptr;
  }
  const auto until = Clock::now() + timeout;
  error = "no address for " + target.host;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, millis_until(until));
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error == 0) {
        rc = 0;
      } else {
        error = rc == 0 ? "connection timed out" : std::string(std::strerror(so_error != 0 ? so_error : errno));
        rc = -1;
      }
    } else if (rc != 0) {
      error = std::strerror(errno);
    }
    if (rc != 0) {
      ::close(fd);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    freeaddrinfo(found);
    const int number = exchange.open_connection(target.host + ":" + port);
    const auto [client_address, client_port] = socket_end(fd, false);
    const auto [server_address, server_port] = socket_end(fd, true);
    exchange.wire_opened(client_address, client_port, server_address, server_port,
                         target.shown_port != 0 ? target.shown_port : views::service_port(false, target.port));
    return std::unique_ptr<Connection>(new Connection(fd, number, exchange, timeout));
  }
  freeaddrinfo(found);
  error = "cannot connect to " + target.host + ":" + port + ": " + error;
  return nullptr;
}

Connection::Connection(int fd, int number, Exchange& exchange, Duration timeout)
    : fd_(fd), number_(number), exchange_(exchange), timeout_(timeout), cert_(std::make_unique<CertificateInfo>()) {}

Connection::~Connection() {
  if (fd_ < 0) return;
  exchange_.wire_closed(number_, true);
  ::close(fd_);
}

void Connection::close() {
  if (fd_ < 0) return;
  exchange_.wire_closed(number_, true);
  ::close(fd_);
  fd_ = -1;
  exchange_.event("client closed");
}

bool Connection::write_all(std::string_view bytes) {
  if (fd_ < 0) return false;
  const auto until = Clock::now() + timeout_;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, millis_until(until)) <= 0) {
        exchange_.event("write timed out");
        return false;
      }
      continue;
    }
    exchange_.event(std::string("write failed: ") + std::strerror(errno));
    return false;
  }
  return true;
}

bool Connection::send(std::string_view bytes) {
  if (tls_ && tls_->state() == TlsState::established) {
    tls_->write(bytes);
    exchange_.bytes(ExchangeEntry::Kind::client_inside_tls, bytes);
    std::string out;
    tls_->take_output(out);
    exchange_.bytes(ExchangeEntry::Kind::client_tls, out);
    return write_all(out);
  }
  exchange_.bytes(ExchangeEntry::Kind::client_bytes, bytes);
  return write_all(bytes);
}

void Connection::flush_tls() {
  if (!tls_ || !tls_->has_output()) return;
  std::string out;
  tls_->take_output(out);
  exchange_.bytes(ExchangeEntry::Kind::client_tls, out);
  write_all(out);
}

bool Connection::receive(Clock::time_point until) {
  if (fd_ < 0 || peer_closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  const int rc = ::poll(&p, 1, millis_until(until));
  if (rc <= 0) return false;
  char buf[65536];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    peer_closed_ = true;
    if (n == 0) {
      // After a 221 the close is the end of QUIT, not a sign of trouble.
      exchange_.event(last_code_ == 221 ? "closed after 221" : "server closed");
      exchange_.wire_closed(number_, false);
    } else {
      exchange_.event(std::string("connection lost: ") + std::strerror(errno));
      exchange_.wire_reset(number_, false);
    }
    return true;
  }
  if (n < 0) return true;
  const std::string_view data(buf, static_cast<std::size_t>(n));
  if (!tls_) {
    exchange_.bytes(ExchangeEntry::Kind::server_bytes, data);
    pending_.append(data);
    return true;
  }
  const bool handshaking = tls_->state() == TlsState::handshaking;
  if (handshaking && !server_tls_seen_ && !looks_like_tls_record(data)) {
    exchange_.bytes(ExchangeEntry::Kind::server_bytes, data);  // plaintext where TLS was due
    handshake_plaintext_.append(data);
  } else {
    server_tls_seen_ = true;
    exchange_.bytes(ExchangeEntry::Kind::server_tls, data);
  }
  tls_->feed(data);
  std::string plain;
  const TlsState before = tls_->state();
  const TlsState after = tls_->advance(plain);
  if (before == TlsState::handshaking && after == TlsState::established) exchange_.event("tls established " + tls_->version() + " " + tls_->cipher());
  if (after == TlsState::failed && before != TlsState::failed) exchange_.event("tls failed: " + tls_->error());
  exchange_.bytes(ExchangeEntry::Kind::server_inside_tls, plain);
  pending_ += plain;
  flush_tls();
  return true;
}

bool Connection::wait_for_input(Duration timeout) {
  if (!pending_.empty() || peer_closed_) return true;
  return receive(Clock::now() + timeout);
}

ReadResult Connection::read_reply() { return read_reply(timeout_); }

ReadResult Connection::read_reply(Duration timeout) {
  const auto until = Clock::now() + timeout;
  ReadResult r;
  for (;;) {
    if (!pending_.empty()) {
      std::string_view view(pending_);
      auto parsed = parser_.next(view);
      pending_.erase(0, pending_.size() - view.size());
      if (parsed) {
        if (auto* reply = std::get_if<Reply>(&*parsed)) {
          r.status = ReadStatus::reply;
          r.reply = std::move(*reply);
          last_code_ = r.reply.code;
          return r;
        }
        parser_.reset();
        r.status = ReadStatus::malformed;
        r.error = to_string(std::get<ReplyError>(*parsed));
        return r;
      }
    }
    if (tls_ && tls_->state() == TlsState::failed) {
      r.status = ReadStatus::tls_error;
      r.error = tls_->error();
      return r;
    }
    if (peer_closed_ || fd_ < 0 || (tls_ && tls_->state() == TlsState::closed)) {
      r.status = ReadStatus::closed;
      return r;
    }
    if (!receive(until)) {
      r.status = ReadStatus::timeout;
      exchange_.event("no complete reply within the timeout");
      return r;
    }
  }
}

std::vector<Reply> Connection::read_until_closed(ReadStatus& end) {
  std::vector<Reply> replies;
  for (;;) {
    ReadResult r = read_reply();
    if (!r.ok()) {
      end = r.status;
      return replies;
    }
    replies.push_back(std::move(r.reply));
    // 221 ends the session; some servers keep a TLS connection open after it, so do not wait.
    if (replies.back().code == 221) {
      end = ReadStatus::closed;
      return replies;
    }
  }
}

void Connection::discard_pending() {
  pending_.clear();
  parser_.reset();
}

HandshakeResult Connection::start_tls(std::string_view glued) {
  HandshakeResult result;
  auto context = TlsContext::client();
  if (!context) {
    result.error = context.error().message;
    return result;
  }
  tls_context_.emplace(std::move(*context));
  SSL_CTX_set_cert_verify_callback(tls_context_->native(), record_certificate, cert_.get());
  discard_pending();
  tls_.emplace(*tls_context_);
  tls_->set_key_log([&exchange = exchange_, number = number_](std::string_view line) { exchange.key_log(number, line); });
  std::string plain;
  tls_->advance(plain);
  std::string hello;
  tls_->take_output(hello);
  exchange_.bytes(ExchangeEntry::Kind::client_bytes, glued);
  exchange_.bytes(ExchangeEntry::Kind::client_tls, hello);
  if (!write_all(std::string(glued) + hello)) {
    result.status = HandshakeStatus::closed;
    return result;
  }
  const auto until = Clock::now() + timeout_;
  while (tls_->state() == TlsState::handshaking) {
    if (peer_closed_) {
      result.status = HandshakeStatus::closed;
      result.error = "the server closed the connection during the handshake";
      return result;
    }
    if (!receive(until)) {
      result.status = HandshakeStatus::timeout;
      result.error = "no handshake within the timeout";
      exchange_.event(result.error);
      return result;
    }
  }
  if (tls_->state() != TlsState::established) {
    result.status = HandshakeStatus::failed;
    result.error = tls_->error();
    return result;
  }
  result.status = HandshakeStatus::established;
  return result;
}

std::string Connection::tls_version() const { return tls_ ? tls_->version() : std::string(); }
std::string Connection::tls_cipher() const { return tls_ ? tls_->cipher() : std::string(); }

}  // namespace tlschan::audit

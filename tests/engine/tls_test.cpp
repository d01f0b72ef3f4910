// Tests of the TLS layer: contexts from PEM (and every way that can fail), sessions over memory BIOs
// pumped against each other in memory.
#include "tlschan/tls.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#ifndef TLSCHAN_TEST_CERTS
#error "TLSCHAN_TEST_CERTS must be the absolute path of corpus/certs"
#endif

namespace tlschan {
namespace {

const std::string kCerts = TLSCHAN_TEST_CERTS;
std::string cert_path(const std::string& name) { return kCerts + "/" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr std::int64_t k2030 = 1893456000;  // 2030-01-01T00:00:00Z, inside the certificates' validity
constexpr std::int64_t k2024 = 1717200000;  // 2024-06-01T00:00:00Z, before it

TlsContext server_context(const TlsOptions& options = {}) {
  auto ctx = TlsContext::server_from_files(cert_path("server.crt"), cert_path("server.key"), options);
  EXPECT_TRUE(ctx.has_value()) << (ctx ? "" : ctx.error().message);
  return std::move(ctx).value();
}

TlsContext client_context(const TlsOptions& options = {}) {
  auto ctx = TlsContext::client(options);
  EXPECT_TRUE(ctx.has_value()) << (ctx ? "" : ctx.error().message);
  return std::move(ctx).value();
}

std::string context_error(const Expected<TlsContext, TlsError>& result) {
  EXPECT_FALSE(result.has_value());
  // Errors are values: nothing may be left in OpenSSL's error queue for the next operation.
  EXPECT_EQ(ERR_peek_error(), 0UL);
  return result ? std::string() : result.error().message;
}

// Two sessions and what each has decrypted, with the wire between them in memory.
struct Link {
  TlsSession client;
  TlsSession server;
  std::string client_plain;
  std::string server_plain;
  std::string to_server_log;  // every byte the client sent
  std::string to_client_log;  // every byte the server sent

  Link(const TlsContext& c, const TlsContext& s) : client(c), server(s) {}

  // Advances both sides and moves bytes until neither has anything to say.
  void pump(int max_rounds = 50) {
    for (int i = 0; i < max_rounds; ++i) {
      client.advance(client_plain);
      std::string c2s;
      client.take_output(c2s);
      server.feed(c2s);
      to_server_log += c2s;
      server.advance(server_plain);
      std::string s2c;
      server.take_output(s2c);
      client.feed(s2c);
      to_client_log += s2c;
      if (c2s.empty() && s2c.empty()) return;
    }
    ADD_FAILURE() << "pump did not settle";
  }
};

// ---------------------------------------------------------------------------------------------
// Handshakes and data

TEST(Tls, Tls13HandshakeThenDataBothWays) {
  TlsContext client_ctx = client_context();
  TlsContext server_ctx = server_context();
  EXPECT_FALSE(client_ctx.is_server());
  EXPECT_TRUE(server_ctx.is_server());
  ASSERT_NE(client_ctx.native(), nullptr);

  Link link(client_ctx, server_ctx);
  EXPECT_EQ(link.client.state(), TlsState::handshaking);
  EXPECT_EQ(link.client.version(), "");
  EXPECT_EQ(link.client.cipher(), "");
  link.pump();
  ASSERT_EQ(link.client.state(), TlsState::established) << link.client.error();
  ASSERT_EQ(link.server.state(), TlsState::established) << link.server.error();
  EXPECT_EQ(link.client.version(), "TLSv1.3");
  EXPECT_EQ(link.server.version(), "TLSv1.3");
  EXPECT_EQ(link.client.cipher(), "TLS_AES_256_GCM_SHA384");  // OpenSSL's default first choice
  EXPECT_EQ(link.server.cipher(), link.client.cipher());
  EXPECT_TRUE(link.client.error().empty());
  EXPECT_TRUE(link.server.error().empty());
  EXPECT_FALSE(link.client.has_output());
  EXPECT_FALSE(link.server.has_output());

  link.client.write("EHLO client.tlschan.test\r\n");
  EXPECT_TRUE(link.client.has_output());
  link.pump();
  EXPECT_EQ(link.server_plain, "EHLO client.tlschan.test\r\n");

  link.server.write("250-mx.tlschan.test\r\n");
  link.server.write("250 SIZE 10240000\r\n");
  link.pump();
  EXPECT_EQ(link.client_plain, "250-mx.tlschan.test\r\n250 SIZE 10240000\r\n");

  // More than one record's worth (16 KiB) in one advance().
  std::string big;
  for (int i = 0; big.size() < 100000; ++i) big += "line " + std::to_string(i) + "\r\n";
  link.client.write(big);
  link.pump();
  EXPECT_EQ(link.server_plain, "EHLO client.tlschan.test\r\n" + big);
  EXPECT_EQ(link.client.state(), TlsState::established);
  EXPECT_EQ(link.server.state(), TlsState::established);
}

TEST(Tls, Tls12Handshake) {
  TlsOptions client_options;
  client_options.max_version = 0x0303;
  Link link(client_context(client_options), server_context());
  link.pump();
  ASSERT_EQ(link.client.state(), TlsState::established) << link.client.error();
  ASSERT_EQ(link.server.state(), TlsState::established) << link.server.error();
  EXPECT_EQ(link.client.version(), "TLSv1.2");
  EXPECT_EQ(link.server.version(), "TLSv1.2");
  EXPECT_EQ(link.client.cipher(), "ECDHE-ECDSA-AES256-GCM-SHA384");  // EC certificate, default list
  EXPECT_EQ(link.server.cipher(), link.client.cipher());

  link.client.write("QUIT\r\n");
  link.pump();
  EXPECT_EQ(link.server_plain, "QUIT\r\n");
  link.server.write("221 bye\r\n");
  link.pump();
  EXPECT_EQ(link.client_plain, "221 bye\r\n");
}

// The peer's last handshake flight and its first application data arrive in one segment: the same
// advance() that completes the handshake decrypts the data.
TEST(Tls, Tls13ServerReadsDataArrivingWithClientFinished) {
  Link link(client_context(), server_context());
  std::string bytes;
  link.client.advance(link.client_plain);  // ClientHello
  link.client.take_output(bytes);
  link.server.feed(bytes);
  EXPECT_EQ(link.server.advance(link.server_plain), TlsState::handshaking);
  bytes.clear();
  link.server.take_output(bytes);  // ServerHello ... Finished
  link.client.feed(bytes);
  ASSERT_EQ(link.client.advance(link.client_plain), TlsState::established) << link.client.error();
  link.client.write("EHLO client.tlschan.test\r\n");
  bytes.clear();
  link.client.take_output(bytes);  // client Finished, then the EHLO record
  link.server.feed(bytes);
  EXPECT_EQ(link.server.advance(link.server_plain), TlsState::established) << link.server.error();
  EXPECT_EQ(link.server_plain, "EHLO client.tlschan.test\r\n");
}

TEST(Tls, Tls12ClientReadsDataArrivingWithServerFinished) {
  TlsOptions client_options;
  client_options.max_version = 0x0303;
  Link link(client_context(client_options), server_context());
  std::string bytes;
  link.client.advance(link.client_plain);  // ClientHello
  link.client.take_output(bytes);
  link.server.feed(bytes);
  EXPECT_EQ(link.server.advance(link.server_plain), TlsState::handshaking);
  bytes.clear();
  link.server.take_output(bytes);  // ServerHello ... ServerHelloDone
  link.client.feed(bytes);
  EXPECT_EQ(link.client.advance(link.client_plain), TlsState::handshaking);
  bytes.clear();
  link.client.take_output(bytes);  // ClientKeyExchange, ChangeCipherSpec, Finished
  link.server.feed(bytes);
  ASSERT_EQ(link.server.advance(link.server_plain), TlsState::established) << link.server.error();
  link.server.write("220 mx.tlschan.test ESMTP\r\n");  // implicit TLS: the greeting comes first
  bytes.clear();
  link.server.take_output(bytes);  // ChangeCipherSpec, Finished, then the greeting record
  link.client.feed(bytes);
  EXPECT_EQ(link.client.advance(link.client_plain), TlsState::established) << link.client.error();
  EXPECT_EQ(link.client_plain, "220 mx.tlschan.test ESMTP\r\n");
}

TEST(Tls, HandshakeSurvivesOneByteSegments) {
  Link link(client_context(), server_context());
  for (int round = 0; round < 20; ++round) {
    link.client.advance(link.client_plain);
    std::string c2s;
    link.client.take_output(c2s);
    for (char b : c2s) {
      link.server.feed(std::string_view(&b, 1));
      link.server.advance(link.server_plain);
    }
    std::string s2c;
    link.server.take_output(s2c);
    for (char b : s2c) {
      link.client.feed(std::string_view(&b, 1));
      link.client.advance(link.client_plain);
    }
    if (c2s.empty() && s2c.empty()) break;
  }
  EXPECT_EQ(link.client.state(), TlsState::established) << link.client.error();
  EXPECT_EQ(link.server.state(), TlsState::established) << link.server.error();
}

TEST(Tls, WriteBeforeTheHandshakeIsIgnored) {
  Link link(client_context(), server_context());
  link.client.write("EHLO too-early\r\n");
  EXPECT_FALSE(link.client.has_output());
  link.pump();
  ASSERT_EQ(link.server.state(), TlsState::established);
  EXPECT_EQ(link.server_plain, "");
}

TEST(Tls, SessionOutlivesItsContext) {
  std::optional<TlsContext> client_ctx(client_context());
  std::optional<TlsContext> server_ctx(server_context());
  Link link(*client_ctx, *server_ctx);
  client_ctx.reset();
  server_ctx.reset();
  link.pump();
  EXPECT_EQ(link.client.state(), TlsState::established);
  EXPECT_EQ(link.server.state(), TlsState::established);
}

TEST(Tls, SessionsMove) {
  TlsContext client_ctx = client_context();
  TlsContext server_ctx = server_context();
  TlsSession client(client_ctx);
  TlsSession server(server_ctx);
  std::string plain;
  std::string bytes;
  client.advance(plain);
  client.take_output(bytes);

  TlsSession moved_server(std::move(server));  // mid-handshake
  moved_server.feed(bytes);
  moved_server.advance(plain);
  bytes.clear();
  moved_server.take_output(bytes);
  ASSERT_FALSE(bytes.empty());

  TlsSession moved_client(server_ctx);  // a session that is replaced (and freed) by assignment
  moved_client = std::move(client);
  moved_client.feed(bytes);
  EXPECT_EQ(moved_client.advance(plain), TlsState::established) << moved_client.error();
  bytes.clear();
  moved_client.take_output(bytes);
  moved_server.feed(bytes);
  EXPECT_EQ(moved_server.advance(plain), TlsState::established) << moved_server.error();

  // Moved-from sessions are inert, never a crash.
  for (TlsSession* gone : {&client, &server}) {
    EXPECT_EQ(gone->state(), TlsState::failed);
    gone->feed("junk");
    std::string out;
    EXPECT_EQ(gone->advance(out), TlsState::failed);
    gone->write("x");
    gone->shutdown();
    gone->take_output(out);
    EXPECT_EQ(out, "");
    EXPECT_FALSE(gone->has_output());
    EXPECT_EQ(gone->version(), "");
    EXPECT_EQ(gone->cipher(), "");
  }
  TlsSession& alias = moved_server;
  moved_server = std::move(alias);  // self-move keeps the session
  EXPECT_EQ(moved_server.state(), TlsState::established);
}

// ---------------------------------------------------------------------------------------------
// Context errors: a sentence naming the file or step, and OpenSSL's reason; never a crash.

TEST(TlsContextErrors, MissingCertificateFile) {
  auto missing = cert_path("no-such.crt");
  std::string e = context_error(TlsContext::server_from_files(missing, cert_path("server.key")));
  EXPECT_NE(e.find("certificate file " + missing), std::string::npos) << e;
  EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;
}

TEST(TlsContextErrors, MissingKeyFile) {
  auto missing = cert_path("no-such.key");
  std::string e = context_error(TlsContext::server_from_files(cert_path("server.crt"), missing));
  EXPECT_NE(e.find("key file " + missing), std::string::npos) << e;
  EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;
}

TEST(TlsContextErrors, DirectoryInsteadOfAFile) {
  std::string e = context_error(TlsContext::server_from_files(kCerts, cert_path("server.key")));
  EXPECT_NE(e.find("certificate file " + kCerts), std::string::npos) << e;
  EXPECT_NE(e.find("Is a directory"), std::string::npos) << e;

  e = context_error(TlsContext::server_from_files(cert_path("server.crt"), kCerts));
  EXPECT_NE(e.find("key file " + kCerts), std::string::npos) << e;
  EXPECT_NE(e.find("Is a directory"), std::string::npos) << e;
}

TEST(TlsContextErrors, GarbageInsteadOfPem) {
  std::string e =
      context_error(TlsContext::server_from_files(cert_path("not-pem.crt"), cert_path("server.key")));
  EXPECT_NE(e.find("certificate file " + cert_path("not-pem.crt")), std::string::npos) << e;
  EXPECT_NE(e.find("no PEM certificate"), std::string::npos) << e;
  EXPECT_NE(e.find("no start line"), std::string::npos) << e;  // OpenSSL's reason

  e = context_error(TlsContext::server_from_files(cert_path("server.crt"), cert_path("not-pem.crt")));
  EXPECT_NE(e.find("key file " + cert_path("not-pem.crt")), std::string::npos) << e;
  EXPECT_NE(e.find("no usable private key"), std::string::npos) << e;
  EXPECT_NE(e.find("OpenSSL: error:"), std::string::npos) << e;
}

TEST(TlsContextErrors, EmptyAndCorruptPem) {
  std::string e = context_error(TlsContext::server_from_pem("", slurp(cert_path("server.key"))));
  EXPECT_NE(e.find("the certificate PEM holds no PEM certificate"), std::string::npos) << e;

  // PEM armour around bytes that are not a certificate.
  std::string corrupt = "-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n";
  e = context_error(TlsContext::server_from_pem(corrupt, slurp(cert_path("server.key"))));
  EXPECT_NE(e.find("the certificate PEM holds no valid certificate"), std::string::npos) << e;
  EXPECT_NE(e.find("OpenSSL: error:"), std::string::npos) << e;

  // A valid certificate followed by a corrupt one: the chain is checked too.
  e = context_error(TlsContext::server_from_pem(slurp(cert_path("server.crt")) + corrupt,
                                                slurp(cert_path("server.key"))));
  EXPECT_NE(e.find("certificate 2 in the certificate PEM is not valid"), std::string::npos) << e;
}

TEST(TlsContextErrors, CertificateFileWithNoCertificate) {
  std::string e =
      context_error(TlsContext::server_from_files(cert_path("server.key"), cert_path("server.key")));
  EXPECT_NE(e.find("certificate file " + cert_path("server.key") + " holds no PEM certificate"),
            std::string::npos)
      << e;
}

TEST(TlsContextErrors, KeyFileWithNoKey) {
  std::string e = context_error(TlsContext::server_from_files(cert_path("server.crt"), cert_path("ca.crt")));
  EXPECT_NE(e.find("key file " + cert_path("ca.crt") + " holds no usable private key"), std::string::npos) << e;
}

TEST(TlsContextErrors, KeyDoesNotMatchCertificate) {
  std::string e =
      context_error(TlsContext::server_from_files(cert_path("server.crt"), cert_path("other.key")));
  EXPECT_NE(e.find("the private key in key file " + cert_path("other.key") +
                   " does not match the certificate in certificate file " + cert_path("server.crt")),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("key values mismatch"), std::string::npos) << e;  // OpenSSL's reason

  e = context_error(TlsContext::server_from_pem(slurp(cert_path("server.crt")), slurp(cert_path("ca.key"))));
  EXPECT_NE(e.find("does not match"), std::string::npos) << e;
}

TEST(TlsContextErrors, BadCiphersuites) {
  TlsOptions o;
  o.ciphersuites = "TLS_NOPE_SHA256";
  std::string e = context_error(TlsContext::server_from_files(cert_path("server.crt"), cert_path("server.key"), o));
  EXPECT_NE(e.find("TLS 1.3 ciphersuites"), std::string::npos) << e;
  EXPECT_NE(e.find("\"TLS_NOPE_SHA256\""), std::string::npos) << e;

  // One good name does not hide a bad one (OpenSSL itself skips unknown names silently).
  o.ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_BOGUS";
  e = context_error(TlsContext::client(o));
  EXPECT_NE(e.find("unknown or unavailable suite \"TLS_BOGUS\""), std::string::npos) << e;
}

TEST(TlsContextErrors, BadCipherListGroupsSigalgsVersions) {
  TlsOptions o;
  o.cipher_list = "NOT-A-CIPHER";
  std::string e = context_error(TlsContext::client(o));
  EXPECT_NE(e.find("TLS 1.2 cipher list \"NOT-A-CIPHER\""), std::string::npos) << e;
  EXPECT_NE(e.find("no cipher match"), std::string::npos) << e;

  o = {};
  o.groups = "X25519:no-such-group";
  e = context_error(TlsContext::server_from_files(cert_path("server.crt"), cert_path("server.key"), o));
  EXPECT_NE(e.find("groups list \"X25519:no-such-group\""), std::string::npos) << e;

  o = {};
  o.sigalgs = "bogus+sha999";
  e = context_error(TlsContext::client(o));
  EXPECT_NE(e.find("signature algorithms list \"bogus+sha999\""), std::string::npos) << e;

  o = {};
  o.min_version = 0x9999;
  e = context_error(TlsContext::client(o));
  EXPECT_NE(e.find("minimum TLS version"), std::string::npos) << e;

  o = {};
  o.max_version = 0x0200;
  e = context_error(TlsContext::client(o));
  EXPECT_NE(e.find("maximum TLS version"), std::string::npos) << e;
}

TEST(TlsContextErrors, VerificationWithoutAUsableCaFile) {
  TlsOptions o;
  o.verify_peer = true;
  std::string e = context_error(TlsContext::client(o));
  EXPECT_NE(e.find("no CA file"), std::string::npos) << e;

  o.ca_file = cert_path("no-such-ca.crt");
  e = context_error(TlsContext::client(o));
  EXPECT_NE(e.find("CA file " + o.ca_file), std::string::npos) << e;
  EXPECT_NE(e.find("OpenSSL: error:"), std::string::npos) << e;
}

// ---------------------------------------------------------------------------------------------
// Handshake failures

TEST(TlsFailures, NoSharedProtocolVersion) {
  TlsOptions server_options;
  server_options.max_version = 0x0303;
  TlsOptions client_options;
  client_options.min_version = 0x0304;
  Link link(client_context(client_options), server_context(server_options));

  std::string bytes;
  EXPECT_EQ(link.client.advance(link.client_plain), TlsState::handshaking);
  link.client.take_output(bytes);
  link.server.feed(bytes);
  EXPECT_EQ(link.server.advance(link.server_plain), TlsState::failed);
  EXPECT_EQ(link.server.state(), TlsState::failed);
  EXPECT_NE(link.server.error().find("TLS handshake failed"), std::string::npos) << link.server.error();
  EXPECT_NE(link.server.error().find("unsupported protocol"), std::string::npos) << link.server.error();
  EXPECT_EQ(ERR_peek_error(), 0UL);

  // The server's alert waits in its output: a 7-byte alert record (fatal, protocol_version).
  ASSERT_TRUE(link.server.has_output());
  bytes.clear();
  link.server.take_output(bytes);
  ASSERT_EQ(bytes.size(), 7u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 21);  // alert
  EXPECT_EQ(static_cast<unsigned char>(bytes[5]), 2);   // fatal
  EXPECT_EQ(static_cast<unsigned char>(bytes[6]), 70);  // protocol_version

  link.client.feed(bytes);
  EXPECT_EQ(link.client.advance(link.client_plain), TlsState::failed);
  EXPECT_NE(link.client.error().find("alert protocol version"), std::string::npos) << link.client.error();
  EXPECT_EQ(link.client.version(), "");
  EXPECT_EQ(link.client_plain, "");
  EXPECT_EQ(link.server_plain, "");
}

TEST(TlsFailures, GarbageToAServer) {
  TlsContext server_ctx = server_context();
  // Plaintext SMTP sent to a TLS port, and random-looking binary.
  for (std::string garbage : {std::string("EHLO client.tlschan.test\r\n"),
                              std::string("\x16\x03\x01\x00\x05\x01\x00\x00\xff\xff", 10),
                              std::string(1000, '\x17'), std::string(1, '\0') + std::string(4, '\xff')}) {
    TlsSession server(server_ctx);
    server.feed(garbage);
    std::string plain;
    // Feed it twice over in case the first bytes alone look like an incomplete record.
    server.advance(plain);
    server.feed(garbage);
    server.feed(std::string(64, '\x42'));
    EXPECT_EQ(server.advance(plain), TlsState::failed) << garbage.size();
    EXPECT_NE(server.error().find("TLS handshake failed (OpenSSL: "), std::string::npos) << server.error();
    EXPECT_EQ(plain, "");
    EXPECT_EQ(ERR_peek_error(), 0UL);
    // A failed session stays failed and inert.
    server.feed("more");
    server.write("250 never\r\n");
    server.shutdown();
    EXPECT_EQ(server.advance(plain), TlsState::failed);
  }
}

TEST(TlsFailures, GarbageToAClientAfterItsHello) {
  Link link(client_context(), server_context());
  link.client.advance(link.client_plain);
  std::string hello;
  link.client.take_output(hello);
  link.client.feed("220 mx.tlschan.test ESMTP not TLS at all\r\n");
  EXPECT_EQ(link.client.advance(link.client_plain), TlsState::failed);
  EXPECT_FALSE(link.client.error().empty());
}

TEST(TlsFailures, GarbageAfterTheHandshake) {
  Link link(client_context(), server_context());
  link.pump();
  ASSERT_EQ(link.server.state(), TlsState::established);
  link.server.feed(std::string("\x17\x03\x03\x00\x20", 5) + std::string(32, 'x'));  // a forged record
  EXPECT_EQ(link.server.advance(link.server_plain), TlsState::failed);
  EXPECT_NE(link.server.error().find("TLS connection failed"), std::string::npos) << link.server.error();
  EXPECT_TRUE(link.server.has_output());  // bad_record_mac alert for the client
  link.pump();
  EXPECT_EQ(link.client.state(), TlsState::failed);
  EXPECT_NE(link.client.error().find("alert bad record mac"), std::string::npos) << link.client.error();
}

TEST(TlsFailures, CloseNotifyDuringTheHandshakeIsAFailure) {
  Link link(client_context(), server_context());
  link.client.advance(link.client_plain);
  std::string bytes;
  link.client.take_output(bytes);
  link.server.feed(bytes);
  link.server.advance(link.server_plain);
  // An unencrypted close_notify alert (warning, 0) where the server's flight should be.
  link.client.feed(std::string("\x15\x03\x03\x00\x02\x01\x00", 7));
  EXPECT_EQ(link.client.advance(link.client_plain), TlsState::failed);
  EXPECT_FALSE(link.client.error().empty());
}

// ---------------------------------------------------------------------------------------------
// Shutdown

TEST(Tls, CloseNotifyClosesThePeer) {
  Link link(client_context(), server_context());
  link.pump();
  ASSERT_EQ(link.client.state(), TlsState::established);
  link.client.write("QUIT\r\n");
  link.client.shutdown();
  link.client.shutdown();  // once only
  link.client.write("after close_notify\r\n");  // ignored
  std::string bytes;
  link.client.take_output(bytes);
  link.server.feed(bytes);
  // Data sent before close_notify is delivered in the same advance() that sees the close.
  EXPECT_EQ(link.server.advance(link.server_plain), TlsState::closed);
  EXPECT_EQ(link.server_plain, "QUIT\r\n");
  EXPECT_TRUE(link.server.error().empty());
  EXPECT_EQ(link.server.version(), "TLSv1.3");
  EXPECT_EQ(link.client.state(), TlsState::established);

  // The server answers with its own close_notify; the client is then closed too.
  link.server.shutdown();
  bytes.clear();
  link.server.take_output(bytes);
  ASSERT_FALSE(bytes.empty());
  link.client.feed(bytes);
  EXPECT_EQ(link.client.advance(link.client_plain), TlsState::closed);
  EXPECT_EQ(link.client_plain, "");
  EXPECT_EQ(link.server.advance(link.server_plain), TlsState::closed);
}

TEST(Tls, ShutdownBeforeTheHandshakeDoesNothing) {
  TlsContext client_ctx = client_context();
  TlsSession client(client_ctx);
  client.shutdown();
  EXPECT_FALSE(client.has_output());
  EXPECT_EQ(client.state(), TlsState::handshaking);
}

// ---------------------------------------------------------------------------------------------
// Pinned options

// The ServerHello's cipher suite and key_share group, read from the server's first flight.
struct ServerHello {
  int cipher_suite = -1;
  int group = -1;
};

ServerHello parse_server_hello(const std::string& flight) {
  auto u8 = [&](std::size_t i) -> int { return i < flight.size() ? static_cast<unsigned char>(flight[i]) : -1; };
  auto u16 = [&](std::size_t i) { return u8(i) * 256 + u8(i + 1); };
  ServerHello hello;
  if (u8(0) != 22 || u8(5) != 2) return hello;  // handshake record, ServerHello
  std::size_t p = 5 + 4 + 2 + 32;               // record and handshake headers, version, random
  p += 1 + static_cast<std::size_t>(u8(p));     // session id
  hello.cipher_suite = u16(p);
  p += 2 + 1;                                   // cipher suite, compression
  std::size_t end = p + 2 + static_cast<std::size_t>(u16(p));
  for (p += 2; p + 4 <= end && p + 4 <= flight.size();) {
    int type = u16(p);
    std::size_t len = static_cast<std::size_t>(u16(p + 2));
    if (type == 0x0033) hello.group = u16(p + 4);  // key_share: group first
    p += 4 + len;
  }
  return hello;
}

TEST(TlsOptionsPinned, CiphersuiteAndGroupAreNegotiated) {
  TlsOptions pinned;
  pinned.ciphersuites = "TLS_AES_128_GCM_SHA256";
  pinned.groups = "X25519";
  pinned.verify_time = k2030;
  TlsOptions client_options;  // the client offers OpenSSL's defaults; the server's pin decides
  Link link(client_context(client_options), server_context(pinned));
  link.pump();
  ASSERT_EQ(link.client.state(), TlsState::established) << link.client.error();
  EXPECT_EQ(link.client.cipher(), "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(link.server.cipher(), "TLS_AES_128_GCM_SHA256");
  ServerHello hello = parse_server_hello(link.to_client_log);
  EXPECT_EQ(hello.cipher_suite, 0x1301);  // TLS_AES_128_GCM_SHA256
  EXPECT_EQ(hello.group, 0x001d);         // x25519

  // Pinned on both sides, the same.
  Link both(client_context(pinned), server_context(pinned));
  both.pump();
  ASSERT_EQ(both.client.state(), TlsState::established) << both.client.error();
  EXPECT_EQ(both.client.cipher(), "TLS_AES_128_GCM_SHA256");
  hello = parse_server_hello(both.to_client_log);
  EXPECT_EQ(hello.cipher_suite, 0x1301);
  EXPECT_EQ(hello.group, 0x001d);
}

TEST(TlsOptionsPinned, DisjointPinsFailTheHandshake) {
  TlsOptions server_options;
  server_options.groups = "X25519";
  TlsOptions client_options;
  client_options.groups = "P-256";
  Link groups(client_context(client_options), server_context(server_options));
  groups.pump();
  EXPECT_EQ(groups.server.state(), TlsState::failed);
  EXPECT_EQ(groups.client.state(), TlsState::failed);
  EXPECT_NE(groups.server.error().find("no suitable key share"), std::string::npos) << groups.server.error();

  server_options = {};
  server_options.ciphersuites = "TLS_AES_128_GCM_SHA256";
  client_options = {};
  client_options.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
  client_options.min_version = 0x0304;
  Link suites(client_context(client_options), server_context(server_options));
  suites.pump();
  EXPECT_EQ(suites.server.state(), TlsState::failed);
  EXPECT_EQ(suites.client.state(), TlsState::failed);
  EXPECT_NE(suites.server.error().find("no shared cipher"), std::string::npos) << suites.server.error();
  EXPECT_NE(suites.client.error().find("alert handshake failure"), std::string::npos) << suites.client.error();
}

// ---------------------------------------------------------------------------------------------
// Chains and verification

std::string der_of_first_certificate(const std::string& path) {
  std::string pem = slurp(path);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  std::string der;
  if (x != nullptr) {
    unsigned char* buf = nullptr;
    int n = i2d_X509(x, &buf);
    if (n > 0) der.assign(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
    OPENSSL_free(buf);
    X509_free(x);
  }
  return der;
}

TEST(TlsChain, ServerFromPemWithTheChainFile) {
  auto chain_ctx = TlsContext::server_from_pem(slurp(cert_path("server-chain.crt")), slurp(cert_path("server.key")));
  ASSERT_TRUE(chain_ctx.has_value()) << chain_ctx.error().message;
  EXPECT_TRUE(chain_ctx->is_server());

  // TLS 1.2 sends the Certificate message in the clear: the CA certificate rides along in the chain.
  std::string ca_der = der_of_first_certificate(cert_path("ca.crt"));
  std::string server_der = der_of_first_certificate(cert_path("server.crt"));
  ASSERT_FALSE(ca_der.empty());
  TlsOptions tls12;
  tls12.max_version = 0x0303;
  Link link(client_context(tls12), *chain_ctx);
  link.pump();
  ASSERT_EQ(link.client.state(), TlsState::established) << link.client.error();
  EXPECT_NE(link.to_client_log.find(server_der), std::string::npos);
  EXPECT_NE(link.to_client_log.find(ca_der), std::string::npos);

  // Without the chain file, only the server certificate is sent.
  Link plain(client_context(tls12), server_context());
  plain.pump();
  ASSERT_EQ(plain.client.state(), TlsState::established) << plain.client.error();
  EXPECT_NE(plain.to_client_log.find(server_der), std::string::npos);
  EXPECT_EQ(plain.to_client_log.find(ca_der), std::string::npos);

  // And over TLS 1.3 with a verifying client.
  TlsOptions verifying;
  verifying.verify_peer = true;
  verifying.ca_file = cert_path("ca.crt");
  verifying.verify_time = k2030;
  Link verified(client_context(verifying), *chain_ctx);
  verified.pump();
  EXPECT_EQ(verified.client.state(), TlsState::established) << verified.client.error();
  EXPECT_EQ(verified.client.version(), "TLSv1.3");
}

TEST(TlsChain, VerificationUsesThePinnedTime) {
  TlsOptions verifying;
  verifying.verify_peer = true;
  verifying.ca_file = cert_path("ca.crt");
  verifying.verify_time = k2030;
  Link ok(client_context(verifying), server_context());
  ok.pump();
  EXPECT_EQ(ok.client.state(), TlsState::established) << ok.client.error();

  verifying.verify_time = k2024;  // before notBefore (2025-01-01)
  Link early(client_context(verifying), server_context());
  early.pump();
  EXPECT_EQ(early.client.state(), TlsState::failed);
  EXPECT_NE(early.client.error().find("certificate verify failed"), std::string::npos) << early.client.error();
  EXPECT_NE(early.client.error().find("certificate is not yet valid"), std::string::npos) << early.client.error();
  // The client's alert reaches the server.
  EXPECT_EQ(early.server.state(), TlsState::failed);
  EXPECT_NE(early.server.error().find("alert"), std::string::npos) << early.server.error();

  // A CA that did not sign the server certificate (the server certificate itself is no CA).
  verifying.verify_time = k2030;
  verifying.ca_file = cert_path("server.crt");
  Link wrong(client_context(verifying), server_context());
  wrong.pump();
  EXPECT_EQ(wrong.client.state(), TlsState::failed);
  EXPECT_NE(wrong.client.error().find("certificate verify failed"), std::string::npos) << wrong.client.error();
}

TEST(TlsChain, ContextsFromFilesAndFromPemAgree) {
  auto from_pem = TlsContext::server_from_pem(slurp(cert_path("server.crt")), slurp(cert_path("server.key")));
  ASSERT_TRUE(from_pem.has_value()) << from_pem.error().message;
  auto from_files = TlsContext::server_from_files(cert_path("server-chain.crt"), cert_path("server.key"));
  ASSERT_TRUE(from_files.has_value()) << from_files.error().message;
  for (const TlsContext* server_ctx : {&*from_pem, &*from_files}) {
    Link link(client_context(), *server_ctx);
    link.pump();
    EXPECT_EQ(link.client.state(), TlsState::established) << link.client.error();
  }
}

}  // namespace
}  // namespace tlschan

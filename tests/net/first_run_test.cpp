// The pieces of `tlschan serve` started with no files: the throw-away certificate made in memory,
// and a listener that takes a free port when its own cannot be bound.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <ostream>
#include <string>

#include "tlschan/net/server.hpp"
#include "tlschan/net/throwaway_cert.hpp"

namespace tlschan::net {
namespace {

std::unique_ptr<X509, decltype(&X509_free)> parse_cert(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                 &BIO_free);
  return {PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free};
}

TEST(ThrowawayCertificate, SelfSignedForTheName_LoadsAsAServerContext) {
  const auto made = make_throwaway_certificate("mx.tlschan.test");
  ASSERT_TRUE(made.has_value()) << made.error().message;
  EXPECT_NE(made->cert_pem.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(made->key_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  EXPECT_EQ(made->fingerprint.size(), 32u * 3 - 1);  // 32 octets as "AB:CD:..."

  const auto cert = parse_cert(made->cert_pem);
  ASSERT_NE(cert, nullptr);
  char cn[256] = {};
  ASSERT_GT(X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn), 0);
  EXPECT_STREQ(cn, "mx.tlschan.test");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(cert.get())), 1) << "signed by its own key";
  EXPECT_EQ(X509_check_host(cert.get(), "mx.tlschan.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_cmp_current_time(X509_get0_notBefore(cert.get())), -1) << "valid already";
  EXPECT_EQ(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 1) << "not expired";

  const auto ctx = TlsContext::server_from_pem(made->cert_pem, made->key_pem);
  EXPECT_TRUE(ctx.has_value()) << (ctx ? "" : ctx.error().message);
}

TEST(ThrowawayCertificate, EveryCallMakesANewKey) {
  const auto a = make_throwaway_certificate("localhost");
  const auto b = make_throwaway_certificate("localhost");
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(a->key_pem, b->key_pem);
  EXPECT_NE(a->fingerprint, b->fingerprint);
}

struct ListenerFixture {
  boost::asio::io_context io{1};
  std::ostream no_log{nullptr};
  Server server{io, [](const MessageAccepted&) -> Expected<std::string, SpoolError> { return std::string("1"); },
                ServerOptions{}, no_log};

  static Listener listener_on(unsigned short port) {
    Listener l;
    l.endpoint = boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), port);
    l.session.hostname = "mx.tlschan.test";
    l.session.channel = "tcp_local";
    l.service = "SMTP";
    return l;
  }
};

TEST(ListenerOrFreePort, PortTaken_BindsAFreePortAndSaysWhy) {
  ListenerFixture f;
  // Another listener holds a port (its number is the kernel's choice, so no fixed port is used).
  boost::asio::ip::tcp::acceptor holder(f.io, {boost::asio::ip::address_v4::loopback(), 0});
  const unsigned short taken = holder.local_endpoint().port();
  std::string why;
  const auto bound = f.server.add_listener_or_free_port(ListenerFixture::listener_on(taken), why);
  ASSERT_TRUE(bound.has_value()) << bound.error();
  EXPECT_NE(bound->port(), taken);
  EXPECT_NE(bound->port(), 0);
  EXPECT_TRUE(bound->address().is_loopback());
  EXPECT_NE(why.find(std::to_string(taken)), std::string::npos) << why;
  // Without the fallback the same port is an error.
  const auto plain = f.server.add_listener(ListenerFixture::listener_on(taken));
  EXPECT_FALSE(plain.has_value());
}

TEST(ListenerOrFreePort, PortFree_BindsThatPort) {
  ListenerFixture f;
  unsigned short port = 0;
  {
    boost::asio::ip::tcp::acceptor probe(f.io, {boost::asio::ip::address_v4::loopback(), 0});
    port = probe.local_endpoint().port();
  }
  std::string why = "stale";
  const auto bound = f.server.add_listener_or_free_port(ListenerFixture::listener_on(port), why);
  ASSERT_TRUE(bound.has_value()) << bound.error();
  EXPECT_EQ(bound->port(), port);
  EXPECT_EQ(why, "");
}

}  // namespace
}  // namespace tlschan::net

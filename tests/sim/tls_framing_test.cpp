// TlsSession calls OpenSSL again, once OpenSSL has asked for input, only when a record's header or a
// whole record has arrived. Checked here against OpenSSL itself: a session fed a flight one octet at
// a time must look, after every octet, exactly like a fresh session fed the same prefix at once
// (same state, same output so far). With the seeded RAND provider both make the same ClientHello, so
// the server's real flight fits every one of them.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tlschan/sim/deterministic_tls.hpp"
#include "tlschan/tls.hpp"

namespace tlschan::sim {
namespace {

constexpr std::uint64_t seed = 7;

struct Contexts {
  TlsContext server, client;
};

const Contexts& contexts() {
  static const Contexts c = [] {
    std::string err;
    EXPECT_TRUE(install_deterministic_rand(&err)) << err;
    const TlsOptions o = pinned_tls_options();
    auto server = TlsContext::server_from_files(TLSCHAN_TEST_CERTS "/server.crt", TLSCHAN_TEST_CERTS "/server.key", o);
    auto client = TlsContext::client(o);
    EXPECT_TRUE(server && client);
    return Contexts{std::move(*server), std::move(*client)};
  }();
  return c;
}

struct Look {
  TlsState state;
  std::size_t output;  // octets it has put out so far, beyond what it had when the flight began
  std::string plaintext;
  bool operator==(const Look&) const = default;
};

// A client that has sent its ClientHello (the same one every time: the generator is re-seeded), or a
// fresh server.
TlsSession started(bool server) {
  const Contexts& c = contexts();  // made first: making them draws from the generator
  seed_deterministic_rand(seed);
  TlsSession s(server ? c.server : c.client);
  std::string plain, out;
  s.advance(plain);
  s.take_output(out);
  return s;
}

Look at_once(bool server, std::string_view prefix) {
  TlsSession s = started(server);
  std::string plain, out;
  s.feed(prefix);
  s.advance(plain);
  s.take_output(out);
  return {s.state(), out.size(), plain};
}

// Feeds `flight` one octet at a time; checks the look after every octet against at_once. Returns
// how many times the session read through OpenSSL.
std::uint64_t check_octet_by_octet(bool server, const std::string& flight) {
  TlsSession s = started(server);
  const std::uint64_t reads_before = s.openssl_reads();
  std::vector<Look> looks;
  std::string plain, out;
  for (const char c : flight) {
    s.feed(std::string_view(&c, 1));
    s.advance(plain);
    s.take_output(out);
    looks.push_back({s.state(), out.size(), plain});
  }
  const std::uint64_t reads = s.openssl_reads() - reads_before;
  for (std::size_t k = 1; k <= flight.size(); ++k) {
    const Look fresh = at_once(server, std::string_view(flight).substr(0, k));
    EXPECT_EQ(looks[k - 1], fresh) << (server ? "server" : "client") << " after octet " << k << " of "
                                   << flight.size() << ": state " << static_cast<int>(looks[k - 1].state)
                                   << " output " << looks[k - 1].output << ", fed at once: state "
                                   << static_cast<int>(fresh.state) << " output " << fresh.output;
    if (looks[k - 1] != fresh) break;
  }
  return reads;
}

// The ClientHello and the server's whole answer to it, with application data after it.
struct Flights {
  std::string client_hello, server_flight;
};

Flights real_flights() {
  const Contexts& c = contexts();
  seed_deterministic_rand(seed);
  TlsSession client(c.client);
  std::string plain, hello;
  client.advance(plain);
  client.take_output(hello);
  TlsSession server(c.server);
  server.feed(hello);
  server.advance(plain);
  std::string flight;
  server.take_output(flight);
  EXPECT_EQ(server.state(), TlsState::handshaking);  // waits for the client's Finished
  return {hello, flight};
}

TEST(TlsFraming, ClientOctetByOctetActsAsWhenFedAtOnce) {
  const Flights f = real_flights();
  ASSERT_GT(f.server_flight.size(), 500u);
  const std::uint64_t reads = check_octet_by_octet(false, f.server_flight);
  EXPECT_EQ(at_once(false, f.server_flight).state, TlsState::established);
  // Two reads a record at most (the flight has a handful of records), not one per octet.
  EXPECT_LT(reads, 40u) << "of " << f.server_flight.size() << " octets";
}

TEST(TlsFraming, ServerOctetByOctetActsAsWhenFedAtOnce) {
  const Flights f = real_flights();
  const std::uint64_t reads = check_octet_by_octet(true, f.client_hello);
  EXPECT_GT(at_once(true, f.client_hello).output, 500u);  // it answered with its flight
  EXPECT_LT(reads, 6u) << "of " << f.client_hello.size() << " octets";
}

TEST(TlsFraming, NotTlsFailsAtTheSameOctetAsFedAtOnce) {
  // Plaintext where TLS is due: OpenSSL rejects the first header it reads (after 5 octets); the
  // framing also stops at an unusual header and leaves every call to OpenSSL.
  check_octet_by_octet(true, "EHLO mx.tlschan.test\r\n");
  check_octet_by_octet(false, "220 mx.tlschan.test ESMTP\r\n");
  // A plausible header and then garbage in the record.
  check_octet_by_octet(true, std::string("\x16\x03\x01\x00\x10", 5) + "0123456789abcdef" + "EHLO\r\n");
  EXPECT_EQ(at_once(true, "EHLO mx.tlschan.test\r\n").state, TlsState::failed);
}

}  // namespace
}  // namespace tlschan::sim

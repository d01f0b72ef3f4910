// Uses the installed tlschan engine: a must client delivers one message to a may server over
// STARTTLS, both sessions in memory, with a certificate made on the spot.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <iostream>
#include <memory>
#include <string>

#include "tlschan/loopback.hpp"

namespace {

// A throwaway self-signed certificate and key, as PEM.
std::pair<std::string, std::string> make_certificate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("mx.example"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  auto to_pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return pem;
  };
  std::string cert_pem = to_pem([&](BIO* b) { PEM_write_bio_X509(b, cert); });
  std::string key_pem = to_pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(cert);
  EVP_PKEY_free(key);
  return {cert_pem, key_pem};
}

}  // namespace

int main() {
  using namespace tlschan;
  const auto [cert, key] = make_certificate();
  auto server_tls = TlsContext::server_from_pem(cert, key);
  auto client_tls = TlsContext::client();
  if (!server_tls || !client_tls) {
    std::cerr << "TLS setup failed\n";
    return 1;
  }

  ServerConfig server;
  server.hostname = "mx.example";
  server.channel = "tcp_local";
  server.policy = Policy::may;
  server.switch_target = "tcp_tls";
  server.tls = *server_tls;

  ClientConfig client;
  client.policy = Policy::must;
  client.tls = *client_tls;
  OutgoingMessage message{{"alice@example.org", {"bob@example"}}, "Subject: hi\r\n\r\nHello.\r\n"};

  auto session = ClientSession::create(client, message, Time{});
  if (!session) {
    std::cerr << session.error().message << "\n";
    return 1;
  }
  const LoopbackResult r = run_loopback(*session, [&](Time now) { return ServerSession(server, now); });

  for (const auto& o : r.outcomes) {
    std::cout << o.recipient << ": " << to_string(o.disposition) << (o.tls ? " over TLS" : "") << "\n";
  }
  for (const auto& m : r.accepted) {
    std::cout << "server stored message " << m.id << " from <" << m.envelope.mail_from << "> on channel "
              << m.channel << " (" << m.tls_version << ", " << m.cipher << ")\n";
  }
  const bool ok = r.disposition == Disposition::delivered && r.accepted.size() == 1 &&
                  r.accepted[0].channel == "tcp_tls" && r.accepted[0].tls;
  return ok ? 0 : 1;
}

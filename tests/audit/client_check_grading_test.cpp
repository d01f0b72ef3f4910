// client-check's grading, case by case, on facts made by hand: each verdict flips when the fact that
// decides it does; and the certificates made in memory have the faults their cases promise.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "tlschan/audit/client_check.hpp"
#include "tlschan/net/throwaway_cert.hpp"
#include "tlschan/tls.hpp"

using namespace tlschan;
using namespace tlschan::audit;

namespace {

const CaseSpec& spec(const std::string& name) {
  const auto& all = all_cases();
  return *std::find_if(all.begin(), all.end(), [&](const CaseSpec& c) { return c.name == name; });
}

Verdict grade(const std::string& name, const CaseFacts& f, Policy p, bool verified = false) {
  return spec(name).grade(f, GradeContext{p, verified}).verdict;
}

CaseFacts one(ConnectionFacts c) {
  c.number = 1;
  return CaseFacts{{c}};
}

}  // namespace

TEST(ClientCheckGrading, CasesInOrderWithStableNames) {
  std::vector<std::string> names;
  for (const auto& c : all_cases()) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"no-starttls", "ehlo-refused", "starttls-454", "starttls-502",
                                             "starttls-odd-reply", "handshake-broken", "handshake-eof",
                                             "response-injection", "starttls-relisted", "cert-self-signed",
                                             "cert-expired", "cert-wrong-name", "clean"}));
  EXPECT_EQ(unknown_case_names({"clean", "nope"}), std::vector<std::string>{"nope"});
  EXPECT_STREQ(to_string(Verdict::not_run), "NOT RUN");
}

TEST(ClientCheckGrading, PlaintextMailAfterRefusalFailsOnlyUnderMust) {
  ConnectionFacts c;
  c.starttls = "STARTTLS";
  c.plain_mail = "MAIL FROM:<a@x>";
  c.plain_after_refusal = c.plain_mail;
  for (const char* name : {"starttls-454", "starttls-502", "no-starttls", "ehlo-refused"}) {
    EXPECT_EQ(grade(name, one(c), Policy::must), Verdict::fail) << name;
    EXPECT_EQ(grade(name, one(c), Policy::may), Verdict::pass) << name;
    EXPECT_EQ(spec(name).grade(one(c), {Policy::must, false}).decided_by, "MAIL FROM:<a@x>");
  }
  EXPECT_EQ(grade("starttls-454", one(c), Policy::no), Verdict::fail);  // a no client sent STARTTLS
  ConnectionFacts quit;
  quit.starttls = "STARTTLS";
  quit.plain_after_refusal = "QUIT";
  EXPECT_EQ(grade("starttls-454", one(quit), Policy::must), Verdict::pass);
}

TEST(ClientCheckGrading, OddReply) {
  ConnectionFacts c;
  c.starttls = "STARTTLS";
  EXPECT_EQ(grade("starttls-odd-reply", one(c), Policy::may), Verdict::pass);
  c.tls_record_after_odd = "\x16\x03\x01";
  EXPECT_EQ(grade("starttls-odd-reply", one(c), Policy::may), Verdict::fail);
  c.tls_record_after_odd.clear();
  c.plain_mail = "MAIL FROM:<a@x>";
  EXPECT_EQ(grade("starttls-odd-reply", one(c), Policy::may), Verdict::fail);
}

TEST(ClientCheckGrading, FailedHandshakeAndFallback) {
  ConnectionFacts c;
  c.starttls = "STARTTLS";
  c.handshake_failed = true;
  ConnectionFacts retry;
  retry.number = 2;
  retry.fallback = true;
  retry.plain_mail = "MAIL FROM:<a@x>";
  CaseFacts facts{{c, retry}};
  for (const char* name : {"handshake-broken", "handshake-eof"}) {
    EXPECT_TRUE(spec(name).fallback_possible(one(c))) << name;
    EXPECT_EQ(grade(name, facts, Policy::may), Verdict::pass) << name;
    EXPECT_EQ(grade(name, facts, Policy::must), Verdict::fail) << name;  // plaintext MAIL on the retry
    EXPECT_EQ(grade(name, one(c), Policy::must), Verdict::pass) << name;
    ConnectionFacts same = c;
    same.plain_after_failure = "MAIL FROM:<a@x>";
    EXPECT_EQ(grade(name, one(same), Policy::may), Verdict::fail) << name;
  }
  EXPECT_FALSE(spec("clean").fallback_possible(one(ConnectionFacts{})));
}

TEST(ClientCheckGrading, InjectionRelistedCertificatesClean) {
  ConnectionFacts c;
  c.starttls = "STARTTLS";
  c.tls_established = true;
  c.first_tls_command = "EHLO x";
  c.tls_mail = "MAIL FROM:<a@x>";
  EXPECT_EQ(grade("response-injection", one(c), Policy::must), Verdict::pass);
  ConnectionFacts early = c;
  early.out_of_step = "MAIL FROM:<a@x>";
  EXPECT_EQ(grade("response-injection", one(early), Policy::must), Verdict::fail);
  ConnectionFacts mail_first = c;
  mail_first.first_tls_command = "MAIL FROM:<a@x>";
  EXPECT_EQ(grade("response-injection", one(mail_first), Policy::may), Verdict::fail);

  EXPECT_EQ(grade("starttls-relisted", one(c), Policy::may), Verdict::pass);
  ConnectionFacts again = c;
  again.second_starttls = "STARTTLS";
  EXPECT_EQ(grade("starttls-relisted", one(again), Policy::may), Verdict::fail);

  for (const char* name : {"cert-self-signed", "cert-expired", "cert-wrong-name"}) {
    EXPECT_EQ(grade(name, one(c), Policy::may), Verdict::info) << name;
    EXPECT_EQ(grade(name, one(c), Policy::may, true), Verdict::fail) << name;
    ConnectionFacts refused;
    refused.starttls = "STARTTLS";
    refused.handshake_failed = true;
    EXPECT_EQ(grade(name, one(refused), Policy::may, true), Verdict::pass) << name;
  }

  EXPECT_EQ(grade("clean", one(c), Policy::must), Verdict::pass);
  ConnectionFacts plain;
  plain.plain_mail = "MAIL FROM:<a@x>";
  EXPECT_EQ(grade("clean", one(plain), Policy::may), Verdict::fail);
  EXPECT_EQ(grade("clean", one(plain), Policy::no), Verdict::pass);
}

TEST(ClientCheckCertificates, ExpiredOrNotAndNamed) {
  for (const bool expired : {false, true}) {
    auto pem = net::make_throwaway_certificate("name.tlschan.invalid", {.expired = expired, .loopback_names = false});
    ASSERT_TRUE(pem) << pem.error().message;
    BIO* bio = BIO_new_mem_buf(pem->cert_pem.data(), static_cast<int>(pem->cert_pem.size()));
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    ASSERT_NE(cert, nullptr);
    EXPECT_EQ(X509_cmp_current_time(X509_get0_notAfter(cert)) < 0, expired);
    EXPECT_EQ(X509_check_host(cert, "name.tlschan.invalid", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_host(cert, "other.tlschan.invalid", 0, 0, nullptr), 0);
    X509_free(cert);
    EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 0);
    EXPECT_TRUE(TlsContext::server_from_pem(pem->cert_pem, pem->key_pem));
  }
}

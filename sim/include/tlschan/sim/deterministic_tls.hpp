// Deterministic OpenSSL for the simulator and the fuzzers: a RAND provider fed from a per-thread
// generator seeded for every run, the system openssl.cnf not loaded, and TLS parameters pinned, so
// that the same seed gives byte-identical handshakes.
#pragma once

#include <cstdint>
#include <string>

#include "tlschan/tls.hpp"

namespace tlschan::sim {

// Installs the seeded RAND provider as OpenSSL's DRBG in the default library context, once per
// process, before any SSL_CTX exists. Returns false (with the reason in `error`) if OpenSSL
// refused or if its DRBG was already in use.
bool install_deterministic_rand(std::string* error = nullptr);

// Re-seeds the calling thread's generator: call at the start of every run.
void seed_deterministic_rand(std::uint64_t seed);

// Bytes drawn from the calling thread's generator since its last seeding (to check determinism).
std::uint64_t deterministic_rand_draws();

// Protocol versions, groups, signature algorithms and ciphers pinned; the certificate time pinned.
TlsOptions pinned_tls_options();

}  // namespace tlschan::sim

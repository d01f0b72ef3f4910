#include "fuzz_environment.hpp"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>

#include "fuzz_check.hpp"
#include "tlschan/matrix/explore.hpp"
#include "tlschan/sim/deterministic_tls.hpp"

#include <openssl/crypto.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TLSCHAN_FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(TLSCHAN_FUZZ_ASAN)
#define TLSCHAN_FUZZ_ASAN 1
#endif

// Only in a build linked with a fuzzing engine (TLSCHAN_FUZZ_WITH_ENGINE, set by fuzz/CMakeLists.txt).
#if defined(TLSCHAN_FUZZ_ASAN) && defined(__GLIBC__) && defined(TLSCHAN_FUZZ_WITH_ENGINE)
#define TLSCHAN_FUZZ_OPENSSL_ON_GLIBC_HEAP 1
// glibc's own allocator, under the names AddressSanitizer does not intercept.
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void __libc_free(void*);
#endif

namespace tlschan::fuzz {

namespace {

#if defined(TLSCHAN_FUZZ_OPENSSL_ON_GLIBC_HEAP)
void* openssl_malloc(std::size_t n, const char*, int) { return __libc_malloc(n); }
void* openssl_realloc(void* p, std::size_t n, const char*, int) { return __libc_realloc(p, n); }
void openssl_free(void* p, const char*, int) { __libc_free(p); }
#endif

// In an AddressSanitizer build, OpenSSL's own allocations go to glibc's allocator rather than
// ASan's. OpenSSL here is the system library, built without instrumentation: ASan checks none of
// its loads and stores, and on its heap it added only redzones and a quarantine, at the cost of a
// stack trace per allocation. A handshake makes hundreds of them, and they were a third of the
// STARTTLS targets' time. tlschan's own heap (the engine, the simulator, the harness) stays on
// ASan's allocator and is checked as before. TLSCHAN_FUZZ_OPENSSL_ASAN_HEAP=1 keeps OpenSSL on
// ASan's heap too (to hunt a bug at the boundary with OpenSSL). What this costs: LeakSanitizer no
// longer sees an OpenSSL object tlschan forgets to free while fuzzing; the standalone drivers, which
// the asan preset's ctest runs on every corpus and regression input, keep OpenSSL on ASan's heap,
// so such a leak is still caught there.
void route_openssl_heap() {
#if defined(TLSCHAN_FUZZ_OPENSSL_ON_GLIBC_HEAP)
  const char* keep = std::getenv("TLSCHAN_FUZZ_OPENSSL_ASAN_HEAP");
  if (keep != nullptr && std::string_view(keep) == "1") return;
  TLSCHAN_FUZZ_CHECK(CRYPTO_set_mem_functions(openssl_malloc, openssl_realloc, openssl_free) == 1,
                     "OpenSSL allocated before the fuzz target could set its allocator");
#endif
}

}  // namespace

void initialize(WithSimulator with) {
  route_openssl_heap();
  std::string why;
  TLSCHAN_FUZZ_CHECK(sim::install_deterministic_rand(&why), "cannot make OpenSSL deterministic: " + why);
  if (with == WithSimulator::yes) simulator();
}

const sim::Simulator& simulator() {
  static const sim::Simulator instance = [] {
    auto created = sim::Simulator::create();
    TLSCHAN_FUZZ_CHECK(created.has_value(), "cannot create the simulator: " + created.error());
    return std::move(*created);
  }();
  return instance;
}

std::uint64_t input_seed(const std::uint8_t* data, std::size_t size) {
  // The standard library's hash is not instrumented, so this costs the target nothing.
  return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(data), size));
}

std::string transcript_request() {
  const char* path = std::getenv("TLSCHAN_TRANSCRIPT");
  return path != nullptr ? std::string(path) : std::string();
}

void write_transcript_if_requested(const sim::Scenario& scenario, std::uint64_t seed) {
  const std::string path = transcript_request();
  if (path.empty()) return;
  std::string error;
  if (matrix::save_transcript(simulator(), scenario, seed, path, &error)) {
    std::fprintf(stderr, "transcript: %s (replay: tlschan replay %s)\n", path.c_str(), path.c_str());
  } else {
    std::fprintf(stderr, "transcript: %s\n", error.c_str());
  }
}

}  // namespace tlschan::fuzz

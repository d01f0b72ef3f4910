#include "tlschan/sim/deterministic_tls.hpp"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <climits>
#include <cstdlib>
#include <mutex>

#include "tlschan/sim/prng.hpp"

namespace tlschan::sim {

namespace {

// OpenSSL keeps one DRBG per thread; so does this provider's source, re-seeded for every run.
thread_local Prng rand_source{0};
OSSL_PROVIDER* provider = nullptr;
thread_local std::uint64_t rand_draws = 0;

void* rand_newctx(void*, void*, const OSSL_DISPATCH*) {
  auto* state = static_cast<int*>(OPENSSL_malloc(sizeof(int)));
  if (state != nullptr) *state = EVP_RAND_STATE_UNINITIALISED;
  return state;
}

void rand_freectx(void* ctx) { OPENSSL_free(ctx); }

int rand_instantiate(void* ctx, unsigned int, int, const unsigned char*, size_t, const OSSL_PARAM[]) {
  *static_cast<int*>(ctx) = EVP_RAND_STATE_READY;
  return 1;
}

int rand_uninstantiate(void* ctx) {
  *static_cast<int*>(ctx) = EVP_RAND_STATE_UNINITIALISED;
  return 1;
}

int rand_generate(void*, unsigned char* out, size_t outlen, unsigned int, int, const unsigned char*, size_t) {
  rand_draws += outlen;
  size_t i = 0;
  while (i < outlen) {
    std::uint64_t v = rand_source.next();
    for (int b = 0; b < 8 && i < outlen; ++b, ++i) {
      out[i] = static_cast<unsigned char>(v);
      v >>= 8;
    }
  }
  return 1;
}

int rand_enable_locking(void*) { return 1; }

int rand_get_ctx_params(void* ctx, OSSL_PARAM params[]) {
  OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STATE);
  if (p != nullptr && !OSSL_PARAM_set_int(p, *static_cast<int*>(ctx))) return 0;
  p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STRENGTH);
  if (p != nullptr && !OSSL_PARAM_set_int(p, 256)) return 0;
  p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_MAX_REQUEST);
  if (p != nullptr && !OSSL_PARAM_set_size_t(p, INT_MAX)) return 0;
  return 1;
}

const OSSL_PARAM* rand_gettable_ctx_params(void*, void*) {
  static const OSSL_PARAM known[] = {
      OSSL_PARAM_int(OSSL_RAND_PARAM_STATE, nullptr),
      OSSL_PARAM_uint(OSSL_RAND_PARAM_STRENGTH, nullptr),
      OSSL_PARAM_size_t(OSSL_RAND_PARAM_MAX_REQUEST, nullptr),
      OSSL_PARAM_END,
  };
  return known;
}

template <class F>
void (*fn(F f))(void) {
  return reinterpret_cast<void (*)(void)>(f);
}

// Debian 12's OpenSSL 3.0 headers lack OSSL_DISPATCH_END: tables end with {0, nullptr}.
const OSSL_DISPATCH rand_functions[] = {
    {OSSL_FUNC_RAND_NEWCTX, fn(&rand_newctx)},
    {OSSL_FUNC_RAND_FREECTX, fn(&rand_freectx)},
    {OSSL_FUNC_RAND_INSTANTIATE, fn(&rand_instantiate)},
    {OSSL_FUNC_RAND_UNINSTANTIATE, fn(&rand_uninstantiate)},
    {OSSL_FUNC_RAND_GENERATE, fn(&rand_generate)},
    {OSSL_FUNC_RAND_ENABLE_LOCKING, fn(&rand_enable_locking)},
    {OSSL_FUNC_RAND_GETTABLE_CTX_PARAMS, fn(&rand_gettable_ctx_params)},
    {OSSL_FUNC_RAND_GET_CTX_PARAMS, fn(&rand_get_ctx_params)},
    {0, nullptr},
};

const OSSL_ALGORITHM rand_algorithms[] = {
    {"tlschan-sim", "provider=tlschan-sim-rand", rand_functions, nullptr},
    {nullptr, nullptr, nullptr, nullptr},
};

const OSSL_ALGORITHM* provider_query(void*, int operation_id, int* no_cache) {
  *no_cache = 0;
  return operation_id == OSSL_OP_RAND ? rand_algorithms : nullptr;
}

void provider_teardown(void*) {}

const OSSL_DISPATCH provider_functions[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, fn(&provider_teardown)},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, fn(&provider_query)},
    {0, nullptr},
};

int provider_init(const OSSL_CORE_HANDLE*, const OSSL_DISPATCH*, const OSSL_DISPATCH** out, void** provctx) {
  *provctx = nullptr;
  *out = provider_functions;
  return 1;
}

}  // namespace

bool install_deterministic_rand(std::string* error) {
  static std::once_flag once;
  static bool ok = false;
  static std::string why;
  std::call_once(once, [] {
    // The system openssl.cnf must not change what the simulator negotiates.
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
    if (OSSL_PROVIDER_add_builtin(nullptr, "tlschan-sim-rand", provider_init) != 1) {
      why = "OSSL_PROVIDER_add_builtin failed";
    } else if (RAND_set_DRBG_type(nullptr, "tlschan-sim", nullptr, nullptr, nullptr) != 1) {
      why = "RAND_set_DRBG_type failed (OpenSSL's DRBG was already in use)";
    } else if ((provider = OSSL_PROVIDER_try_load(nullptr, "tlschan-sim-rand", 1)) == nullptr) {
      why = "OSSL_PROVIDER_try_load failed";
    } else {
      ok = true;
      // Registered after OpenSSL's own exit handler, so it runs first: the provider is unloaded
      // before OpenSSL tears its library context down, and nothing is left behind.
      std::atexit([] { OSSL_PROVIDER_unload(provider); });
    }
  });
  if (!ok && error != nullptr) *error = why;
  return ok;
}

void seed_deterministic_rand(std::uint64_t seed) {
  rand_source = Prng::derive(seed, "openssl");
  rand_draws = 0;
}

std::uint64_t deterministic_rand_draws() { return rand_draws; }

TlsOptions pinned_tls_options() {
  TlsOptions o;
  o.min_version = 0x0303;
  o.max_version = 0x0304;
  o.ciphersuites = "TLS_AES_128_GCM_SHA256";
  o.cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256";
  o.groups = "X25519";
  o.sigalgs = "ECDSA+SHA256";
  o.verify_time = 1767225600;  // 2026-01-01T00:00:00Z, inside the test certificates' validity
  return o;
}

}  // namespace tlschan::sim

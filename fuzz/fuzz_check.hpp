// A fuzz target's own checks: a broken invariant is a crash (abort), so that libFuzzer keeps the
// input and reports it like a memory error. The message names the place and what broke.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace tlschan::fuzz {

[[noreturn]] inline void fail_check(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "\n==tlschan fuzz check failed== %s:%d: %s\n", file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace tlschan::fuzz

// For a target's own code (its models, its checks, its driving loop): no SanitizerCoverage, so no
// edge counters and no comparison callbacks on every octet a model or a check walks. The coverage
// that guides libFuzzer is the engine's; instrumenting the harness would add features that say
// nothing of the code under test, and it made the parser targets spend a third of their time in
// comparison callbacks. ASan and UBSan still check this code.
#if defined(__clang__)
#define TLSCHAN_FUZZ_HARNESS __attribute__((no_sanitize("coverage")))
#else
#define TLSCHAN_FUZZ_HARNESS
#endif

// `what` is evaluated only when the check fails.
#define TLSCHAN_FUZZ_CHECK(condition, what)                                    \
  do {                                                                         \
    if (!(condition)) ::tlschan::fuzz::fail_check(__FILE__, __LINE__, (what)); \
  } while (false)

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

// `what` is evaluated only when the check fails.
#define TLSCHAN_FUZZ_CHECK(condition, what)                                    \
  do {                                                                         \
    if (!(condition)) ::tlschan::fuzz::fail_check(__FILE__, __LINE__, (what)); \
  } while (false)

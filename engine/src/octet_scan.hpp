// The parsers' scan for the octets that matter (LF, CR, NUL), 16 octets per step where the CPU has
// SSE2 (every x86-64), one octet per step elsewhere and in the tail. Internal to the engine.
#pragma once

#include <cstddef>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// In the builds with SanitizerCoverage (the fuzz builds) the scans are out of line and not
// instrumented: inlined, each octet of the tail loop cost a comparison callback per octet looked for,
// and every 16-octet step more, in the parser that called them, while their edges (an octet found
// or not) tell libFuzzer nothing the caller's edges do not. Elsewhere they are inline.
#if defined(TLSCHAN_SANITIZER_COVERAGE) && defined(__clang__)
#define TLSCHAN_OCTET_SCAN inline __attribute__((noinline, no_sanitize("coverage")))
#else
#define TLSCHAN_OCTET_SCAN inline
#endif

namespace tlschan::detail {

// The first octet in [p, end) equal to a, b or c; end when there is none. Reads no octet outside
// [p, end).
TLSCHAN_OCTET_SCAN const char* find_first_of3(const char* p, const char* end, char a, char b, char c) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  const __m128i vc = _mm_set1_epi8(c);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)), _mm_cmpeq_epi8(v, vc));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    if (*p == a || *p == b || *p == c) return p;
  }
  return end;
}

// The first octet in [p, end) equal to a; end when there is none. The same as memchr, inline: for
// the short lines of SMTP the call cost more than the scan.
TLSCHAN_OCTET_SCAN const char* find_byte(const char* p, const char* end, char a) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, va)));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    if (*p == a) return p;
  }
  return end;
}

}  // namespace tlschan::detail

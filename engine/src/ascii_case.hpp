// Internal: ASCII letters folded to one case by table. SMTP's and the configuration files' words are
// ASCII: a letter is compared without its case, every other octet as it is (no locale, and no
// comparison an octet on the parsers' paths).
#pragma once

#include <array>
#include <cstddef>

namespace tlschan::detail {

struct AsciiCase {
  std::array<char, 256> lower{};
  std::array<char, 256> upper{};
  constexpr AsciiCase() {
    for (std::size_t c = 0; c < 256; ++c) {
      lower[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      upper[c] = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
  }
};
inline constexpr AsciiCase ascii_case;

inline char lower_octet(char c) { return ascii_case.lower[static_cast<unsigned char>(c)]; }
inline char upper_octet(char c) { return ascii_case.upper[static_cast<unsigned char>(c)]; }

}  // namespace tlschan::detail

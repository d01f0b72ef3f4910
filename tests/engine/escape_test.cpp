// The one byte escaper (tlschan/escape.hpp) in each of its styles.
#include "tlschan/escape.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tlschan {
namespace {

const std::string kMixed = std::string("a b\\\r\n\t\x7f\x80\xff", 10) + std::string(1, '\0');

TEST(Escape, PrintableKeepsSpaceAndShortensCrLf) {
  EXPECT_EQ(escape_bytes(kMixed), "a b\\\\\\r\\n\\x09\\x7f\\x80\\xff\\x00");
}

TEST(Escape, LogWordEscapesSpaceAndLineEndsSoAWordNeverSplits) {
  EXPECT_EQ(escape_bytes(kMixed, Escape::log_word), "a\\x20b\\\\\\x0d\\x0a\\x09\\x7f\\x80\\xff\\x00");
}

TEST(Escape, NonAsciiEscapesOnlyHighOctetsAndTheBackslash) {
  EXPECT_EQ(escape_bytes(kMixed, Escape::non_ascii), std::string("a b\\\\\r\n\t\x7f\\x80\\xff", 17) + std::string(1, '\0'));
}

}  // namespace
}  // namespace tlschan

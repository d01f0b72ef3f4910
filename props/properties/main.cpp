// The property suite's entry: OpenSSL's randomness is made deterministic before any SSL_CTX exists.
#include <gtest/gtest.h>

#include <iostream>

#include "tlschan/sim/deterministic_tls.hpp"

int main(int argc, char** argv) {
  std::string why;
  if (!tlschan::sim::install_deterministic_rand(&why)) {
    std::cerr << "props: " << why << "\n";
    return 1;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

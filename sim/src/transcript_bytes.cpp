#include "tlschan/sim/transcript_bytes.hpp"

#include <openssl/evp.h>

#include <cstdio>

namespace tlschan::sim {

std::string short_digest(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < 8; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

std::string time_stamp(Time t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%10lldms", static_cast<long long>(since_epoch(t).count()));
  return buf;
}

}  // namespace tlschan::sim

// Reading back what the pcapng writer wrote, for the tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tlschan::views::test {

inline std::uint32_t le32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s.at(at + static_cast<std::size_t>(i)));
  return v;
}
inline std::uint32_t be16_at(const std::string& s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s.at(at))) << 8) | static_cast<unsigned char>(s.at(at + 1));
}
inline std::uint32_t be32_at(const std::string& s, std::size_t at) { return (be16_at(s, at) << 16) | be16_at(s, at + 2); }

struct Block {
  std::uint32_t type = 0;
  std::uint32_t total = 0;
  std::string body;
};

// The file's blocks; a block whose two length fields disagree, are not a multiple of 4 or run
// past the end fails the test.
inline std::vector<Block> blocks(const std::string& file) {
  std::vector<Block> out;
  std::size_t at = 0;
  while (at < file.size()) {
    EXPECT_LE(at + 12, file.size());
    if (at + 12 > file.size()) break;
    Block b;
    b.type = le32(file, at);
    b.total = le32(file, at + 4);
    EXPECT_EQ(b.total % 4, 0u) << "block at " << at;
    EXPECT_GE(b.total, 12u);
    EXPECT_LE(at + b.total, file.size());
    if (b.total < 12 || at + b.total > file.size()) break;
    EXPECT_EQ(le32(file, at + b.total - 4), b.total) << "trailing length of the block at " << at;
    b.body = file.substr(at + 8, b.total - 12);
    out.push_back(std::move(b));
    at += out.back().total;
  }
  return out;
}

}  // namespace tlschan::views::test

#include "tlschan/escape.hpp"

namespace tlschan {

std::string escape_bytes(std::string_view bytes, Escape style) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() + 8);
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
      continue;
    }
    if (style == Escape::printable && c == '\r') {
      out += "\\r";
      continue;
    }
    if (style == Escape::printable && c == '\n') {
      out += "\\n";
      continue;
    }
    const bool keep = style == Escape::non_ascii  ? u < 0x80
                      : style == Escape::log_word ? u > 0x20 && u < 0x7f
                                                  : u >= 0x20 && u < 0x7f;
    if (keep) {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 0xf]);
    }
  }
  return out;
}

}  // namespace tlschan

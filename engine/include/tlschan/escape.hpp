// The one byte escaper: bytes from the wire or from a user shown as text. Every style writes a
// backslash as "\\" and every octet it escapes as "\xhh" (two lower-case hex digits), so what it
// writes reads back unambiguously.
#pragma once

#include <string>
#include <string_view>

namespace tlschan {

enum class Escape {
  printable,  // a transcript line: printable ASCII and space stay; CR and LF as \r and \n; every
              // other octet below 0x20 or from 0x7f escaped
  log_word,   // one word of a log line: printable ASCII stays; space, CR, LF and every other
              // octet below 0x21 or from 0x7f escaped (so a word never splits a line)
  non_ascii,  // a scenario file's bytes notation: only octets from 0x80 escaped (the TOML string
              // that holds it escapes control octets itself)
};

std::string escape_bytes(std::string_view bytes, Escape style = Escape::printable);

}  // namespace tlschan

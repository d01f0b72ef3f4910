// How transcripts show bytes: the one escaper, the short digest of TLS bytes and the time stamp, shared
// by the simulator's transcripts and the evidence files of tlschan::audit.
#pragma once

#include <string>
#include <string_view>

#include "tlschan/escape.hpp"
#include "tlschan/time.hpp"

namespace tlschan::sim {

// Printable ASCII as itself; CR, LF and backslash as \r, \n and \\; every other octet as \xhh:
// the engine's escaper (tlschan/escape.hpp) in its transcript style.
using tlschan::escape_bytes;

// The first 8 octets of the bytes' SHA-256, in hex (how a transcript names TLS bytes).
std::string short_digest(std::string_view bytes);

// "      1234ms": the time column of a transcript line.
std::string time_stamp(Time t);

}  // namespace tlschan::sim

// The exit statuses the commands share (sysexits.h); each command's own meanings of 0 and 1 stay
// with the command.
#pragma once

namespace tlschan::cli {

inline constexpr int exit_usage = 64;        // EX_USAGE: a bad command line
inline constexpr int exit_data = 65;         // EX_DATAERR: an input file is malformed
inline constexpr int exit_no_input = 66;     // EX_NOINPUT: an input file cannot be read
inline constexpr int exit_unavailable = 69;  // EX_UNAVAILABLE: refused for good (a bounce)
inline constexpr int exit_tempfail = 75;     // EX_TEMPFAIL: try again later (a deferral)
inline constexpr int exit_cant_create = 73;  // EX_CANTCREAT: an output file cannot be written
inline constexpr int exit_config = 78;       // EX_CONFIG: the configuration is wrong

}  // namespace tlschan::cli

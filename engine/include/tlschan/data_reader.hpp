// Incremental reader of the DATA phase (RFC 5321 4.1.1.4, 4.5.2). Only CRLF . CRLF ends the data;
// every other end-of-data look-alike (LF.LF, CR.CR, LF.CRLF, CRLF.LF, CRLF NUL . CRLF, ...) is
// message content, and a message holding a bare CR, a bare LF or a NUL, or a text line over 1000
// octets, is marked so that the server refuses it as a whole. The sending side, dot_stuff, is here
// too: the client session, the simulator's peers and the fuzz targets all stuff with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tlschan {

struct DataResult {
  std::string body;             // dot-unstuffed, CRLF line ends, without the final ".CRLF";
                                // at most the size limit is kept
  std::uint64_t size = 0;       // octets of the whole unstuffed body, kept or not
  bool bare_cr = false;         // a CR not followed by LF
  bool bare_lf = false;         // an LF not preceded by CR
  bool nul = false;             // a NUL octet
  bool line_too_long = false;   // a line over 1000 octets on the wire, CRLF included, a dot at
                                // its start (the stuffing dot) not counted
  bool over_size = false;       // size > the limit

  bool malformed() const { return bare_cr || bare_lf || nul || line_too_long; }
};

// Appends `data` to `out` dot-stuffed (RFC 5321 4.5.2: a "." that starts a line, at the start or
// after an LF, gets another "."), then the end of the data: CRLF first when `data` is not empty and
// does not end in LF, then ".CRLF".
void dot_stuff(std::string_view data, std::string& out);
// The same, as a new string.
std::string dot_stuffed(std::string_view data);

class DataReader {
 public:
  static constexpr std::size_t max_line = 1000;  // octets on the wire, CRLF included (the
                                                 // stuffing dot not counted)

  explicit DataReader(std::uint64_t size_limit) : limit_(size_limit) {}

  // Consumes bytes from the front of `input` up to and including the end-of-data line and returns
  // the message then; otherwise consumes all of `input` and returns nothing.
  std::optional<DataResult> next(std::string_view& input);

  // Gives back the body of a message this reader returned, once the caller is done with it: its
  // storage holds the next message, so that a reader that reads message after message allocates
  // only when a body outgrows every earlier one. Ignored while a message is being read.
  void recycle(std::string&& body);
  // Starts over with another size limit, as a new reader would, keeping the storage.
  void reset(std::uint64_t size_limit);

 private:
  // Where the scanner stands. A line starts at the start of the data or right after CRLF, never
  // after a bare CR or a bare LF.
  enum class State {
    line_start,  // at a line start
    dot,         // a line start, then "."
    dot_cr,      // a line start, then ".", CR
    text,        // inside a line
    cr,          // inside a line, right after a CR whose follower has not arrived yet
  };

  void keep(std::string_view bytes);      // adds to the body, within the size limit
  void count_wire(std::size_t octets);    // adds to the current line's length on the wire
  DataResult finish();

  std::uint64_t limit_;
  DataResult current_;
  State state_ = State::line_start;
  std::size_t line_len_ = 0;  // octets of the current line on the wire so far
};

}  // namespace tlschan

// The DATA phase reader: dot-unstuffing, the end-of-data line, and the marks that make a server
// refuse a message whose line ends a receiver could read in more than one way (SMTP smuggling).
#include "tlschan/data_reader.hpp"

#include <algorithm>

#include "octet_scan.hpp"

namespace tlschan {

inline void DataReader::keep(std::string_view bytes) {
  const std::uint64_t kept = current_.body.size();
  if (kept >= limit_) return;
  const std::uint64_t room = limit_ - kept;
  current_.body.append(bytes.data(),
                       static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), room)));
}

inline void DataReader::count_wire(std::size_t octets) {
  line_len_ += octets;
  if (line_len_ > max_line) current_.line_too_long = true;
}

// Only CRLF "." CRLF ends the data: the "." must stand at a line start, and a line start is the
// start of the data or the octet after a CRLF. Any other look-alike is content, so that this
// reader and any receiver downstream agree on where the message ends.
std::optional<DataResult> DataReader::next(std::string_view& input) {
  const char* const bytes = input.data();
  const std::size_t n = input.size();
  // Room for all of `input` (within the limit) at once, growing geometrically as append would:
  // a large input is then copied once, not again at each doubling.
  const std::uint64_t want = std::min<std::uint64_t>(limit_, current_.body.size() + n);
  if (want > current_.body.capacity()) {
    current_.body.reserve(static_cast<std::size_t>(
        std::max<std::uint64_t>(want, std::min<std::uint64_t>(limit_, 2 * current_.body.capacity()))));
  }
  std::size_t i = 0;
  while (i < n) {
    switch (state_) {
      case State::line_start:
        // A dot at a line start is not counted toward the line's length: it is the stuffing dot,
        // or the end of data (RFC 5321 4.5.3.1.6: "not counting the leading dot duplicated for
        // transparency").
        if (bytes[i] == '.') {
          ++i;
          state_ = State::dot;
        } else {
          state_ = State::text;
        }
        break;
      case State::dot:
        if (bytes[i] == '\r') {
          count_wire(1);
          ++i;
          state_ = State::dot_cr;
        } else {
          state_ = State::text;  // the dot was stuffing and stays dropped
        }
        break;
      case State::dot_cr:
        if (bytes[i] == '\n') {
          input.remove_prefix(i + 1);
          return finish();
        }
        // ".", CR, then no LF: the dot was stuffing, and the CR is looked at like any other.
        state_ = State::cr;
        break;
      case State::cr:
        if (bytes[i] == '\n') {
          count_wire(1);
          ++i;
          keep("\r\n");
          current_.size += 2;
          line_len_ = 0;
          state_ = State::line_start;
        } else {
          current_.bare_cr = true;
          keep("\r");
          current_.size += 1;
          state_ = State::text;
        }
        break;
      case State::text: {
        // Whole lines are taken here in one pass, each octet looked at once: the scan stops only
        // at CR, LF and NUL, and the bytes kept (text and CRLF line ends: the input as it is) are
        // appended in one run. A bare CR, a CR whose follower has not arrived, and a dot at a line
        // start are left to the states above.
        const char* const end = bytes + n;
        const char* const run = bytes + i;
        const char* line = run;  // where the current line's octets in this run start
        const char* p = run;
        for (;;) {
          p = detail::find_first_of3(p, end, '\r', '\n', '\0');
          if (p == end) break;
          if (*p == '\n') {  // an LF after a CR is taken below: every LF here is bare
            current_.bare_lf = true;
            ++p;
            continue;
          }
          if (*p == '\0') {
            current_.nul = true;
            ++p;
            continue;
          }
          if (p + 1 == end || p[1] != '\n') break;  // a CR, not part of CRLF here
          p += 2;  // CRLF: the line ends
          count_wire(static_cast<std::size_t>(p - line));
          line_len_ = 0;
          line = p;
          if (p == end || *p == '.') break;
        }
        const std::size_t taken = static_cast<std::size_t>(p - run);
        keep(std::string_view(run, taken));
        current_.size += taken;
        i += taken;
        if (p != end && *p == '\r') {  // the CR goes to the `cr` state
          count_wire(static_cast<std::size_t>(p - line) + 1);
          ++i;
          state_ = State::cr;
        } else if (line == p) {
          state_ = State::line_start;
        } else {
          count_wire(static_cast<std::size_t>(p - line));  // the end of input, inside a line
        }
        break;
      }
    }
  }
  input.remove_prefix(n);
  return std::nullopt;
}

void DataReader::recycle(std::string&& body) {
  if (state_ != State::line_start || current_.size != 0 || body.capacity() <= current_.body.capacity()) return;
  current_.body = std::move(body);
  current_.body.clear();
}

void DataReader::reset(std::uint64_t size_limit) {
  limit_ = size_limit;
  std::string storage = std::move(current_.body);
  storage.clear();
  current_ = DataResult{};
  current_.body = std::move(storage);
  state_ = State::line_start;
  line_len_ = 0;
}

DataResult DataReader::finish() {
  DataResult result = std::move(current_);
  result.over_size = result.size > limit_;
  current_ = DataResult{};
  state_ = State::line_start;
  line_len_ = 0;
  return result;
}

void dot_stuff(std::string_view data, std::string& out) {
  out.reserve(out.size() + data.size() + data.size() / 64 + 5);
  // Line by line (a line start is the start of the data or the octet after an LF): a dot there is
  // doubled, and the line, through its LF, is appended in one piece.
  for (std::size_t at = 0; at < data.size();) {
    if (data[at] == '.') out.push_back('.');
    const std::size_t lf = data.find('\n', at);
    const std::size_t end = lf == std::string_view::npos ? data.size() : lf + 1;
    out.append(data.substr(at, end - at));
    at = end;
  }
  if (!data.empty() && data.back() != '\n') out.append("\r\n");
  out.append(".\r\n");
}

std::string dot_stuffed(std::string_view data) {
  std::string out;
  dot_stuff(data, out);
  return out;
}

}  // namespace tlschan

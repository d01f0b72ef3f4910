// The DATA phase reader: dot-unstuffing, the end-of-data line, and the marks that make a server
// refuse a message whose line ends a receiver could read in more than one way (SMTP smuggling).
#include "tlschan/data_reader.hpp"

#include <algorithm>
#include <cstring>

namespace tlschan {

namespace {

bool holds(std::string_view bytes, char c) {
  return !bytes.empty() && std::memchr(bytes.data(), c, bytes.size()) != nullptr;
}

}  // namespace

// Only CRLF "." CRLF ends the data: the "." must stand at a line start, and a line start is the
// start of the data or the octet after a CRLF. Any other look-alike is content, so that this
// reader and any receiver downstream agree on where the message ends.
std::optional<DataResult> DataReader::next(std::string_view& input) {
  const char* const bytes = input.data();
  const std::size_t n = input.size();
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
        const void* cr = std::memchr(bytes + i, '\r', n - i);
        const std::size_t end =
            cr != nullptr ? static_cast<std::size_t>(static_cast<const char*>(cr) - bytes) : n;
        take_text(std::string_view(bytes + i, end - i));
        i = end;
        if (cr != nullptr) {
          count_wire(1);
          ++i;
          state_ = State::cr;
        }
        break;
      }
    }
  }
  input.remove_prefix(n);
  return std::nullopt;
}

// Every LF here is bare: an LF after a CR is taken in the `cr` state.
void DataReader::take_text(std::string_view text) {
  if (text.empty()) return;
  if (!current_.bare_lf && holds(text, '\n')) current_.bare_lf = true;
  if (!current_.nul && holds(text, '\0')) current_.nul = true;
  count_wire(text.size());
  keep(text);
  current_.size += text.size();
}

void DataReader::keep(std::string_view bytes) {
  const std::uint64_t kept = current_.body.size();
  if (kept >= limit_) return;
  const std::uint64_t room = limit_ - kept;
  current_.body.append(bytes.data(),
                       static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), room)));
}

void DataReader::count_wire(std::size_t octets) {
  line_len_ += octets;
  if (line_len_ > max_line) current_.line_too_long = true;
}

DataResult DataReader::finish() {
  DataResult result = std::move(current_);
  result.over_size = result.size > limit_;
  current_ = DataResult{};
  state_ = State::line_start;
  line_len_ = 0;
  return result;
}

}  // namespace tlschan

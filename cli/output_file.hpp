// Writing one output file of a command (a page, a diagram, a capture, a key log), the same way for
// every command: the whole file or an error on stderr that names the command and the path.
#pragma once

#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

namespace tlschan::cli {

// Writes `bytes` to `path` (truncating it); false, after "tlschan COMMAND: cannot write PATH" on
// stderr, when the file cannot be written whole.
inline bool write_output_file(std::string_view command, const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) {
    std::cerr << "tlschan " << command << ": cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace tlschan::cli

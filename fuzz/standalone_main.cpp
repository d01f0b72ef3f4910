// The standalone driver of a fuzz target (LLVM's StandaloneFuzzTargetMain.c pattern): it feeds every
// file named on the command line, and every file under every folder named there (in name order,
// dot-files skipped), to LLVMFuzzerTestOneInput. The default build links every target with it, so
// that ctest replays the seed corpora and corpus/regressions/ without libFuzzer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace {

namespace fs = std::filesystem;

bool hidden(const fs::path& p) {
  return p.filename().string().starts_with(".");
}

// The inputs a command-line argument stands for; false when it names nothing readable.
bool collect(const fs::path& arg, std::vector<fs::path>& inputs) {
  std::error_code ec;
  if (fs::is_regular_file(arg, ec)) {
    inputs.push_back(arg);
    return true;
  }
  if (!fs::is_directory(arg, ec)) return false;
  std::vector<fs::path> found;
  for (fs::recursive_directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec)) {
    if (hidden(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) found.push_back(it->path());
  }
  if (ec) return false;
  std::sort(found.begin(), found.end());
  inputs.insert(inputs.end(), found.begin(), found.end());
  return true;
}

bool read_file(const fs::path& path, std::vector<std::uint8_t>& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n  runs every input through the fuzz target once\n",
                 argv[0]);
    return 64;
  }
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (!collect(argv[i], inputs)) {
      std::fprintf(stderr, "%s: error: no such file or folder, or unreadable\n", argv[i]);
      return 1;
    }
  }
  std::vector<std::uint8_t> bytes;
  for (const fs::path& p : inputs) {
    if (!read_file(p, bytes)) {
      std::fprintf(stderr, "%s: error: cannot read\n", p.c_str());
      return 1;
    }
    // A crash or a failed check aborts here; the last line printed names the input.
    std::fprintf(stderr, "running %s (%zu bytes)\n", p.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  std::printf("%zu inputs ran without a crash or a failed check\n", inputs.size());
  return 0;
}

// Joins the parts of a line by appending each to one string. (gcc 12 at -O3 gives a false
// -Wrestrict on `"literal" + std::string&&`, which inlining can bring out anywhere; appending never
// takes that path.)
#pragma once

#include <string>
#include <string_view>

namespace tlschan::sim::detail {

template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

}  // namespace tlschan::sim::detail

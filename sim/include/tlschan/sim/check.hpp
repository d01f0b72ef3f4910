// A check of the simulator's own consistency that holds in every build, NDEBUG or not (an assert
// would vanish from the RelWithDebInfo and Release builds that ci/props-long.sh and the benchmarks
// run): a failed one prints what failed and where, then aborts, so that a property, a fuzzer or a
// long run stops on it.
#pragma once

namespace tlschan::sim {

[[noreturn]] void check_failed(const char* what, const char* file, int line);

}  // namespace tlschan::sim

#define TLSCHAN_SIM_CHECK(condition, what) \
  ((condition) ? void(0) : ::tlschan::sim::check_failed(what, __FILE__, __LINE__))

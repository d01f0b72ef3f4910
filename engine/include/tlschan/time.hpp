// Time as the engine sees it: a duration since an epoch chosen by the driver. The simulator passes
// virtual time, the socket driver a monotonic clock; the engine never reads a clock itself.
#pragma once

#include <chrono>
#include <cstdint>

namespace tlschan {

using Duration = std::chrono::duration<std::int64_t, std::milli>;
using Time = Duration;  // since the driver's epoch

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

}  // namespace tlschan

// Time as the engine sees it: a duration since an epoch chosen by the driver. The simulator passes
// virtual time, the socket driver a monotonic clock; the engine never reads a clock itself.
#pragma once

#include <chrono>
#include <cstdint>

namespace tlschan {

// The driver's clock. It has no now(): the engine is handed the time, it never reads it. A Time is
// a point on it (since the driver's epoch), a Duration a length of it; Time + Duration is a Time,
// Time - Time a Duration, and Time + Time does not compile.
struct DriverClock {
  using rep = std::int64_t;
  using period = std::milli;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<DriverClock>;
  static constexpr bool is_steady = true;
};

using Duration = DriverClock::duration;
using Time = DriverClock::time_point;

// The time `d` after the driver's epoch.
constexpr Time at(Duration d) { return Time(d); }
// How long after the driver's epoch `t` is.
constexpr Duration since_epoch(Time t) { return t.time_since_epoch(); }

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

}  // namespace tlschan

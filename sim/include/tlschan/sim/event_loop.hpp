// The simulator's clock and single-threaded event loop, ordered by (time, sequence): two events at
// the same virtual time run in the order they were scheduled, so a run depends on nothing but its
// inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "tlschan/time.hpp"

namespace tlschan::sim {

class EventLoop {
 public:
  Time now() const { return now_; }

  void at(Time when, std::function<void()> action);
  void after(Duration delay, std::function<void()> action) { at(now_ + delay, std::move(action)); }

  // Runs events until none is left, or until `max_events` ran; returns false in the latter case.
  bool run(std::uint64_t max_events);
  std::uint64_t events_run() const { return run_; }
  bool idle() const { return queue_.empty(); }

 private:
  struct Event {
    Time when;
    std::uint64_t seq;
    std::function<void()> action;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.when != b.when ? a.when > b.when : a.seq > b.seq;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  Time now_{};
  std::uint64_t seq_ = 0;
  std::uint64_t run_ = 0;
};

}  // namespace tlschan::sim

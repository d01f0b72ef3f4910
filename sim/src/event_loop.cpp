#include "tlschan/sim/event_loop.hpp"

#include <algorithm>

namespace tlschan::sim {

void EventLoop::at(Time when, std::function<void()> action) {
  queue_.push(Event{std::max(when, now_), seq_++, std::move(action)});
}

bool EventLoop::run(std::uint64_t max_events) {
  for (std::uint64_t n = 0; n < max_events; ++n) {
    if (queue_.empty()) return true;
    // priority_queue::top is const; the action is moved out through a copy of the handle.
    Event e = std::move(const_cast<Event&>(queue_.top()));
    queue_.pop();
    now_ = e.when;
    ++run_;
    e.action();
  }
  return queue_.empty();
}

}  // namespace tlschan::sim

#include "tlschan/sim/event_loop.hpp"

namespace tlschan::sim {

void EventLoop::grow() {
  const auto first = static_cast<std::uint32_t>(chunks_.size() * chunk_slots);
  chunks_.emplace_back(new Action[chunk_slots]);
  // Handed out lowest first.
  for (std::uint32_t i = chunk_slots; i > 0; --i) free_.push_back(first + i - 1);
}

bool EventLoop::run(std::uint64_t max_events) {
  for (std::uint64_t n = 0; n < max_events; ++n) {
    if (heap_.empty()) return true;
    const Entry e = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
    now_ = e.when;
    ++run_;
    // The action runs in its slot; the events it schedules take other slots (this one is not free
    // yet), and new slots come in new chunks, so it does not move while it runs.
    Action& action = slot(e.slot);
    action();
    action.reset();
    free_.push_back(e.slot);
  }
  return heap_.empty();
}

}  // namespace tlschan::sim

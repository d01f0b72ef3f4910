#include "tlschan/sim/event_loop.hpp"

namespace tlschan::sim {

void EventLoop::grow() {
  const auto first = static_cast<std::uint32_t>(chunks_.size() * chunk_slots);
  chunks_.emplace_back(new Action[chunk_slots]);
  // Handed out lowest first.
  for (std::uint32_t i = chunk_slots; i > 0; --i) free_.push_back(first + i - 1);
}

void EventLoop::supersede(TimerState& t) {
  if (t.armed) replaced_until_ = std::max(replaced_until_, t.due);
  t.armed = false;
}

void EventLoop::arm(Timer timer, Time when) {
  TimerState& t = timers_[timer];
  supersede(t);
  t.armed = true;
  t.due = std::max(when, now_);
  t.seq = seq_++;
  // Every entry already queued has an earlier sequence: one at or before the new time stands in.
  if (t.queued.empty() || t.queued.front().when > t.due) {
    const Entry e{t.due, t.seq, t.slot, timer_tag | timer};
    t.queued.insert(t.queued.begin(), e);
    push(e);
  }
}

void EventLoop::disarm(Timer timer) { supersede(timers_[timer]); }

void EventLoop::run_timer_entry(const Entry& e) {
  TimerState& t = timers_[e.tag & index_mask];
  t.queued.erase(t.queued.begin());  // entries leave the heap in order: this is the earliest
  if (!t.armed) return;
  if (t.due == e.when && t.seq == e.seq) {
    t.armed = false;
    // The action may arm this timer again, or make timers (which may move `t`).
    slot(t.slot)();
    return;
  }
  // A stand-in: the timer was armed again since, for a later time. Unless another entry of it
  // comes first, this one moves to that time and sequence.
  if (t.queued.empty() || t.queued.front().when > t.due) {
    const Entry next{t.due, t.seq, t.slot, e.tag};
    t.queued.insert(t.queued.begin(), next);
    push(next);
  }
}

bool EventLoop::run(std::uint64_t max_events) {
  for (std::uint64_t n = 0; n < max_events && !heap_.empty(); ++n) {
    const Entry e = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
    now_ = e.when;
    ++run_;
    if ((e.tag & timer_tag) != 0) {
      run_timer_entry(e);
      continue;
    }
    if ((e.tag & lane_tag) != 0) {
      // The lane's next event, if any, takes its place in the heap before this one runs.
      LaneState& l = lanes_[e.tag & index_mask];
      if (l.waiting_head < l.waiting.size()) {
        push(l.waiting[l.waiting_head++]);
        if (l.waiting_head == l.waiting.size()) {
          l.waiting.clear();
          l.waiting_head = 0;
        } else if (l.waiting_head >= 4096 && l.waiting_head * 2 >= l.waiting.size()) {
          l.waiting.erase(l.waiting.begin(), l.waiting.begin() + static_cast<std::ptrdiff_t>(l.waiting_head));
          l.waiting_head = 0;
        }
      } else {
        l.queued = false;
      }
    }
    // The action runs in its slot; the events it schedules take other slots (this one is not free
    // yet), and new slots come in new chunks, so it does not move while it runs.
    Action& action = slot(e.slot);
    action();
    action.reset();
    free_.push_back(e.slot);
  }
  if (!heap_.empty()) return false;
  now_ = std::max(now_, replaced_until_);
  return true;
}

}  // namespace tlschan::sim

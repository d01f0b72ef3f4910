// The simulator's clock and single-threaded event loop, ordered by (time, sequence): two events at
// the same virtual time run in the order they were scheduled, so a run depends on nothing but its
// inputs.
//
// The queue is a binary heap of small plain entries (time, sequence, slot); each event's action
// lives in a slot of its own, in place, and the slot is reused once the event ran. Slots never
// move, so an action runs where it is stored while it schedules further events. Scheduling an
// action of at most Action::inline_size bytes allocates nothing once the loop has grown to the
// number of events pending at a time.
//
// Two kinds of event keep the heap small without changing the order anything runs in (every event
// still takes its sequence number when it is scheduled, and runs at its own (time, sequence)):
// - A lane holds events scheduled at times that never decrease, such as the segments of one
//   direction of a connection; only its first event is in the heap, the others wait behind it.
//   With one-octet segments a handshake's flight is thousands of events, all but one in a lane.
// - A timer is one event that is armed again and again, such as an idle timeout pushed back by
//   every segment. Arming it again replaces the earlier time: the earlier event does not run. An
//   entry already in the heap for an earlier time stands in for the new one and moves to it when
//   it comes up, so re-arming pushes nothing. A replaced time still counts for the clock: when the
//   run ends, now() is the latest time any event was due, replaced or not, as it would be if every
//   replaced event had run and done nothing. events_run() counts what ran (and the stand-ins).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "tlschan/time.hpp"

namespace tlschan::sim {

class EventLoop {
 public:
  // A callable stored in place when it fits, else on the heap. It never moves: it is built in its
  // slot, called there and destroyed there.
  class Action {
   public:
    static constexpr std::size_t inline_size = 64;

    Action() = default;
    Action(const Action&) = delete;
    Action& operator=(const Action&) = delete;
    ~Action() { reset(); }

    template <class F>
    void emplace(F&& f) {
      using T = std::decay_t<F>;
      reset();
      if constexpr (sizeof(T) <= inline_size && alignof(T) <= alignof(std::max_align_t)) {
        ::new (static_cast<void*>(storage_)) T(std::forward<F>(f));
        call_ = [](void* p) { (*std::launder(static_cast<T*>(p)))(); };
        destroy_ = [](void* p) { std::launder(static_cast<T*>(p))->~T(); };
      } else {
        T* held = new T(std::forward<F>(f));
        ::new (static_cast<void*>(storage_)) T*(held);
        call_ = [](void* p) { (**std::launder(static_cast<T**>(p)))(); };
        destroy_ = [](void* p) { delete *std::launder(static_cast<T**>(p)); };
      }
    }
    void operator()() { call_(storage_); }
    void reset() {
      if (destroy_ == nullptr) return;
      destroy_(storage_);
      call_ = nullptr;
      destroy_ = nullptr;
    }

   private:
    alignas(std::max_align_t) unsigned char storage_[inline_size];
    void (*call_)(void*) = nullptr;
    void (*destroy_)(void*) = nullptr;
  };

  Time now() const { return now_; }

  template <class F>
  void at(Time when, F&& action) {
    const std::uint32_t s = take_slot(std::forward<F>(action));
    push(Entry{std::max(when, now_), seq_++, s, 0});
  }
  template <class F>
  void after(Duration delay, F&& action) {
    at(now_ + delay, std::forward<F>(action));
  }

  // A lane: its events run in the order they were scheduled on it (as at() would run them), and
  // are scheduled at times that never decrease. An event scheduled on a lane at a time before the
  // lane's last one goes straight into the heap, so the order stays right even then.
  using Lane = std::uint32_t;
  Lane lane() {
    lanes_.emplace_back();
    return static_cast<Lane>(lanes_.size() - 1);
  }
  template <class F>
  void at(Lane lane, Time when, F&& action) {
    when = std::max(when, now_);
    LaneState& l = lanes_[lane];
    if (when < l.last) {
      at(when, std::forward<F>(action));
      return;
    }
    l.last = when;
    const Entry e{when, seq_++, take_slot(std::forward<F>(action)), lane_tag | lane};
    if (l.queued) {
      l.waiting.push_back(e);
    } else {
      l.queued = true;
      push(e);
    }
  }

  // A timer: `action` runs at the time it was last armed for, once per arming, unless it is armed
  // again or disarmed first. The action lives as long as the loop; it may arm its own timer.
  using Timer = std::uint32_t;
  template <class F>
  Timer timer(F&& action) {
    TimerState t;
    t.slot = take_slot(std::forward<F>(action));
    timers_.push_back(std::move(t));
    return static_cast<Timer>(timers_.size() - 1);
  }
  void arm(Timer timer, Time when);
  void disarm(Timer timer);

  // Runs events until none is left, or until `max_events` ran; returns false in the latter case.
  bool run(std::uint64_t max_events);
  std::uint64_t events_run() const { return run_; }
  bool idle() const { return heap_.empty(); }

 private:
  struct Entry {
    Time when;
    std::uint64_t seq;
    std::uint32_t slot;
    std::uint32_t tag;  // 0, lane_tag | lane, or timer_tag | timer
  };
  static_assert(std::is_trivially_copyable_v<Entry>);
  static constexpr std::uint32_t lane_tag = 1u << 30, timer_tag = 1u << 31, index_mask = lane_tag - 1;
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.when != b.when ? a.when > b.when : a.seq > b.seq;
    }
  };
  struct LaneState {
    Time last{};
    bool queued = false;          // its first event is in the heap
    std::vector<Entry> waiting;   // the events behind it, from waiting_head on
    std::size_t waiting_head = 0;
  };
  struct TimerState {
    std::uint32_t slot = 0;
    bool armed = false;
    Time due{};
    std::uint64_t seq = 0;
    // This timer's entries in the heap, earliest first: usually one; one more each time the timer
    // is armed for a time before the earliest.
    std::vector<Entry> queued;
  };
  static constexpr std::uint32_t chunk_slots = 32;

  Action& slot(std::uint32_t s) { return chunks_[s / chunk_slots][s % chunk_slots]; }
  void grow();
  template <class F>
  std::uint32_t take_slot(F&& action) {
    if (free_.empty()) grow();
    const std::uint32_t s = free_.back();
    slot(s).emplace(std::forward<F>(action));
    free_.pop_back();
    return s;
  }
  void push(const Entry& e) {
    heap_.push_back(e);
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  void supersede(TimerState& t);
  void run_timer_entry(const Entry& e);

  std::vector<Entry> heap_;
  std::vector<std::unique_ptr<Action[]>> chunks_;  // the slots, chunk_slots at a time
  std::vector<std::uint32_t> free_;                // slots whose event ran (or never used)
  std::vector<LaneState> lanes_;
  std::vector<TimerState> timers_;
  Time now_{};
  Time replaced_until_{};  // the latest time a replaced timer was armed for
  std::uint64_t seq_ = 0;
  std::uint64_t run_ = 0;
};

}  // namespace tlschan::sim

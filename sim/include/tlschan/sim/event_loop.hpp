// The simulator's clock and single-threaded event loop, ordered by (time, sequence): two events at
// the same virtual time run in the order they were scheduled, so a run depends on nothing but its
// inputs.
//
// The queue is a binary heap of small plain entries (time, sequence, slot); each event's action
// lives in a slot of its own, in place, and the slot is reused once the event ran. Slots never
// move, so an action runs where it is stored while it schedules further events. Scheduling an
// action of at most Action::inline_size bytes allocates nothing once the loop has grown to the
// number of events pending at a time.
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
    if (free_.empty()) grow();
    const std::uint32_t s = free_.back();
    slot(s).emplace(std::forward<F>(action));
    free_.pop_back();
    heap_.push_back(Entry{std::max(when, now_), seq_++, s});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  template <class F>
  void after(Duration delay, F&& action) {
    at(now_ + delay, std::forward<F>(action));
  }

  // Runs events until none is left, or until `max_events` ran; returns false in the latter case.
  bool run(std::uint64_t max_events);
  std::uint64_t events_run() const { return run_; }
  bool idle() const { return heap_.empty(); }

 private:
  struct Entry {
    Time when;
    std::uint64_t seq;
    std::uint32_t slot;
  };
  static_assert(std::is_trivially_copyable_v<Entry>);
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.when != b.when ? a.when > b.when : a.seq > b.seq;
    }
  };
  static constexpr std::uint32_t chunk_slots = 32;

  Action& slot(std::uint32_t s) { return chunks_[s / chunk_slots][s % chunk_slots]; }
  void grow();

  std::vector<Entry> heap_;
  std::vector<std::unique_ptr<Action[]>> chunks_;  // the slots, chunk_slots at a time
  std::vector<std::uint32_t> free_;                // slots whose event ran (or never used)
  Time now_{};
  std::uint64_t seq_ = 0;
  std::uint64_t run_ = 0;
};

}  // namespace tlschan::sim

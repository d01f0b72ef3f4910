// The event loop: events run in (time, scheduling order), wherever their actions are stored, and
// every action is destroyed once, run or not. Lanes and timers keep that order and the final clock
// exactly as plain events would (checked against a model made of plain events).
#include "tlschan/sim/event_loop.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tlschan/sim/prng.hpp"

namespace tlschan::sim {
namespace {

TEST(EventLoop, RunsByTimeThenSchedulingOrder) {
  Prng prng(42);
  EventLoop loop;
  struct Scheduled {
    Time when;
    int id;
  };
  std::vector<Scheduled> scheduled;
  std::vector<int> ran;
  for (int id = 0; id < 5000; ++id) {
    const Time when = Time{} + Duration(static_cast<std::int64_t>(prng.below(50)));  // many ties
    scheduled.push_back({when, id});
    loop.at(when, [&ran, id] { ran.push_back(id); });
  }
  EXPECT_TRUE(loop.run(1'000'000));
  std::stable_sort(scheduled.begin(), scheduled.end(),
                   [](const Scheduled& a, const Scheduled& b) { return a.when < b.when; });
  ASSERT_EQ(ran.size(), scheduled.size());
  for (std::size_t i = 0; i < ran.size(); ++i) ASSERT_EQ(ran[i], scheduled[i].id) << i;
  EXPECT_EQ(loop.events_run(), 5000u);
  EXPECT_TRUE(loop.idle());
}

TEST(EventLoop, ActionsScheduleMoreWhileTheyRun_PastTimesRunNow) {
  EventLoop loop;
  std::vector<std::pair<std::int64_t, int>> ran;  // (time, id)
  const auto note = [&](int id) { ran.emplace_back(since_epoch(loop.now()).count(), id); };
  loop.at(Time{} + Duration(10), [&] {
    note(1);
    // Scheduled from inside an action: same time after what was already due then, a past time is
    // now; enough events to grow the slot storage while this action runs.
    for (int k = 0; k < 100; ++k) loop.at(Time{} + Duration(10), [&, k] { note(100 + k); });
    loop.at(Time{} + Duration(3), [&] { note(3); });
    loop.after(Duration(5), [&] { note(15); });
    note(2);
  });
  loop.at(Time{} + Duration(10), [&] { note(4); });
  EXPECT_TRUE(loop.run(1000));
  std::vector<std::pair<std::int64_t, int>> expected{{10, 1}, {10, 2}, {10, 4}};
  for (int k = 0; k < 100; ++k) expected.emplace_back(10, 100 + k);
  expected.emplace_back(10, 3);
  expected.emplace_back(15, 15);
  EXPECT_EQ(ran, expected);
}

TEST(EventLoop, LargeAndSmallActionsAreDestroyedOnce_RunOrNot) {
  auto alive = std::make_shared<int>(0);
  struct Counted {
    std::shared_ptr<int> alive;
    explicit Counted(std::shared_ptr<int> a) : alive(std::move(a)) { ++*alive; }
    Counted(const Counted& o) : alive(o.alive) { ++*alive; }
    ~Counted() { --*alive; }
  };
  int runs = 0;
  {
    EventLoop loop;
    for (int i = 0; i < 300; ++i) {
      Counted c(alive);
      if (i % 2 == 0) {
        loop.at(Time{} + Duration(i), [c, &runs] { ++runs; });
      } else {
        std::array<char, 256> big{};  // stored on the heap
        big[0] = 1;
        loop.at(Time{} + Duration(i), [c, big, &runs] { runs += big[0]; });
      }
    }
    EXPECT_EQ(*alive, 300);
    EXPECT_FALSE(loop.run(100));  // stops with 200 events left
    EXPECT_EQ(runs, 100);
    EXPECT_EQ(*alive, 200);
    EXPECT_EQ(loop.events_run(), 100u);
  }
  EXPECT_EQ(*alive, 0);  // the loop's end destroyed the rest
}

TEST(EventLoop, ManyRoundsReuseSlots) {
  // A steady state of a few pending events over many rounds: the order holds throughout.
  EventLoop loop;
  std::int64_t last = -1;
  int count = 0;
  std::function<void(int)> tick = [&](int n) {
    EXPECT_GE(since_epoch(loop.now()).count(), last);
    last = since_epoch(loop.now()).count();
    ++count;
    if (n > 0) loop.after(Duration(n % 3), [&tick, n] { tick(n - 1); });
  };
  for (int k = 0; k < 8; ++k) loop.at(Time{} + Duration(k), [&tick] { tick(20000); });
  EXPECT_TRUE(loop.run(1'000'000));
  EXPECT_EQ(count, 8 * 20001);
}

// A random program of plain events, lane events and timers: every event that runs logs (time, id)
// and schedules more, drawn from one seeded source. With `plain`, the same program is written with
// plain events only, as the loop's lanes and timers stand for: a lane event is a plain event, and
// each arming of a timer is a plain event that does nothing unless it is the timer's latest arming
// (so a replaced one still runs, as a no-op, at its time).
struct ProgramRun {
  std::vector<std::pair<std::int64_t, int>> log;
  std::int64_t end = 0;
  std::uint64_t events = 0;
};

ProgramRun run_program(std::uint64_t seed, bool plain) {
  constexpr int lanes = 3, timers = 3;
  EventLoop loop;
  Prng prng(seed);
  ProgramRun out;
  int next_id = 0;
  std::array<EventLoop::Lane, lanes> lane{};
  std::array<Time, lanes> lane_last{};
  std::array<EventLoop::Timer, timers> timer{};
  std::array<std::uint64_t, timers> generation{};  // plain: the arming that may fire
  std::array<int, timers> timer_id{};              // the id the timer logs when it fires
  std::function<void()> step;
  const auto ran = [&](int id) {
    out.log.emplace_back(since_epoch(loop.now()).count(), id);
    if (out.log.size() < 2000) step();
  };
  for (int k = 0; k < lanes; ++k) lane[k] = loop.lane();
  for (int k = 0; k < timers; ++k) timer[k] = loop.timer([&ran, &timer_id, k] { ran(timer_id[k]); });
  step = [&] {
    const int ops = 1 + static_cast<int>(prng.below(4));
    for (int op = 0; op < ops; ++op) {
      const int id = next_id++;
      const int k = static_cast<int>(prng.below(3));
      const Time soon = loop.now() + Duration(static_cast<std::int64_t>(prng.below(20)));
      switch (prng.below(8)) {
        case 0:
        case 1:
          loop.at(soon, [&ran, id] { ran(id); });
          break;
        case 2:
        case 3: {
          // Mostly at or after the lane's last time; now and then before it.
          const Time when = prng.below(8) == 0 ? soon : std::max(soon, lane_last[k]);
          lane_last[k] = std::max(lane_last[k], when);
          if (plain) {
            loop.at(when, [&ran, id] { ran(id); });
          } else {
            loop.at(lane[k], when, [&ran, id] { ran(id); });
          }
          break;
        }
        case 4:
        case 5:
        case 6: {
          const Time when = loop.now() + Duration(static_cast<std::int64_t>(prng.below(60)));
          timer_id[k] = id;
          if (plain) {
            const std::uint64_t mine = ++generation[k];
            loop.at(when, [&, k, mine, id] {
              if (generation[k] != mine) return;
              ++generation[k];  // fired: no event of an earlier arming may fire after it
              ran(id);
            });
          } else {
            loop.arm(timer[k], when);
          }
          break;
        }
        default:
          if (plain) {
            ++generation[k];
          } else {
            loop.disarm(timer[k]);
          }
      }
    }
  };
  for (int start = 0; start < 10; ++start) loop.at(Time{}, [&ran, start] { ran(-1 - start); });
  EXPECT_TRUE(loop.run(1'000'000));
  out.end = since_epoch(loop.now()).count();
  out.events = loop.events_run();
  return out;
}

TEST(EventLoop, LanesAndTimersRunAsPlainEventsWould_TheEndClockIncluded) {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    const ProgramRun model = run_program(seed, /*plain=*/true);
    const ProgramRun loop = run_program(seed, /*plain=*/false);
    ASSERT_GT(model.log.size(), 100u) << seed;
    const auto [l, m] = std::mismatch(loop.log.begin(), loop.log.end(), model.log.begin(), model.log.end());
    ASSERT_TRUE(l == loop.log.end() && m == model.log.end())
        << "seed " << seed << ", event " << (l - loop.log.begin()) << ": (time, id) "
        << (l == loop.log.end() ? "none" : std::to_string(l->first) + ", " + std::to_string(l->second)) << " where plain events give "
        << (m == model.log.end() ? "none" : std::to_string(m->first) + ", " + std::to_string(m->second));
    // The end is the latest time any event was due, a replaced timer's included.
    EXPECT_EQ(loop.end, model.end) << "seed " << seed;
    EXPECT_LT(loop.events, model.events) << "seed " << seed;  // replaced armings did not run
  }
}

TEST(EventLoop, TimerFiresOnceForItsLatestArming_DisarmStopsIt) {
  EventLoop loop;
  std::vector<std::int64_t> fired;
  const EventLoop::Timer t = loop.timer([&] { fired.push_back(since_epoch(loop.now()).count()); });
  loop.arm(t, Time{} + Duration(50));
  loop.arm(t, Time{} + Duration(70));  // later: the entry for 50 stands in for it
  loop.arm(t, Time{} + Duration(30));  // earlier: a new entry; 50 and 70 are replaced
  loop.at(Time{} + Duration(40), [&] { loop.arm(t, Time{} + Duration(45)); });  // fired at 30
  const EventLoop::Timer u = loop.timer([&] { fired.push_back(-since_epoch(loop.now()).count()); });
  loop.arm(u, Time{} + Duration(20));
  loop.at(Time{} + Duration(10), [&] { loop.disarm(u); });
  EXPECT_TRUE(loop.run(1000));
  EXPECT_EQ(fired, (std::vector<std::int64_t>{30, 45}));
  // No event was left for 70, yet the clock ends there, as if the replaced event had run.
  EXPECT_EQ(since_epoch(loop.now()).count(), 70);
  // Armed again after the run: fires again.
  loop.arm(t, loop.now() + Duration(5));
  EXPECT_TRUE(loop.run(1000));
  EXPECT_EQ(fired, (std::vector<std::int64_t>{30, 45, 75}));
}

TEST(EventLoop, LaneKeepsItsBacklogOutOfTheHeap_OrderAcrossLanesByTime) {
  EventLoop loop;
  const EventLoop::Lane a = loop.lane(), b = loop.lane();
  std::vector<int> ran;
  for (int i = 0; i < 10000; ++i) {
    loop.at(i % 2 == 0 ? a : b, Time{} + Duration(i / 4), [&ran, i] { ran.push_back(i); });
  }
  loop.at(Time{} + Duration(3), [&ran] { ran.push_back(-1); });  // after every lane event due at 3
  EXPECT_TRUE(loop.run(100'000));
  std::vector<int> expected;
  for (int i = 0; i < 10000; ++i) {
    expected.push_back(i);
    if (i == 15) expected.push_back(-1);
  }
  EXPECT_EQ(ran, expected);
}

}  // namespace
}  // namespace tlschan::sim

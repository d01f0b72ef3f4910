// The event loop: events run in (time, scheduling order), wherever their actions are stored, and
// every action is destroyed once, run or not.
#include "tlschan/sim/event_loop.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
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
  const auto note = [&](int id) { ran.emplace_back(loop.now().count(), id); };
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
    EXPECT_GE(loop.now().count(), last);
    last = loop.now().count();
    ++count;
    if (n > 0) loop.after(Duration(n % 3), [&tick, n] { tick(n - 1); });
  };
  for (int k = 0; k < 8; ++k) loop.at(Time{} + Duration(k), [&tick] { tick(20000); });
  EXPECT_TRUE(loop.run(1'000'000));
  EXPECT_EQ(count, 8 * 20001);
}

}  // namespace
}  // namespace tlschan::sim

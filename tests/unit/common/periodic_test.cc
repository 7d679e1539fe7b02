#include "plugin/common/periodic.h"

#include <gtest/gtest.h>

#include <future>

namespace c8y::common {
namespace {

using namespace std::chrono_literals;

// A task that counts its runs and pauses an hour after each: only wake() and stop() end a pause.
struct Counting {
  std::mutex mutex;
  std::condition_variable cv;
  int runs = 0;
  bool wait_for_runs(int n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 10s, [&] { return runs >= n; });
  }
  Periodic::Task task() {
    return [this] {
      std::lock_guard lock(mutex);
      ++runs;
      cv.notify_all();
      return std::chrono::milliseconds(1h);
    };
  }
};

TEST(Periodic, RunsFirstAfterTheFirstPauseThenWhenWoken) {
  Counting c;
  Periodic p;
  p.start(c.task());  // no first pause: a run at once
  ASSERT_TRUE(c.wait_for_runs(1));
  p.wake();  // the hour's pause ends now
  ASSERT_TRUE(c.wait_for_runs(2));
  p.start(c.task());  // already running: nothing
  p.stop();           // ends the pause without another run
  EXPECT_EQ(c.runs, 2);
  p.stop();  // idempotent
}

TEST(Periodic, AWakeDuringARunStartsTheNextRightAfterIt) {
  std::promise<void> in_run, go_on;
  auto go = go_on.get_future().share();
  std::atomic<int> runs{0};
  Periodic p;
  p.start([&] {
    if (++runs == 1) {
      in_run.set_value();
      go.wait();
    }
    return std::chrono::milliseconds(1h);
  });
  in_run.get_future().wait();
  p.wake();  // while the first run is under way
  go_on.set_value();
  for (int i = 0; i < 1000 && runs < 2; ++i) std::this_thread::sleep_for(10ms);
  p.stop();
  EXPECT_EQ(runs, 2);
}

TEST(Periodic, StopEndsALongPauseAndARunSeesItStopping) {
  std::promise<void> in_run;
  std::atomic<bool> saw_stop{false};
  Periodic p;
  p.start([&] {
    in_run.set_value();
    while (!p.stopping()) std::this_thread::sleep_for(1ms);  // a long run that can end early
    saw_stop = true;
    return std::chrono::milliseconds(1h);
  });
  in_run.get_future().wait();
  p.stop();
  EXPECT_TRUE(saw_stop);
}

}  // namespace
}  // namespace c8y::common

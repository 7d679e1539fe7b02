#include "plugin/identity/failure_throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace c8y::identity {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
  Clock fn() {
    return [this] { return now; };
  }
  void advance(std::chrono::steady_clock::duration d) { now += d; }
};

TEST(FailureThrottle, UnknownKeyIsNotBlocked) {
  FakeClock clock;
  FailureThrottle t(clock.fn());
  EXPECT_FALSE(t.blocked("u:t1/dev"));
  EXPECT_EQ(t.remaining("u:t1/dev"), 0ms);
  EXPECT_EQ(t.size(), 0u);
}

TEST(FailureThrottle, FreeFailuresThenExponentialWindows) {
  FakeClock clock;
  FailureThrottle t(clock.fn(), 5, 1s, 5min);
  for (int i = 1; i <= 4; ++i) {
    t.failure("k");
    EXPECT_FALSE(t.blocked("k")) << i;
  }
  // 5th failure: base * 2^0 = 1 s.
  t.failure("k");
  EXPECT_TRUE(t.blocked("k"));
  EXPECT_EQ(t.remaining("k"), 1s);
  clock.advance(999ms);
  EXPECT_TRUE(t.blocked("k"));
  clock.advance(1ms);
  EXPECT_FALSE(t.blocked("k"));
  // 6th: 2 s, 7th: 4 s, 8th: 8 s.
  for (auto expected : {2s, 4s, 8s}) {
    t.failure("k");
    EXPECT_EQ(t.remaining("k"), expected);
    clock.advance(expected - 1ms);
    EXPECT_TRUE(t.blocked("k"));
    clock.advance(1ms);
    EXPECT_FALSE(t.blocked("k"));
  }
}

TEST(FailureThrottle, WindowIsCappedAtMax) {
  FakeClock clock;
  FailureThrottle t(clock.fn(), 5, 1s, 5min);
  for (int i = 1; i <= 13; ++i) t.failure("k");
  EXPECT_EQ(t.remaining("k"), 256s);  // 13th: 2^8 s
  t.failure("k");
  EXPECT_EQ(t.remaining("k"), 5min);  // 14th: 512 s capped
  for (int i = 0; i < 1000; ++i) t.failure("k");
  EXPECT_EQ(t.remaining("k"), 5min);  // no overflow however many
}

TEST(FailureThrottle, HugeFailureCountsDoNotOverflow) {
  FakeClock clock;
  FailureThrottle t(clock.fn(), 1, 1ms, std::chrono::milliseconds::max() / 4);
  for (int i = 0; i < 200; ++i) t.failure("k");
  EXPECT_TRUE(t.blocked("k"));
  EXPECT_EQ(t.remaining("k"), std::chrono::days(365));  // absurd limits are clamped
  FailureThrottle u(clock.fn(), 1, std::chrono::milliseconds::max(), 1s);
  u.failure("k");
  EXPECT_EQ(u.remaining("k"), std::chrono::days(365));
}

TEST(FailureThrottle, SuccessClears) {
  FakeClock clock;
  FailureThrottle t(clock.fn(), 2, 1s, 1min);
  t.failure("k");
  t.failure("k");
  EXPECT_TRUE(t.blocked("k"));
  t.success("k");
  EXPECT_FALSE(t.blocked("k"));
  EXPECT_EQ(t.size(), 0u);
  t.failure("k");  // count restarted: one free failure again
  EXPECT_FALSE(t.blocked("k"));
  t.success("missing");  // harmless
}

TEST(FailureThrottle, KeysAreIndependent) {
  FakeClock clock;
  FailureThrottle t(clock.fn(), 1, 1s, 1min);
  t.failure("u:t1/dev");
  EXPECT_TRUE(t.blocked("u:t1/dev"));
  EXPECT_FALSE(t.blocked("a:10.0.0.1"));
  EXPECT_FALSE(t.blocked("u:t1/dev2"));
  EXPECT_FALSE(t.blocked("u:t1/de"));
  t.failure("a:10.0.0.1");
  t.success("u:t1/dev");
  EXPECT_FALSE(t.blocked("u:t1/dev"));
  EXPECT_TRUE(t.blocked("a:10.0.0.1"));
}

TEST(FailureThrottle, OldFailuresAreForgotten) {
  FakeClock clock;
  FailureThrottle t(clock.fn(), 3, 1s, 1min);
  t.failure("k");
  t.failure("k");
  clock.advance(59s);
  t.failure("k");  // still within max of the last failure: counts, opens 1 s
  EXPECT_TRUE(t.blocked("k"));
  clock.advance(1s);
  EXPECT_FALSE(t.blocked("k"));
  clock.advance(1min);  // max after the window ended
  t.failure("k");       // counted from scratch
  EXPECT_FALSE(t.blocked("k"));
  t.failure("k");
  EXPECT_FALSE(t.blocked("k"));
  t.failure("k");
  EXPECT_TRUE(t.blocked("k"));
}

TEST(FailureThrottle, FailureWhileBlockedExtends) {
  FakeClock clock;
  FailureThrottle t(clock.fn(), 1, 1s, 1min);
  t.failure("k");
  EXPECT_EQ(t.remaining("k"), 1s);
  clock.advance(500ms);
  t.failure("k");
  EXPECT_EQ(t.remaining("k"), 2s);
}

TEST(FailureThrottle, CapacityDropsExpiredFirst) {
  FakeClock clock;
  FailureThrottle t(clock.fn(), 1, 1s, 1min, 10);
  for (int i = 0; i < 10; ++i) t.failure("old" + std::to_string(i));
  EXPECT_EQ(t.size(), 10u);
  clock.advance(1s + 1min);  // all forgettable
  t.failure("new");
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.blocked("new"));
}

TEST(FailureThrottle, CapacityKeepsMostPunishedKeys) {
  FakeClock clock;
  FailureThrottle t(clock.fn(), 1, 1s, 5min, 100);
  for (int i = 0; i < 10; ++i) t.failure("victim");  // long window
  EXPECT_EQ(t.remaining("victim"), 5min);
  // A flood of distinct keys, each failing once, must not push the punished key out.
  for (int i = 0; i < 10000; ++i) {
    t.failure("flood" + std::to_string(i));
    if (i % 100 == 0) clock.advance(1ms);
  }
  EXPECT_LE(t.size(), 100u);
  EXPECT_TRUE(t.blocked("victim"));
  EXPECT_TRUE(t.blocked("flood9999"));  // the newest key is tracked
}

TEST(FailureThrottle, CapacityOne) {
  FakeClock clock;
  FailureThrottle t(clock.fn(), 1, 1s, 1min, 1);
  t.failure("a");
  t.failure("b");
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.blocked("b"));
}

TEST(FailureThrottle, DefaultClockWorks) {
  FailureThrottle t;
  for (int i = 0; i < 5; ++i) t.failure("k");
  EXPECT_TRUE(t.blocked("k"));
  EXPECT_LE(t.remaining("k"), 1s);
}

TEST(FailureThrottle, ConcurrentUse) {
  FailureThrottle t(steady_now, 3, 1s, 1min, 50);
  std::vector<std::thread> threads;
  for (int n = 0; n < 8; ++n) {
    threads.emplace_back([&, n] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = "k" + std::to_string((n * 13 + i) % 80);
        if (!t.blocked(key)) t.failure(key);
        if (i % 17 == 0) t.success(key);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(t.size(), 50u);
}

TEST(LogRateLimiter, BurstThenSuppressed) {
  FakeClock clock;
  LogRateLimiter limiter(clock.fn(), 1, 10);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.allow()) << i;
  EXPECT_FALSE(limiter.allow());
  EXPECT_FALSE(limiter.allow());
  EXPECT_FALSE(limiter.allow());
  EXPECT_EQ(limiter.take_suppressed(), 3u);
  EXPECT_EQ(limiter.take_suppressed(), 0u);  // reset by take
}

TEST(LogRateLimiter, RefillsAtRate) {
  FakeClock clock;
  LogRateLimiter limiter(clock.fn(), 2, 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow());
  EXPECT_FALSE(limiter.allow());
  clock.advance(499ms);
  EXPECT_FALSE(limiter.allow());
  clock.advance(1ms);  // 0.5 s at 2/s = 1 token
  EXPECT_TRUE(limiter.allow());
  EXPECT_FALSE(limiter.allow());
  EXPECT_EQ(limiter.take_suppressed(), 3u);
  clock.advance(1h);  // refill is capped at burst
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow());
  EXPECT_FALSE(limiter.allow());
}

TEST(LogRateLimiter, FractionalRate) {
  FakeClock clock;
  LogRateLimiter limiter(clock.fn(), 0.1, 1);  // one line per 10 s
  EXPECT_TRUE(limiter.allow());
  clock.advance(9s);
  EXPECT_FALSE(limiter.allow());
  clock.advance(1s);
  EXPECT_TRUE(limiter.allow());
}

TEST(LogRateLimiter, ClockGoingBackwardsIsHarmless) {
  FakeClock clock;
  LogRateLimiter limiter(clock.fn(), 1, 1);
  EXPECT_TRUE(limiter.allow());
  clock.advance(-10s);
  EXPECT_FALSE(limiter.allow());
  clock.advance(10s);
  EXPECT_FALSE(limiter.allow());  // no credit for time already counted
  clock.advance(1s);
  EXPECT_TRUE(limiter.allow());
}

TEST(LogRateLimiter, ConcurrentCountsAreExact) {
  FakeClock clock;  // frozen: exactly `burst` lines allowed
  LogRateLimiter limiter(clock.fn(), 1, 10);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 4; ++n) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.allow()) ++allowed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 10);
  EXPECT_EQ(limiter.take_suppressed(), 3990u);
}

}  // namespace
}  // namespace c8y::identity

// The token bucket and a tenant's limits as every thread reads them.
#include "plugin/common/limits.h"

#include <gtest/gtest.h>

namespace c8y::common {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(TokenBucket, StartsFullAndRefusesOnceTheBurstIsSpent) {
  TokenBucket b;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take(1, 5, 10 * kSecond)) << i;
  EXPECT_FALSE(b.take(1, 5, 10 * kSecond));
  EXPECT_NEAR(b.wait_seconds(1), 1.0, 1e-9);
}

TEST(TokenBucket, RefillsAtItsRateUpToTheBurst) {
  TokenBucket b;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(b.take(2, 4, 0));
  EXPECT_FALSE(b.take(2, 4, 0));
  EXPECT_FALSE(b.take(2, 4, kSecond / 4));  // half a token
  EXPECT_NEAR(b.wait_seconds(2), 0.25, 1e-9);
  EXPECT_TRUE(b.take(2, 4, kSecond * 6 / 10));  // 1.2 tokens
  EXPECT_FALSE(b.take(2, 4, kSecond * 6 / 10));
  // A long quiet spell fills it to the burst, no further.
  int taken = 0;
  while (b.take(2, 4, 100 * kSecond)) ++taken;
  EXPECT_EQ(taken, 4);
}

TEST(TokenBucket, HoldsAtLeastOneTokenAndTakesBackAToken) {
  TokenBucket b;
  EXPECT_TRUE(b.take(0.1, 0.5, 0));  // burst below 1 still lets one message through
  EXPECT_FALSE(b.take(0.1, 0.5, kSecond));
  b.give_back();
  EXPECT_TRUE(b.take(0.1, 0.5, kSecond));
}

TEST(TokenBucket, AClockGoingBackwardsAddsNothing) {
  TokenBucket b;
  ASSERT_TRUE(b.take(1, 1, 5 * kSecond));
  EXPECT_FALSE(b.take(1, 1, 4 * kSecond));
  EXPECT_FALSE(b.take(1, 1, 5 * kSecond));
  EXPECT_TRUE(b.take(1, 1, 6 * kSecond));
}

TEST(TenantLimits, WhatIsSetIsReadBack) {
  TenantLimits t;
  EXPECT_EQ(t.get(), Limits{});
  Limits l{3, 1.5, 100, 1 << 20, 0.25};
  t.set(l);
  EXPECT_EQ(t.get(), l);
  EXPECT_EQ(t.devices(), 3u);
  EXPECT_DOUBLE_EQ(t.rest_rate(), 0.25);
  EXPECT_FALSE(t.over_storage());
  t.set_over_storage(true);
  EXPECT_TRUE(t.over_storage());
}

TEST(TenantLimits, NamesAndRates) {
  EXPECT_STREQ(limit_name(LimitKind::kDeviceRate), "device_messages_per_second");
  EXPECT_STREQ(limit_name(LimitKind::kStoredBytes), "stored_bytes");
  EXPECT_EQ(format_rate(10), "10");
  EXPECT_EQ(format_rate(0.5), "0.5");
}

}  // namespace
}  // namespace c8y::common

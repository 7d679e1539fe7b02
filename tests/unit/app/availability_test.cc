#include "plugin/app/availability.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <utility>
#include <vector>

namespace c8y::app {

// Readable keys in failure messages (found by argument-dependent lookup).
void PrintTo(const AvailabilityMonitor::Key& k, std::ostream* os) {
  *os << "{space=" << k.space << ", device=" << k.device << "}";
}

namespace {

using Key = AvailabilityMonitor::Key;

// Distinct addresses standing in for tenant spaces.
const int kSpaceA = 0;
const int kSpaceB = 0;

Key key(uint64_t device, const void* space = &kSpaceA) {
  return Key{space, device};
}

std::vector<Key> keys(std::initializer_list<Key> l) {
  return std::vector<Key>(l);
}

TEST(Availability, UnknownDeviceIsNotKnown) {
  AvailabilityMonitor m;
  EXPECT_FALSE(m.knows(key(1)));
  EXPECT_EQ(m.heap_size(), 0u);
  EXPECT_TRUE(m.due(INT64_MAX).empty());
}

TEST(Availability, DeviceWithoutIntervalIsNeverDue) {
  AvailabilityMonitor m;
  auto r = m.on_data(key(1), 1'000, std::nullopt);
  EXPECT_FALSE(r.was_unavailable);
  EXPECT_TRUE(r.write_last_message);
  EXPECT_TRUE(m.knows(key(1)));
  EXPECT_EQ(m.heap_size(), 0u);
  for (int64_t t : std::initializer_list<int64_t>{1'000, 1'001, 1'000'000, INT64_MAX})
    EXPECT_TRUE(m.due(t).empty()) << t;
}

TEST(Availability, ZeroOrNegativeIntervalIsNeverDue) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 0);
  m.on_data(key(2), 0, -5'000);
  EXPECT_EQ(m.heap_size(), 0u);
  EXPECT_TRUE(m.due(1'000'000'000).empty());
}

TEST(Availability, DueAtExactlyLastDataPlusInterval) {
  AvailabilityMonitor m;
  m.on_data(key(1), 5'000, 1'000);
  EXPECT_EQ(m.heap_size(), 1u);
  EXPECT_TRUE(m.due(5'000).empty());
  EXPECT_TRUE(m.due(5'999).empty());
  EXPECT_EQ(m.heap_size(), 1u);
  EXPECT_EQ(m.due(6'000), keys({key(1)}));
}

TEST(Availability, ReportedLateWhenCheckedAfterDeadline) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  EXPECT_EQ(m.due(50'000), keys({key(1)}));
}

TEST(Availability, ReportedOnceOnly) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  EXPECT_EQ(m.due(1'000), keys({key(1)}));
  EXPECT_EQ(m.heap_size(), 0u);
  EXPECT_TRUE(m.due(1'000).empty());
  EXPECT_TRUE(m.due(1'001).empty());
  EXPECT_TRUE(m.due(2'000).empty());
  EXPECT_TRUE(m.due(1'000'000).empty());
  EXPECT_TRUE(m.knows(key(1)));
}

TEST(Availability, DataBeforeDeadlinePushesItBack) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.on_data(key(1), 900, std::nullopt);  // the interval is kept
  EXPECT_TRUE(m.due(1'000).empty());     // old deadline: heard from since
  EXPECT_EQ(m.heap_size(), 1u);          // re-queued with the new deadline
  EXPECT_TRUE(m.due(1'899).empty());
  EXPECT_EQ(m.due(1'900), keys({key(1)}));
}

TEST(Availability, DataAtExactDeadlineBeforeCheckKeepsDeviceAvailable) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.on_data(key(1), 1'000, 1'000);
  EXPECT_TRUE(m.due(1'000).empty());
  EXPECT_TRUE(m.due(1'999).empty());
  EXPECT_EQ(m.due(2'000), keys({key(1)}));
}

TEST(Availability, HeapDoesNotGrowPerMessage) {
  AvailabilityMonitor m;
  for (int64_t i = 0; i < 10'000; ++i) {
    m.on_data(key(1), i * 10, 1'000);
    ASSERT_EQ(m.heap_size(), 1u) << i;
  }
  // Last data at 99'990: checks in between only move the entry, never report.
  for (int64_t t = 1'000; t < 100'990; t += 1'000) {
    EXPECT_TRUE(m.due(t).empty()) << t;
    EXPECT_LE(m.heap_size(), 1u) << t;
  }
  EXPECT_TRUE(m.due(100'989).empty());
  EXPECT_EQ(m.due(100'990), keys({key(1)}));
  EXPECT_EQ(m.heap_size(), 0u);
}

TEST(Availability, DataAfterReportClearsUnavailableAndWrites) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  ASSERT_EQ(m.due(1'000), keys({key(1)}));
  // Within the lastMessage throttle window, but the device came back: write anyway.
  auto r = m.on_data(key(1), 1'500, std::nullopt);
  EXPECT_TRUE(r.was_unavailable);
  EXPECT_TRUE(r.write_last_message);
  // Only the first data after the report says so.
  r = m.on_data(key(1), 1'600, std::nullopt);
  EXPECT_FALSE(r.was_unavailable);
  EXPECT_FALSE(r.write_last_message);
}

TEST(Availability, DeviceBecomesDueAgainAfterComingBack) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  ASSERT_EQ(m.due(1'000), keys({key(1)}));
  m.on_data(key(1), 5'000, std::nullopt);
  EXPECT_EQ(m.heap_size(), 1u);
  EXPECT_TRUE(m.due(5'999).empty());
  EXPECT_EQ(m.due(6'000), keys({key(1)}));
  EXPECT_TRUE(m.due(7'000).empty());
  // And a third time.
  EXPECT_TRUE(m.on_data(key(1), 10'000, std::nullopt).was_unavailable);
  EXPECT_EQ(m.due(11'000), keys({key(1)}));
}

TEST(Availability, NulloptOnDataKeepsKnownInterval) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.on_data(key(1), 100, std::nullopt);
  EXPECT_EQ(m.due(1'100), keys({key(1)}));
}

TEST(Availability, ZeroIntervalOnDataStopsMonitoring) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.on_data(key(1), 100, 0);
  EXPECT_TRUE(m.due(1'000'000).empty());
  EXPECT_EQ(m.heap_size(), 0u);  // the stale entry was dropped
}

TEST(Availability, SetIntervalShortenMakesDueEarlier) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 10'000);
  m.set_interval(key(1), 1'000);  // counts from the last data at 0
  EXPECT_TRUE(m.due(999).empty());
  EXPECT_EQ(m.due(1'000), keys({key(1)}));
  EXPECT_TRUE(m.due(10'000).empty());  // not reported again at the old deadline
}

TEST(Availability, OnDataWithShorterIntervalMakesDueEarlier) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 10'000);
  m.on_data(key(1), 100, 1'000);  // new interval arrives with the data
  EXPECT_TRUE(m.due(1'099).empty());
  EXPECT_EQ(m.due(1'100), keys({key(1)}));
}

TEST(Availability, SetIntervalShortenToAlreadyPassedDeadline) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 10'000);
  EXPECT_TRUE(m.due(5'000).empty());
  m.set_interval(key(1), 1'000);  // deadline 1'000 is already past
  EXPECT_EQ(m.due(5'000), keys({key(1)}));
}

TEST(Availability, SetIntervalRemoveMeansNeverDue) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.set_interval(key(1), std::nullopt);
  EXPECT_TRUE(m.due(1'000).empty());
  EXPECT_TRUE(m.due(1'000'000).empty());
  EXPECT_EQ(m.heap_size(), 0u);
  EXPECT_TRUE(m.knows(key(1)));
  // Data keeps arriving with no interval: still never due.
  m.on_data(key(1), 2'000'000, std::nullopt);
  EXPECT_TRUE(m.due(INT64_MAX).empty());
}

TEST(Availability, SetIntervalZeroOrNegativeRemoves) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.on_data(key(2), 0, 1'000);
  m.set_interval(key(1), 0);
  m.set_interval(key(2), -1);
  EXPECT_TRUE(m.due(1'000'000).empty());
}

TEST(Availability, SetIntervalLengthen) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.set_interval(key(1), 5'000);
  EXPECT_TRUE(m.due(1'000).empty());
  EXPECT_TRUE(m.due(4'999).empty());
  EXPECT_EQ(m.heap_size(), 1u);
  EXPECT_EQ(m.due(5'000), keys({key(1)}));
}

TEST(Availability, SetIntervalAddsMonitoringToKnownDevice) {
  AvailabilityMonitor m;
  m.on_data(key(1), 300, std::nullopt);
  EXPECT_EQ(m.heap_size(), 0u);
  m.set_interval(key(1), 1'000);  // counts from the last data at 300
  EXPECT_EQ(m.heap_size(), 1u);
  EXPECT_TRUE(m.due(1'299).empty());
  EXPECT_EQ(m.due(1'300), keys({key(1)}));
}

TEST(Availability, SetIntervalRemoveThenRestore) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.set_interval(key(1), std::nullopt);
  EXPECT_TRUE(m.due(2'000).empty());
  m.set_interval(key(1), 3'000);
  EXPECT_TRUE(m.due(2'999).empty());
  EXPECT_EQ(m.due(3'000), keys({key(1)}));
}

TEST(Availability, SetIntervalOnReportedDeviceDoesNotReportAgain) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  ASSERT_EQ(m.due(1'000), keys({key(1)}));
  m.set_interval(key(1), 500);
  EXPECT_TRUE(m.due(100'000).empty());
  EXPECT_TRUE(m.on_data(key(1), 200'000, std::nullopt).was_unavailable);
  EXPECT_EQ(m.due(200'500), keys({key(1)}));  // the new interval applies
}

TEST(Availability, SetIntervalOnUnknownDeviceDoesNothing) {
  AvailabilityMonitor m;
  m.set_interval(key(1), 1'000);
  EXPECT_FALSE(m.knows(key(1)));
  EXPECT_EQ(m.heap_size(), 0u);
  EXPECT_TRUE(m.due(INT64_MAX).empty());
  // The interval was not remembered for the device's first data.
  m.on_data(key(1), 0, std::nullopt);
  EXPECT_EQ(m.heap_size(), 0u);
  EXPECT_TRUE(m.due(1'000'000).empty());
}

TEST(Availability, WriteLastMessageThrottle) {
  AvailabilityMonitor m;
  ASSERT_EQ(m.write_every_ms, 60'000);
  EXPECT_TRUE(m.on_data(key(1), 0, std::nullopt).write_last_message);
  EXPECT_FALSE(m.on_data(key(1), 1, std::nullopt).write_last_message);
  EXPECT_FALSE(m.on_data(key(1), 59'999, std::nullopt).write_last_message);
  EXPECT_TRUE(m.on_data(key(1), 60'000, std::nullopt).write_last_message);  // boundary
  EXPECT_FALSE(m.on_data(key(1), 60'001, std::nullopt).write_last_message);
  EXPECT_FALSE(m.on_data(key(1), 119'999, std::nullopt).write_last_message);
  EXPECT_TRUE(m.on_data(key(1), 120'000, std::nullopt).write_last_message);
  // Measured from the last write, not from the last data.
  EXPECT_FALSE(m.on_data(key(1), 150'000, std::nullopt).write_last_message);
  EXPECT_TRUE(m.on_data(key(1), 500'000, std::nullopt).write_last_message);
  EXPECT_FALSE(m.on_data(key(1), 559'999, std::nullopt).write_last_message);
  EXPECT_TRUE(m.on_data(key(1), 560'000, std::nullopt).write_last_message);
}

TEST(Availability, WriteLastMessageFirstCallAtAnyTime) {
  for (int64_t t : std::initializer_list<int64_t>{INT64_MIN + 1, -1'000'000, 0, 123, INT64_MAX}) {
    AvailabilityMonitor m;
    EXPECT_TRUE(m.on_data(key(1), t, std::nullopt).write_last_message) << t;
  }
}

TEST(Availability, WriteLastMessageThrottleIsPerDevice) {
  AvailabilityMonitor m;
  EXPECT_TRUE(m.on_data(key(1), 0, std::nullopt).write_last_message);
  EXPECT_TRUE(m.on_data(key(2), 10, std::nullopt).write_last_message);
  EXPECT_TRUE(m.on_data(key(1, &kSpaceB), 20, std::nullopt).write_last_message);
  EXPECT_FALSE(m.on_data(key(1), 30, std::nullopt).write_last_message);
  EXPECT_FALSE(m.on_data(key(2), 40, std::nullopt).write_last_message);
  EXPECT_TRUE(m.on_data(key(1), 60'000, std::nullopt).write_last_message);
  EXPECT_FALSE(m.on_data(key(2), 60'009, std::nullopt).write_last_message);
  EXPECT_TRUE(m.on_data(key(2), 60'010, std::nullopt).write_last_message);
}

TEST(Availability, WriteEveryCustom) {
  AvailabilityMonitor m;
  m.write_every_ms = 0;
  for (int64_t t = 0; t < 5; ++t)
    EXPECT_TRUE(m.on_data(key(1), t, std::nullopt).write_last_message);
  m.write_every_ms = 10;
  EXPECT_FALSE(m.on_data(key(1), 13, std::nullopt).write_last_message);
  EXPECT_TRUE(m.on_data(key(1), 14, std::nullopt).write_last_message);
}

TEST(Availability, ManyDevicesComeOutInDeadlineOrder) {
  AvailabilityMonitor m;
  // deadline_i = 1'000 + 100 * p_i + 7 * i with p_i a permutation of 0..49: all distinct.
  std::vector<std::pair<int64_t, Key>> expected;
  for (uint64_t i = 0; i < 50; ++i) {
    const int64_t sent = static_cast<int64_t>(i) * 7;
    const int64_t interval = 1'000 + static_cast<int64_t>((i * 37) % 50) * 100;
    m.on_data(key(i), sent, interval);
    expected.push_back({sent + interval, key(i)});
  }
  // Unmonitored devices mixed in.
  for (uint64_t i = 100; i < 110; ++i) m.on_data(key(i), 0, std::nullopt);
  std::sort(expected.begin(), expected.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  EXPECT_EQ(m.heap_size(), 50u);

  size_t next = 0;
  for (int64_t now : std::initializer_list<int64_t>{500, 1'000, 1'500, 2'222, 3'000, 4'000, 5'000,
                                                    6'000, 7'000}) {
    std::vector<Key> want;
    while (next < expected.size() && expected[next].first <= now)
      want.push_back(expected[next++].second);
    EXPECT_EQ(m.due(now), want) << now;
    EXPECT_EQ(m.heap_size(), expected.size() - next) << now;
  }
  EXPECT_EQ(next, expected.size());
  EXPECT_TRUE(m.due(INT64_MAX).empty());
}

TEST(Availability, OnlyDueDevicesAreReported) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.on_data(key(2), 0, 2'000);
  m.on_data(key(3), 0, 3'000);
  m.on_data(key(4), 0, std::nullopt);
  m.on_data(key(2), 1'500, std::nullopt);  // key 2 now due at 3'500
  EXPECT_EQ(m.due(2'000), keys({key(1)}));
  EXPECT_EQ(m.due(3'000), keys({key(3)}));
  EXPECT_EQ(m.due(3'499), keys({}));
  EXPECT_EQ(m.due(3'500), keys({key(2)}));
  EXPECT_EQ(m.heap_size(), 0u);
}

TEST(Availability, ForgetStopsReports) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.on_data(key(2), 0, 1'000);
  m.forget(key(1));
  EXPECT_FALSE(m.knows(key(1)));
  EXPECT_TRUE(m.knows(key(2)));
  EXPECT_EQ(m.due(1'000), keys({key(2)}));
  EXPECT_EQ(m.heap_size(), 0u);  // the forgotten device's entry was dropped
  EXPECT_TRUE(m.due(1'000'000).empty());
}

TEST(Availability, ForgetUnknownDeviceIsHarmless) {
  AvailabilityMonitor m;
  m.forget(key(1));
  m.on_data(key(2), 0, 1'000);
  m.forget(key(1));
  EXPECT_EQ(m.due(1'000), keys({key(2)}));
}

TEST(Availability, ForgetThenDataStartsFresh) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  ASSERT_EQ(m.due(1'000), keys({key(1)}));
  m.forget(key(1));
  auto r = m.on_data(key(1), 2'000, std::nullopt);
  EXPECT_FALSE(r.was_unavailable);  // the report was forgotten too
  EXPECT_TRUE(r.write_last_message);
  EXPECT_TRUE(m.due(1'000'000).empty());  // and so was the interval
}

TEST(Availability, ForgetThenDataBeforeStaleEntryPopsReportsOnce) {
  AvailabilityMonitor m;
  m.on_data(key(1), 0, 1'000);
  m.forget(key(1));
  m.on_data(key(1), 500, 1'000);
  EXPECT_TRUE(m.due(1'000).empty());
  EXPECT_EQ(m.due(1'500), keys({key(1)}));
  EXPECT_TRUE(m.due(10'000).empty());
}

// Stale heap entries left by forget() must not stay alive once the device is heard from again:
// after the old deadlines pass, one entry per monitored device.
TEST(Availability, ForgetThenDataDoesNotKeepDuplicateHeapEntries) {
  AvailabilityMonitor m;
  for (int i = 0; i < 100; ++i) {
    m.on_data(key(1), 0, 1'000);
    m.forget(key(1));
  }
  m.on_data(key(1), 0, 1'000);
  for (int64_t t = 500; t <= 5'000; t += 500) {
    m.on_data(key(1), t, std::nullopt);  // the device keeps sending
    EXPECT_TRUE(m.due(t).empty()) << t;
  }
  EXPECT_EQ(m.heap_size(), 1u);
}

TEST(Availability, SameDeviceIdDifferentSpacesAreDistinct) {
  AvailabilityMonitor m;
  const Key a = key(7, &kSpaceA);
  const Key b = key(7, &kSpaceB);
  const Key n = key(7, nullptr);
  ASSERT_FALSE(a == b);
  m.on_data(a, 0, 1'000);
  EXPECT_TRUE(m.knows(a));
  EXPECT_FALSE(m.knows(b));
  EXPECT_FALSE(m.knows(n));
  m.on_data(b, 0, 2'000);
  m.on_data(n, 0, std::nullopt);
  EXPECT_EQ(m.heap_size(), 2u);
  EXPECT_EQ(m.due(1'000), keys({a}));
  EXPECT_TRUE(m.on_data(a, 1'200, std::nullopt).was_unavailable);
  EXPECT_FALSE(m.on_data(b, 1'200, std::nullopt).was_unavailable);
  m.set_interval(b, std::nullopt);  // only b loses its interval
  m.forget(a);
  EXPECT_FALSE(m.knows(a));
  EXPECT_TRUE(m.knows(b));
  EXPECT_TRUE(m.knows(n));
  EXPECT_TRUE(m.due(1'000'000).empty());
}

TEST(Availability, CheckCostGrowsWithDueDevicesOnly) {
  AvailabilityMonitor m;
  constexpr uint64_t kDevices = 100'000;
  std::vector<Key> want;
  for (uint64_t i = 0; i < kDevices; ++i) {
    const bool soon = i % 10'000 == 0;  // 10 devices
    // The due ones send at 0, 10, ..., 90: deadlines 1'000 .. 1'090, in key order.
    const int64_t sent = static_cast<int64_t>(soon ? i / 1'000 : i % 100);
    m.on_data(key(i), sent, soon ? 1'000 : 1'000'000);
    if (soon) want.push_back(key(i));
  }
  ASSERT_EQ(want.size(), 10u);
  ASSERT_EQ(m.heap_size(), kDevices);
  EXPECT_TRUE(m.due(999).empty());
  EXPECT_EQ(m.heap_size(), kDevices);  // nothing popped before the first deadline
  auto got = m.due(1'100);
  EXPECT_EQ(got, want);
  EXPECT_EQ(m.heap_size(), kDevices - 10);  // only the 10 due entries were popped
  EXPECT_TRUE(m.due(999'999).empty());
  EXPECT_EQ(m.heap_size(), kDevices - 10);
}

TEST(Availability, CheckCostWithDevicesHeardFromSince) {
  AvailabilityMonitor m;
  // 1'000 devices with a short interval keep sending; 10 go quiet.
  for (uint64_t i = 0; i < 1'000; ++i) m.on_data(key(i), 0, 1'000);
  for (uint64_t i = 1'000; i < 100'000; ++i) m.on_data(key(i), 0, 1'000'000);
  for (uint64_t i = 10; i < 1'000; ++i) m.on_data(key(i), 900, std::nullopt);
  ASSERT_EQ(m.heap_size(), 100'000u);
  std::vector<Key> got = m.due(1'000);
  std::vector<Key> want;
  for (uint64_t i = 0; i < 10; ++i) want.push_back(key(i));
  std::sort(got.begin(), got.end(), [](const Key& a, const Key& b) { return a.device < b.device; });
  EXPECT_EQ(got, want);
  // 990 entries moved to their new deadline, 10 reported: the rest untouched.
  EXPECT_EQ(m.heap_size(), 100'000u - 10);
  EXPECT_TRUE(m.due(1'899).empty());
  EXPECT_EQ(m.due(1'900).size(), 990u);
  EXPECT_EQ(m.heap_size(), 99'000u);
}

}  // namespace
}  // namespace c8y::app

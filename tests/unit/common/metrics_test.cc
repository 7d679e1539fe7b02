// The metrics primitives and the Prometheus text they are written as.
#include "plugin/common/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace c8y::common {
namespace {

TEST(Metrics, CountersAndGauges) {
  OwnedCounter owned;
  owned.add();
  owned.add(41);
  EXPECT_EQ(owned.get(), 42u);
  Counter shared;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) shared.add();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(shared.get(), 40000u);  // any thread may add: nothing is lost
  Gauge g;
  g.add(3);
  g.add(-5);
  EXPECT_EQ(g.get(), -2);
  g.set(7);
  EXPECT_EQ(g.get(), 7);
}

TEST(Metrics, HistogramBucketsAndSum) {
  Histogram h;
  h.observe(0.0001);  // first bucket (<= 0.0005)
  h.observe(0.0005);  // bounds are inclusive: still the first
  h.observe(0.003);   // <= 0.005
  h.observe(2.0);     // over every bound: +Inf
  h.observe(-1.0);    // a clock step: counted as 0
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.bucket(0), 3u);
  EXPECT_EQ(h.bucket(3), 1u);
  EXPECT_EQ(h.bucket(Histogram::kBounds.size()), 1u);
  EXPECT_NEAR(h.sum_seconds(), 2.0036, 1e-9);
}

TEST(Metrics, TextFormat) {
  MetricsText t;
  t.family("x_total", "counter", "Things.\nwith \\ a newline");
  t.sample("x_total", {{"tenant", "t1"}, {"kind", "a\"b\\c\nd"}}, uint64_t{5});
  t.sample("x_total", {}, int64_t{-3});
  t.sample("y_seconds", {{"le", "x"}}, 0.25);
  EXPECT_EQ(t.take(),
            "# HELP x_total Things.\\nwith \\\\ a newline\n"
            "# TYPE x_total counter\n"
            "x_total{tenant=\"t1\",kind=\"a\\\"b\\\\c\\nd\"} 5\n"
            "x_total -3\n"
            "y_seconds{le=\"x\"} 0.25\n");
}

TEST(Metrics, HistogramTextIsCumulativeWithInfCountAndSum) {
  Histogram h;
  h.observe(0.0001);
  h.observe(0.02);
  h.observe(5);
  MetricsText t;
  t.histogram("d_seconds", {{"code", "2xx"}}, h);
  const std::string text = t.take();
  EXPECT_NE(text.find("d_seconds_bucket{code=\"2xx\",le=\"0.0005\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("d_seconds_bucket{code=\"2xx\",le=\"0.01\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_bucket{code=\"2xx\",le=\"0.025\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_bucket{code=\"2xx\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_bucket{code=\"2xx\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_count{code=\"2xx\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_sum{code=\"2xx\"} 5.0201\n"), std::string::npos) << text;
}

TEST(Metrics, OperationStatusesAndNames) {
  TenantMetrics m;
  m.operation_reached("PENDING");
  m.operation_reached("SUCCESSFUL");
  m.operation_reached("SUCCESSFUL");
  m.operation_reached("bogus");
  EXPECT_EQ(m.operations[0].get(), 1u);
  EXPECT_EQ(m.operations[1].get(), 0u);
  EXPECT_EQ(m.operations[2].get(), 2u);
  EXPECT_EQ(m.operations[3].get(), 0u);
  m.receive(MessageKind::kAlarm);
  EXPECT_EQ(m.received[static_cast<size_t>(MessageKind::kAlarm)].get(), 1u);
  m.refuse(RefusalReason::kBackoff);
  EXPECT_EQ(m.connections_refused[static_cast<size_t>(RefusalReason::kBackoff)].get(), 1u);
  EXPECT_STREQ(kind_name(MessageKind::kMeasurement), "measurement");
  EXPECT_STREQ(kind_name(MessageKind::kOther), "other");
  EXPECT_STREQ(reason_name(RefusalReason::kBadCredentials), "bad_credentials");
  EXPECT_STREQ(reason_name(RefusalReason::kClientId), "client_id");
}

}  // namespace
}  // namespace c8y::common

// Measurements::series (GET /measurement/measurements/series) against a real Store.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "plugin/domain/measurement.h"
#include "plugin/domain/tenant_space.h"
#include "storage/keys.h"
#include "tests/unit/temp_dir.h"

namespace c8y::domain {
namespace {

constexpr uint64_t kA = 1003, kB = 2003;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z, an hour (and day) boundary

class MeasurementSeries : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    const storage::Family* f = nullptr;
    ASSERT_TRUE(store_->create_tenant("t1", &f).ok());
    space_ = std::make_unique<TenantSpace>(*store_, "t1", f, 3);
    ms_ = std::make_unique<Measurements>(*store_, *space_);
  }

  void put(uint64_t source, int64_t t, std::initializer_list<Series> series) {
    Measurement m;
    m.source = source;
    m.time_ms = t;
    m.type = "c8y_Test";
    for (const auto& s : series) m.add() = s;
    ASSERT_TRUE(ms_->store(m).ok());
  }

  SeriesResult run(const SeriesQuery& q) {
    SeriesResult r;
    auto st = ms_->series(q, &r);
    EXPECT_TRUE(st.ok()) << st.message;
    return r;
  }

  // Cached hourly rollups of `source` ("h" keys with a value; "" is a voided one).
  size_t rollups(uint64_t source) {
    EXPECT_TRUE(store_->settle().ok());
    std::string prefix = "h";
    storage::append_u64(prefix, source);
    size_t n = 0;
    EXPECT_TRUE(store_
                    ->scan(space_->family, prefix, "", false,
                           [&](std::string_view, std::string_view v) {
                             n += !v.empty();
                             return true;
                           })
                    .ok());
    return n;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<TenantSpace> space_;
  std::unique_ptr<Measurements> ms_;
};

TEST_F(MeasurementSeries, ParsesAggregationAndSeriesKeys) {
  EXPECT_EQ(parse_aggregation("HOURLY"), Aggregation::kHourly);
  EXPECT_EQ(parse_aggregation("DAILY"), Aggregation::kDaily);
  EXPECT_EQ(parse_aggregation("MINUTELY"), Aggregation::kMinutely);
  EXPECT_FALSE(parse_aggregation("hourly"));
  EXPECT_FALSE(parse_aggregation("WEEKLY"));
  auto k = parse_series_key("c8y_Temperature.T");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->fragment, "c8y_Temperature");
  EXPECT_EQ(k->series, "T");
  auto dotted = parse_series_key("f.a.b");  // split at the first dot
  ASSERT_TRUE(dotted);
  EXPECT_EQ(dotted->series, "a.b");
  EXPECT_FALSE(parse_series_key("noDot"));
  EXPECT_FALSE(parse_series_key(".T"));
  EXPECT_FALSE(parse_series_key("c8y_Temperature."));
}

TEST_F(MeasurementSeries, WithoutAggregationOneRowPerTimeWithNullsForMissingSeries) {
  put(kA, kT0, {{"c8y_Temperature", "T", 20, "C"}, {"c8y_Humidity", "h", 40, "%"}});
  put(kA, kT0 + 1000, {{"c8y_Temperature", "T", 21.5, "C"}});
  put(kA, kT0 + 2000, {{"other", "x", 7, ""}});
  put(kB, kT0 + 1000, {{"c8y_Temperature", "T", 99, "C"}});  // another source

  SeriesQuery q;
  q.source = kA;
  q.wanted = {{"c8y_Temperature", "T"}, {"c8y_Humidity", "h"}};
  auto r = run(q);
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_EQ(r.columns[0].unit, "C");
  EXPECT_EQ(r.columns[1].unit, "%");
  ASSERT_EQ(r.rows.size(), 2u);  // the third measurement has neither series
  EXPECT_EQ(r.rows[0].time_ms, kT0);
  EXPECT_EQ(r.rows[1].time_ms, kT0 + 1000);
  EXPECT_FALSE(r.truncated);

  auto j = series_json(r);
  EXPECT_EQ(j["series"][0],
            (nlohmann::json{{"unit", "C"}, {"name", "T"}, {"type", "c8y_Temperature"}}));
  EXPECT_EQ(j["series"][1]["type"], "c8y_Humidity");
  const auto& v0 = j["values"]["2026-01-01T00:00:00.000Z"];
  EXPECT_EQ(v0[0], (nlohmann::json{{"min", 20.0}, {"max", 20.0}}));
  EXPECT_EQ(v0[1], (nlohmann::json{{"min", 40.0}, {"max", 40.0}}));
  const auto& v1 = j["values"]["2026-01-01T00:00:01.000Z"];
  ASSERT_EQ(v1.size(), 2u);
  EXPECT_EQ(v1[0]["max"], 21.5);
  EXPECT_TRUE(v1[1].is_null());
  EXPECT_EQ(j["truncated"], false);
}

TEST_F(MeasurementSeries, NoSeriesParameterMeansEverySeriesSorted) {
  put(kA, kT0, {{"zeta", "z", 1, "u"}});
  put(kA, kT0 + 1, {{"alpha", "b", 2, ""}, {"alpha", "a", 3, "m"}});
  SeriesQuery q;
  q.source = kA;
  auto r = run(q);
  ASSERT_EQ(r.columns.size(), 3u);
  EXPECT_EQ(r.columns[0].key.fragment + "." + r.columns[0].key.series, "alpha.a");
  EXPECT_EQ(r.columns[1].key.fragment + "." + r.columns[1].key.series, "alpha.b");
  EXPECT_EQ(r.columns[2].key.fragment + "." + r.columns[2].key.series, "zeta.z");
  auto j = series_json(r);
  // Slots follow the sorted columns, whatever order the series were found in.
  const auto& first = j["values"]["2026-01-01T00:00:00.000Z"];
  EXPECT_TRUE(first[0].is_null());
  EXPECT_TRUE(first[1].is_null());
  EXPECT_EQ(first[2]["min"], 1.0);
  const auto& second = j["values"]["2026-01-01T00:00:00.001Z"];
  EXPECT_EQ(second[0]["min"], 3.0);
  EXPECT_EQ(second[1]["min"], 2.0);
  EXPECT_TRUE(second[2].is_null());
}

TEST_F(MeasurementSeries, HourlyBucketsHoldMinAndMaxWithinTheDateRange) {
  // Three hours of values 0..179 every minute; value = minute index.
  for (int i = 0; i < 180; ++i)
    put(kA, kT0 + i * 60'000, {{"c8y_Temperature", "T", double(i), "C"}});
  SeriesQuery q;
  q.source = kA;
  q.aggregation = Aggregation::kHourly;
  q.date_from = kT0 + 30 * 60'000;  // from minute 30 of the first hour
  q.date_to = kT0 + 2 * kHour;      // exclusive: the third hour is out
  auto r = run(q);
  ASSERT_EQ(r.columns.size(), 1u);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].time_ms, kT0);
  EXPECT_EQ(r.rows[0].slots[0].min, 30);
  EXPECT_EQ(r.rows[0].slots[0].max, 59);
  EXPECT_EQ(r.rows[1].time_ms, kT0 + kHour);
  EXPECT_EQ(r.rows[1].slots[0].min, 60);
  EXPECT_EQ(r.rows[1].slots[0].max, 119);

  q.aggregation = Aggregation::kDaily;
  q.date_from = INT64_MIN;
  q.date_to = INT64_MAX;
  r = run(q);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].slots[0].min, 0);
  EXPECT_EQ(r.rows[0].slots[0].max, 179);

  q.aggregation = Aggregation::kMinutely;
  r = run(q);
  EXPECT_EQ(r.rows.size(), 180u);
}

TEST_F(MeasurementSeries, BucketsBeforeNineteenSeventyStartAtTheHourBelow) {
  put(kA, -1, {{"f", "s", 5, ""}});  // 1969-12-31T23:59:59.999Z
  SeriesQuery q;
  q.source = kA;
  q.aggregation = Aggregation::kHourly;
  auto r = run(q);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].time_ms, -kHour);
}

TEST_F(MeasurementSeries, TruncatesAtMaxValues) {
  for (int i = 0; i < 10; ++i) put(kA, kT0 + i, {{"f", "s", double(i), ""}});
  SeriesQuery q;
  q.source = kA;
  q.max_values = 4;
  auto r = run(q);
  EXPECT_TRUE(r.truncated);
  ASSERT_EQ(r.rows.size(), 4u);
  EXPECT_EQ(r.rows.back().time_ms, kT0 + 3);
  q.max_values = 10;  // exactly all of them: not truncated
  r = run(q);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.rows.size(), 10u);
}

TEST_F(MeasurementSeries, UnknownSourceOrSeriesGivesNoValues) {
  put(kA, kT0, {{"f", "s", 1, ""}});
  SeriesQuery q;
  q.source = kB;
  auto r = run(q);
  EXPECT_TRUE(r.columns.empty());
  EXPECT_TRUE(r.rows.empty());
  q.source = kA;
  q.wanted = {{"f", "nope"}};
  r = run(q);
  ASSERT_EQ(r.columns.size(), 1u);  // asked for, so listed, without values
  EXPECT_EQ(r.columns[0].unit, "");
  EXPECT_TRUE(r.rows.empty());
}

// Hourly rollups: the first HOURLY/DAILY query caches every full closed hour it scanned; later
// queries read them and must answer exactly what a scan would.
TEST_F(MeasurementSeries, RollupsAreCachedAndGiveTheSameAnswer) {
  for (int i = 0; i < 180; ++i)
    put(kA, kT0 + i * 60'000,
        {{"c8y_Temperature", "T", double(i), "C"}, {"h", "h", -double(i), "%"}});
  SeriesQuery q;
  q.source = kA;
  q.aggregation = Aggregation::kHourly;
  q.wanted = {{"c8y_Temperature", "T"}};
  q.date_from = kT0 - kHour;
  q.date_to = kT0 + 3 * kHour;
  EXPECT_EQ(rollups(kA), 0u);
  auto first = series_json(run(q));
  EXPECT_EQ(rollups(kA), 3u);
  EXPECT_EQ(series_json(run(q)), first);
  // The rollups hold every series, not only the ones the first query asked for.
  q.wanted.clear();
  auto r = run(q);
  ASSERT_EQ(r.columns.size(), 2u);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.columns[0].key.fragment, "c8y_Temperature");
  EXPECT_EQ(r.rows[2].slots[0].max, 179);
  EXPECT_EQ(r.rows[2].slots[1].min, -179);
  EXPECT_EQ(r.columns[1].unit, "%");
  // DAILY is built from the same hours.
  q.aggregation = Aggregation::kDaily;
  r = run(q);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].slots[0].min, 0);
  EXPECT_EQ(r.rows[0].slots[0].max, 179);
  // A range that starts inside an hour: that hour is scanned, not taken from its rollup.
  q.aggregation = Aggregation::kHourly;
  q.date_from = kT0 + 90 * 60'000;
  r = run(q);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].slots[0].min, 90);
  EXPECT_EQ(r.rows[0].slots[0].max, 119);
}

TEST_F(MeasurementSeries, BackfillAndRemoveVoidTheRollupOfTheirHour) {
  for (int i = 0; i < 120; ++i) put(kA, kT0 + i * 60'000, {{"f", "s", double(i), ""}});
  SeriesQuery q;
  q.source = kA;
  q.aggregation = Aggregation::kHourly;
  auto r = run(q);
  ASSERT_EQ(r.rows.size(), 2u);
  ASSERT_EQ(rollups(kA), 2u);
  // A late measurement into the cached second hour.
  Measurement late;
  late.source = kA;
  late.time_ms = kT0 + kHour + 30'000;
  late.type = "t";
  late.add() = {"f", "s", 1000, ""};
  ASSERT_TRUE(ms_->store(late).ok());
  EXPECT_EQ(rollups(kA), 1u);
  r = run(q);
  EXPECT_EQ(r.rows[1].slots[0].max, 1000);
  EXPECT_EQ(rollups(kA), 2u);  // cached again, with it
  size_t budget = 1000;
  ASSERT_TRUE(ms_->remove(kA, late.id, &budget).ok());
  r = run(q);
  EXPECT_EQ(r.rows[1].slots[0].max, 119);
}

TEST_F(MeasurementSeries, TruncatedAnswerCachesOnlyCompleteHours) {
  for (int i = 0; i < 180; ++i) put(kA, kT0 + i * 60'000, {{"f", "s", double(i), ""}});
  SeriesQuery q;
  q.source = kA;
  q.aggregation = Aggregation::kHourly;
  q.max_values = 1;
  auto r = run(q);
  EXPECT_TRUE(r.truncated);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_LE(rollups(kA), 1u);  // at most the first hour, which was scanned completely
  q.max_values = 5000;
  r = run(q);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[1].slots[0].min, 60);
  EXPECT_EQ(r.rows[1].slots[0].max, 119);
  EXPECT_EQ(r.rows[2].slots[0].max, 179);
}

TEST_F(MeasurementSeries, LiveHoursAreNeverCached) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  put(kA, now - 1000, {{"f", "s", 1, ""}});
  put(kA, now - 3 * kHour, {{"f", "s", 2, ""}});
  SeriesQuery q;
  q.source = kA;
  q.aggregation = Aggregation::kHourly;
  q.date_from = now - 4 * kHour;
  q.date_to = now + kHour;
  auto r = run(q);
  EXPECT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(rollups(kA), 1u);               // the hour three hours ago, not the current one
  put(kA, now - 500, {{"f", "s", 7, ""}});  // live data: nothing to void
  r = run(q);
  EXPECT_EQ(r.rows.back().slots[0].max, 7);
}

}  // namespace
}  // namespace c8y::domain

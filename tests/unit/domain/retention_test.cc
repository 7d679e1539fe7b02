// Retention rules and passes against a real Store (two tenants).
#include "plugin/domain/retention.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "plugin/domain/alarms.h"
#include "plugin/domain/events.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/measurement.h"
#include "plugin/domain/operations.h"
#include "storage/keys.h"
#include "tests/unit/temp_dir.h"

namespace c8y::domain {
namespace {

using nlohmann::json;

constexpr uint64_t kA = 900001, kB = 900002;
const int64_t kNow = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
const int64_t kOld = kNow - 40 * kDayMs;    // older than a 30-day rule
const int64_t kRecent = kNow - 2 * kDayMs;  // newer

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    for (const char* t : {"t1", "t2"}) ASSERT_TRUE(store_->create_tenant(t, nullptr).ok());
    spaces_ = std::make_unique<TenantSpaces>(*store_, 4);
    t1_ = spaces_->get("t1");
    t2_ = spaces_->get("t2");
    ASSERT_TRUE(t1_ && t2_);
  }

  void measure(TenantSpace& s, uint64_t src, int64_t t, const std::string& fragment = "c8y_Temp",
               const std::string& type = "c8y_Temp") {
    Measurement m;
    m.source = src;
    m.time_ms = t;
    m.type = type;
    auto& v = m.add();
    v.fragment = fragment;
    v.series = "T";
    v.value = 21.5;
    v.unit = "C";
    ASSERT_TRUE(Measurements(*store_, s).store(m).ok());
  }
  // The measurement times of `src` (settled), oldest first.
  std::vector<int64_t> times(TenantSpace& s, uint64_t src) {
    EXPECT_TRUE(store_->settle().ok());
    std::vector<int64_t> out;
    EXPECT_TRUE(store_
                    ->scan(s.family, storage::key::measurement_prefix(src), "", false,
                           [&](std::string_view k, std::string_view) {
                             out.push_back(storage::time_from_key(storage::read_u64(k, 9)));
                             return true;
                           })
                    .ok());
    return out;
  }
  uint64_t event(TenantSpace& s, uint64_t src, int64_t t, const std::string& type = "ev",
                 const json& fragments = json::object()) {
    json e;
    EXPECT_TRUE(Events(*store_, s).create(src, t, type, "text", fragments, &e).ok());
    return *parse_id(e["id"].get<std::string>());
  }
  uint64_t alarm(TenantSpace& s, uint64_t src, int64_t t, const std::string& type,
                 const std::string& status) {
    Alarms a(*store_, s);
    auto r = a.raise(src, t, type, "MAJOR", "text", json::object());
    EXPECT_TRUE(r.status.ok()) << r.status.message;
    const uint64_t id = *parse_id(r.alarm["id"].get<std::string>());
    if (status != "ACTIVE") {
      auto u = a.update(id, {{"status", status}});
      EXPECT_TRUE(u.status.ok()) << u.status.message;
    }
    return id;
  }
  uint64_t operation(TenantSpace& s, uint64_t dev, int64_t created,
                     const std::vector<std::string>& path) {
    Operations ops(*store_, s);
    json op;
    EXPECT_TRUE(ops.create(dev, {{"c8y_Restart", json::object()}}, created, &op).ok());
    const uint64_t id = *parse_id(op["id"].get<std::string>());
    for (auto& st : path) {
      auto r = ops.update(id, {{"status", st}});
      EXPECT_TRUE(r.status.ok()) << r.status.message;
    }
    return id;
  }
  RetentionRule rule(TenantSpace& s, const json& body) {
    RetentionRule r;
    auto st = RetentionRules(*store_, s).create(body, &r);
    EXPECT_TRUE(st.ok()) << st.message;
    return r;
  }
  RetentionReport run(unsigned default_days = 0) {
    Retention ret(*store_, *spaces_, default_days);
    RetentionReport report;
    auto st = ret.run(kNow, &report);
    EXPECT_TRUE(st.ok()) << st.message;
    return report;
  }
  bool has_key(TenantSpace& s, const std::string& k) {
    std::string v;
    return store_->get(s.family, k, &v).ok();
  }
  static std::string index_key(char tag, uint64_t id) {
    std::string k(1, tag);
    storage::append_u64(k, id);
    return k;
  }

  c8y::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<TenantSpaces> spaces_;
  TenantSpace* t1_ = nullptr;
  TenantSpace* t2_ = nullptr;
};

// ---- rules --------------------------------------------------------------------------------------

TEST(RetentionRuleJson, ValidatesEveryField) {
  auto check = [](const json& body, const std::string& fragment) {
    RetentionRule r;
    auto st = apply_retention_json(body, &r);
    EXPECT_TRUE(st.invalid()) << body.dump();
    EXPECT_NE(st.message.find(fragment), std::string::npos) << st.message;
  };
  check({{"dataType", "AUDIT"}, {"maximumAge", 1}}, "dataType");
  check({{"dataType", 3}, {"maximumAge", 1}}, "dataType");
  check({{"dataType", "EVENT"}}, "maximumAge is mandatory");
  check({{"maximumAge", -1}}, "maximumAge");
  check({{"maximumAge", 1.5}}, "maximumAge");
  check({{"maximumAge", "30"}}, "maximumAge");
  check({{"maximumAge", kMaxRetentionDays + 1}}, "maximumAge");
  check({{"maximumAge", 1}, {"source", "abc"}}, "source");
  check({{"maximumAge", 1}, {"type", 5}}, "type");
  check({{"maximumAge", 1}, {"fragmentType", std::string(200, 'x')}}, "fragmentType");
  check({{"maximumAge", 1}, {"editable", false}}, "editable");
  check(json::array(), "object");

  RetentionRule r;
  ASSERT_TRUE(apply_retention_json({{"dataType", "ALARM"},
                                    {"maximumAge", 0},
                                    {"type", "*"},
                                    {"fragmentType", nullptr},
                                    {"source", "12004"}},
                                   &r)
                  .ok());
  EXPECT_EQ(r.data_type, "ALARM");
  EXPECT_EQ(r.maximum_age, 0);
  EXPECT_EQ(r.type, "");
  EXPECT_EQ(r.source, "12004");
  r.id = 7004;
  EXPECT_EQ(retention_rule_json(r), (json{{"id", "7004"},
                                          {"dataType", "ALARM"},
                                          {"fragmentType", "*"},
                                          {"type", "*"},
                                          {"source", "12004"},
                                          {"maximumAge", 0},
                                          {"editable", true}}));
  EXPECT_FALSE(r.catch_all());
}

TEST_F(RetentionTest, RulesAreStoredPerTenant) {
  RetentionRules rules(*store_, *t1_);
  RetentionRule a = rule(*t1_, {{"dataType", "EVENT"}, {"maximumAge", 30}, {"type", "x"}});
  RetentionRule b = rule(*t1_, {{"maximumAge", 10}});
  EXPECT_NE(a.id, b.id);
  EXPECT_TRUE(b.catch_all());
  std::vector<RetentionRule> all;
  ASSERT_TRUE(rules.list(&all).ok());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].type, "x");
  std::vector<RetentionRule> other;
  ASSERT_TRUE(RetentionRules(*store_, *t2_).list(&other).ok());
  EXPECT_TRUE(other.empty());
  EXPECT_FALSE(RetentionRules(*store_, *t2_).get(a.id));

  RetentionRule u;
  ASSERT_TRUE(rules.update(a.id, {{"maximumAge", 5}}, &u).ok());
  EXPECT_EQ(u.maximum_age, 5);
  EXPECT_EQ(u.type, "x");  // untouched
  EXPECT_EQ(rules.get(a.id)->maximum_age, 5);
  EXPECT_TRUE(rules.update(a.id, {{"dataType", "BULK"}}, &u).invalid());
  EXPECT_EQ(rules.get(a.id)->data_type, "EVENT");
  EXPECT_TRUE(rules.update(123456, {{"maximumAge", 5}}, &u).not_found());
  ASSERT_TRUE(rules.remove(a.id).ok());
  EXPECT_FALSE(rules.get(a.id));
  EXPECT_TRUE(rules.remove(a.id).not_found());
}

// ---- passes -------------------------------------------------------------------------------------

TEST_F(RetentionTest, OldDataOfEveryKindGoesNewerStaysOtherTenantsUntouched) {
  for (TenantSpace* s : {t1_, t2_}) {
    for (int i = 0; i < 50; ++i) measure(*s, kA, kOld + i * 1000);
    measure(*s, kA, kRecent);
    measure(*s, kB, kOld);
  }
  const uint64_t old_ev = event(*t1_, kA, kOld), new_ev = event(*t1_, kA, kRecent);
  const uint64_t t2_ev = event(*t2_, kA, kOld);
  const uint64_t old_al = alarm(*t1_, kA, kOld, "al", "CLEARED");
  const uint64_t old_op = operation(*t1_, kA, kOld, {"EXECUTING", "SUCCESSFUL"});
  const uint64_t new_op = operation(*t1_, kA, kRecent, {"FAILED"});
  rule(*t1_, {{"dataType", "*"}, {"maximumAge", 30}});

  auto report = run();
  EXPECT_EQ(report.removed.measurements, 51u);
  EXPECT_EQ(report.removed.events, 1u);
  EXPECT_EQ(report.removed.alarms, 1u);
  EXPECT_EQ(report.removed.operations, 1u);
  ASSERT_EQ(report.tenants.size(), 1u);
  EXPECT_EQ(report.tenants[0].first, "t1");
  EXPECT_EQ(report.compacted, 1u);
  // Counted for /metrics (c8y_retention_removed_total), for t1 only.
  EXPECT_EQ(t1_->metrics.retention_removed[0].get(), 51u);
  EXPECT_EQ(t1_->metrics.retention_removed[1].get(), 1u);
  EXPECT_EQ(t1_->metrics.retention_removed[2].get(), 1u);
  EXPECT_EQ(t1_->metrics.retention_removed[3].get(), 1u);
  EXPECT_EQ(t2_->metrics.retention_removed[0].get(), 0u);

  EXPECT_EQ(times(*t1_, kA), std::vector<int64_t>{kRecent});
  EXPECT_TRUE(times(*t1_, kB).empty());
  EXPECT_EQ(times(*t2_, kA).size(), 51u);
  EXPECT_EQ(times(*t2_, kB).size(), 1u);
  // The documents and their id index entries are gone together.
  EXPECT_FALSE(Events(*store_, *t1_).get(old_ev));
  EXPECT_FALSE(has_key(*t1_, index_key('E', old_ev)));
  EXPECT_TRUE(Events(*store_, *t1_).get(new_ev));
  EXPECT_TRUE(Events(*store_, *t2_).get(t2_ev));
  EXPECT_FALSE(Alarms(*store_, *t1_).get(old_al));
  EXPECT_FALSE(has_key(*t1_, index_key('A', old_al)));
  EXPECT_FALSE(Operations(*store_, *t1_).get(old_op));
  EXPECT_FALSE(has_key(*t1_, index_key('O', old_op)));
  EXPECT_TRUE(Operations(*store_, *t1_).get(new_op));
  // Queries agree.
  MeasurementQuery q;
  q.page_size = 100;
  std::vector<Measurement> found;
  bool more = false;
  ASSERT_TRUE(Measurements(*store_, *t1_).query(q, &found, &more).ok());
  EXPECT_EQ(found.size(), 1u);

  // A second pass finds nothing more.
  auto again = run();
  EXPECT_EQ(again.removed.total(), 0u);
  EXPECT_EQ(again.compacted, 0u);
}

TEST_F(RetentionTest, OpenAlarmsAndUnfinishedOperationsStayWhateverTheirAge) {
  const uint64_t active = alarm(*t1_, kA, kOld, "a1", "ACTIVE");
  const uint64_t acked = alarm(*t1_, kA, kOld, "a2", "ACKNOWLEDGED");
  const uint64_t cleared = alarm(*t1_, kA, kOld, "a3", "CLEARED");
  const uint64_t pending = operation(*t1_, kA, kOld, {});
  const uint64_t executing = operation(*t1_, kA, kOld, {"EXECUTING"});
  const uint64_t failed = operation(*t1_, kA, kOld, {"FAILED"});
  rule(*t1_, {{"dataType", "ALARM"}, {"maximumAge", 1}});
  rule(*t1_, {{"dataType", "OPERATION"}, {"maximumAge", 1}});

  auto report = run();
  EXPECT_EQ(report.removed.alarms, 1u);
  EXPECT_EQ(report.removed.operations, 1u);
  Alarms al(*store_, *t1_);
  EXPECT_TRUE(al.get(active));
  EXPECT_TRUE(al.get(acked));
  EXPECT_FALSE(al.get(cleared));
  Operations ops(*store_, *t1_);
  EXPECT_TRUE(ops.get(pending));
  EXPECT_TRUE(ops.get(executing));
  EXPECT_FALSE(ops.get(failed));
  // The open alarm still de-duplicates a new raise (its "k" index and the cache are intact).
  auto again = al.raise(kA, kNow, "a1", "MAJOR", "again", json::object());
  ASSERT_TRUE(again.status.ok());
  EXPECT_FALSE(again.created);
}

TEST_F(RetentionTest, TypeFragmentAndSourceFiltersAreRespected) {
  measure(*t1_, kA, kOld, "c8y_Humidity", "hum");
  measure(*t1_, kA, kOld + 1, "c8y_Temp", "temp");
  measure(*t1_, kB, kOld, "c8y_Humidity", "hum");
  const uint64_t ev_x = event(*t1_, kA, kOld, "x");
  const uint64_t ev_y = event(*t1_, kA, kOld, "y");
  const uint64_t ev_frag = event(*t1_, kA, kOld, "y", {{"c8y_Special", {{"a", 1}}}});
  const uint64_t ev_b = event(*t1_, kB, kOld, "x");
  // Measurements of fragment c8y_Humidity, only of source A; events of type x; events carrying
  // c8y_Special.
  rule(*t1_, {{"dataType", "MEASUREMENT"},
              {"fragmentType", "c8y_Humidity"},
              {"source", format_id(kA)},
              {"maximumAge", 30}});
  rule(*t1_, {{"dataType", "EVENT"}, {"type", "x"}, {"source", format_id(kA)}, {"maximumAge", 30}});
  rule(*t1_, {{"dataType", "EVENT"}, {"fragmentType", "c8y_Special"}, {"maximumAge", 30}});

  auto report = run();
  EXPECT_EQ(report.removed.measurements, 1u);
  EXPECT_EQ(report.removed.events, 2u);
  EXPECT_EQ(times(*t1_, kA), std::vector<int64_t>{kOld + 1});  // the temperature stays
  EXPECT_EQ(times(*t1_, kB).size(), 1u);                       // another source
  Events ev(*store_, *t1_);
  EXPECT_FALSE(ev.get(ev_x));
  EXPECT_TRUE(ev.get(ev_y));
  EXPECT_FALSE(ev.get(ev_frag));
  EXPECT_TRUE(ev.get(ev_b));

  // By measurement type.
  rule(*t1_, {{"dataType", "MEASUREMENT"}, {"type", "temp"}, {"maximumAge", 30}});
  EXPECT_EQ(run().removed.measurements, 1u);
  EXPECT_TRUE(times(*t1_, kA).empty());
  EXPECT_EQ(times(*t1_, kB).size(), 1u);
}

TEST_F(RetentionTest, NodeDefaultAppliesOnlyWithoutATenantCatchAllRule) {
  for (TenantSpace* s : {t1_, t2_}) {
    measure(*s, kA, kOld);
    measure(*s, kA, kRecent);
    event(*s, kA, kOld);
  }
  // t1 keeps its data longer than the node default; t2's event rule is not a catch-all.
  rule(*t1_, {{"dataType", "*"}, {"maximumAge", 100}});
  rule(*t2_, {{"dataType", "EVENT"}, {"maximumAge", 365}});
  Retention ret(*store_, *spaces_, 30);
  EXPECT_EQ(ret.effective({}).size(), 1u);
  auto report = run(30);
  EXPECT_EQ(times(*t1_, kA).size(), 2u);
  EXPECT_EQ(times(*t2_, kA), std::vector<int64_t>{kRecent});
  EXPECT_EQ(report.removed.measurements, 1u);
  EXPECT_EQ(report.removed.events, 1u);  // t2's, by the node default (30 days < 365)
}

TEST_F(RetentionTest, ZeroDaysRemovesEverythingUpToNow) {
  measure(*t1_, kA, kRecent);
  measure(*t1_, kA, kNow + 60'000);  // a device clock ahead: not older than 0 days
  rule(*t1_, {{"dataType", "MEASUREMENT"}, {"maximumAge", 0}});
  EXPECT_EQ(run().removed.measurements, 1u);
  EXPECT_EQ(times(*t1_, kA), std::vector<int64_t>{kNow + 60'000});
}

TEST_F(RetentionTest, RollupsOfRemovedHoursDoNotOutliveTheirMeasurements) {
  // Two days of hourly data, old enough for cached rollups; a later rule's cutoff in between.
  const int64_t cutoff = kNow - 39 * kDayMs;
  const int64_t cut_hour = cutoff - cutoff % 3'600'000;
  const int64_t base = cut_hour - 24 * 3'600'000;
  for (int h = 0; h < 48; ++h) measure(*t1_, kA, base + h * 3'600'000, "c8y_Temp");
  for (int h = 0; h < 48; ++h) measure(*t1_, kA, base + h * 3'600'000 + 1, "c8y_Humidity");
  auto series = [&]() {
    SeriesQuery q;
    q.source = kA;
    q.aggregation = Aggregation::kHourly;
    SeriesResult r;
    EXPECT_TRUE(Measurements(*store_, *t1_).series(q, &r).ok());
    return r;
  };
  ASSERT_EQ(series().rows.size(), 48u);  // caches the closed hours
  ASSERT_TRUE(store_->settle().ok());
  size_t cached = 0;
  ASSERT_TRUE(store_
                  ->scan(t1_->family, "h", "", false,
                         [&](auto, auto v) {
                           cached += !v.empty();
                           return true;
                         })
                  .ok());
  ASSERT_GT(cached, 40u);

  // Only the humidity of the whole range: the temperature stays, rollups must not keep humidity.
  rule(*t1_, {{"dataType", "MEASUREMENT"}, {"fragmentType", "c8y_Humidity"}, {"maximumAge", 30}});
  auto rep = run();
  EXPECT_EQ(rep.removed.measurements, 48u);
  EXPECT_GT(rep.removed.rollups, 40u);
  auto r = series();
  ASSERT_EQ(r.columns.size(), 1u);
  EXPECT_EQ(r.columns[0].key.fragment, "c8y_Temp");
  EXPECT_EQ(r.rows.size(), 48u);

  // Everything older than the middle of the range: the hours before it are gone from the answer.
  ASSERT_EQ(series().rows.size(), 48u);  // rollups cached again
  RetentionRules rules(*store_, *t1_);
  std::vector<RetentionRule> all;
  ASSERT_TRUE(rules.list(&all).ok());
  ASSERT_TRUE(rules.remove(all[0].id).ok());
  rule(*t1_, {{"dataType", "MEASUREMENT"}, {"maximumAge", 39}});
  auto rep2 = run();
  size_t kept = 0;
  for (int h = 0; h < 48; ++h) kept += base + h * 3'600'000 >= cutoff;
  EXPECT_EQ(rep2.removed.measurements, 48u - kept);
  EXPECT_EQ(times(*t1_, kA).size(), kept);
  auto after = series();
  EXPECT_EQ(after.rows.size(), kept);
  ASSERT_FALSE(after.rows.empty());
  EXPECT_GE(after.rows.front().time_ms, cutoff);
  // No rollup of an hour before the cutoff is left, and the cutoff's own hour is void.
  ASSERT_TRUE(store_->settle().ok());
  std::string end = "h";
  storage::append_u64(end, kA);
  storage::append_u64(end, storage::time_key(cut_hour));
  ASSERT_TRUE(store_
                  ->scan(t1_->family, "h", "", false,
                         [&](std::string_view k, std::string_view v) {
                           EXPECT_FALSE(k < end) << "rollup before the cutoff hour";
                           if (k == end) {
                             EXPECT_TRUE(v.empty());
                           }
                           return true;
                         })
                  .ok());
}

TEST_F(RetentionTest, RunnerStopsAtOnceAndRunsPasses) {
  common::Outbox outbox;
  Retention ret(*store_, *spaces_, 0);
  {
    RetentionRunner runner(ret, std::chrono::seconds(3600), outbox);
    runner.start();
    const auto t0 = std::chrono::steady_clock::now();
    runner.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
    EXPECT_EQ(runner.passes(), 0u);
  }
  measure(*t1_, kA, kOld);
  rule(*t1_, {{"maximumAge", 30}});
  RetentionRunner runner(ret, std::chrono::seconds(1), outbox);
  runner.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (runner.passes() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  runner.stop();
  EXPECT_GE(runner.passes(), 1u);
  EXPECT_TRUE(times(*t1_, kA).empty());
}

TEST_F(RetentionTest, StoreGroupsVisitsEachSourceOnce) {
  for (uint64_t src : {uint64_t{1}, uint64_t{255}, uint64_t{256}, kA, UINT64_MAX})
    for (int i = 0; i < 3; ++i) measure(*t1_, src, kOld + i);
  ASSERT_TRUE(store_->settle().ok());
  std::vector<uint64_t> seen;
  ASSERT_TRUE(store_
                  ->groups(t1_->family, "m", 9,
                           [&](std::string_view g) {
                             seen.push_back(storage::read_u64(g, 1));
                             return true;
                           })
                  .ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 255, 256, kA, UINT64_MAX}));
  // A range delete through a batch, and the compaction after it.
  storage::Batch b;
  b.delete_range(t1_->family, storage::key::measurement_prefix(1),
                 storage::key::measurement_prefix(257));
  ASSERT_TRUE(store_->write(b).ok());
  ASSERT_TRUE(store_->compact(t1_->family).ok());
  seen.clear();
  ASSERT_TRUE(store_
                  ->groups(t1_->family, "m", 9,
                           [&](std::string_view g) {
                             seen.push_back(storage::read_u64(g, 1));
                             return true;
                           })
                  .ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{kA, UINT64_MAX}));
  // The ingest path carries no ranges.
  storage::Batch r;
  r.delete_range(t1_->family, "a", "b");
  EXPECT_FALSE(store_->write(r, storage::Store::When::kDurabilitySetting).ok());
}

}  // namespace
}  // namespace c8y::domain

// Measurements::store / query against a real Store.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "plugin/domain/measurement.h"
#include "plugin/domain/tenant_space.h"
#include "tests/unit/temp_dir.h"

namespace c8y::domain {
namespace {

constexpr unsigned kNode = 3;
constexpr uint64_t kA = 1003, kB = 2003, kC = 3003;

class MeasurementsStore : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    const storage::Family* f = nullptr;
    ASSERT_TRUE(store_->create_tenant("t1", &f).ok());
    space_ = std::make_unique<TenantSpace>(*store_, "t1", store_->tenant("t1"), kNode);
    ms_ = std::make_unique<Measurements>(*store_, *space_);
  }

  void reopen() {
    ms_.reset();
    space_.reset();
    store_.reset();
    open();
  }

  // Stores one measurement; returns its id.
  uint64_t put(uint64_t source, int64_t t, const std::string& type = "c8y_Temperature",
               double value = 1) {
    Measurement m;
    m.source = source;
    m.time_ms = t;
    m.type = type;
    m.add() = {type, "T", value, "C"};
    auto st = ms_->store(m);
    EXPECT_TRUE(st.ok()) << st.message;
    EXPECT_NE(m.id, 0u);
    return m.id;
  }

  std::vector<Measurement> query(const MeasurementQuery& q, bool* more = nullptr) {
    std::vector<Measurement> out;
    bool m = true;
    auto st = ms_->query(q, &out, &m);
    EXPECT_TRUE(st.ok()) << st.message;
    if (more) *more = m;
    return out;
  }

  static std::vector<int64_t> times(const std::vector<Measurement>& v) {
    std::vector<int64_t> out;
    for (auto& m : v) out.push_back(m.time_ms);
    return out;
  }

  static std::vector<int64_t> range(int64_t from, int64_t to, int64_t step = 1) {
    std::vector<int64_t> out;
    if (step > 0)
      for (int64_t t = from; t < to; t += step) out.push_back(t);
    else
      for (int64_t t = from; t > to; t += step) out.push_back(t);
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<TenantSpace> space_;
  std::unique_ptr<Measurements> ms_;
};

TEST_F(MeasurementsStore, StoreAssignsIdsAndQueryReturnsContent) {
  Measurement m;
  m.source = kA;
  m.time_ms = 1466607794123;
  m.type = "c8y_Weather";
  m.add() = {"c8y_Temperature", "T", 20.5, "C"};
  m.add() = {"my_Fragment", "x", -1, ""};
  ASSERT_TRUE(ms_->store(m).ok());
  EXPECT_NE(m.id, 0u);
  EXPECT_EQ(m.id % 1000, kNode);

  MeasurementQuery q;
  q.source = kA;
  bool more = true;
  auto got = query(q, &more);
  EXPECT_FALSE(more);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, m.id);
  EXPECT_EQ(got[0].source, kA);
  EXPECT_EQ(got[0].time_ms, m.time_ms);
  EXPECT_EQ(got[0].type, "c8y_Weather");
  ASSERT_EQ(got[0].count, 2u);
  EXPECT_EQ(got[0].series[0].fragment, "c8y_Temperature");
  EXPECT_EQ(got[0].series[0].value, 20.5);
  EXPECT_EQ(got[0].series[0].unit, "C");
  EXPECT_EQ(got[0].series[1].fragment, "my_Fragment");
  EXPECT_EQ(got[0].series[1].series, "x");
  EXPECT_EQ(got[0].series[1].value, -1);
  EXPECT_EQ(got[0].series[1].unit, "");
}

TEST_F(MeasurementsStore, RemoveByIdWithinTheSearchBudget) {
  const uint64_t old = put(kA, 1000);
  for (int i = 1; i <= 10; ++i) put(kA, 1000 + i);
  const uint64_t other = put(kB, 1000);
  size_t budget = 5;  // the newest five of kA do not include the oldest
  EXPECT_TRUE(ms_->remove(kA, old, &budget).not_found());
  EXPECT_EQ(budget, 0u);
  budget = 100;
  EXPECT_TRUE(ms_->remove(kA, other, &budget).not_found()) << "another source's id";
  EXPECT_EQ(budget, 100u - 11u);
  budget = 100;
  ASSERT_TRUE(ms_->remove(kA, old, &budget).ok());
  MeasurementQuery q;
  q.source = kA;
  q.page_size = 100;
  auto rest = query(q);
  EXPECT_EQ(rest.size(), 10u);
  for (auto& m : rest) EXPECT_NE(m.id, old);
  budget = 100;
  EXPECT_TRUE(ms_->remove(kA, old, &budget).not_found()) << "already gone";
  reopen();
  EXPECT_EQ(query(q).size(), 10u) << "the delete is durable";
}

TEST_F(MeasurementsStore, NameTooLongIsRefused) {
  Measurement m;
  m.source = kA;
  m.type = std::string(128, 't');
  EXPECT_FALSE(ms_->store(m).ok());
  MeasurementQuery q;
  EXPECT_TRUE(query(q).empty());
}

TEST_F(MeasurementsStore, EmptyStore) {
  MeasurementQuery q;
  bool more = true;
  EXPECT_TRUE(query(q, &more).empty());
  EXPECT_FALSE(more);
  q.source = kA;
  EXPECT_TRUE(query(q, &more).empty());
  EXPECT_FALSE(more);
}

TEST_F(MeasurementsStore, Paging) {
  for (int64_t t = 1000; t < 1012; ++t) put(kA, t);
  MeasurementQuery q;
  q.source = kA;
  q.page_size = 5;
  bool more = false;
  q.page = 1;
  EXPECT_EQ(times(query(q, &more)), range(1000, 1005));
  EXPECT_TRUE(more);
  q.page = 2;
  EXPECT_EQ(times(query(q, &more)), range(1005, 1010));
  EXPECT_TRUE(more);
  q.page = 3;
  EXPECT_EQ(times(query(q, &more)), range(1010, 1012));
  EXPECT_FALSE(more);
  q.page = 4;
  EXPECT_TRUE(query(q, &more).empty());
  EXPECT_FALSE(more);
}

TEST_F(MeasurementsStore, ExactlyFullLastPageHasNoMore) {
  for (int64_t t = 0; t < 10; ++t) put(kA, t);
  MeasurementQuery q;
  q.source = kA;
  q.page_size = 5;
  q.page = 2;
  bool more = true;
  EXPECT_EQ(times(query(q, &more)), range(5, 10));
  EXPECT_FALSE(more);
  q.source = 0;  // all sources: same answer
  EXPECT_EQ(times(query(q, &more)), range(5, 10));
  EXPECT_FALSE(more);
}

TEST_F(MeasurementsStore, Revert) {
  for (int64_t t = 1000; t < 1012; ++t) put(kA, t);
  MeasurementQuery q;
  q.source = kA;
  q.revert = true;
  q.page_size = 5;
  bool more = false;
  EXPECT_EQ(times(query(q, &more)), range(1011, 1006, -1));
  EXPECT_TRUE(more);
  q.page = 3;
  EXPECT_EQ(times(query(q, &more)), range(1001, 999, -1));
  EXPECT_FALSE(more);
}

TEST_F(MeasurementsStore, DateBoundsFromInclusiveToExclusive) {
  for (int64_t t = 1000; t < 1010; ++t) put(kA, t);
  MeasurementQuery q;
  q.source = kA;
  q.page_size = 100;
  q.date_from = 1003;
  q.date_to = 1007;
  EXPECT_EQ(times(query(q)), range(1003, 1007));
  q.revert = true;
  EXPECT_EQ(times(query(q)), range(1006, 1002, -1));

  // Only one bound.
  q.revert = false;
  q.date_from = 1008;
  q.date_to = INT64_MAX;
  EXPECT_EQ(times(query(q)), range(1008, 1010));
  q.revert = true;
  EXPECT_EQ(times(query(q)), range(1009, 1007, -1));
  q.date_from = INT64_MIN;
  q.date_to = 1002;
  EXPECT_EQ(times(query(q)), range(1001, 999, -1));
  q.revert = false;
  EXPECT_EQ(times(query(q)), range(1000, 1002));

  // Empty and inverted windows.
  q.date_from = 1005;
  q.date_to = 1005;
  EXPECT_TRUE(query(q).empty());
  q.date_to = 1004;
  EXPECT_TRUE(query(q).empty());
  q.revert = true;
  EXPECT_TRUE(query(q).empty());
  // Outside the stored range.
  q.revert = false;
  q.date_from = 2000;
  q.date_to = INT64_MAX;
  EXPECT_TRUE(query(q).empty());
}

TEST_F(MeasurementsStore, DateBoundsWithSameMillisecond) {
  // Several measurements exactly on the bounds.
  for (int i = 0; i < 3; ++i) put(kA, 100);
  for (int i = 0; i < 3; ++i) put(kA, 200);
  MeasurementQuery q;
  q.source = kA;
  q.page_size = 100;
  q.date_from = 100;
  q.date_to = 200;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{100, 100, 100}));
  q.revert = true;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{100, 100, 100}));
  q.date_from = 101;
  q.date_to = 201;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{200, 200, 200}));
  q.revert = false;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{200, 200, 200}));
}

TEST_F(MeasurementsStore, NegativeTimesSortFirst) {
  put(kA, 5);
  put(kA, -5);
  put(kA, 0);
  put(kA, -1000000000000);
  MeasurementQuery q;
  q.source = kA;
  q.page_size = 10;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{-1000000000000, -5, 0, 5}));
  q.revert = true;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{5, 0, -5, -1000000000000}));
  q.date_from = -5;
  q.date_to = 1;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{0, -5}));
}

TEST_F(MeasurementsStore, TypeFilter) {
  for (int64_t t = 0; t < 10; ++t) put(kA, t, t % 3 == 0 ? "c8y_Battery" : "c8y_Temperature");
  MeasurementQuery q;
  q.source = kA;
  q.page_size = 100;
  q.type = "c8y_Battery";
  auto got = query(q);
  EXPECT_EQ(times(got), (std::vector<int64_t>{0, 3, 6, 9}));
  for (auto& m : got) EXPECT_EQ(m.type, "c8y_Battery");
  q.type = "c8y_Temp";  // no prefix matching
  EXPECT_TRUE(query(q).empty());

  // Paging counts only matching measurements.
  q.type = "c8y_Battery";
  q.page_size = 3;
  bool more = false;
  EXPECT_EQ(times(query(q, &more)), (std::vector<int64_t>{0, 3, 6}));
  EXPECT_TRUE(more);
  q.page = 2;
  EXPECT_EQ(times(query(q, &more)), (std::vector<int64_t>{9}));
  EXPECT_FALSE(more);
  q.page = 1;
  q.revert = true;
  EXPECT_EQ(times(query(q, &more)), (std::vector<int64_t>{9, 6, 3}));
  EXPECT_TRUE(more);
}

TEST_F(MeasurementsStore, SourceFilter) {
  put(kA, 1);
  put(kB, 2);
  put(kC, 3);
  MeasurementQuery q;
  q.source = kB;
  auto got = query(q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].source, kB);
  EXPECT_EQ(got[0].time_ms, 2);
  q.source = 4003;
  EXPECT_TRUE(query(q).empty());
}

TEST_F(MeasurementsStore, SourcesMergedInTimeOrder) {
  // A at even, B at odd, C at multiples of 5 (colliding with A and B).
  for (int64_t t = 0; t < 20; t += 2) put(kA, t);
  for (int64_t t = 1; t < 20; t += 2) put(kB, t);
  for (int64_t t = 0; t < 20; t += 5) put(kC, t);
  MeasurementQuery q;
  q.page_size = 100;
  auto got = query(q);
  ASSERT_EQ(got.size(), 24u);
  for (size_t i = 1; i < got.size(); ++i) {
    EXPECT_LE(got[i - 1].time_ms, got[i].time_ms) << i;
    if (got[i - 1].time_ms == got[i].time_ms) {
      EXPECT_LT(got[i - 1].id, got[i].id) << i;
    }
  }
  std::set<uint64_t> sources;
  for (auto& m : got) sources.insert(m.source);
  EXPECT_EQ(sources, (std::set<uint64_t>{kA, kB, kC}));

  // Paging over the merge: page 2 of 5 continues where page 1 stopped.
  q.page_size = 5;
  auto p1 = query(q);
  q.page = 2;
  bool more = false;
  auto p2 = query(q, &more);
  EXPECT_TRUE(more);
  ASSERT_EQ(p1.size(), 5u);
  ASSERT_EQ(p2.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(p1[i].id, got[i].id) << i;
    EXPECT_EQ(p2[i].id, got[5 + i].id) << i;
  }
  // The last page.
  q.page = 5;
  auto p5 = query(q, &more);
  EXPECT_FALSE(more);
  ASSERT_EQ(p5.size(), 4u);
  EXPECT_EQ(p5.back().id, got.back().id);

  // Reverted: exactly the reverse sequence.
  q.page = 1;
  q.page_size = 100;
  q.revert = true;
  auto rev = query(q);
  ASSERT_EQ(rev.size(), got.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(rev[i].id, got[got.size() - 1 - i].id) << i;

  // A date window over all sources.
  q.revert = false;
  q.date_from = 5;
  q.date_to = 8;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{5, 5, 6, 7}));
}

TEST_F(MeasurementsStore, SameMillisecondBothKept) {
  uint64_t first = put(kA, 42, "c8y_Temperature", 1);
  uint64_t second = put(kA, 42, "c8y_Temperature", 2);
  EXPECT_NE(first, second);
  MeasurementQuery q;
  q.source = kA;
  auto got = query(q);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, first);
  EXPECT_EQ(got[1].id, second);
  EXPECT_EQ(got[0].series[0].value, 1);
  EXPECT_EQ(got[1].series[0].value, 2);
  q.revert = true;
  got = query(q);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, second);
  EXPECT_EQ(got[1].id, first);
}

TEST_F(MeasurementsStore, ExtremeSourceIds) {
  put(1, 10);
  put(UINT64_MAX, 20);
  MeasurementQuery q;
  auto got = query(q);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].source, 1u);
  EXPECT_EQ(got[1].source, UINT64_MAX);
  q.source = UINT64_MAX;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{20}));
}

TEST_F(MeasurementsStore, SurviveReopenWithFreshIds) {
  std::set<uint64_t> ids;
  for (int64_t t = 0; t < 5; ++t) ids.insert(put(kA, t));
  reopen();
  for (int64_t t = 0; t < 5; ++t) ids.insert(put(kA, t));
  EXPECT_EQ(ids.size(), 10u);  // no id reused across the reopen
  MeasurementQuery q;
  q.source = kA;
  q.page_size = 100;
  auto got = query(q);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(times(got), (std::vector<int64_t>{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}));
}

TEST_F(MeasurementsStore, SupportedSeriesAreTheSeriesEverSent) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  auto supported = [&](uint64_t source) {
    Pairs out;
    auto st = ms_->supported_series(source, &out);
    EXPECT_TRUE(st.ok()) << st.message;
    return out;
  };
  EXPECT_EQ(supported(kA), Pairs{});
  put(kA, 1, "c8y_Temperature");
  put(kA, 2, "c8y_Temperature");
  Measurement m;
  m.source = kA;
  m.time_ms = 3;
  m.type = "multi";
  m.add() = {"c8y_Battery", "level", 50, "%"};
  m.add() = {"c8y_Custom", "a", 1, ""};
  m.add() = {"c8y_Custom", "b", 2, ""};
  ASSERT_TRUE(ms_->store(m).ok());
  put(kB, 1, "c8y_Humidity");
  EXPECT_EQ(supported(kA), (Pairs{{"c8y_Battery", "level"},
                                  {"c8y_Custom", "a"},
                                  {"c8y_Custom", "b"},
                                  {"c8y_Temperature", "T"}}));
  EXPECT_EQ(supported(kB), (Pairs{{"c8y_Humidity", "T"}}));
  EXPECT_EQ(supported(kC), Pairs{});
  // Not derived from the measurements: still listed after a restart (empty in-memory set) and
  // after the measurement is gone; a series sent again after the restart is not doubled.
  reopen();
  put(kB, 2, "c8y_Humidity");
  EXPECT_EQ(supported(kB), (Pairs{{"c8y_Humidity", "T"}}));
  EXPECT_EQ(supported(kA).size(), 4u);
  // The series keys are not measurements.
  MeasurementQuery q;
  q.page_size = 100;
  EXPECT_EQ(query(q).size(), 5u);
}

TEST_F(MeasurementsStore, OtherKeysInTheFamilyAreIgnored) {
  // Managed objects, external ids and the id high-water mark live in the same family.
  ASSERT_TRUE(store_->put(space_->family, "M12345678", "{}").ok());
  ASSERT_TRUE(store_->put(space_->family, "n", "x").ok());
  put(kA, 7);
  MeasurementQuery q;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{7}));
}

}  // namespace
}  // namespace c8y::domain

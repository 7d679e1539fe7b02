// Alarms (de-duplicated per source and type) against a real Store.
#include "plugin/domain/alarms.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/tenant_space.h"
#include "tests/unit/temp_dir.h"

namespace c8y::domain {
namespace {

using nlohmann::json;

constexpr unsigned kNode = 6;
// Source ids never equal an alarm id (ids end in the node number).
constexpr uint64_t kA = 900001, kB = 900002;
constexpr int64_t kT0 = 1466607794123;  // 2016-06-22T15:03:14.123Z

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t parse_time(const json& doc, const char* key) {
  auto t = common::parse_iso8601_ms(doc.value(key, ""));
  EXPECT_TRUE(t.has_value()) << key << " in " << doc.dump();
  return t.value_or(INT64_MIN);
}

// A refused change: the caller's input, with a reason (not a storage failure).
bool is_error(const storage::StoreStatus& st) {
  return st.invalid() && !st.message.empty();
}

class AlarmsTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    const storage::Family* f = nullptr;
    ASSERT_TRUE(store_->create_tenant("t1", &f).ok());
    f = store_->tenant("t1");
    ASSERT_NE(f, nullptr);
    space_ = std::make_unique<TenantSpace>(*store_, "t1", f, kNode);
    alarms_ = std::make_unique<Alarms>(*store_, *space_);
  }

  void reopen() {
    alarms_.reset();
    space_.reset();
    store_.reset();
    open();
  }

  AlarmChange raise(uint64_t source, int64_t t, const std::string& type,
                    const std::string& severity = "MAJOR", const std::string& text = "text",
                    const json& fragments = json::object()) {
    auto r = alarms_->raise(source, t, type, severity, text, fragments);
    EXPECT_TRUE(r.status.ok()) << r.status.message;
    return r;
  }

  // Raises and returns the alarm's id.
  uint64_t raise_id(uint64_t source, int64_t t, const std::string& type,
                    const std::string& severity = "MAJOR") {
    return id_of(raise(source, t, type, severity).alarm);
  }

  AlarmChange update(uint64_t id, const json& changes) {
    auto r = alarms_->update(id, changes);
    EXPECT_TRUE(r.status.ok()) << r.status.message;
    return r;
  }

  json get(uint64_t id) {
    auto a = alarms_->get(id);
    EXPECT_TRUE(a.has_value()) << id;
    return a.value_or(json());
  }

  DocPage query(AlarmQuery q) {
    DocPage page;
    auto st = alarms_->query(q, &page);
    EXPECT_TRUE(st.ok()) << st.message;
    return page;
  }

  std::vector<json> all(uint64_t source = 0) {
    AlarmQuery q;
    q.source = source;
    q.page_size = 100000;
    return query(q).docs;
  }

  static uint64_t id_of(const json& doc) {
    auto id = parse_id(doc.value("id", ""));
    EXPECT_TRUE(id.has_value()) << doc.dump();
    return id.value_or(0);
  }

  static std::vector<uint64_t> ids(const std::vector<json>& docs) {
    std::vector<uint64_t> out;
    for (auto& d : docs) out.push_back(id_of(d));
    return out;
  }
  static std::vector<uint64_t> ids(const DocPage& p) { return ids(p.docs); }
  static std::set<uint64_t> id_set(const DocPage& p) {
    auto v = ids(p);
    return {v.begin(), v.end()};
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<TenantSpace> space_;
  std::unique_ptr<Alarms> alarms_;
};

// ---- make / raise -----------------------------------------------------------------------------

TEST(AlarmsValues, SeverityAndStatus) {
  for (const char* s : {"CRITICAL", "MAJOR", "MINOR", "WARNING"}) EXPECT_TRUE(is_alarm_severity(s));
  for (const char* s : {"", "major", "INFO", "CLEARED", "MAJOR "})
    EXPECT_FALSE(is_alarm_severity(s));
  for (const char* s : {"ACTIVE", "ACKNOWLEDGED", "CLEARED"}) EXPECT_TRUE(is_alarm_status(s));
  for (const char* s : {"", "active", "OPEN", "MAJOR"}) EXPECT_FALSE(is_alarm_status(s));
}

TEST(AlarmsMake, WithoutId) {
  json a = Alarms::make(0, kA, kT0, "c8y_T", "MINOR", "hello", {{"x", 1}});
  EXPECT_FALSE(a.contains("id"));
  EXPECT_EQ(a["source"], json({{"id", "900001"}}));
  EXPECT_EQ(a["type"], "c8y_T");
  EXPECT_EQ(a["severity"], "MINOR");
  EXPECT_EQ(a["status"], "ACTIVE");
  EXPECT_EQ(a["count"], 1);
  EXPECT_EQ(a["text"], "hello");
  EXPECT_EQ(a["time"], "2016-06-22T15:03:14.123Z");
  EXPECT_EQ(a["firstOccurrenceTime"], "2016-06-22T15:03:14.123Z");
  EXPECT_EQ(a["x"], 1);
  EXPECT_EQ(Alarms::make(42006, kA, kT0, "c8y_T", "MINOR", "", json::object())["id"], "42006");
}

TEST_F(AlarmsTest, RaiseCreatesActiveAlarm) {
  const int64_t before = now_ms();
  auto r = raise(kA, kT0, "c8y_HighTemperature", "CRITICAL", "Too hot",
                 {{"c8y_Temperature", {{"value", 99}}}});
  const int64_t after = now_ms();
  EXPECT_TRUE(r.created);
  const json& a = r.alarm;
  const uint64_t id = id_of(a);
  EXPECT_EQ(id % 1000, kNode);
  EXPECT_EQ(a["source"], json({{"id", "900001"}}));
  EXPECT_EQ(a["type"], "c8y_HighTemperature");
  EXPECT_EQ(a["severity"], "CRITICAL");
  EXPECT_EQ(a["text"], "Too hot");
  EXPECT_EQ(a["status"], "ACTIVE");
  EXPECT_EQ(a["count"], 1);
  EXPECT_EQ(a["time"], "2016-06-22T15:03:14.123Z");
  EXPECT_EQ(a["firstOccurrenceTime"], a["time"]);
  EXPECT_GE(parse_time(a, "creationTime"), before);
  EXPECT_LE(parse_time(a, "creationTime"), after);
  EXPECT_TRUE(a.contains("lastUpdated"));
  EXPECT_EQ(a["c8y_Temperature"]["value"], 99);
  EXPECT_EQ(get(id), a);
  EXPECT_EQ(ids(all()), (std::vector<uint64_t>{id}));
}

TEST_F(AlarmsTest, RaiseIgnoresBaseKeysInFragments) {
  auto r = raise(kA, kT0, "c8y_T", "MAJOR", "text",
                 {{"id", "5"},
                  {"source", {{"id", "7"}}},
                  {"type", "x"},
                  {"time", "2000-01-01T00:00:00.000Z"},
                  {"status", "CLEARED"},
                  {"severity", "WARNING"},
                  {"text", "other"},
                  {"count", 99},
                  {"firstOccurrenceTime", "2000-01-01T00:00:00.000Z"},
                  {"creationTime", "2000-01-01T00:00:00.000Z"},
                  {"lastUpdated", "2000-01-01T00:00:00.000Z"},
                  {"self", "http://x"},
                  {"nulled", nullptr},
                  {"custom", "yes"}});
  const json& a = r.alarm;
  EXPECT_NE(a["id"], "5");
  EXPECT_EQ(a["source"]["id"], "900001");
  EXPECT_EQ(a["type"], "c8y_T");
  EXPECT_EQ(a["time"], "2016-06-22T15:03:14.123Z");
  EXPECT_EQ(a["status"], "ACTIVE");
  EXPECT_EQ(a["severity"], "MAJOR");
  EXPECT_EQ(a["text"], "text");
  EXPECT_EQ(a["count"], 1);
  EXPECT_EQ(a["firstOccurrenceTime"], "2016-06-22T15:03:14.123Z");
  EXPECT_NE(a["creationTime"], "2000-01-01T00:00:00.000Z");
  EXPECT_FALSE(a.contains("self"));
  EXPECT_FALSE(a.contains("nulled"));
  EXPECT_EQ(a["custom"], "yes");
}

TEST_F(AlarmsTest, RepeatRaiseIncrementsCountAndMovesTime) {
  auto first = raise(kA, kT0, "c8y_T", "MAJOR", "first text", {{"f1", 1}});
  const uint64_t id = id_of(first.alarm);
  auto second = raise(kA, kT0 + 5000, "c8y_T", "CRITICAL", "second text", {{"f2", 2}});
  EXPECT_FALSE(second.created);
  EXPECT_EQ(id_of(second.alarm), id);
  EXPECT_EQ(second.alarm["count"], 2);
  EXPECT_EQ(second.alarm["status"], "ACTIVE");
  EXPECT_EQ(parse_time(second.alarm, "time"), kT0 + 5000);
  EXPECT_EQ(second.alarm["firstOccurrenceTime"], "2016-06-22T15:03:14.123Z");
  EXPECT_EQ(second.alarm["severity"], "MAJOR");  // a repeat does not change the severity
  EXPECT_EQ(second.alarm["text"], "first text");
  EXPECT_EQ(second.alarm["f1"], 1);
  EXPECT_EQ(second.alarm["creationTime"], first.alarm["creationTime"]);
  EXPECT_EQ(get(id), second.alarm);

  auto third = raise(kA, kT0 + 9000, "c8y_T");
  EXPECT_FALSE(third.created);
  EXPECT_EQ(id_of(third.alarm), id);
  EXPECT_EQ(third.alarm["count"], 3);
  EXPECT_EQ(parse_time(third.alarm, "time"), kT0 + 9000);

  // Queries by date see the new time; the old keys are gone.
  auto everything = all();
  ASSERT_EQ(everything.size(), 1u);
  EXPECT_EQ(everything[0], third.alarm);
  EXPECT_EQ(all(kA).size(), 1u);
  AlarmQuery q;
  q.date_from = kT0;
  q.date_to = kT0 + 1;
  EXPECT_TRUE(query(q).docs.empty());
  q.date_to = kT0 + 5001;
  EXPECT_TRUE(query(q).docs.empty());
  q.date_from = kT0 + 9000;
  q.date_to = kT0 + 9001;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{id}));
  q.source = kA;
  q.oldest_first = true;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{id}));
}

TEST_F(AlarmsTest, RepeatRaiseAtTheSameTimeKeepsOneDocument) {
  const uint64_t id = raise_id(kA, kT0, "c8y_T");
  for (int i = 0; i < 3; ++i) raise(kA, kT0, "c8y_T");
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(id_of(a[0]), id);
  EXPECT_EQ(a[0]["count"], 4);
}

TEST_F(AlarmsTest, RepeatRaiseWithAnEarlierTime) {
  const uint64_t id = raise_id(kA, kT0, "c8y_T");
  raise(kB, kT0 - 500, "c8y_T");
  auto r = raise(kA, kT0 - 1000, "c8y_T");
  EXPECT_EQ(id_of(r.alarm), id);
  EXPECT_EQ(parse_time(r.alarm, "time"), kT0 - 1000);
  auto a = all();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(id_of(a[1]), id);  // now the oldest: last in the newest-first list
}

TEST_F(AlarmsTest, DifferentSourceOrTypeCreatesAnother) {
  const uint64_t a1 = raise_id(kA, 1, "c8y_T");
  auto r = raise(kB, 2, "c8y_T");
  EXPECT_TRUE(r.created);
  const uint64_t b1 = id_of(r.alarm);
  r = raise(kA, 3, "c8y_U");
  EXPECT_TRUE(r.created);
  const uint64_t a2 = id_of(r.alarm);
  r = raise(kA, 4, "c8y_TT");  // a type with the other as prefix
  EXPECT_TRUE(r.created);
  const uint64_t a3 = id_of(r.alarm);
  r = raise(kA, 5, "c8y_");
  EXPECT_TRUE(r.created);
  const uint64_t a4 = id_of(r.alarm);
  EXPECT_EQ((std::set<uint64_t>{a1, b1, a2, a3, a4}).size(), 5u);

  r = raise(kA, 6, "c8y_T");
  EXPECT_FALSE(r.created);
  EXPECT_EQ(id_of(r.alarm), a1);
  EXPECT_EQ(r.alarm["count"], 2);
  for (uint64_t id : {b1, a2, a3, a4}) EXPECT_EQ(get(id)["count"], 1) << id;
  EXPECT_EQ(all().size(), 5u);
  EXPECT_EQ(all(kA).size(), 4u);
  EXPECT_EQ(all(kB).size(), 1u);
}

TEST_F(AlarmsTest, RaiseAfterClearCreatesANewAlarm) {
  const uint64_t old_id = raise_id(kA, 1, "c8y_T");
  raise(kA, 2, "c8y_T");
  auto c = alarms_->clear(kA, "c8y_T");
  ASSERT_TRUE(c.status.ok()) << c.status.message;
  EXPECT_FALSE(c.created);
  EXPECT_EQ(c.alarm["status"], "CLEARED");
  EXPECT_EQ(id_of(c.alarm), old_id);

  auto r = raise(kA, 3, "c8y_T");
  EXPECT_TRUE(r.created);
  const uint64_t new_id = id_of(r.alarm);
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ(r.alarm["count"], 1);
  EXPECT_EQ(r.alarm["status"], "ACTIVE");
  EXPECT_EQ(parse_time(r.alarm, "firstOccurrenceTime"), 3);

  // The cleared one is untouched by the new raises.
  raise(kA, 4, "c8y_T");
  json old_alarm = get(old_id);
  EXPECT_EQ(old_alarm["status"], "CLEARED");
  EXPECT_EQ(old_alarm["count"], 2);
  EXPECT_EQ(parse_time(old_alarm, "time"), 2);
  EXPECT_EQ(get(new_id)["count"], 2);
  EXPECT_EQ(ids(all()), (std::vector<uint64_t>{new_id, old_id}));  // newest first
}

TEST_F(AlarmsTest, AcknowledgedAlarmIsStillOpen) {
  const uint64_t id = raise_id(kA, 1, "c8y_T");
  update(id, {{"status", "ACKNOWLEDGED"}});
  auto r = raise(kA, 2, "c8y_T");
  EXPECT_FALSE(r.created);
  EXPECT_EQ(id_of(r.alarm), id);
  EXPECT_EQ(r.alarm["count"], 2);
  EXPECT_EQ(r.alarm["status"], "ACKNOWLEDGED");
  auto s = alarms_->set_severity(kA, "c8y_T", "MINOR");
  ASSERT_TRUE(s.status.ok());
  EXPECT_EQ(s.alarm["severity"], "MINOR");
  auto c = alarms_->clear(kA, "c8y_T");
  ASSERT_TRUE(c.status.ok());
  EXPECT_EQ(id_of(c.alarm), id);
  EXPECT_EQ(c.alarm["status"], "CLEARED");
  EXPECT_TRUE(raise(kA, 3, "c8y_T").created);
}

// ---- 305 / 306 / 307 --------------------------------------------------------------------------

TEST_F(AlarmsTest, NotFoundWithoutAnOpenAlarm) {
  auto s = alarms_->set_severity(kA, "c8y_T", "MINOR");
  EXPECT_TRUE(s.status.not_found());
  EXPECT_FALSE(s.created);
  auto c = alarms_->clear(kA, "c8y_T");
  EXPECT_TRUE(c.status.not_found());
  auto f = alarms_->remove_fragments(kA, "c8y_T", {"x"});
  EXPECT_TRUE(f.status.not_found());

  // An open alarm of another type or another source does not count.
  raise(kA, 1, "c8y_U");
  raise(kB, 1, "c8y_T");
  EXPECT_TRUE(alarms_->set_severity(kA, "c8y_T", "MINOR").status.not_found());
  EXPECT_TRUE(alarms_->clear(kA, "c8y_T").status.not_found());
  EXPECT_TRUE(alarms_->remove_fragments(kA, "c8y_T", {"x"}).status.not_found());
  EXPECT_TRUE(alarms_->clear(kA, "c8y_").status.not_found());

  // Once cleared, it is no longer open.
  ASSERT_TRUE(alarms_->clear(kA, "c8y_U").status.ok());
  EXPECT_TRUE(alarms_->set_severity(kA, "c8y_U", "MINOR").status.not_found());
  EXPECT_TRUE(alarms_->clear(kA, "c8y_U").status.not_found());
  for (auto& a : all())
    EXPECT_EQ(a["severity"], "MAJOR") << a.dump();  // nothing changed by the failed calls
}

TEST_F(AlarmsTest, SetSeverity) {
  const uint64_t id = raise_id(kA, 1, "c8y_T", "MAJOR");
  const uint64_t other = raise_id(kA, 1, "c8y_U", "MAJOR");
  auto s = alarms_->set_severity(kA, "c8y_T", "CRITICAL");
  ASSERT_TRUE(s.status.ok()) << s.status.message;
  EXPECT_FALSE(s.created);
  EXPECT_EQ(id_of(s.alarm), id);
  EXPECT_EQ(s.alarm["severity"], "CRITICAL");
  EXPECT_EQ(s.alarm["status"], "ACTIVE");
  EXPECT_EQ(s.alarm["count"], 1);
  EXPECT_EQ(get(id)["severity"], "CRITICAL");
  EXPECT_EQ(get(other)["severity"], "MAJOR");

  // An unknown severity is an error, not a change.
  s = alarms_->set_severity(kA, "c8y_T", "SEVERE");
  EXPECT_TRUE(is_error(s.status));
  EXPECT_EQ(get(id)["severity"], "CRITICAL");
  // Still the open alarm: a raise de-duplicates into it.
  EXPECT_FALSE(raise(kA, 2, "c8y_T").created);
}

TEST_F(AlarmsTest, Clear) {
  const uint64_t id = raise_id(kA, 1, "c8y_T");
  const uint64_t other = raise_id(kA, 1, "c8y_U");
  auto c = alarms_->clear(kA, "c8y_T");
  ASSERT_TRUE(c.status.ok()) << c.status.message;
  EXPECT_EQ(id_of(c.alarm), id);
  EXPECT_EQ(c.alarm["status"], "CLEARED");
  EXPECT_EQ(c.alarm["count"], 1);
  EXPECT_EQ(parse_time(c.alarm, "time"), 1);
  EXPECT_EQ(get(id), c.alarm);
  EXPECT_EQ(get(other)["status"], "ACTIVE");
  EXPECT_FALSE(raise(kA, 2, "c8y_U").created);
}

TEST_F(AlarmsTest, RemoveFragments) {
  const uint64_t id =
      id_of(raise(kA, 1, "c8y_T", "MAJOR", "t", {{"f1", 1}, {"f2", 2}, {"f3", {{"x", 1}}}}).alarm);
  auto r = alarms_->remove_fragments(
      kA, "c8y_T",
      {"f1", "f3", "missing", "id", "source", "type", "time", "status", "severity", "text", "count",
       "firstOccurrenceTime", "creationTime", "lastUpdated"});
  ASSERT_TRUE(r.status.ok()) << r.status.message;
  EXPECT_EQ(id_of(r.alarm), id);
  EXPECT_FALSE(r.alarm.contains("f1"));
  EXPECT_EQ(r.alarm["f2"], 2);
  EXPECT_FALSE(r.alarm.contains("f3"));
  for (const char* k : {"id", "source", "type", "time", "status", "severity", "text", "count",
                        "firstOccurrenceTime", "creationTime", "lastUpdated"})
    EXPECT_TRUE(r.alarm.contains(k)) << k;
  EXPECT_EQ(r.alarm["status"], "ACTIVE");
  EXPECT_EQ(get(id), r.alarm);
}

TEST_F(AlarmsTest, RemoveFragmentsWithoutOpenAlarmUsesTheLatestOfTheType) {
  // alarms.h: "removes fragments from the open alarm of this type (or the latest one of the type)".
  const uint64_t older = id_of(raise(kA, 1, "c8y_T", "MAJOR", "t", {{"f", 1}}).alarm);
  ASSERT_TRUE(alarms_->clear(kA, "c8y_T").status.ok());
  const uint64_t latest = id_of(raise(kA, 5, "c8y_T", "MAJOR", "t", {{"f", 1}}).alarm);
  ASSERT_TRUE(alarms_->clear(kA, "c8y_T").status.ok());
  raise(kA, 9, "c8y_U", "MAJOR", "t", {{"f", 1}});  // later, but another type
  auto r = alarms_->remove_fragments(kA, "c8y_T", {"f"});
  ASSERT_TRUE(r.status.ok()) << r.status.message;
  EXPECT_EQ(id_of(r.alarm), latest);
  EXPECT_EQ(r.alarm["status"], "CLEARED");
  EXPECT_FALSE(get(latest).contains("f"));
  EXPECT_TRUE(get(older).contains("f"));
  // Not reopened: a raise still creates a new alarm.
  EXPECT_TRUE(raise(kA, 10, "c8y_T").created);
}

TEST_F(AlarmsTest, RemoveFragmentsPrefersTheOpenAlarm) {
  raise(kA, 1, "c8y_T", "MAJOR", "t", {{"f", 1}});
  ASSERT_TRUE(alarms_->clear(kA, "c8y_T").status.ok());
  // The open alarm is older than the cleared one.
  const uint64_t open = id_of(raise(kA, 0, "c8y_T", "MAJOR", "t", {{"f", 1}}).alarm);
  auto r = alarms_->remove_fragments(kA, "c8y_T", {"f"});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(id_of(r.alarm), open);
}

// ---- REST update ------------------------------------------------------------------------------

TEST_F(AlarmsTest, UpdateStatusSeverityAndText) {
  const uint64_t id = raise_id(kA, 1, "c8y_T", "MAJOR");
  auto r = update(id, {{"status", "ACKNOWLEDGED"}});
  EXPECT_EQ(r.alarm["status"], "ACKNOWLEDGED");
  EXPECT_FALSE(r.created);
  r = update(id, {{"status", "ACTIVE"}});
  EXPECT_EQ(r.alarm["status"], "ACTIVE");
  r = update(id, {{"severity", "WARNING"}, {"text", "new text"}});
  EXPECT_EQ(r.alarm["severity"], "WARNING");
  EXPECT_EQ(r.alarm["text"], "new text");
  EXPECT_EQ(r.alarm["status"], "ACTIVE");
  EXPECT_EQ(get(id), r.alarm);
  // An empty change is fine.
  r = update(id, json::object());
  EXPECT_EQ(r.alarm["severity"], "WARNING");
}

TEST_F(AlarmsTest, UpdateRejectsBadStatusAndSeverity) {
  const uint64_t id = raise_id(kA, 1, "c8y_T", "MAJOR");
  const json before = get(id);
  for (const json& bad :
       {json{{"status", "OPEN"}}, json{{"status", "active"}}, json{{"status", 1}},
        json{{"status", nullptr}}, json{{"severity", "HIGH"}}, json{{"severity", "major"}},
        json{{"severity", 3}}, json{{"severity", nullptr}}, json{{"text", 5}},
        json{{"text", nullptr}},
        // A valid part is not applied when another part is rejected.
        json{{"severity", "BAD"}, {"custom", 1}}, json{{"status", "BAD"}, {"severity", "MINOR"}},
        json{{"severity", "MINOR"}, {"text", false}}}) {
    auto r = alarms_->update(id, bad);
    EXPECT_TRUE(is_error(r.status)) << bad.dump();
    EXPECT_FALSE(r.status.not_found()) << bad.dump();
  }
  EXPECT_EQ(get(id), before);
}

TEST_F(AlarmsTest, ClearedAlarmCannotBeReopened) {
  const uint64_t id = raise_id(kA, 1, "c8y_T");
  auto r = update(id, {{"status", "CLEARED"}});
  EXPECT_EQ(r.alarm["status"], "CLEARED");
  const json cleared = get(id);
  for (const char* s : {"ACTIVE", "ACKNOWLEDGED"}) {
    auto bad = alarms_->update(id, {{"status", s}});
    EXPECT_TRUE(is_error(bad.status)) << s;
  }
  EXPECT_EQ(get(id), cleared);
  // Clearing again and changing fragments of a cleared alarm are allowed.
  r = update(id, {{"status", "CLEARED"}, {"note", "done"}});
  EXPECT_EQ(r.alarm["status"], "CLEARED");
  EXPECT_EQ(r.alarm["note"], "done");
  // A REST clear frees the type: the next raise is a new alarm, and clearing the old one again
  // does not touch the new one.
  auto n = raise(kA, 2, "c8y_T");
  EXPECT_TRUE(n.created);
  update(id, {{"status", "CLEARED"}});
  auto again = raise(kA, 3, "c8y_T");
  EXPECT_FALSE(again.created);
  EXPECT_EQ(id_of(again.alarm), id_of(n.alarm));
}

TEST_F(AlarmsTest, ClearingAnOlderCopyDoesNotDropTheOpenIndex) {
  const uint64_t first = raise_id(kA, 1, "c8y_T");
  ASSERT_TRUE(alarms_->clear(kA, "c8y_T").status.ok());
  const uint64_t second = raise_id(kA, 2, "c8y_T");
  update(first, {{"status", "CLEARED"}});
  EXPECT_EQ(id_of(raise(kA, 3, "c8y_T").alarm), second);
  auto s = alarms_->set_severity(kA, "c8y_T", "MINOR");
  ASSERT_TRUE(s.status.ok());
  EXPECT_EQ(id_of(s.alarm), second);
}

TEST_F(AlarmsTest, UpdateCustomFragmentsAndProtectedBaseKeys) {
  const uint64_t id = id_of(raise(kA, kT0, "c8y_T", "MAJOR", "t", {{"old", 1}}).alarm);
  raise(kA, kT0 + 1, "c8y_T");  // count 2
  const json before = get(id);
  auto r = update(id, {{"custom", {{"a", 1}}},
                       {"old", nullptr},
                       {"absent", nullptr},
                       {"id", "1"},
                       {"self", "http://x"},
                       {"source", {{"id", "900002"}}},
                       {"type", "other"},
                       {"time", "2000-01-01T00:00:00.000Z"},
                       {"count", 99},
                       {"firstOccurrenceTime", "2000-01-01T00:00:00.000Z"},
                       {"creationTime", "2000-01-01T00:00:00.000Z"},
                       {"lastUpdated", "2000-01-01T00:00:00.000Z"}});
  const json& a = r.alarm;
  EXPECT_EQ(a["custom"], json({{"a", 1}}));
  EXPECT_FALSE(a.contains("old"));
  EXPECT_FALSE(a.contains("absent"));
  for (const char* k : {"id", "source", "type", "time", "count", "firstOccurrenceTime",
                        "creationTime", "status", "severity", "text"})
    EXPECT_EQ(a[k], before[k]) << k;
  EXPECT_FALSE(a.contains("self"));
  EXPECT_NE(a["lastUpdated"], "2000-01-01T00:00:00.000Z");
  EXPECT_EQ(get(id), a);

  // null does not remove base keys.
  r = update(id, {{"id", nullptr},
                  {"source", nullptr},
                  {"type", nullptr},
                  {"time", nullptr},
                  {"count", nullptr},
                  {"firstOccurrenceTime", nullptr},
                  {"creationTime", nullptr},
                  {"lastUpdated", nullptr},
                  {"custom", nullptr}});
  for (const char* k : {"id", "source", "type", "time", "count", "firstOccurrenceTime",
                        "creationTime", "lastUpdated", "status", "severity", "text"})
    EXPECT_TRUE(r.alarm.contains(k)) << k;
  EXPECT_FALSE(r.alarm.contains("custom"));

  // Not moved: found once, at its time, under its source.
  AlarmQuery q;
  q.source = kA;
  q.date_from = kT0 + 1;
  q.date_to = kT0 + 2;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{id}));
  EXPECT_EQ(all().size(), 1u);
  // Still the open alarm of its type.
  EXPECT_EQ(raise(kA, kT0 + 2, "c8y_T").alarm["count"], 3);
}

TEST_F(AlarmsTest, UpdateUnknownIdIsNotFound) {
  raise(kA, 1, "c8y_T");
  auto r = alarms_->update(999999, {{"status", "CLEARED"}});
  EXPECT_TRUE(r.status.not_found());
  EXPECT_FALSE(alarms_->get(999999).has_value());
}

// ---- query ------------------------------------------------------------------------------------

class AlarmsQueryTest : public AlarmsTest {
 protected:
  void SetUp() override {
    AlarmsTest::SetUp();
    a1 = raise_id(kA, 10, "T1", "MAJOR");  // ACTIVE
    a2 = raise_id(kA, 20, "T2", "MINOR");  // ACKNOWLEDGED
    update(a2, {{"status", "ACKNOWLEDGED"}});
    a3 = raise_id(kA, 30, "T3", "CRITICAL");  // CLEARED
    ASSERT_TRUE(alarms_->clear(kA, "T3").status.ok());
    b1 = raise_id(kB, 15, "T1", "WARNING");  // ACTIVE
    b4 = raise_id(kB, 25, "T4", "MAJOR");    // CLEARED
    ASSERT_TRUE(alarms_->clear(kB, "T4").status.ok());
  }

  std::set<uint64_t> select(AlarmQuery q) {
    q.page_size = 100;
    return id_set(query(q));
  }

  uint64_t a1 = 0, a2 = 0, a3 = 0, b1 = 0, b4 = 0;
};

TEST_F(AlarmsQueryTest, Everything) {
  AlarmQuery q;
  q.page_size = 100;  // newest first, as Cumulocity lists alarms
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{a3, b4, a2, b1, a1}));
  q.oldest_first = true;  // revert=true
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{a1, b1, a2, b4, a3}));
  q.source = kA;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{a1, a2, a3}));
  q.oldest_first = false;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{a3, a2, a1}));
}

TEST_F(AlarmsQueryTest, ARepeatedRaiseMovesTheAlarmToTheFront) {
  // The time of an alarm is that of its last raise, and the order follows it.
  ASSERT_FALSE(raise(kA, 40, "T1", "MAJOR").created);  // a1 again, now the newest
  AlarmQuery q;
  q.page_size = 100;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{a1, a3, b4, a2, b1}));
}

TEST_F(AlarmsQueryTest, Status) {
  AlarmQuery q;
  q.status = {"ACTIVE"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a1, b1}));
  q.status = {"ACKNOWLEDGED"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a2}));
  q.status = {"ACTIVE", "ACKNOWLEDGED"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a1, a2, b1}));
  q.status = {"CLEARED"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a3, b4}));
  q.status = {"active"};
  EXPECT_TRUE(select(q).empty());
}

TEST_F(AlarmsQueryTest, Severity) {
  AlarmQuery q;
  q.severity = {"MAJOR"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a1, b4}));
  q.severity = {"MAJOR", "CRITICAL"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a1, a3, b4}));
  q.severity = {"WARNING", "MINOR"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a2, b1}));
  q.severity = {"INFO"};
  EXPECT_TRUE(select(q).empty());
}

TEST_F(AlarmsQueryTest, Type) {
  AlarmQuery q;
  q.type = {"T1"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a1, b1}));
  q.type = {"T1", "T3"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a1, a3, b1}));
  q.type = {"T"};  // no prefix matching
  EXPECT_TRUE(select(q).empty());
}

TEST_F(AlarmsQueryTest, Resolved) {
  AlarmQuery q;
  q.resolved = true;
  EXPECT_EQ(select(q), (std::set<uint64_t>{a3, b4}));
  q.resolved = false;
  EXPECT_EQ(select(q), (std::set<uint64_t>{a1, a2, b1}));
  q.status = {"CLEARED"};  // contradicting filters select nothing
  EXPECT_TRUE(select(q).empty());
  q.status = {"ACKNOWLEDGED"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a2}));
}

TEST_F(AlarmsQueryTest, SourceAndDates) {
  AlarmQuery q;
  q.source = kA;
  EXPECT_EQ(select(q), (std::set<uint64_t>{a1, a2, a3}));
  q.source = kB;
  EXPECT_EQ(select(q), (std::set<uint64_t>{b1, b4}));
  q.source = 99;
  EXPECT_TRUE(select(q).empty());
  q.source = 0;
  q.date_from = 15;
  q.date_to = 30;
  EXPECT_EQ(select(q), (std::set<uint64_t>{b1, a2, b4}));
  q.source = kA;
  EXPECT_EQ(select(q), (std::set<uint64_t>{a2}));
  q.date_from = 10;
  q.date_to = 11;
  EXPECT_EQ(select(q), (std::set<uint64_t>{a1}));
  q.date_from = 11;
  q.date_to = 20;
  EXPECT_TRUE(select(q).empty());
}

TEST_F(AlarmsQueryTest, Combined) {
  AlarmQuery q;
  q.status = {"ACTIVE"};
  q.severity = {"WARNING"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{b1}));
  q.source = kA;
  EXPECT_TRUE(select(q).empty());
  q = {};
  q.source = kA;
  q.type = {"T1", "T2", "T3"};
  q.resolved = false;
  q.severity = {"MINOR", "MAJOR", "CRITICAL"};
  EXPECT_EQ(select(q), (std::set<uint64_t>{a1, a2}));
}

TEST_F(AlarmsQueryTest, PagingCountsMatchingAlarmsOnly) {
  AlarmQuery q;
  q.resolved = false;  // a1(10) b1(15) a2(20)
  q.page_size = 2;
  auto p = query(q);
  EXPECT_EQ(ids(p), (std::vector<uint64_t>{a2, b1}));
  EXPECT_TRUE(p.more);
  q.page = 2;
  p = query(q);
  EXPECT_EQ(ids(p), (std::vector<uint64_t>{a1}));
  EXPECT_FALSE(p.more);
  q.page_size = 3;
  q.page = 1;
  p = query(q);
  EXPECT_EQ(ids(p), (std::vector<uint64_t>{a2, b1, a1}));
  EXPECT_FALSE(p.more);  // exactly full
  q.oldest_first = true;
  q.page_size = 2;
  p = query(q);
  EXPECT_EQ(ids(p), (std::vector<uint64_t>{a1, b1}));
  EXPECT_TRUE(p.more);
  q.page_size = 1;
  q.page = 3;
  q.count_total = true;
  p = query(q);
  EXPECT_EQ(ids(p), (std::vector<uint64_t>{a2}));
  EXPECT_FALSE(p.more);
  EXPECT_EQ(p.total, std::optional<size_t>(3));
}

// ---- update_all -------------------------------------------------------------------------------

TEST_F(AlarmsTest, UpdateAllClearsEverythingTheQuerySelects) {
  std::vector<uint64_t> a_open;
  for (int i = 0; i < 5; ++i) a_open.push_back(raise_id(kA, 10 + i, "T" + std::to_string(i)));
  const uint64_t b_open = raise_id(kB, 12, "T0");
  AlarmQuery q;
  q.source = kA;
  q.resolved = false;
  std::vector<json> changed;
  auto st = alarms_->update_all(q, {{"status", "CLEARED"}}, 100, &changed);
  ASSERT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(ids(changed), std::vector<uint64_t>(a_open.rbegin(), a_open.rend()));  // newest first
  for (auto& c : changed) EXPECT_EQ(c["status"], "CLEARED");
  for (auto id : a_open) EXPECT_EQ(get(id)["status"], "CLEARED") << id;
  EXPECT_EQ(get(b_open)["status"], "ACTIVE");
  EXPECT_TRUE(query(q).docs.empty());

  // The types are free again on kA, not on kB.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(raise(kA, 20 + i, "T" + std::to_string(i)).created) << i;
  EXPECT_FALSE(raise(kB, 20, "T0").created);

  // Nothing selected: nothing changed.
  changed.clear();
  q.type = {"nothing"};
  ASSERT_TRUE(alarms_->update_all(q, {{"status", "CLEARED"}}, 100, &changed).ok());
  EXPECT_TRUE(changed.empty());
}

TEST_F(AlarmsTest, UpdateAllRespectsTheLimit) {
  std::vector<uint64_t> open;
  for (int i = 0; i < 5; ++i) open.push_back(raise_id(kA, 10 + i, "T" + std::to_string(i)));
  AlarmQuery q;
  q.status = {"ACTIVE"};
  q.oldest_first = true;  // the limit takes the first alarms in the query's order
  std::vector<json> changed;
  ASSERT_TRUE(alarms_->update_all(q, {{"status", "CLEARED"}}, 2, &changed).ok());
  EXPECT_EQ(ids(changed), (std::vector<uint64_t>{open[0], open[1]}));
  EXPECT_EQ(get(open[0])["status"], "CLEARED");
  EXPECT_EQ(get(open[1])["status"], "CLEARED");
  for (int i = 2; i < 5; ++i) EXPECT_EQ(get(open[i])["status"], "ACTIVE") << i;

  // The limit applies to what is still selected; by default the newest go first.
  changed.clear();
  q.oldest_first = false;
  ASSERT_TRUE(alarms_->update_all(q, {{"status", "CLEARED"}}, 2, &changed).ok());
  EXPECT_EQ(ids(changed), (std::vector<uint64_t>{open[4], open[3]}));

  // limit 0 changes nothing.
  changed.clear();
  ASSERT_TRUE(alarms_->update_all(q, {{"status", "CLEARED"}}, 0, &changed).ok());
  EXPECT_TRUE(changed.empty());
  EXPECT_EQ(get(open[2])["status"], "ACTIVE");

  // Without the out-parameter; the query's own page settings do not matter.
  q.page = 7;
  q.page_size = 1;
  ASSERT_TRUE(alarms_->update_all(q, {{"status", "CLEARED"}}, 10, nullptr).ok());
  EXPECT_EQ(get(open[2])["status"], "CLEARED");
}

TEST_F(AlarmsTest, UpdateAllOtherChanges) {
  const uint64_t x = raise_id(kA, 1, "T1", "MAJOR");
  const uint64_t y = raise_id(kB, 2, "T2", "MAJOR");
  const uint64_t z = raise_id(kB, 3, "T3", "MINOR");
  AlarmQuery q;
  q.severity = {"MAJOR"};
  std::vector<json> changed;
  ASSERT_TRUE(
      alarms_->update_all(q, {{"severity", "CRITICAL"}, {"status", "ACKNOWLEDGED"}}, 100, &changed)
          .ok());
  EXPECT_EQ(ids(changed), (std::vector<uint64_t>{y, x}));
  EXPECT_EQ(get(x)["severity"], "CRITICAL");
  EXPECT_EQ(get(x)["status"], "ACKNOWLEDGED");
  EXPECT_EQ(get(y)["severity"], "CRITICAL");
  EXPECT_EQ(get(z)["severity"], "MINOR");
  EXPECT_EQ(get(z)["status"], "ACTIVE");

  // An invalid change is reported.
  auto st = alarms_->update_all(AlarmQuery{}, {{"severity", "BAD"}}, 100, nullptr);
  EXPECT_TRUE(is_error(st));
  for (auto& a : all()) EXPECT_NE(a["severity"], "BAD");
}

// ---- persistence ------------------------------------------------------------------------------

TEST_F(AlarmsTest, OpenAlarmsSurviveReopen) {
  const uint64_t open = raise_id(kA, 1, "c8y_T");
  const uint64_t cleared = raise_id(kA, 1, "c8y_U");
  ASSERT_TRUE(alarms_->clear(kA, "c8y_U").status.ok());
  reopen();
  auto r = raise(kA, 2, "c8y_T");
  EXPECT_FALSE(r.created);
  EXPECT_EQ(id_of(r.alarm), open);
  EXPECT_EQ(r.alarm["count"], 2);
  r = raise(kA, 2, "c8y_U");
  EXPECT_TRUE(r.created);
  EXPECT_NE(id_of(r.alarm), cleared);
  EXPECT_NE(id_of(r.alarm), open);
  EXPECT_EQ(get(cleared)["status"], "CLEARED");
}

// ---- concurrency ------------------------------------------------------------------------------

TEST_F(AlarmsTest, ConcurrentRaisesOfOneTypeEndAsOneAlarm) {
  constexpr int kThreads = 8, kEach = 125;
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      for (int j = 0; j < kEach; ++j) {
        auto r = alarms_->raise(kA, kT0 + i * 1000 + j, "c8y_Hot", "MAJOR", "hot", json::object());
        EXPECT_TRUE(r.status.ok()) << r.status.message;
        if (r.created) created.fetch_add(1);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["count"], kThreads * kEach);
  EXPECT_EQ(a[0]["status"], "ACTIVE");
  EXPECT_EQ(all(kA).size(), 1u);
  // The open index points at it.
  auto c = alarms_->clear(kA, "c8y_Hot");
  ASSERT_TRUE(c.status.ok());
  EXPECT_EQ(id_of(c.alarm), id_of(a[0]));
  EXPECT_EQ(c.alarm["count"], kThreads * kEach);
}

TEST_F(AlarmsTest, ConcurrentRaisesOfSeveralTypes) {
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      for (int j = 0; j < kEach; ++j) {
        // Every thread raises every type, and two sources.
        auto r = alarms_->raise(j % 2 ? kA : kB, kT0 + j, "T" + std::to_string((i + j) % 4),
                                "MINOR", "", json::object());
        EXPECT_TRUE(r.status.ok()) << r.status.message;
      }
    });
  for (auto& t : threads) t.join();
  auto a = all();
  ASSERT_EQ(a.size(), 8u);  // 2 sources x 4 types
  int total = 0;
  std::set<std::pair<std::string, std::string>> keys;
  for (auto& x : a) {
    total += x["count"].get<int>();
    keys.insert({x["source"]["id"].get<std::string>(), x["type"].get<std::string>()});
  }
  EXPECT_EQ(total, kThreads * kEach);
  EXPECT_EQ(keys.size(), 8u);
}

TEST_F(AlarmsTest, RaisesRacingWithClearStayConsistent) {
  constexpr int kThreads = 4, kEach = 250;
  std::atomic<bool> done{false};
  std::atomic<int> raisers_left{kThreads};
  std::atomic<int> clears{0}, created{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      for (int j = 0; j < kEach; ++j) {
        auto r =
            alarms_->raise(kA, kT0 + j * kThreads + i, "c8y_Race", "MAJOR", "", json::object());
        EXPECT_TRUE(r.status.ok()) << r.status.message;
        if (r.created) created.fetch_add(1);
        if (j % 8 == 0) std::this_thread::yield();  // let the clearer in now and then
      }
      if (raisers_left.fetch_sub(1) == 1) done = true;
    });
  std::thread clearer([&] {
    while (!done) {
      auto r = alarms_->clear(kA, "c8y_Race");
      if (r.status.ok()) {
        EXPECT_EQ(r.alarm["status"], "CLEARED");
        clears.fetch_add(1);
      } else {
        EXPECT_TRUE(r.status.not_found()) << r.status.message;
      }
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  clearer.join();

  RecordProperty("clears", clears.load());
  auto a = all(kA);
  int open = 0, cleared = 0, total = 0;
  uint64_t open_id = 0;
  std::set<uint64_t> unique;
  for (auto& x : a) {
    EXPECT_EQ(x["type"], "c8y_Race");
    EXPECT_GE(x["count"].get<int>(), 1);
    total += x["count"].get<int>();
    unique.insert(id_of(x));
    if (x["status"] == "CLEARED") {
      ++cleared;
    } else {
      ++open;
      open_id = id_of(x);
    }
  }
  EXPECT_LE(open, 1);
  EXPECT_EQ(total, kThreads * kEach);
  EXPECT_EQ(cleared, clears.load());
  EXPECT_EQ(static_cast<int>(a.size()), created.load());
  EXPECT_EQ(unique.size(), a.size());
  // The open index agrees with the documents.
  auto r = raise(kA, kT0 + 1000000, "c8y_Race");
  if (open == 1) {
    EXPECT_FALSE(r.created);
    EXPECT_EQ(id_of(r.alarm), open_id);
  } else {
    EXPECT_TRUE(r.created);
  }
  AlarmQuery q;
  q.resolved = false;
  q.page_size = 100;
  EXPECT_EQ(query(q).docs.size(), 1u);
}

}  // namespace
}  // namespace c8y::domain

// Events against a real Store.
#include "plugin/domain/events.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/tenant_space.h"
#include "tests/unit/temp_dir.h"

namespace c8y::domain {
namespace {

using nlohmann::json;

constexpr unsigned kNode = 4;
// Source ids never equal an event id (ids end in the node number).
constexpr uint64_t kA = 900001, kB = 900002, kC = 900003;
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

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open(storage::Durability durability = storage::Durability::kWal) {
    store_ = dir_.open_store(durability);
    ASSERT_TRUE(store_);
    const storage::Family* f = nullptr;
    ASSERT_TRUE(store_->create_tenant("t1", &f).ok());
    f = store_->tenant("t1");
    ASSERT_NE(f, nullptr);
    space_ = std::make_unique<TenantSpace>(*store_, "t1", f, kNode);
    events_ = std::make_unique<Events>(*store_, *space_);
  }

  void reopen(storage::Durability durability = storage::Durability::kWal) {
    events_.reset();
    space_.reset();
    store_.reset();
    open(durability);
  }

  // Creates an event; returns its id.
  uint64_t create(uint64_t source, int64_t t, const std::string& type = "c8y_TestEvent",
                  const json& fragments = json::object(), const std::string& text = "text") {
    json out;
    auto st = events_->create(source, t, type, text, fragments, &out);
    EXPECT_TRUE(st.ok()) << st.message;
    return id_of(out);
  }

  DocPage query(const EventQuery& q) {
    DocPage page;
    auto st = events_->query(q, &page);
    EXPECT_TRUE(st.ok()) << st.message;
    return page;
  }

  static uint64_t id_of(const json& doc) {
    auto id = parse_id(doc.value("id", ""));
    EXPECT_TRUE(id.has_value()) << doc.dump();
    return id.value_or(0);
  }

  static std::vector<uint64_t> ids(const DocPage& p) {
    std::vector<uint64_t> out;
    for (auto& d : p.docs) out.push_back(id_of(d));
    return out;
  }

  static std::vector<int64_t> times(const DocPage& p) {
    std::vector<int64_t> out;
    for (auto& d : p.docs) out.push_back(parse_time(d, "time"));
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<TenantSpace> space_;
  std::unique_ptr<Events> events_;
};

// ---- create / make / get ----------------------------------------------------------------------

TEST_F(EventsTest, CreateReturnsTheDocument) {
  const int64_t before = now_ms();
  json out;
  auto st =
      events_->create(kA, kT0, "c8y_LocationUpdate", "Location updated",
                      {{"c8y_Position", {{"lat", 52.1}, {"lng", 13.4}}}, {"flag", true}}, &out);
  const int64_t after = now_ms();
  ASSERT_TRUE(st.ok()) << st.message;
  ASSERT_TRUE(out.is_object());
  ASSERT_TRUE(out["id"].is_string());
  const uint64_t id = id_of(out);
  EXPECT_NE(id, 0u);
  EXPECT_EQ(id % 1000, kNode);
  EXPECT_EQ(out["source"], json({{"id", "900001"}}));
  EXPECT_EQ(out["time"], "2016-06-22T15:03:14.123Z");
  EXPECT_EQ(out["type"], "c8y_LocationUpdate");
  EXPECT_EQ(out["text"], "Location updated");
  EXPECT_EQ(out["c8y_Position"]["lat"], 52.1);
  EXPECT_EQ(out["c8y_Position"]["lng"], 13.4);
  EXPECT_EQ(out["flag"], true);
  const int64_t created = parse_time(out, "creationTime");
  EXPECT_GE(created, before);
  EXPECT_LE(created, after);
  EXPECT_TRUE(out.contains("lastUpdated"));
  EXPECT_FALSE(out.contains("self"));
}

TEST_F(EventsTest, BaseKeysInFragmentsAreIgnored) {
  json out;
  json fragments = {{"id", "1"},
                    {"self", "http://x"},
                    {"source", {{"id", "999"}}},
                    {"type", "other"},
                    {"time", "2000-01-01T00:00:00.000Z"},
                    {"creationTime", "2000-01-01T00:00:00.000Z"},
                    {"lastUpdated", "2000-01-01T00:00:00.000Z"},
                    {"text", "other text"},
                    {"nulled", nullptr},
                    {"custom", 42}};
  ASSERT_TRUE(events_->create(kA, kT0, "c8y_T", "real text", fragments, &out).ok());
  EXPECT_NE(out["id"], "1");
  EXPECT_FALSE(out.contains("self"));
  EXPECT_EQ(out["source"]["id"], "900001");
  EXPECT_EQ(out["type"], "c8y_T");
  EXPECT_EQ(out["time"], "2016-06-22T15:03:14.123Z");
  EXPECT_NE(out["creationTime"], "2000-01-01T00:00:00.000Z");
  EXPECT_NE(out["lastUpdated"], "2000-01-01T00:00:00.000Z");
  EXPECT_EQ(out["text"], "real text");
  EXPECT_FALSE(out.contains("nulled"));
  EXPECT_EQ(out["custom"], 42);
  auto stored = events_->get(id_of(out));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, out);
}

TEST_F(EventsTest, FragmentsThatAreNotAnObjectAreIgnored) {
  json out;
  ASSERT_TRUE(events_->create(kA, kT0, "c8y_T", "t", json::array({1, 2}), &out).ok());
  EXPECT_EQ(out.size(), 7u) << out.dump();  // id source type text time creationTime lastUpdated
  ASSERT_TRUE(events_->create(kA, kT0, "c8y_T", "t", nullptr, &out).ok());
  EXPECT_EQ(out.size(), 7u) << out.dump();
}

TEST_F(EventsTest, CreateWithoutOutParameter) {
  ASSERT_TRUE(events_->create(kA, kT0, "c8y_T", "t", json::object(), nullptr).ok());
  auto p = query(EventQuery{});
  ASSERT_EQ(p.docs.size(), 1u);
  EXPECT_EQ(p.docs[0]["type"], "c8y_T");
}

TEST_F(EventsTest, MakeWithIdZeroHasNoId) {
  json e = Events::make(0, kB, kT0, "c8y_T", "hello", {{"x", 1}});
  EXPECT_FALSE(e.contains("id"));
  EXPECT_EQ(e["source"]["id"], "900002");
  EXPECT_EQ(e["type"], "c8y_T");
  EXPECT_EQ(e["text"], "hello");
  EXPECT_EQ(e["time"], "2016-06-22T15:03:14.123Z");
  EXPECT_TRUE(e.contains("creationTime"));
  EXPECT_EQ(e["x"], 1);
  // make() stores nothing.
  EXPECT_TRUE(query(EventQuery{}).docs.empty());

  json with_id = Events::make(12345004, kB, kT0, "c8y_T", "hello", json::object());
  EXPECT_EQ(with_id["id"], "12345004");
}

TEST_F(EventsTest, MakeWithNegativeTime) {
  json e = Events::make(0, kA, -1, "c8y_T", "", json::object());
  EXPECT_EQ(e["time"], "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(e["text"], "");
}

TEST_F(EventsTest, GetById) {
  json out;
  ASSERT_TRUE(events_->create(kA, kT0, "c8y_T", "t", {{"f", {{"a", 1}}}}, &out).ok());
  create(kB, kT0);
  auto got = events_->get(id_of(out));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, out);
  EXPECT_FALSE(events_->get(1).has_value());
  EXPECT_FALSE(events_->get(0).has_value());
}

TEST_F(EventsTest, IdsAreUnique) {
  std::set<uint64_t> ids;
  for (int i = 0; i < 100; ++i) ids.insert(create(kA, kT0));
  EXPECT_EQ(ids.size(), 100u);
  for (auto id : ids) EXPECT_EQ(id % 1000, kNode);
}

// ---- query ------------------------------------------------------------------------------------

TEST_F(EventsTest, QueryBySource) {
  const uint64_t a1 = create(kA, 10);
  const uint64_t b1 = create(kB, 20);
  const uint64_t a2 = create(kA, 30);
  const uint64_t c1 = create(kC, 5);
  EventQuery q;
  q.page_size = 10;
  q.source = kA;  // newest first, as Cumulocity lists events
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{a2, a1}));
  q.source = kB;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{b1}));
  q.source = 900009;
  EXPECT_TRUE(query(q).docs.empty());
  q.source = 0;  // every source, merged by time
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{a2, b1, a1, c1}));
  q.oldest_first = true;  // revert=true
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{c1, a1, b1, a2}));
  q.source = kA;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{a1, a2}));
}

TEST_F(EventsTest, DefaultOrderIsNewestFirstAndSameTimeByIdDescending) {
  const uint64_t first = create(kA, 7);
  const uint64_t second = create(kA, 7);  // same millisecond: the later id is newer
  const uint64_t older = create(kA, 3);
  EventQuery q;
  q.page_size = 10;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{second, first, older}));
  q.oldest_first = true;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{older, first, second}));
}

TEST_F(EventsTest, QueryByType) {
  std::vector<uint64_t> alarms;
  for (int64_t t = 0; t < 12; ++t) {
    const bool x = t % 3 == 0;
    const uint64_t id = create(t % 2 ? kA : kB, t, x ? "c8y_X" : "c8y_XY");
    if (x) alarms.push_back(id);
  }
  EventQuery q;
  q.page_size = 100;
  q.type = "c8y_X";
  q.oldest_first = true;
  auto p = query(q);
  EXPECT_EQ(ids(p), alarms);
  for (auto& d : p.docs) EXPECT_EQ(d["type"], "c8y_X");
  q.type = "c8y_";  // no prefix matching
  EXPECT_TRUE(query(q).docs.empty());
  q.type = "c8y_X";
  q.source = kA;  // odd times: 3 9
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{3, 9}));

  // Paging counts matching events only, in either order.
  q.source = 0;
  q.page_size = 3;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{0, 3, 6}));
  EXPECT_TRUE(p.more);
  q.page = 2;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{9}));
  EXPECT_FALSE(p.more);
  q.page = 1;
  q.oldest_first = false;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{9, 6, 3}));
  EXPECT_TRUE(p.more);
  q.page = 2;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{0}));
  EXPECT_FALSE(p.more);
}

TEST_F(EventsTest, QueryByFragmentType) {
  create(kA, 1, "t", {{"c8y_Position", {{"lat", 1}}}});
  create(kA, 2, "t", {{"c8y_Other", 1}});
  create(kB, 3, "u", {{"c8y_Position", {{"lat", 2}}}, {"c8y_Other", 2}});
  create(kB, 4, "u");
  EventQuery q;
  q.page_size = 10;
  q.fragment = "c8y_Position";
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{3, 1}));
  q.fragment = "c8y_Other";
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{3, 2}));
  q.fragment = "c8y_Nothing";
  EXPECT_TRUE(query(q).docs.empty());
  // Together with type and source.
  q.fragment = "c8y_Position";
  q.type = "u";
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{3}));
  q.type = "t";
  q.source = kB;
  EXPECT_TRUE(query(q).docs.empty());
  q.source = kA;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{1}));
}

TEST_F(EventsTest, QueryByDateRange) {
  for (int64_t t = 100; t < 110; ++t) create(t % 2 ? kA : kB, kT0 + t);
  EventQuery q;
  q.page_size = 100;
  q.date_from = kT0 + 103;
  q.date_to = kT0 + 106;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{kT0 + 105, kT0 + 104, kT0 + 103}));
  q.oldest_first = true;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{kT0 + 103, kT0 + 104, kT0 + 105}));
  q.source = kA;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{kT0 + 103, kT0 + 105}));
  q.oldest_first = false;
  q.type = "c8y_TestEvent";
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{kT0 + 105, kT0 + 103}));
  q.type = "other";
  EXPECT_TRUE(query(q).docs.empty());
  // Only a lower bound, only an upper bound, in both orders.
  q.type.clear();
  q.source = 0;
  q.date_from = kT0 + 108;
  q.date_to = INT64_MAX;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{kT0 + 109, kT0 + 108}));
  q.oldest_first = true;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{kT0 + 108, kT0 + 109}));
  q.date_from = INT64_MIN;
  q.date_to = kT0 + 102;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{kT0 + 100, kT0 + 101}));
  q.oldest_first = false;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{kT0 + 101, kT0 + 100}));
  // An empty or inverted range selects nothing (and counts nothing).
  q.count_total = true;
  for (bool oldest : {false, true}) {
    q.oldest_first = oldest;
    q.date_from = kT0 + 105;
    q.date_to = kT0 + 105;
    auto p = query(q);
    EXPECT_TRUE(p.docs.empty());
    EXPECT_EQ(p.total, std::optional<size_t>(0));
    q.date_to = kT0 + 104;
    EXPECT_TRUE(query(q).docs.empty());
    q.date_from = INT64_MIN + 1;
    q.date_to = INT64_MIN + 1;
    EXPECT_TRUE(query(q).docs.empty());
  }
}

TEST_F(EventsTest, QueryPaging) {
  for (int64_t t = 0; t < 10; ++t) create(kA, t);
  EventQuery q;
  q.source = kA;
  q.page_size = 5;
  auto p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{9, 8, 7, 6, 5}));
  EXPECT_TRUE(p.more);
  q.page = 2;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{4, 3, 2, 1, 0}));
  EXPECT_FALSE(p.more);
  q.oldest_first = true;
  q.page_size = 4;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{4, 5, 6, 7}));
  EXPECT_TRUE(p.more);
  q.page = 3;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{8, 9}));
  EXPECT_FALSE(p.more);
  // The default page size is 5.
  EventQuery d;
  p = query(d);
  EXPECT_EQ(p.docs.size(), 5u);
  EXPECT_TRUE(p.more);
}

TEST_F(EventsTest, ManyEventsThroughTheIngestPathAreVisibleAtOnce) {
  for (int64_t t = 0; t < 500; ++t) create(t % 5 + 1, t);
  EventQuery q;
  q.page_size = 1000;
  auto p = query(q);
  ASSERT_EQ(p.docs.size(), 500u);
  for (size_t i = 0; i < p.docs.size(); ++i)
    EXPECT_EQ(parse_time(p.docs[i], "time"), static_cast<int64_t>(499 - i));
}

// ---- update -----------------------------------------------------------------------------------

TEST_F(EventsTest, UpdateTextAndFragments) {
  json created;
  ASSERT_TRUE(events_
                  ->create(kA, kT0, "c8y_T", "old",
                           {{"keep", 1}, {"drop", 2}, {"change", {{"a", 1}}}}, &created)
                  .ok());
  const uint64_t id = id_of(created);
  json out;
  auto st = events_->update(id,
                            {{"text", "new"},
                             {"drop", nullptr},
                             {"change", {{"b", 2}}},
                             {"added", json::array({1, 2})},
                             {"absent", nullptr}},
                            &out);
  ASSERT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(out["text"], "new");
  EXPECT_EQ(out["keep"], 1);
  EXPECT_FALSE(out.contains("drop"));
  EXPECT_FALSE(out.contains("absent"));
  EXPECT_EQ(out["change"], json({{"b", 2}}));  // replaced, not merged
  EXPECT_EQ(out["added"], json::array({1, 2}));
  EXPECT_EQ(out["id"], created["id"]);
  EXPECT_EQ(out["source"], created["source"]);
  EXPECT_EQ(out["type"], created["type"]);
  EXPECT_EQ(out["time"], created["time"]);
  EXPECT_EQ(out["creationTime"], created["creationTime"]);
  EXPECT_GE(parse_time(out, "lastUpdated"), parse_time(created, "lastUpdated"));

  auto got = events_->get(id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, out);
  // Still found at its time, once.
  EventQuery q;
  q.date_from = kT0;
  q.date_to = kT0 + 1;
  auto p = query(q);
  ASSERT_EQ(p.docs.size(), 1u);
  EXPECT_EQ(p.docs[0], out);
}

TEST_F(EventsTest, UpdateLeavesBaseKeysUnchanged) {
  json created;
  ASSERT_TRUE(events_->create(kA, kT0, "c8y_T", "t", json::object(), &created).ok());
  const uint64_t id = id_of(created);
  json out;
  ASSERT_TRUE(events_
                  ->update(id,
                           {{"id", "77"},
                            {"self", "http://x"},
                            {"source", {{"id", "900002"}}},
                            {"type", "other"},
                            {"time", "2000-01-01T00:00:00.000Z"},
                            {"creationTime", "2000-01-01T00:00:00.000Z"},
                            {"lastUpdated", "2000-01-01T00:00:00.000Z"}},
                           &out)
                  .ok());
  EXPECT_EQ(out["id"], created["id"]);
  EXPECT_FALSE(out.contains("self"));
  EXPECT_EQ(out["source"], created["source"]);
  EXPECT_EQ(out["type"], "c8y_T");
  EXPECT_EQ(out["time"], created["time"]);
  EXPECT_EQ(out["creationTime"], created["creationTime"]);
  EXPECT_NE(out["lastUpdated"], "2000-01-01T00:00:00.000Z");

  // null does not remove a base key either.
  ASSERT_TRUE(events_
                  ->update(id,
                           {{"id", nullptr},
                            {"source", nullptr},
                            {"type", nullptr},
                            {"time", nullptr},
                            {"creationTime", nullptr},
                            {"lastUpdated", nullptr}},
                           &out)
                  .ok());
  for (const char* k : {"id", "source", "type", "time", "creationTime", "lastUpdated"})
    EXPECT_TRUE(out.contains(k)) << k;
  // Not moved to another source or time.
  EventQuery q;
  q.source = kB;
  EXPECT_TRUE(query(q).docs.empty());
  q.source = kA;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{id}));
}

TEST_F(EventsTest, UpdateWithoutOutParameterAndUnknownId) {
  const uint64_t id = create(kA, kT0);
  ASSERT_TRUE(events_->update(id, {{"x", 1}}, nullptr).ok());
  EXPECT_EQ((*events_->get(id))["x"], 1);
  json out = "untouched";
  auto st = events_->update(id + 1000, {{"x", 1}}, &out);
  EXPECT_TRUE(st.not_found()) << st.message;
  EXPECT_EQ(out, "untouched");
}

TEST_F(EventsTest, UpdateOfEventWrittenJustBefore) {
  // create goes through the ingest path, update through a direct write: the update must see the
  // event and must not be overwritten by it later.
  for (int i = 0; i < 50; ++i) {
    const uint64_t id = create(kA, i);
    ASSERT_TRUE(events_->update(id, {{"n", i}}, nullptr).ok()) << i;
  }
  ASSERT_TRUE(store_->settle().ok());
  EventQuery q;
  q.page_size = 100;
  q.oldest_first = true;
  auto p = query(q);
  ASSERT_EQ(p.docs.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(p.docs[i].value("n", -1), i);
}

TEST_F(EventsTest, UpdateKeepsTextAString) {
  // An event always has a string "text" (make() keeps it out of the fragments, 407 never removes
  // it, Alarms::update rejects a text that is not a string). A REST PUT may change it, but neither
  // null nor a non-string may leave the event without a string text: either the update is
  // refused or the text stays a string.
  json created;
  ASSERT_TRUE(events_->create(kA, kT0, "c8y_T", "the text", json::object(), &created).ok());
  const uint64_t id = id_of(created);
  for (const json& change : {json{{"text", nullptr}}, json{{"text", 5}}, json{{"text", {1, 2}}}}) {
    json out;
    auto st = events_->update(id, change, &out);
    auto got = events_->get(id);
    ASSERT_TRUE(got.has_value());
    EXPECT_TRUE(got->contains("text") && (*got)["text"].is_string())
        << "after " << change.dump() << " (status " << st.code << "): " << got->dump();
  }
}

// ---- remove -----------------------------------------------------------------------------------

TEST_F(EventsTest, Remove) {
  const uint64_t a = create(kA, 1);
  const uint64_t b = create(kA, 2);
  ASSERT_TRUE(events_->remove(a).ok());
  EXPECT_FALSE(events_->get(a).has_value());
  EXPECT_TRUE(events_->get(b).has_value());
  EventQuery q;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{b}));
  q.source = kA;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{b}));
  EXPECT_TRUE(events_->remove(a).not_found());
  EXPECT_TRUE(events_->remove(999).not_found());
  EXPECT_TRUE(events_->update(a, {{"x", 1}}, nullptr).not_found());
}

// ---- 407 --------------------------------------------------------------------------------------

TEST_F(EventsTest, RemoveFragmentsOfLatestPicksTheLatestOfThatType) {
  const json frags = {{"f1", 1}, {"f2", 2}, {"f3", 3}};
  const uint64_t older = create(kA, 10, "c8y_A", frags);
  const uint64_t latest = create(kA, 30, "c8y_A", frags);
  const uint64_t middle = create(kA, 20, "c8y_A", frags);
  const uint64_t other_type = create(kA, 40, "c8y_B", frags);  // later, but another type
  const uint64_t other_source = create(kB, 50, "c8y_A", frags);

  json out;
  auto st = events_->remove_fragments_of_latest(kA, "c8y_A", {"f1", "f3", "missing"}, &out);
  ASSERT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(id_of(out), latest);
  EXPECT_FALSE(out.contains("f1"));
  EXPECT_EQ(out["f2"], 2);
  EXPECT_FALSE(out.contains("f3"));

  auto got = events_->get(latest);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, out);
  for (uint64_t id : {older, middle, other_type, other_source}) {
    auto e = events_->get(id);
    ASSERT_TRUE(e.has_value()) << id;
    EXPECT_EQ((*e)["f1"], 1) << id;
    EXPECT_EQ((*e)["f3"], 3) << id;
  }
}

TEST_F(EventsTest, RemoveFragmentsOfLatestKeepsBaseKeysAndText) {
  json created;
  ASSERT_TRUE(events_->create(kA, kT0, "c8y_A", "the text", {{"f", 1}}, &created).ok());
  json out;
  ASSERT_TRUE(events_
                  ->remove_fragments_of_latest(
                      kA, "c8y_A",
                      {"id", "source", "type", "time", "creationTime", "lastUpdated", "text", "f"},
                      &out)
                  .ok());
  EXPECT_EQ(out["id"], created["id"]);
  EXPECT_EQ(out["source"], created["source"]);
  EXPECT_EQ(out["type"], "c8y_A");
  EXPECT_EQ(out["time"], created["time"]);
  EXPECT_EQ(out["creationTime"], created["creationTime"]);
  EXPECT_TRUE(out.contains("lastUpdated"));
  EXPECT_EQ(out["text"], "the text");
  EXPECT_FALSE(out.contains("f"));
}

TEST_F(EventsTest, RemoveFragmentsOfLatestNotFound) {
  create(kA, 1, "c8y_A", {{"f", 1}});
  create(kB, 2, "c8y_B", {{"f", 1}});
  json out = "untouched";
  EXPECT_TRUE(events_->remove_fragments_of_latest(kA, "c8y_B", {"f"}, &out).not_found());
  EXPECT_TRUE(events_->remove_fragments_of_latest(kC, "c8y_A", {"f"}, &out).not_found());
  EXPECT_TRUE(events_->remove_fragments_of_latest(kA, "c8y_", {"f"}, &out).not_found());
  EXPECT_EQ(out, "untouched");
  // Nothing changed.
  EventQuery q;
  for (auto& e : query(q).docs) EXPECT_EQ(e["f"], 1);
}

TEST_F(EventsTest, RemoveFragmentsOfLatestWithSameMillisecond) {
  const uint64_t first = create(kA, 5, "c8y_A", {{"f", 1}});
  const uint64_t second = create(kA, 5, "c8y_A", {{"f", 1}});
  ASSERT_LT(first, second);
  json out;
  ASSERT_TRUE(events_->remove_fragments_of_latest(kA, "c8y_A", {"f"}, &out).ok());
  EXPECT_EQ(id_of(out), second);  // the later id wins a tie
  EXPECT_TRUE((*events_->get(first)).contains("f"));
}

TEST_F(EventsTest, RemoveFragmentsOfLatestAfterRemove) {
  const uint64_t older = create(kA, 1, "c8y_A", {{"f", 1}});
  const uint64_t newer = create(kA, 2, "c8y_A", {{"f", 1}});
  ASSERT_TRUE(events_->remove(newer).ok());
  json out;
  ASSERT_TRUE(events_->remove_fragments_of_latest(kA, "c8y_A", {"f"}, &out).ok());
  EXPECT_EQ(id_of(out), older);
  EXPECT_FALSE(events_->get(newer).has_value());  // not brought back
}

// ---- persistence and threads ------------------------------------------------------------------

TEST_F(EventsTest, SurviveReopen) {
  std::vector<json> created;
  for (int64_t t = 0; t < 5; ++t) {
    json out;
    ASSERT_TRUE(events_->create(t % 2 ? kA : kB, kT0 + t, "c8y_T", "t", {{"n", t}}, &out).ok());
    created.push_back(out);
  }
  const uint64_t changed = id_of(created[1]);
  ASSERT_TRUE(events_->update(changed, {{"text", "changed"}}, nullptr).ok());
  ASSERT_TRUE(events_->remove(id_of(created[2])).ok());
  reopen();

  EventQuery q;
  q.page_size = 10;
  q.oldest_first = true;
  auto p = query(q);
  ASSERT_EQ(p.docs.size(), 4u);
  EXPECT_EQ(p.docs[0], created[0]);
  EXPECT_EQ(p.docs[1]["text"], "changed");
  EXPECT_EQ(p.docs[2], created[3]);
  EXPECT_EQ(p.docs[3], created[4]);
  EXPECT_FALSE(events_->get(id_of(created[2])).has_value());

  // Fresh ids after the reopen.
  std::set<uint64_t> ids;
  for (auto& e : created) ids.insert(id_of(e));
  for (int i = 0; i < 5; ++i) ids.insert(create(kA, kT0));
  EXPECT_EQ(ids.size(), 10u);
}

TEST_F(EventsTest, SurviveReopenWithBatchedDurability) {
  reopen(storage::Durability::kBatched);
  std::vector<uint64_t> created;
  for (int64_t t = 0; t < 20; ++t) created.push_back(create(kA, t));
  reopen(storage::Durability::kBatched);
  EventQuery q;
  q.page_size = 100;
  q.oldest_first = true;
  EXPECT_EQ(ids(query(q)), created);
}

TEST_F(EventsTest, ConcurrentCreates) {
  constexpr int kThreads = 8, kEach = 100;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<uint64_t> ids;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      for (int j = 0; j < kEach; ++j) {
        json out;
        auto st = events_->create(kA + i, j, "c8y_T", "t", json::object(), &out);
        EXPECT_TRUE(st.ok()) << st.message;
        std::lock_guard lock(mu);
        ids.insert(id_of(out));
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
  EventQuery q;
  q.page_size = 10000;
  auto p = query(q);
  EXPECT_EQ(p.docs.size(), static_cast<size_t>(kThreads * kEach));
  std::set<uint64_t> seen;
  for (auto& d : p.docs) seen.insert(id_of(d));
  EXPECT_EQ(seen, ids);
}

// A process killed after mixing ingest-path creates with direct-write updates and removes: the
// next open replays only what RocksDB had not received, so a replayed create neither undoes a
// later update nor brings a removed event back, and unsettled creates are not lost (wal mode).
TEST(EventsCrash, UpdatesAndRemovesSurviveSigkill) {
  testing::TempDir dir;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    alarm(60);  // never hang the parent
    auto store = dir.open_store(storage::Durability::kWal);
    if (!store) _exit(3);
    const storage::Family* f = nullptr;
    if (!store->create_tenant("t1", &f).ok()) _exit(4);
    TenantSpace space(*store, "t1", store->tenant("t1"), kNode);
    Events events(*store, space);
    std::vector<uint64_t> ids;
    for (int i = 0; i < 20; ++i) {
      json out;
      if (!events.create(kA, kT0 + i, "c8y_T", "t", {{"n", i}}, &out).ok()) _exit(5);
      ids.push_back(parse_id(out.value("id", "")).value_or(0));
    }
    if (!events.update(ids[5], {{"text", "changed"}}, nullptr).ok()) _exit(6);
    if (!events.remove(ids[7]).ok()) _exit(7);
    if (!events.remove_fragments_of_latest(kA, "c8y_T", {"n"}, nullptr).ok()) _exit(8);
    for (int i = 20; i < 25; ++i)  // not settled before the kill
      if (!events.create(kB, kT0 + i, "c8y_T", "t", {{"n", i}}, nullptr).ok()) _exit(9);
    kill(getpid(), SIGKILL);
    _exit(10);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child exit code " << WEXITSTATUS(status) << ", signal " << WTERMSIG(status);

  auto store = dir.open_store(storage::Durability::kWal);
  ASSERT_TRUE(store);
  ASSERT_NE(store->tenant("t1"), nullptr);
  TenantSpace space(*store, "t1", store->tenant("t1"), kNode);
  Events events(*store, space);
  EventQuery q;
  q.page_size = 100;
  DocPage p;
  ASSERT_TRUE(events.query(q, &p).ok());
  std::map<int, json> by_n;
  int without_n = 0;
  for (auto& e : p.docs) {
    if (e.contains("n"))
      by_n[e["n"].get<int>()] = e;
    else
      ++without_n;
  }
  EXPECT_EQ(p.docs.size(), 24u);
  EXPECT_EQ(without_n, 1);  // event 19: its "n" was removed by 407
  EXPECT_FALSE(by_n.count(19));
  EXPECT_FALSE(by_n.count(7));  // removed, not brought back
  ASSERT_TRUE(by_n.count(5));
  EXPECT_EQ(by_n[5]["text"], "changed");
  for (int i = 20; i < 25; ++i) EXPECT_TRUE(by_n.count(i)) << i;
}

TEST(EventBaseKeys, List) {
  for (const char* k : {"id", "self", "source", "type", "time", "creationTime", "lastUpdated"})
    EXPECT_TRUE(is_event_base_key(k)) << k;
  for (const char* k : {"text", "c8y_Position", "", "ID", "count"})
    EXPECT_FALSE(is_event_base_key(k)) << k;
}

}  // namespace
}  // namespace c8y::domain

namespace c8y::domain {
namespace {

// Events::create without an output document writes the stored JSON directly (the fast path of
// device events); it must read back exactly like the document make() builds.
TEST(EventsFastPath, StoredJsonEqualsTheDocumentForm) {
  c8y::testing::TempDir dir;
  auto store = dir.open_store();
  ASSERT_TRUE(store);
  const storage::Family* f = nullptr;
  ASSERT_TRUE(store->create_tenant("t1", &f).ok());
  TenantSpace space(*store, "t1", f, 3);
  Events events(*store, space);
  const std::string text = std::string("quote \" backslash \\ nl \n cr \r tab \t bell \x07 ") +
                           "unicode \xc3\xa4\xe2\x82\xac end";
  const std::string type = "c8y_\"Odd\"\\Type";
  ASSERT_TRUE(
      events.create(900001, 1700000000123, type, text, nlohmann::json::object(), nullptr).ok());
  EventQuery q;
  q.source = 900001;
  DocPage page;
  ASSERT_TRUE(events.query(q, &page).ok());
  ASSERT_EQ(page.docs.size(), 1u);
  const auto& got = page.docs[0];
  auto want = Events::make(parse_id(got["id"].get<std::string>()).value(), 900001, 1700000000123,
                           type, text, nlohmann::json::object());
  want["creationTime"] = got["creationTime"];
  want["lastUpdated"] = got["lastUpdated"];
  EXPECT_EQ(got, want);
  EXPECT_EQ(got["text"], text);
  EXPECT_EQ(got["time"], "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace c8y::domain

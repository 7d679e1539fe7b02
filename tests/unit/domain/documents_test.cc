// Documents (time-ordered JSON documents of one kind) against a real Store.
#include "plugin/domain/documents.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/tenant_space.h"
#include "storage/keys.h"
#include "tests/unit/temp_dir.h"

namespace c8y::domain {
namespace {

using nlohmann::json;

constexpr unsigned kNode = 5;
// Group ids never equal a document id (ids end in the node number).
constexpr uint64_t kA = 900001, kB = 900002, kC = 900003;
constexpr char kTag = 'o', kIndexTag = 'O';

class DocumentsTest : public ::testing::Test {
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
    docs_ = std::make_unique<Documents>(*store_, *space_, kTag, kIndexTag,
                                        /*ingest=*/true);
  }

  void reopen(storage::Durability durability = storage::Durability::kWal) {
    docs_.reset();
    space_.reset();
    store_.reset();
    open(durability);
  }

  static json make_doc(const DocRef& ref, const json& extra = json::object()) {
    json d = {{"id", format_id(ref.id)},
              {"time", common::format_iso8601_ms(ref.time_ms)},
              {"source", {{"id", format_id(ref.group)}}}};
    for (auto& [k, v] : extra.items()) d[k] = v;
    return d;
  }

  // Stores a document with the given id through write(batch).
  DocRef put_id(uint64_t id, uint64_t group, int64_t t, const json& extra = json::object()) {
    DocRef ref{id, group, t};
    storage::Batch b;
    docs_->put(b, ref, make_doc(ref, extra));
    auto st = store_->write(b);
    EXPECT_TRUE(st.ok()) << st.message;
    return ref;
  }

  // Stores a document with a fresh id through write(batch).
  DocRef put(uint64_t group, int64_t t, const json& extra = json::object()) {
    const uint64_t id = space_->ids.next();
    EXPECT_NE(id, 0u);
    return put_id(id, group, t, extra);
  }

  // Stores a document with a fresh id through the ingest path.
  DocRef append(uint64_t group, int64_t t, const json& extra = json::object()) {
    DocRef ref{space_->ids.next(), group, t};
    EXPECT_NE(ref.id, 0u);
    auto st = docs_->append(ref, make_doc(ref, extra));
    EXPECT_TRUE(st.ok()) << st.message;
    return ref;
  }

  DocPage query(const DocQuery& q) {
    DocPage page;
    auto st = docs_->query(q, &page);
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

  static std::vector<uint64_t> ids(const std::vector<DocRef>& refs) {
    std::vector<uint64_t> out;
    for (auto& r : refs) out.push_back(r.id);
    return out;
  }

  static std::vector<int64_t> times(const DocPage& p) {
    std::vector<int64_t> out;
    for (auto& d : p.docs) {
      auto t = common::parse_iso8601_ms(d.value("time", ""));
      EXPECT_TRUE(t.has_value()) << d.dump();
      out.push_back(t.value_or(INT64_MIN));
    }
    return out;
  }

  static DocQuery of_group(uint64_t group) {
    DocQuery q;
    q.group = group;
    return q;
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
  std::unique_ptr<Documents> docs_;
};

// ---- put / get / locate / remove -------------------------------------------------------------

TEST_F(DocumentsTest, PutThenGetAndLocate) {
  const DocRef ref = put(kA, 1466607794123, {{"type", "c8y_Test"}, {"text", "hello"}});
  auto where = docs_->locate(ref.id);
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->id, ref.id);
  EXPECT_EQ(where->group, kA);
  EXPECT_EQ(where->time_ms, 1466607794123);

  DocRef got_ref;
  auto doc = docs_->get(ref.id, &got_ref);
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(*doc, make_doc(ref, {{"type", "c8y_Test"}, {"text", "hello"}}));
  EXPECT_EQ(got_ref.id, ref.id);
  EXPECT_EQ(got_ref.group, kA);
  EXPECT_EQ(got_ref.time_ms, 1466607794123);

  // Without the out-parameter.
  auto again = docs_->get(ref.id);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *doc);
}

TEST_F(DocumentsTest, UnknownIdIsNotFound) {
  put(kA, 1);
  EXPECT_FALSE(docs_->locate(999999).has_value());
  DocRef untouched{7, 8, 9};
  EXPECT_FALSE(docs_->get(999999, &untouched).has_value());
  EXPECT_EQ(untouched.id, 7u);  // not written on failure
  EXPECT_EQ(untouched.group, 8u);
  EXPECT_EQ(untouched.time_ms, 9);
  EXPECT_FALSE(docs_->get(0).has_value());
}

TEST_F(DocumentsTest, KeyLayout) {
  const DocRef ref{0x0102030405060708ull, 0x1112131415161718ull, -1};
  const std::string k = docs_->key(ref);
  ASSERT_EQ(k.size(), 25u);
  EXPECT_EQ(k[0], kTag);
  EXPECT_EQ(storage::read_u64(k, 1), ref.group);
  EXPECT_EQ(storage::read_u64(k, 9), storage::time_key(-1));
  EXPECT_EQ(storage::read_u64(k, 17), ref.id);
  const std::string ik = docs_->index_key(ref.id);
  ASSERT_EQ(ik.size(), 9u);
  EXPECT_EQ(ik[0], kIndexTag);
  EXPECT_EQ(storage::read_u64(ik, 1), ref.id);
}

TEST_F(DocumentsTest, AppendIsReadableAtOnce) {
  // The ingest path: get, locate, scan_group and query settle first.
  std::vector<DocRef> refs;
  for (int64_t t = 0; t < 50; ++t) refs.push_back(append(kA, t));
  auto doc = docs_->get(refs.back().id);
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(*doc, make_doc(refs.back()));
  auto where = docs_->locate(refs.front().id);
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->group, kA);
  EXPECT_EQ(where->time_ms, 0);

  DocQuery q;
  q.page_size = 100;
  EXPECT_EQ(ids(query(q)), ids(refs));
  refs.push_back(append(kB, 1000));
  size_t seen = 0;
  ASSERT_TRUE(docs_
                  ->scan_group(kB, false,
                               [&](const DocRef& r, const json&) {
                                 EXPECT_EQ(r.id, refs.back().id);
                                 ++seen;
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(seen, 1u);
}

TEST_F(DocumentsTest, AppendWithBatchedDurabilityIsReadableAtOnce) {
  reopen(storage::Durability::kBatched);
  std::vector<DocRef> refs;
  for (int64_t t = 0; t < 20; ++t) refs.push_back(append(t % 2 ? kA : kB, t));
  DocQuery q;
  q.page_size = 100;
  EXPECT_EQ(ids(query(q)), ids(refs));
  EXPECT_TRUE(docs_->get(refs[7].id).has_value());
}

TEST_F(DocumentsTest, RemoveDeletesDocumentAndIndex) {
  const DocRef a = put(kA, 10);
  const DocRef b = put(kA, 20);
  const DocRef c = put(kB, 15);
  storage::Batch batch;
  docs_->remove(batch, b);
  EXPECT_EQ(batch.count(), 2u);
  ASSERT_TRUE(store_->write(batch).ok());

  EXPECT_FALSE(docs_->get(b.id).has_value());
  EXPECT_FALSE(docs_->locate(b.id).has_value());
  std::string v;
  EXPECT_TRUE(store_->get(space_->family, docs_->key(b), &v).not_found());
  EXPECT_TRUE(store_->get(space_->family, docs_->index_key(b.id), &v).not_found());

  EXPECT_TRUE(docs_->get(a.id).has_value());
  EXPECT_TRUE(docs_->get(c.id).has_value());
  DocQuery q;
  q.page_size = 10;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{a.id, c.id}));
  q.group = kA;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{a.id}));
}

TEST_F(DocumentsTest, RemoveOfAppendedDocument) {
  const DocRef a = append(kA, 10);
  ASSERT_TRUE(store_->settle().ok());
  storage::Batch batch;
  docs_->remove(batch, a);
  ASSERT_TRUE(store_->write(batch).ok());
  EXPECT_FALSE(docs_->get(a.id).has_value());
  DocQuery q;
  EXPECT_TRUE(query(q).docs.empty());
}

TEST_F(DocumentsTest, MoveToAnotherTimeAndGroup) {
  const DocRef old_ref = put(kA, 100, {{"v", 1}});
  const DocRef new_ref{old_ref.id, kB, 50};
  storage::Batch batch;
  docs_->remove(batch, old_ref);
  docs_->put(batch, new_ref, make_doc(new_ref, {{"v", 2}}));
  ASSERT_TRUE(store_->write(batch).ok());

  auto where = docs_->locate(old_ref.id);
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->group, kB);
  EXPECT_EQ(where->time_ms, 50);
  auto doc = docs_->get(old_ref.id);
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ((*doc)["v"], 2);

  DocQuery q;
  q.page_size = 10;
  auto all = query(q);
  ASSERT_EQ(all.docs.size(), 1u);  // the old key is gone
  EXPECT_EQ(all.docs[0]["v"], 2);
  q.group = kA;
  EXPECT_TRUE(query(q).docs.empty());
  q.group = kB;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{old_ref.id}));
}

TEST_F(DocumentsTest, PutAgainAtTheSameKeyReplaces) {
  const DocRef r = put(kA, 5, {{"v", 1}});
  put_id(r.id, kA, 5, {{"v", 2}});
  DocQuery q;
  auto p = query(q);
  ASSERT_EQ(p.docs.size(), 1u);
  EXPECT_EQ(p.docs[0]["v"], 2);
}

TEST_F(DocumentsTest, DanglingIndexIsNotFound) {
  // An index entry whose document is missing (e.g. a torn external write) is not a document.
  const DocRef r = put(kA, 5);
  storage::Batch b;
  b.del(space_->family, docs_->key(r));
  ASSERT_TRUE(store_->write(b).ok());
  EXPECT_TRUE(docs_->locate(r.id).has_value());
  EXPECT_FALSE(docs_->get(r.id).has_value());
}

TEST_F(DocumentsTest, MalformedJsonIsSkipped) {
  const DocRef good = put(kA, 1);
  const DocRef bad{space_->ids.next(), kA, 2};
  storage::Batch b;
  docs_->put(b, bad, make_doc(bad));
  ASSERT_TRUE(store_->write(b).ok());
  ASSERT_TRUE(
      store_->put(space_->family, docs_->key(bad), "{not json", storage::Store::When::kNow).ok());
  EXPECT_FALSE(docs_->get(bad.id).has_value());
  DocQuery q;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{good.id}));
  size_t seen = 0;
  ASSERT_TRUE(docs_
                  ->scan_group(kA, false,
                               [&](const DocRef&, const json&) {
                                 ++seen;
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(seen, 1u);
}

TEST_F(DocumentsTest, OtherKeysInTheFamilyAreIgnored) {
  // Other kinds share the family: another tag, the id high-water mark, managed objects, and keys
  // that start with this tag but do not have the document layout.
  Documents others(*store_, *space_, 'p', 'P');
  const DocRef foreign{space_->ids.next(), kA, 3};
  storage::Batch b;
  others.put(b, foreign, make_doc(foreign));
  ASSERT_TRUE(store_->write(b).ok());
  ASSERT_TRUE(store_->put(space_->family, "M12345678", "{}", storage::Store::When::kNow).ok());
  std::string short_key(1, kTag);
  storage::append_u64(short_key, kB);  // 9 bytes: a group with no document
  ASSERT_TRUE(store_->put(space_->family, short_key, "{}", storage::Store::When::kNow).ok());
  ASSERT_TRUE(
      store_->put(space_->family, std::string(1, kTag) + "x", "{}", storage::Store::When::kNow)
          .ok());
  const DocRef mine = put(kC, 7);

  DocQuery q;
  q.page_size = 100;
  auto p = query(q);
  EXPECT_EQ(ids(p), (std::vector<uint64_t>{mine.id}));
  EXPECT_FALSE(p.more);
  EXPECT_FALSE(docs_->get(foreign.id).has_value());
  EXPECT_TRUE(others.get(foreign.id).has_value());
  DocPage op;
  ASSERT_TRUE(others.query(q, &op).ok());
  EXPECT_EQ(ids(op), (std::vector<uint64_t>{foreign.id}));
  q.group = kB;
  EXPECT_TRUE(query(q).docs.empty());
}

TEST_F(DocumentsTest, EmptyStore) {
  DocQuery q;
  auto p = query(q);
  EXPECT_TRUE(p.docs.empty());
  EXPECT_FALSE(p.more);
  EXPECT_FALSE(p.truncated);
  q.group = kA;
  q.revert = true;
  p = query(q);
  EXPECT_TRUE(p.docs.empty());
  EXPECT_FALSE(p.more);
  EXPECT_FALSE(p.truncated);
}

// ---- scan_group -------------------------------------------------------------------------------

TEST_F(DocumentsTest, ScanGroupInTimeOrderAndStops) {
  std::vector<DocRef> a;
  for (int64_t t : {30, 10, 20, 40}) a.push_back(put(kA, t));
  put(kB, 15);
  put(kB + 1, 15);
  std::vector<int64_t> seen;
  ASSERT_TRUE(docs_
                  ->scan_group(kA, false,
                               [&](const DocRef& r, const json& j) {
                                 EXPECT_EQ(r.group, kA);
                                 EXPECT_EQ(id_of(j), r.id);
                                 seen.push_back(r.time_ms);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(seen, (std::vector<int64_t>{10, 20, 30, 40}));
  seen.clear();
  ASSERT_TRUE(docs_
                  ->scan_group(kA, true,
                               [&](const DocRef& r, const json&) {
                                 seen.push_back(r.time_ms);
                                 return seen.size() < 2;
                               })
                  .ok());
  EXPECT_EQ(seen, (std::vector<int64_t>{40, 30}));
  seen.clear();
  ASSERT_TRUE(docs_
                  ->scan_group(4242, false,
                               [&](const DocRef& r, const json&) {
                                 seen.push_back(r.time_ms);
                                 return true;
                               })
                  .ok());
  EXPECT_TRUE(seen.empty());
}

// ---- query: order ----------------------------------------------------------------------------

TEST_F(DocumentsTest, OneGroupInTimeOrder) {
  for (int64_t t : {5, 3, 9, 1, 7}) put(kA, t);
  put(kB, 4);
  DocQuery q;
  q.group = kA;
  q.page_size = 10;
  auto p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{1, 3, 5, 7, 9}));
  EXPECT_FALSE(p.more);
  q.revert = true;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{9, 7, 5, 3, 1}));
}

TEST_F(DocumentsTest, GroupsMergedInTimeOrder) {
  // A at even, B at odd, C at multiples of 5 (colliding with A and B).
  for (int64_t t = 0; t < 20; t += 2) put(kA, t);
  for (int64_t t = 1; t < 20; t += 2) put(kB, t);
  for (int64_t t = 0; t < 20; t += 5) put(kC, t);
  DocQuery q;
  q.page_size = 100;
  auto all = query(q);
  ASSERT_EQ(all.docs.size(), 24u);
  EXPECT_FALSE(all.more);
  auto t = times(all);
  auto id = ids(all);
  for (size_t i = 1; i < t.size(); ++i) {
    EXPECT_LE(t[i - 1], t[i]) << i;
    if (t[i - 1] == t[i]) {
      EXPECT_LT(id[i - 1], id[i]) << i;
    }
  }
  std::set<std::string> groups;
  for (auto& d : all.docs) groups.insert(d["source"]["id"].get<std::string>());
  EXPECT_EQ(groups.size(), 3u);

  q.revert = true;
  auto rev = query(q);
  ASSERT_EQ(rev.docs.size(), all.docs.size());
  auto rid = ids(rev);
  for (size_t i = 0; i < id.size(); ++i) EXPECT_EQ(rid[i], id[id.size() - 1 - i]) << i;

  // Paging over the merge continues where the previous page stopped, both ways.
  for (bool revert : {false, true}) {
    q.revert = revert;
    q.page_size = 5;
    std::vector<uint64_t> concat;
    for (q.page = 1; q.page <= 5; ++q.page) {
      auto p = query(q);
      EXPECT_EQ(p.more, q.page < 5) << q.page;
      for (auto x : ids(p)) concat.push_back(x);
    }
    EXPECT_EQ(concat, revert ? rid : id);
    q.page = 1;
  }
}

TEST_F(DocumentsTest, SameMillisecondTiesOrderedById) {
  // Ids deliberately not in group order: C has the smallest, A the largest.
  put_id(50, kA, 100);
  put_id(10, kC, 100);
  put_id(30, kB, 100);
  put_id(40, kA, 100);
  put_id(20, kC, 100);
  put_id(99, kB, 99);
  put_id(1, kA, 101);
  DocQuery q;
  q.page_size = 10;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{99, 10, 20, 30, 40, 50, 1}));
  q.revert = true;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{1, 50, 40, 30, 20, 10, 99}));

  // Paging through the tie across groups.
  q.revert = false;
  q.page_size = 2;
  q.page = 2;
  auto p = query(q);
  EXPECT_EQ(ids(p), (std::vector<uint64_t>{20, 30}));
  EXPECT_TRUE(p.more);
  q.revert = true;
  p = query(q);
  EXPECT_EQ(ids(p), (std::vector<uint64_t>{40, 30}));
  EXPECT_TRUE(p.more);

  // Within one group too.
  q.revert = false;
  q.page_size = 10;
  q.page = 1;
  q.group = kA;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{40, 50, 1}));
  q.revert = true;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{1, 50, 40}));
}

// ---- query: dates -----------------------------------------------------------------------------

TEST_F(DocumentsTest, DateBoundsFromInclusiveToExclusive) {
  for (int64_t t = 1000; t < 1010; ++t) put(kA, t);
  for (int64_t t = 1000; t < 1010; t += 3) put(kB, t);  // 1000 1003 1006 1009
  for (uint64_t group : {kA, uint64_t{0}}) {
    SCOPED_TRACE(group);
    const bool one = group != 0;
    DocQuery q;
    q.group = group;
    q.page_size = 100;
    q.date_from = 1003;
    q.date_to = 1007;
    EXPECT_EQ(times(query(q)),
              one ? range(1003, 1007) : (std::vector<int64_t>{1003, 1003, 1004, 1005, 1006, 1006}));
    q.revert = true;
    EXPECT_EQ(times(query(q)), one ? range(1006, 1002, -1)
                                   : (std::vector<int64_t>{1006, 1006, 1005, 1004, 1003, 1003}));

    // Only one bound.
    q.revert = false;
    q.date_from = 1008;
    q.date_to = INT64_MAX;
    EXPECT_EQ(times(query(q)), one ? range(1008, 1010) : (std::vector<int64_t>{1008, 1009, 1009}));
    q.revert = true;
    EXPECT_EQ(times(query(q)),
              one ? range(1009, 1007, -1) : (std::vector<int64_t>{1009, 1009, 1008}));
    q.date_from = INT64_MIN;
    q.date_to = 1002;
    EXPECT_EQ(times(query(q)),
              one ? range(1001, 999, -1) : (std::vector<int64_t>{1001, 1000, 1000}));
    q.revert = false;
    EXPECT_EQ(times(query(q)), one ? range(1000, 1002) : (std::vector<int64_t>{1000, 1000, 1001}));

    // Empty and inverted windows.
    q.date_from = 1005;
    q.date_to = 1005;
    EXPECT_TRUE(query(q).docs.empty());
    q.revert = true;
    EXPECT_TRUE(query(q).docs.empty());
    q.date_to = 1004;
    EXPECT_TRUE(query(q).docs.empty());
    q.revert = false;
    EXPECT_TRUE(query(q).docs.empty());
    // Outside the stored range.
    q.date_from = 2000;
    q.date_to = INT64_MAX;
    EXPECT_TRUE(query(q).docs.empty());
    q.revert = true;
    EXPECT_TRUE(query(q).docs.empty());
    q.date_from = INT64_MIN;
    q.date_to = 1000;
    EXPECT_TRUE(query(q).docs.empty());
    q.revert = false;
    EXPECT_TRUE(query(q).docs.empty());
  }
}

TEST_F(DocumentsTest, DateBoundsWithSameMillisecond) {
  for (int i = 0; i < 3; ++i) put(kA, 100);
  for (int i = 0; i < 3; ++i) put(kA, 200);
  DocQuery q;
  q.group = kA;
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

TEST_F(DocumentsTest, DateWindowWithPaging) {
  for (int64_t t = 0; t < 100; ++t) put(t % 2 ? kA : kB, t);
  DocQuery q;
  q.date_from = 10;
  q.date_to = 20;
  q.page_size = 4;
  q.page = 3;
  auto p = query(q);
  EXPECT_EQ(times(p), range(18, 20));
  EXPECT_FALSE(p.more);
  q.revert = true;
  q.page = 2;
  p = query(q);
  EXPECT_EQ(times(p), range(15, 11, -1));
  EXPECT_TRUE(p.more);
}

TEST_F(DocumentsTest, NegativeTimes) {
  put(kA, 5);
  put(kA, -5);
  put(kB, 0);
  put(kA, -1000000000000);
  put(kB, -1);
  DocQuery q;
  q.page_size = 10;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{-1000000000000, -5, -1, 0, 5}));
  q.revert = true;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{5, 0, -1, -5, -1000000000000}));
  q.date_from = -5;
  q.date_to = 1;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{0, -1, -5}));
  q.revert = false;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{-5, -1, 0}));
  q.group = kA;
  q.date_from = INT64_MIN;
  q.date_to = 0;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{-1000000000000, -5}));
  q.revert = true;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{-5, -1000000000000}));
  // locate reads negative times back.
  const DocRef r = put(kC, -42);
  auto where = docs_->locate(r.id);
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->time_ms, -42);
}

TEST_F(DocumentsTest, ExtremeTimes) {
  const DocRef lo = put_id(1, kA, INT64_MIN);
  const DocRef hi = put_id(2, kA, INT64_MAX - 1);
  auto where = docs_->locate(lo.id);
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->time_ms, INT64_MIN);
  where = docs_->locate(hi.id);
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->time_ms, INT64_MAX - 1);
  DocQuery q;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{1, 2}));
  q.revert = true;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{2, 1}));
  q.date_to = INT64_MAX - 1;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{1}));
  q.revert = false;
  EXPECT_EQ(ids(query(q)), (std::vector<uint64_t>{1}));
  q.date_from = INT64_MIN + 1;
  EXPECT_TRUE(query(q).docs.empty());
  q.date_to = INT64_MIN;  // empty window at the very bottom
  EXPECT_TRUE(query(q).docs.empty());
  q.revert = true;
  EXPECT_TRUE(query(q).docs.empty());
}

// ---- query: paging ----------------------------------------------------------------------------

TEST_F(DocumentsTest, PagingAndMore) {
  for (int64_t t = 1000; t < 1012; ++t) put(kA, t);
  for (uint64_t group : {kA, uint64_t{0}}) {
    SCOPED_TRACE(group);
    DocQuery q;
    q.group = group;
    q.page_size = 5;
    q.page = 1;
    auto p = query(q);
    EXPECT_EQ(times(p), range(1000, 1005));
    EXPECT_TRUE(p.more);
    q.page = 2;
    p = query(q);
    EXPECT_EQ(times(p), range(1005, 1010));
    EXPECT_TRUE(p.more);
    q.page = 3;
    p = query(q);
    EXPECT_EQ(times(p), range(1010, 1012));
    EXPECT_FALSE(p.more);
    q.page = 4;
    p = query(q);
    EXPECT_TRUE(p.docs.empty());
    EXPECT_FALSE(p.more);

    q.revert = true;
    q.page = 1;
    p = query(q);
    EXPECT_EQ(times(p), range(1011, 1006, -1));
    EXPECT_TRUE(p.more);
    q.page = 3;
    p = query(q);
    EXPECT_EQ(times(p), range(1001, 999, -1));
    EXPECT_FALSE(p.more);
  }
}

TEST_F(DocumentsTest, ExactlyFullLastPageHasNoMore) {
  for (int64_t t = 0; t < 10; ++t) put(t < 5 ? kA : kB, t);
  DocQuery q;
  q.page_size = 5;
  q.page = 2;
  auto p = query(q);
  EXPECT_EQ(times(p), range(5, 10));
  EXPECT_FALSE(p.more);
  q.revert = true;
  p = query(q);
  EXPECT_EQ(times(p), range(4, -1, -1));
  EXPECT_FALSE(p.more);
  // One group, one page holding everything.
  q.revert = false;
  q.group = kA;
  q.page = 1;
  p = query(q);
  EXPECT_EQ(times(p), range(0, 5));
  EXPECT_FALSE(p.more);
  // One more document: now there is more.
  put(kA, 4);
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(p.more);
}

TEST_F(DocumentsTest, PageSizeOne) {
  for (int64_t t = 0; t < 3; ++t) put(kA, t);
  DocQuery q;
  q.page_size = 1;
  for (size_t page = 1; page <= 3; ++page) {
    q.page = page;
    auto p = query(q);
    EXPECT_EQ(times(p), (std::vector<int64_t>{static_cast<int64_t>(page) - 1}));
    EXPECT_EQ(p.more, page < 3);
  }
}

// ---- query: filter and bound ------------------------------------------------------------------

TEST_F(DocumentsTest, MatchFilterDoesNotCountRejectedDocuments) {
  for (int64_t t = 0; t < 30; ++t) put(t % 2 ? kA : kB, t, {{"keep", t % 3 == 0}});
  // kept: 0 3 6 9 12 15 18 21 24 27
  DocQuery q;
  q.match = [](const json& j) { return j.value("keep", false); };
  q.page_size = 4;
  auto p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_TRUE(p.more);
  EXPECT_FALSE(p.truncated);
  q.page = 2;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{12, 15, 18, 21}));
  EXPECT_TRUE(p.more);
  q.page = 3;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{24, 27}));
  EXPECT_FALSE(p.more);
  // The last matching document is followed by rejected ones only: no more.
  q.page_size = 5;
  q.page = 2;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{15, 18, 21, 24, 27}));
  EXPECT_FALSE(p.more);
  // Reverted, one group.
  q.group = kA;  // odd times
  q.revert = true;
  q.page = 1;
  q.page_size = 2;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{27, 21}));
  EXPECT_TRUE(p.more);
  q.page = 3;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{3}));
  EXPECT_FALSE(p.more);
  // A filter that rejects everything.
  q.match = [](const json&) { return false; };
  q.page = 1;
  p = query(q);
  EXPECT_TRUE(p.docs.empty());
  EXPECT_FALSE(p.more);
  EXPECT_FALSE(p.truncated);
}

TEST_F(DocumentsTest, MaxExaminedBoundsAFilterAndSetsTruncated) {
  for (int64_t t = 0; t < 10; ++t) put(kA, t, {{"hit", t == 8}});
  DocQuery q;
  q.group = kA;
  q.match = [](const json& j) { return j.value("hit", false); };
  q.max_examined = 5;
  auto p = query(q);
  EXPECT_TRUE(p.docs.empty());
  EXPECT_TRUE(p.truncated);
  EXPECT_FALSE(p.more);

  // The bound reached after the hit: the hit is returned, the page is still truncated.
  q.max_examined = 9;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{8}));
  EXPECT_TRUE(p.truncated);

  // Exactly every document examined: nothing was left out.
  q.max_examined = 10;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{8}));
  EXPECT_FALSE(p.truncated);

  q.max_examined = 1000;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{8}));
  EXPECT_FALSE(p.truncated);
  EXPECT_FALSE(p.more);

  // Reverted: examined from the newest.
  q.revert = true;
  q.max_examined = 1;
  p = query(q);
  EXPECT_TRUE(p.docs.empty());
  EXPECT_TRUE(p.truncated);
  q.max_examined = 2;
  p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{8}));
  EXPECT_TRUE(p.truncated);
}

TEST_F(DocumentsTest, MaxExaminedCountsOnlyTheDateWindow) {
  for (int64_t t = 0; t < 100; ++t) put(kA, t);
  DocQuery q;
  q.group = kA;
  q.date_from = 90;
  q.max_examined = 10;
  q.page_size = 100;
  auto p = query(q);
  EXPECT_EQ(times(p), range(90, 100));
  EXPECT_FALSE(p.truncated);
  q.revert = true;
  q.date_from = INT64_MIN;
  q.date_to = 10;
  p = query(q);
  EXPECT_EQ(times(p), range(9, -1, -1));
  EXPECT_FALSE(p.truncated);
}

TEST_F(DocumentsTest, MaxExaminedWithoutFilter) {
  for (int64_t t = 0; t < 10; ++t) put(kA, t);
  DocQuery q;
  q.page_size = 5;
  q.max_examined = 3;
  auto p = query(q);
  EXPECT_EQ(times(p), range(0, 3));
  EXPECT_TRUE(p.truncated);
  EXPECT_FALSE(p.more);
  // A complete page (and the look-ahead for `more`) within the bound is not truncated.
  q.max_examined = 6;
  p = query(q);
  EXPECT_EQ(times(p), range(0, 5));
  EXPECT_TRUE(p.more);
  EXPECT_FALSE(p.truncated);
}

TEST_F(DocumentsTest, MaxExaminedIsSharedAcrossGroups) {
  for (int64_t t = 0; t < 5; ++t) put(kA, t, {{"hit", false}});
  for (int64_t t = 0; t < 5; ++t) put(kB, t, {{"hit", true}});
  DocQuery q;
  q.match = [](const json& j) { return j.value("hit", false); };
  q.max_examined = 7;  // all of A and two of B
  auto p = query(q);
  EXPECT_EQ(times(p), range(0, 2));
  EXPECT_TRUE(p.truncated);
  q.max_examined = 3;  // not even past A: B is never reached
  p = query(q);
  EXPECT_TRUE(p.docs.empty());
  EXPECT_TRUE(p.truncated);
  q.max_examined = 10;
  q.page_size = 10;
  p = query(q);
  EXPECT_EQ(times(p), range(0, 5));
  EXPECT_FALSE(p.truncated);
}

TEST_F(DocumentsTest, MatchSeesTheWholeDocument) {
  put(kA, 1, {{"c8y_Fragment", {{"x", 1}}}});
  put(kA, 2);
  DocQuery q;
  std::vector<std::string> seen;
  q.match = [&](const json& j) {
    seen.push_back(j.value("time", ""));
    return j.contains("c8y_Fragment");
  };
  auto p = query(q);
  EXPECT_EQ(times(p), (std::vector<int64_t>{1}));
  EXPECT_EQ(p.docs[0]["c8y_Fragment"]["x"], 1);
  EXPECT_EQ(seen.size(), 2u);
}

// ---- groups -----------------------------------------------------------------------------------

TEST_F(DocumentsTest, GroupUint64Max) {
  put(UINT64_MAX, 20);
  put(1, 10);
  put(UINT64_MAX, 5);
  put(UINT64_MAX - 1, 15);
  DocQuery q;
  q.page_size = 10;
  auto p = query(q);  // terminates after the last possible group
  EXPECT_EQ(times(p), (std::vector<int64_t>{5, 10, 15, 20}));
  ASSERT_EQ(p.docs.size(), 4u);
  EXPECT_EQ(p.docs[0]["source"]["id"], format_id(UINT64_MAX));
  q.revert = true;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{20, 15, 10, 5}));
  q.group = UINT64_MAX;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{20, 5}));
  q.revert = false;
  q.date_from = 6;
  EXPECT_EQ(times(query(q)), (std::vector<int64_t>{20}));

  std::vector<int64_t> seen;
  ASSERT_TRUE(docs_
                  ->scan_group(UINT64_MAX, false,
                               [&](const DocRef& r, const json&) {
                                 EXPECT_EQ(r.group, UINT64_MAX);
                                 seen.push_back(r.time_ms);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(seen, (std::vector<int64_t>{5, 20}));

  // Only the extreme group.
  storage::Batch b;
  for (auto& d : query(of_group(1)).docs) {
    auto where = docs_->locate(id_of(d));
    ASSERT_TRUE(where.has_value());
    docs_->remove(b, *where);
  }
  for (auto& d : query(of_group(UINT64_MAX - 1)).docs) {
    auto where = docs_->locate(id_of(d));
    ASSERT_TRUE(where.has_value());
    docs_->remove(b, *where);
  }
  ASSERT_TRUE(store_->write(b).ok());
  EXPECT_EQ(times(query(DocQuery{})), (std::vector<int64_t>{5, 20}));
}

TEST_F(DocumentsTest, ManyGroups) {
  // Groups found by seeking past each group: every group once, merged.
  std::vector<uint64_t> expect;
  for (uint64_t g = 1; g <= 200; ++g) expect.push_back(put(g * 7, static_cast<int64_t>(g)).id);
  DocQuery q;
  q.page_size = 1000;
  EXPECT_EQ(ids(query(q)), expect);
  q.page_size = 10;
  q.page = 20;
  auto p = query(q);
  EXPECT_EQ(ids(p), std::vector<uint64_t>(expect.end() - 10, expect.end()));
  EXPECT_FALSE(p.more);
}

TEST_F(DocumentsTest, SurviveReopen) {
  std::vector<DocRef> refs;
  refs.push_back(put(kA, 1));
  refs.push_back(append(kB, 2));
  refs.push_back(append(kA, 3));
  reopen();
  for (auto& r : refs) {
    DocRef got;
    auto doc = docs_->get(r.id, &got);
    ASSERT_TRUE(doc.has_value()) << r.id;
    EXPECT_EQ(*doc, make_doc(r));
    EXPECT_EQ(got.group, r.group);
    EXPECT_EQ(got.time_ms, r.time_ms);
  }
  EXPECT_EQ(ids(query(DocQuery{})), ids(refs));
}

TEST_F(DocumentsTest, SurviveReopenWithBatchedDurability) {
  reopen(storage::Durability::kBatched);
  std::vector<DocRef> refs;
  for (int64_t t = 0; t < 5; ++t) refs.push_back(append(kA, t));
  reopen(storage::Durability::kBatched);  // a clean close loses nothing
  EXPECT_EQ(ids(query(DocQuery{})), ids(refs));
}

}  // namespace
}  // namespace c8y::domain

// One tenant's family exported on its own and imported into another store (tenant backups, and
// the tenant move of the cluster work): every key comes back, range tombstones included (RocksDB
// 7.8 does not export them: the export compacts them away first), the importing store writes on
// after it and reopens, and what cannot be imported is refused with a status.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "storage/store.h"
#include "tests/unit/temp_dir.h"

namespace c8y::storage {
namespace {

std::map<std::string, std::string> all(const Store& store, const Family* f) {
  std::map<std::string, std::string> out;
  EXPECT_TRUE(store
                  .scan(f, "", "", false,
                        [&](std::string_view k, std::string_view v) {
                          out.emplace(std::string(k), std::string(v));
                          return true;
                        })
                  .ok());
  return out;
}

std::string key(char type, int n) {
  char b[16];
  std::snprintf(b, sizeof b, "%c%08d", type, n);
  return b;
}

TEST(StoreExport, ATenantsFamilyMovesToAnotherStoreWholeAndNothingElse) {
  testing::TempDir a_dir, b_dir;
  auto a = a_dir.open_store();
  const Family* t1 = nullptr;
  const Family* t2 = nullptr;
  ASSERT_TRUE(a->create_tenant("t1", &t1).ok());
  ASSERT_TRUE(a->create_tenant("t2", &t2).ok());
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(a->put(t1, key('m', i), "value-" + std::to_string(i)).ok());  // ingest log
    if (i % 10 == 0) {
      ASSERT_TRUE(a->put(t2, key('m', i), "other").ok());
    }
  }
  ASSERT_TRUE(a->put(t1, "Mobject", "{}", Store::When::kNow).ok());
  ASSERT_TRUE(a->flush_memtables().ok());  // some data in SST files, a range tombstone over them
  Batch batch;
  batch.delete_range(t1, key('m', 100), key('m', 300));
  ASSERT_TRUE(a->write(batch).ok());
  ASSERT_TRUE(a->put(t1, "Mlate", "{\"late\":1}", Store::When::kNow).ok());  // in a memtable
  const auto expected = all(*a, t1);
  ASSERT_EQ(expected.size(), 2000u - 200u + 2u);
  ASSERT_EQ(expected.count(key('m', 150)), 0u);

  const std::string dir = a_dir.path() + "/export-t1";
  uint64_t bytes = 0;
  ASSERT_TRUE(a->export_tenant("t1", dir, &bytes).ok());
  EXPECT_GT(bytes, 0u);
  EXPECT_TRUE(std::filesystem::exists(dir + "/family.meta"));
  EXPECT_EQ(all(*a, t1), expected);  // the exporting store is unchanged

  auto b = b_dir.open_store();
  ASSERT_TRUE(b->import_tenant("t1", dir).ok());
  const Family* imported = b->tenant("t1");
  ASSERT_TRUE(imported);
  EXPECT_EQ(all(*b, imported), expected);
  EXPECT_EQ(b->tenant("t2"), nullptr);  // only the one family
  // The importing store writes on, and everything is there after it reopens.
  ASSERT_TRUE(b->put(imported, "Mafter", "{}", Store::When::kNow).ok());
  EXPECT_EQ(b->import_tenant("t1", dir).code, common::Status::kConflict);
  b.reset();
  b = b_dir.open_store();
  imported = b->tenant("t1");
  ASSERT_TRUE(imported);
  auto after = expected;
  after["Mafter"] = "{}";
  EXPECT_EQ(all(*b, imported), after);
}

TEST(StoreExport, AnEmptyFamilyImportsAsAnEmptyFamily) {
  testing::TempDir a_dir, b_dir;
  auto a = a_dir.open_store();
  ASSERT_TRUE(a->create_tenant("empty", nullptr).ok());
  const std::string dir = a_dir.path() + "/export-empty";
  ASSERT_TRUE(a->export_tenant("empty", dir).ok());
  auto b = b_dir.open_store();
  ASSERT_TRUE(b->import_tenant("empty", dir).ok());
  ASSERT_TRUE(b->tenant("empty"));
  EXPECT_TRUE(all(*b, b->tenant("empty")).empty());
}

TEST(StoreExport, WhatCannotBeExportedOrImportedIsRefused) {
  testing::TempDir a_dir;
  auto a = a_dir.open_store();
  EXPECT_EQ(a->export_tenant("nope", a_dir.path() + "/x").code, common::Status::kNotFound);
  EXPECT_EQ(a->import_tenant("t9", a_dir.path() + "/missing").code, common::Status::kNotFound);
  const std::string bad = a_dir.path() + "/bad";
  std::filesystem::create_directory(bad);
  std::ofstream(bad + "/family.meta") << "something else\n";
  EXPECT_EQ(a->import_tenant("t9", bad).code, common::Status::kInvalid);
  std::ofstream(bad + "/family.meta", std::ios::trunc)
      << "c8y-family-export 1\ncomparator leveldb.BytewiseComparator\nfile ../x 6 1 2 3 4 zz 00\n";
  EXPECT_EQ(a->import_tenant("t9", bad).code, common::Status::kInvalid);
  EXPECT_EQ(a->tenant("t9"), nullptr);
  // An export directory that exists is not overwritten.
  const Family* t1 = nullptr;
  ASSERT_TRUE(a->create_tenant("t1", &t1).ok());
  EXPECT_FALSE(a->export_tenant("t1", bad).ok());
}

}  // namespace
}  // namespace c8y::storage

// Store's ingest path: put(kDurabilitySetting) goes through the ingest log and the writer thread.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "storage/store.h"
#include "tests/unit/temp_dir.h"

namespace c8y::storage {
namespace {

std::unique_ptr<Store> open_store(const std::string& path, Durability d, size_t ring) {
  StoreOptions o;
  o.path = path;
  o.durability = d;
  o.block_cache_bytes = 1u << 20;
  o.write_buffer_bytes = 8u << 20;
  o.family_write_buffer = 1u << 20;
  o.ingest_log_bytes = ring;
  std::string error;
  auto s = Store::open(o, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

size_t count(Store& s, const Family* f, std::string_view prefix) {
  size_t n = 0;
  EXPECT_TRUE(s.scan(f, prefix, "", false, [&](std::string_view, std::string_view) {
                 ++n;
                 return true;
               }).ok());
  return n;
}

std::string key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%08d", i);
  return buf;
}

class StoreIngest : public ::testing::TestWithParam<Durability> {};

// 60,000 records through a 64 KiB ring: the producer waits for room many times, nothing is lost,
// settle() makes all of it readable, and a reopen finds all of it.
TEST_P(StoreIngest, BackPressureLosesNothing) {
  c8y::testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  {
    auto s = open_store(path, GetParam(), 64 * 1024);
    const Family* f = nullptr;
    ASSERT_TRUE(s->create_tenant("t1", &f).ok());
    for (int i = 0; i < 60000; ++i) ASSERT_TRUE(s->put(f, key(i), std::string(40, 'v')).ok());
    ASSERT_TRUE(s->settle().ok());
    EXPECT_EQ(count(*s, f, "k"), 60000u);
    EXPECT_EQ(s->take_writer_error(), "");
  }
  auto s = open_store(path, GetParam(), 64 * 1024);
  EXPECT_EQ(s->recovered_records(), 0u);  // a clean close leaves nothing to replay
  EXPECT_EQ(count(*s, s->tenant("t1"), "k"), 60000u);
}

// Readers on other threads see, after settle(), everything appended before it.
TEST_P(StoreIngest, SettleGivesReadYourWritesAcrossThreads) {
  c8y::testing::TempDir dir;
  auto s = open_store(dir.path() + "/db", GetParam(), 1u << 20);
  const Family* f = nullptr;
  ASSERT_TRUE(s->create_tenant("t1", &f).ok());
  std::atomic<int> written{0};
  std::atomic<bool> failed{false};
  std::thread reader([&] {
    while (written.load() < 20000) {
      int before = written.load();
      if (!s->settle().ok()) failed = true;
      if (count(*s, f, "k") < static_cast<size_t>(before)) failed = true;
    }
  });
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(s->put(f, key(i), "v").ok());
    written.store(i + 1);
  }
  reader.join();
  EXPECT_FALSE(failed.load());
}

// Puts of one key keep their order (the last one wins), as with direct writes.
TEST_P(StoreIngest, LastPutOfAKeyWins) {
  c8y::testing::TempDir dir;
  auto s = open_store(dir.path() + "/db", GetParam(), 64 * 1024);
  const Family* f = nullptr;
  ASSERT_TRUE(s->create_tenant("t1", &f).ok());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(s->put(f, "same", std::to_string(i)).ok());
  ASSERT_TRUE(s->settle().ok());
  std::string v;
  ASSERT_TRUE(s->get(f, "same", &v).ok());
  EXPECT_EQ(v, "4999");
}

// Dropping a tenant with records still in the ring: they are written (or skipped) before the
// family goes away, and the other tenant's records are all kept.
TEST_P(StoreIngest, DropTenantWithPendingRecords) {
  c8y::testing::TempDir dir;
  auto s = open_store(dir.path() + "/db", GetParam(), 1u << 20);
  const Family *a = nullptr, *b = nullptr;
  ASSERT_TRUE(s->create_tenant("a", &a).ok());
  ASSERT_TRUE(s->create_tenant("b", &b).ok());
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(s->put(a, key(i), "x").ok());
    ASSERT_TRUE(s->put(b, key(i), "y").ok());
  }
  ASSERT_TRUE(s->drop_tenant("a").ok());
  EXPECT_EQ(s->tenant("a"), nullptr);
  ASSERT_TRUE(s->settle().ok());
  EXPECT_EQ(count(*s, b, "k"), 3000u);
}

// A write that still names a dropped family (a thread held the deleted or moved-away tenant's
// Family) is ignored, and does not fail what is written with it: RocksDB would fail the whole
// batch (and every write grouped with it) otherwise.
TEST_P(StoreIngest, AWriteToADroppedFamilyFailsNothingWrittenWithIt) {
  c8y::testing::TempDir dir;
  auto s = open_store(dir.path() + "/db", GetParam(), 1u << 20);
  const Family *a = nullptr, *b = nullptr;
  ASSERT_TRUE(s->create_tenant("a", &a).ok());
  ASSERT_TRUE(s->create_tenant("b", &b).ok());
  ASSERT_TRUE(s->drop_tenant("a").ok());
  Batch batch;
  batch.put(a, "stale", "x");
  batch.put(b, "kept", "y");
  ASSERT_TRUE(s->write(batch).ok());
  EXPECT_TRUE(s->put(a, "stale2", "x", Store::When::kNow).ok());
  ASSERT_TRUE(s->settle().ok());
  std::string v;
  ASSERT_TRUE(s->get(b, "kept", &v).ok());
  EXPECT_EQ(v, "y");
  // A tenant of the same name made again starts empty.
  const Family* again = nullptr;
  ASSERT_TRUE(s->create_tenant("a", &again).ok());
  EXPECT_TRUE(s->get(again, "stale", &v).not_found());
}

// Immediate writes bypass the ring and are visible at once, without settle().
TEST_P(StoreIngest, ImmediateWritesAreVisibleAtOnce) {
  c8y::testing::TempDir dir;
  auto s = open_store(dir.path() + "/db", GetParam(), 1u << 20);
  const Family* f = nullptr;
  ASSERT_TRUE(s->create_tenant("t1", &f).ok());
  ASSERT_TRUE(s->put(f, "now", "1", Store::When::kNow).ok());
  std::string v;
  ASSERT_TRUE(s->get(f, "now", &v).ok());
  EXPECT_EQ(v, "1");
}

INSTANTIATE_TEST_SUITE_P(Durability, StoreIngest,
                         ::testing::Values(Durability::kWal, Durability::kBatched),
                         [](const auto& info) {
                           return info.param == Durability::kWal ? "wal" : "batched";
                         });

// A process that is SIGKILLed right after its last put() loses none of them in `wal` mode: the
// next open replays what the writer thread had not written yet.
TEST(StoreIngestFile, WalModeSurvivesSigkill) {
  c8y::testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  constexpr int kN = 50000;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string error;
    StoreOptions o;
    o.path = path;
    o.ingest_log_bytes = 1u << 20;
    auto s = Store::open(o, &error);
    if (!s) _exit(3);
    const Family* f = nullptr;
    if (!s->create_tenant("t1", &f).ok()) _exit(4);
    for (int i = 0; i < kN; ++i)
      if (!s->put(f, key(i), std::string(30, 'v')).ok()) _exit(5);
    kill(getpid(), SIGKILL);
    _exit(6);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit code " << WEXITSTATUS(status);
  auto s = open_store(path, Durability::kWal, 1u << 20);
  EXPECT_LE(s->recovered_records(), static_cast<size_t>(kN));
  EXPECT_EQ(count(*s, s->tenant("t1"), "k"), static_cast<size_t>(kN));
}

TEST(StoreIngestFile, WalModeKeepsItsLogInTheDataDirectory) {
  c8y::testing::TempDir dir;
  auto s = open_store(dir.path() + "/db", Durability::kWal, 64 * 1024);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/db/c8y-ingest.log"));
  auto b = open_store(dir.path() + "/db2", Durability::kBatched, 64 * 1024);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/db2/c8y-ingest.log"));
}

// Memory as GET /metrics reports it: the memtables hold what was written until a flush empties
// them; the block cache has its configured capacity.
TEST(StoreMetrics, MemtableBytesGrowWithWritesAndAFlushReleasesThem) {
  c8y::testing::TempDir dir;
  auto s = open_store(dir.path() + "/db", Durability::kWal, 1u << 20);
  const Family* f = nullptr;
  ASSERT_TRUE(s->create_tenant("t1", &f).ok());
  ASSERT_TRUE(s->flush_memtables().ok());
  const StoreMetrics empty = s->metrics();
  EXPECT_EQ(empty.block_cache_capacity_bytes, 1u << 20);  // open_store's
  // 500 kB: below the 1 MiB memtable of open_store, so nothing is flushed on its own.
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(s->put(f, key(i), std::string(1000, 'v')).ok());
  ASSERT_TRUE(s->settle().ok());
  const StoreMetrics full = s->metrics();
  EXPECT_GE(full.memtable_bytes, empty.memtable_bytes + 500u * 1000);
  EXPECT_GE(full.block_cache_bytes, 1u);  // the memtables are charged to the cache
  ASSERT_TRUE(s->flush_memtables().ok());
  EXPECT_LT(s->metrics().memtable_bytes, full.memtable_bytes - 500u * 1000);
}

// What GET /metrics reads: the ingest log drains to zero, a flush is counted, and a tenant's
// bytes appear once its data is in SST files.
TEST(StoreMetrics, IngestDepthFlushesAndTenantBytes) {
  c8y::testing::TempDir dir;
  auto s = open_store(dir.path() + "/db", Durability::kWal, 1u << 20);
  const Family* f = nullptr;
  ASSERT_TRUE(s->create_tenant("t1", &f).ok());
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(s->put(f, key(i), std::string(100, 'v')).ok());
  ASSERT_TRUE(s->settle().ok());
  StoreMetrics m = s->metrics();
  EXPECT_EQ(m.ingest_records, 0u);
  EXPECT_EQ(m.ingest_bytes, 0u);
  EXPECT_EQ(m.writer_lag_seconds, 0.0);
  EXPECT_EQ(m.ingest_capacity_bytes, 1u << 20);
  const uint64_t flushes = m.flushes;
  ASSERT_TRUE(s->flush_memtables().ok());
  m = s->metrics();
  EXPECT_GT(m.flushes, flushes);
  ASSERT_EQ(m.tenant_bytes.size(), 1u);
  EXPECT_EQ(m.tenant_bytes[0].first, "t1");
  EXPECT_GT(m.tenant_bytes[0].second, 2000u * 100 / 4);  // at least some of it (compressed)
}

}  // namespace
}  // namespace c8y::storage

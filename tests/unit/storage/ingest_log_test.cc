// IngestLog: append/consume/release, wrap-around, back-pressure, and recovery after a crash
// (simulated by dropping the object without release(): the mapping is MAP_SHARED, so the file
// holds exactly what a SIGKILLed process would leave behind).
#include "storage/ingest_log.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/temp_dir.h"

namespace c8y::storage {
namespace {

struct Rec {
  uint32_t family;
  std::string key, value;
  bool operator==(const Rec&) const = default;
};

std::vector<Rec> drain(IngestLog& log, size_t max_bytes = 1u << 30) {
  std::vector<Rec> out;
  log.consume(max_bytes, [&](const IngestLog::Record& r) {
    out.push_back({r.family, std::string(r.key), std::string(r.value)});
  });
  return out;
}

std::vector<Rec> recover(IngestLog& log) {
  std::vector<Rec> out;
  log.recover([&](const IngestLog::Record& r) {
    out.push_back({r.family, std::string(r.key), std::string(r.value)});
  });
  return out;
}

std::unique_ptr<IngestLog> open_log(const std::string& path, size_t cap = IngestLog::kMinCapacity) {
  std::string error;
  auto log = IngestLog::open(path, cap, &error);
  EXPECT_TRUE(log) << error;
  return log;
}

Rec make(int i, size_t value_bytes = 10) {
  return {static_cast<uint32_t>(i % 7), "key-" + std::to_string(i),
          std::string(value_bytes, static_cast<char>('a' + i % 26))};
}

TEST(IngestLog, AppendConsumeReleaseInOrder) {
  c8y::testing::TempDir dir;
  auto log = open_log(dir.path() + "/log");
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->empty());
  std::vector<Rec> want;
  for (int i = 0; i < 100; ++i) {
    want.push_back(make(i));
    ASSERT_TRUE(log->try_append(want.back().family, want.back().key, want.back().value));
  }
  EXPECT_EQ(log->appended_seq(), 100u);
  EXPECT_EQ(log->released_seq(), 0u);
  EXPECT_EQ(drain(*log), want);
  EXPECT_TRUE(log->empty());
  EXPECT_EQ(log->released_seq(), 0u);  // consumed, not yet released
  log->release();
  EXPECT_EQ(log->released_seq(), 100u);
  EXPECT_TRUE(drain(*log).empty());
}

// The broker thread takes no page fault for the first lap of a file-backed ring: open() maps
// every page writable up front (without that, ext4 faults once per 4 KiB page on first write).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define C8Y_SANITIZED_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define C8Y_SANITIZED_BUILD 1
#endif
#endif
TEST(IngestLog, FirstLapTakesNoPageFaults) {
#if defined(C8Y_SANITIZED_BUILD)
  GTEST_SKIP() << "a sanitizer's shadow memory takes page faults of its own for every write";
#elif !defined(MADV_POPULATE_WRITE)
  GTEST_SKIP() << "no MADV_POPULATE_WRITE in these headers";
#else
  utsname u{};
  int major = 0, minor = 0;
  if (uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2 ||
      major * 100 + minor < 514)
    GTEST_SKIP() << "kernel before 5.14: no MADV_POPULATE_WRITE";
  c8y::testing::TempDir dir;
  constexpr size_t kCapacity = 1u << 20;
  auto log = open_log(dir.path() + "/log", kCapacity);
  ASSERT_TRUE(log);
  const std::string key(24, 'k'), value(200, 'v');
  auto faults = [] {
    rusage r{};
    getrusage(RUSAGE_THREAD, &r);
    return r.ru_minflt;
  };
  const long before = faults();
  size_t appended = 0;
  while (appended < kCapacity * 3 / 4 && log->try_append(1, key, value)) appended += 256;
  const long taken = faults() - before;
  EXPECT_GE(appended, kCapacity * 3 / 4);
  // 192 pages written; a few faults may come from elsewhere (the test's own stack, say).
  EXPECT_LT(taken, 16) << "page faults while writing " << appended / 4096 << " pages of the ring";
#endif
}

TEST(IngestLog, ConsumeStopsNearMaxBytesAndContinues) {
  c8y::testing::TempDir dir;
  auto log = open_log("");
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(log->try_append(1, "k" + std::to_string(i), "v"));
  auto first = drain(*log, 100);  // each record is 32 bytes: 4 records reach 100
  EXPECT_EQ(first.size(), 4u);
  auto rest = drain(*log);
  EXPECT_EQ(rest.size(), 46u);
  EXPECT_EQ(rest.front().key, "k4");
}

TEST(IngestLog, EmptyKeyAndValueAndBinaryBytes) {
  auto log = open_log("");
  std::string binary("\0\xff\x01\0", 4);
  ASSERT_TRUE(log->try_append(0, "", ""));
  ASSERT_TRUE(log->try_append(0xffffffffu, binary, binary));
  auto got = drain(*log);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (Rec{0, "", ""}));
  EXPECT_EQ(got[1], (Rec{0xffffffffu, binary, binary}));
}

TEST(IngestLog, FullRingRefusesUntilReleased) {
  auto log = open_log("", IngestLog::kMinCapacity);
  int appended = 0;
  while (log->try_append(1, "key", std::string(100, 'x'))) ++appended;
  // 128-byte records in a 64 KiB ring, minus the slot kept free for the next record's seq word.
  EXPECT_EQ(appended, 511);
  auto got = drain(*log);
  EXPECT_EQ(got.size(), 511u);
  // Consumed but not released: still no room.
  EXPECT_FALSE(log->try_append(1, "key", std::string(100, 'x')));
  log->release();
  EXPECT_TRUE(log->try_append(1, "key", std::string(100, 'x')));
}

TEST(IngestLog, RefusesRecordsThatCanNeverFit) {
  auto log = open_log("", IngestLog::kMinCapacity);
  EXPECT_FALSE(log->fits(10, IngestLog::kMinCapacity / 4));
  EXPECT_FALSE(log->try_append(1, "k", std::string(IngestLog::kMinCapacity / 4, 'x')));
  EXPECT_TRUE(log->fits(10, 1000));
  EXPECT_FALSE(IngestLog::fits(1u << 30, IngestLog::kMaxPayload, 1));
}

// Many laps with records of varied sizes, consumed in uneven chunks: every record comes out once,
// in order, whatever the wrap-around (marker or implicit) does.
TEST(IngestLog, WrapsAroundManyTimesWithVariedSizes) {
  auto log = open_log("", IngestLog::kMinCapacity);
  std::mt19937 rng(7);
  std::vector<Rec> want, got;
  int next = 0;
  size_t total_bytes = 0;
  while (total_bytes < 20 * IngestLog::kMinCapacity) {
    int burst = rng() % 40;
    for (int b = 0; b < burst; ++b) {
      Rec r = make(next, rng() % 2000);
      if (!log->try_append(r.family, r.key, r.value)) break;
      want.push_back(r);
      total_bytes += r.key.size() + r.value.size() + 24;
      ++next;
    }
    auto part = drain(*log, rng() % 20000 + 1);
    got.insert(got.end(), part.begin(), part.end());
    if (rng() % 3) log->release();
  }
  auto part = drain(*log);
  got.insert(got.end(), part.begin(), part.end());
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
}

TEST(IngestLog, RecoversEverythingNotReleasedAfterACrash) {
  c8y::testing::TempDir dir;
  const std::string path = dir.path() + "/log";
  std::vector<Rec> want;
  {
    auto log = open_log(path);
    for (int i = 0; i < 30; ++i)
      ASSERT_TRUE(log->try_append(1, "released" + std::to_string(i), "v"));
    drain(*log);
    log->release();
    for (int i = 0; i < 20; ++i) {
      want.push_back(make(i));
      ASSERT_TRUE(log->try_append(want.back().family, want.back().key, want.back().value));
    }
    drain(*log, 100);  // consumed in part but not released: must come back too
  }                    // crash: no release
  auto log = open_log(path);
  EXPECT_EQ(recover(*log), want);
  std::string error;
  ASSERT_TRUE(log->restart(&error)) << error;
  EXPECT_TRUE(log->empty());
  // After the restart nothing comes back again, and sequence numbers go on.
  ASSERT_TRUE(log->try_append(2, "after", "x"));
  EXPECT_EQ(log->appended_seq(), 51u);
  log.reset();
  auto again = open_log(path);
  EXPECT_EQ(recover(*again), (std::vector<Rec>{{2, "after", "x"}}));
}

TEST(IngestLog, RecoversAcrossTheWrapAndStopsAtStaleBytes) {
  c8y::testing::TempDir dir;
  const std::string path = dir.path() + "/log";
  std::vector<Rec> want;
  {
    auto log = open_log(path);
    // Fill and release several laps so the ring is full of stale records.
    for (int lap = 0; lap < 5; ++lap) {
      while (log->try_append(3, "stale", std::string(300, 's'))) {
      }
      drain(*log);
      log->release();
    }
    // Then fill the ring completely, so the unreleased records cross the end of the ring.
    for (int i = 0;; ++i) {
      Rec r = make(i, 100);
      if (!log->try_append(r.family, r.key, r.value)) break;
      want.push_back(r);
    }
  }
  ASSERT_GT(want.size(), 400u);
  auto log = open_log(path);
  auto got = recover(*log);
  EXPECT_EQ(got, want);
}

TEST(IngestLog, AnonymousLogRecoversNothing) {
  auto log = open_log("");
  ASSERT_TRUE(log->try_append(1, "k", "v"));
  EXPECT_FALSE(log->file_backed());
  EXPECT_TRUE(recover(*log).empty());
}

TEST(IngestLog, AnotherCapacityIsRecoveredThenRebuilt) {
  c8y::testing::TempDir dir;
  const std::string path = dir.path() + "/log";
  {
    auto log = open_log(path, IngestLog::kMinCapacity);
    ASSERT_TRUE(log->try_append(1, "old", "ring"));
  }
  auto log = open_log(path, 4 * IngestLog::kMinCapacity);
  EXPECT_EQ(log->capacity(), IngestLog::kMinCapacity);  // the file's own, for recovery
  EXPECT_EQ(recover(*log), (std::vector<Rec>{{1, "old", "ring"}}));
  std::string error;
  ASSERT_TRUE(log->restart(&error)) << error;
  EXPECT_EQ(log->capacity(), 4 * IngestLog::kMinCapacity);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), IngestLog::kHeaderBytes + 4 * IngestLog::kMinCapacity);
  ASSERT_TRUE(log->try_append(1, "new", "ring"));
  EXPECT_EQ(log->appended_seq(), 2u);
  log.reset();
  auto again = open_log(path, 4 * IngestLog::kMinCapacity);
  EXPECT_EQ(recover(*again), (std::vector<Rec>{{1, "new", "ring"}}));
}

TEST(IngestLog, GarbageFileIsReplacedByAnEmptyLog) {
  c8y::testing::TempDir dir;
  const std::string path = dir.path() + "/log";
  {
    std::ofstream f(path, std::ios::binary);
    f << std::string(100000, 'z');
  }
  auto log = open_log(path);
  ASSERT_TRUE(log);
  EXPECT_TRUE(recover(*log).empty());
  ASSERT_TRUE(log->try_append(1, "k", "v"));
  EXPECT_EQ(drain(*log).size(), 1u);
}

TEST(IngestLog, UnwritablePathIsAnError) {
  std::string error;
  auto log = IngestLog::open("/nonexistent-dir/log", IngestLog::kMinCapacity, &error);
  EXPECT_FALSE(log);
  EXPECT_NE(error.find("/nonexistent-dir/log"), std::string::npos) << error;
}

}  // namespace
}  // namespace c8y::storage

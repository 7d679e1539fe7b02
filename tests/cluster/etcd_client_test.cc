// EtcdClient against a real 3-member etcd cluster (tests/cluster/etcd_cluster.h), one for the
// whole suite; each test works below its own key prefix and leaves every member running.
#include "plugin/cluster/etcd_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "tests/cluster/etcd_cluster.h"

namespace c8y::cluster {
namespace {

using namespace std::chrono_literals;
using c8y::testing::EtcdCluster;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs a watch on its own thread and keeps what it delivered.
class Watcher {
 public:
  Watcher(EtcdClient& client, std::string prefix, int64_t from, size_t stop_after = 0)
      : stop_after_(stop_after) {
    thread_ = std::thread([this, &client, prefix = std::move(prefix), from] {
      auto st = client.watch(
          prefix, from,
          [this](const std::vector<WatchEvent>& batch, int64_t revision) {
            std::lock_guard lock(mu_);
            events_.insert(events_.end(), batch.begin(), batch.end());
            revisions_.push_back(revision);
            batch_last_mod_.push_back(batch.back().kv.mod_revision);
            cv_.notify_all();
            return stop_after_ == 0 || events_.size() < stop_after_;
          },
          stop_);
      std::lock_guard lock(mu_);
      status_ = std::move(st);
      ended_at_ = Clock::now();
      finished_ = true;
      cv_.notify_all();
    });
  }
  ~Watcher() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  bool wait_events(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return events_.size() >= n || finished_; }) &&
           events_.size() >= n;
  }
  bool wait_finished(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return finished_; });
  }
  void stop() { stop_ = true; }

  std::vector<WatchEvent> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<int64_t> revisions() {
    std::lock_guard lock(mu_);
    return revisions_;
  }
  std::vector<int64_t> batch_last_mods() {
    std::lock_guard lock(mu_);
    return batch_last_mod_;
  }
  common::Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }
  Clock::time_point ended_at() {
    std::lock_guard lock(mu_);
    return ended_at_;
  }

 private:
  const size_t stop_after_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
  std::vector<int64_t> revisions_;
  std::vector<int64_t> batch_last_mod_;
  common::Status status_;
  Clock::time_point ended_at_;
  bool finished_ = false;
  std::thread thread_;
};

class EtcdClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto t0 = Clock::now();
    cluster_ = new EtcdCluster(3);
    if (!cluster_->start(30s, &setup_error_)) {
      for (int i = 0; i < cluster_->size(); ++i) setup_error_ += "\n" + cluster_->log_tail(i);
    }
    std::printf("[ cluster  ] 3 etcd members healthy after %.2f s\n", seconds_since(t0));
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    prefix_ = std::string("/c8y-test/") +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  }

  void TearDown() override {
    if (HasFailure()) {
      for (int i = 0; i < cluster_->size(); ++i)
        std::printf("--- log of m%d:\n%s", i, cluster_->log_tail(i).c_str());
    }
    std::string error;
    EXPECT_TRUE(cluster_->restore(30s, &error)) << error;
  }

  static EtcdOptions all_members() {
    EtcdOptions o;
    o.endpoints = cluster_->endpoints();
    return o;
  }
  static EtcdOptions only_member(int i) {
    EtcdOptions o;
    o.endpoints = {cluster_->endpoint(i)};
    return o;
  }
  std::string key(std::string_view name) const { return prefix_ + std::string(name); }

  static EtcdCluster* cluster_;
  static std::string setup_error_;
  std::string prefix_;
};

EtcdCluster* EtcdClientTest::cluster_ = nullptr;
std::string EtcdClientTest::setup_error_;

// Every byte value, NUL and 0xff included.
std::string all_bytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

TEST_F(EtcdClientTest, PutGetRemoveRoundTripBinarySafe) {
  EtcdClient client(all_members());
  const std::string k = key(std::string("k\0\xff\n\"\\", 6));
  const std::string v = all_bytes();

  KeyValue kv;
  EXPECT_EQ(client.get(k, &kv).code, common::Status::kNotFound);
  ASSERT_TRUE(client.put(k, v).ok());
  int64_t read_revision = 0;
  auto st = client.get(k, &kv, &read_revision);
  ASSERT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(kv.key, k);
  EXPECT_EQ(kv.value, v);
  EXPECT_EQ(kv.version, 1);
  EXPECT_GT(kv.create_revision, 0);
  EXPECT_EQ(kv.mod_revision, kv.create_revision);
  EXPECT_EQ(kv.lease, 0);
  EXPECT_GE(read_revision, kv.mod_revision);

  ASSERT_TRUE(client.put(k, "").ok());  // an empty value (left out of etcd's JSON)
  KeyValue second;
  ASSERT_TRUE(client.get(k, &second).ok());
  EXPECT_EQ(second.value, "");
  EXPECT_EQ(second.version, 2);
  EXPECT_EQ(second.create_revision, kv.create_revision);
  EXPECT_GT(second.mod_revision, kv.mod_revision);

  ASSERT_TRUE(client.remove(k).ok());
  EXPECT_TRUE(client.get(k, &kv).not_found());
  EXPECT_TRUE(client.remove(k).ok());  // absent: still ok
}

TEST_F(EtcdClientTest, ListReturnsOnlyThePrefixInKeyOrder) {
  EtcdClient client(all_members());
  const std::string p = key("l/");
  // Around the range: "l." sorts before "l/", "l0" is the prefix's range end ('/' + 1).
  ASSERT_TRUE(client.put(key("l."), "before").ok());
  ASSERT_TRUE(client.put(key("l0"), "end").ok());
  const std::vector<std::string> inside = {p + "a", p + "b\xff", p + std::string("b\xff\0", 3),
                                           p + "b\xff\xff", p + "c"};
  for (auto it = inside.rbegin(); it != inside.rend(); ++it)
    ASSERT_TRUE(client.put(*it, "v:" + *it).ok());

  std::vector<KeyValue> kvs;
  int64_t revision = 0;
  auto st = client.list(p, &kvs, &revision);
  ASSERT_TRUE(st.ok()) << st.message;
  ASSERT_EQ(kvs.size(), 5u);
  // Byte order: "b\xff" < "b\xff\0" < "b\xff\xff" < "c".
  EXPECT_EQ(kvs[0].key, p + "a");
  EXPECT_EQ(kvs[1].key, p + "b\xff");
  EXPECT_EQ(kvs[2].key, p + std::string("b\xff\0", 3));
  EXPECT_EQ(kvs[3].key, p + "b\xff\xff");
  EXPECT_EQ(kvs[4].key, p + "c");
  for (const auto& kv : kvs) EXPECT_EQ(kv.value, "v:" + kv.key);
  int64_t last_write = 0;
  for (const auto& kv : kvs) last_write = std::max(last_write, kv.mod_revision);
  EXPECT_GE(revision, last_write);
  int64_t now = 0;
  ASSERT_TRUE(client.get(p + "a", nullptr, &now).ok());
  EXPECT_EQ(revision, now);  // nothing was written since

  // A prefix ending in 0xff: its range end drops the byte and increments the one before.
  ASSERT_TRUE(client.list(p + "b\xff", &kvs).ok());
  ASSERT_EQ(kvs.size(), 3u);
  EXPECT_EQ(kvs.back().key, p + "b\xff\xff");

  ASSERT_TRUE(client.list(key("nothing-here/"), &kvs, &revision).ok());
  EXPECT_TRUE(kvs.empty());
  EXPECT_GT(revision, 0);

  // The empty prefix: every key in the store, ours among them, in order.
  ASSERT_TRUE(client.list("", &kvs).ok());
  size_t ours = 0;
  for (size_t i = 0; i < kvs.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(kvs[i - 1].key, kvs[i].key);
    }
    if (kvs[i].key.starts_with(p)) ++ours;
  }
  EXPECT_EQ(ours, 5u);
}

TEST_F(EtcdClientTest, ListReadsPagesAtOneRevision) {
  EtcdOptions o = all_members();
  o.list_page = 7;
  EtcdClient client(o);
  for (int i = 0; i < 20; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "%02d", i);
    ASSERT_TRUE(client.put(key(name), std::to_string(i)).ok());
  }
  std::vector<KeyValue> kvs;
  int64_t revision = 0;
  const uint64_t before = client.requests();
  ASSERT_TRUE(client.list(prefix_, &kvs, &revision).ok());
  EXPECT_EQ(client.requests() - before, 3u);  // 7 + 7 + 6
  ASSERT_EQ(kvs.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(kvs[i].value, std::to_string(i));
  for (const auto& kv : kvs) EXPECT_LE(kv.mod_revision, revision);
}

TEST_F(EtcdClientTest, CreateOnlyWhenAbsent) {
  EtcdClient client(all_members());
  const std::string k = key("owner");
  ASSERT_TRUE(client.create(k, "node-a").ok());
  KeyValue existing;
  auto st = client.create(k, "node-b", 0, &existing);
  EXPECT_EQ(st.code, common::Status::kConflict) << st.message;
  EXPECT_EQ(existing.key, k);
  EXPECT_EQ(existing.value, "node-a");
  EXPECT_GT(existing.mod_revision, 0);
  EXPECT_TRUE(client.create(k, "node-c").conflict());  // no *existing wanted
  KeyValue kv;
  ASSERT_TRUE(client.get(k, &kv).ok());
  EXPECT_EQ(kv.value, "node-a");
}

TEST_F(EtcdClientTest, CompareAndPutOnModRevision) {
  EtcdClient client(all_members());
  const std::string k = key("cas");
  // 0: must be absent.
  ASSERT_TRUE(client.compare_and_put(k, "v1", 0).ok());
  KeyValue kv;
  ASSERT_TRUE(client.get(k, &kv).ok());
  KeyValue current;
  EXPECT_TRUE(client.compare_and_put(k, "v1b", 0, 0, &current).conflict());
  EXPECT_EQ(current.value, "v1");

  ASSERT_TRUE(client.compare_and_put(k, "v2", kv.mod_revision).ok());
  auto st = client.compare_and_put(k, "v3", kv.mod_revision, 0, &current);  // stale now
  EXPECT_EQ(st.code, common::Status::kConflict) << st.message;
  EXPECT_EQ(current.value, "v2");
  EXPECT_GT(current.mod_revision, kv.mod_revision);
  ASSERT_TRUE(client.compare_and_put(k, "v3", current.mod_revision).ok());
  ASSERT_TRUE(client.get(k, &kv).ok());
  EXPECT_EQ(kv.value, "v3");

  // Expected a revision, the key is absent: conflict, an empty key as the current one.
  current.key = "not cleared";
  EXPECT_TRUE(client.compare_and_put(key("absent"), "x", 12345, 0, &current).conflict());
  EXPECT_EQ(current.key, "");
  EXPECT_TRUE(client.get(key("absent"), &kv).not_found());
}

TEST_F(EtcdClientTest, CompareAndDeleteOnModRevision) {
  EtcdClient client(all_members());
  const std::string k = key("cad");
  ASSERT_TRUE(client.put(k, "v1").ok());
  KeyValue first;
  ASSERT_TRUE(client.get(k, &first).ok());
  ASSERT_TRUE(client.put(k, "v2").ok());
  auto st = client.compare_and_delete(k, first.mod_revision);
  EXPECT_EQ(st.code, common::Status::kConflict) << st.message;
  KeyValue kv;
  ASSERT_TRUE(client.get(k, &kv).ok());
  ASSERT_TRUE(client.compare_and_delete(k, kv.mod_revision).ok());
  EXPECT_TRUE(client.get(k, &kv).not_found());
  EXPECT_EQ(client.compare_and_delete(k, kv.mod_revision).code, common::Status::kNotFound);
  EXPECT_EQ(client.compare_and_delete(k, 0).code, common::Status::kNotFound);
}

TEST_F(EtcdClientTest, LeasesExpireUnlessKeptAlive) {
  EtcdClient client(all_members());
  int64_t dying = 0, kept = 0;
  ASSERT_TRUE(client.grant_lease(2, &dying).ok());  // 2 s: etcd's minimum with default timing
  ASSERT_TRUE(client.grant_lease(2, &kept).ok());
  EXPECT_NE(dying, kept);
  ASSERT_TRUE(client.put(key("dying"), "x", dying).ok());
  ASSERT_TRUE(client.create(key("kept"), "y", kept).ok());
  KeyValue kv;
  ASSERT_TRUE(client.get(key("kept"), &kv).ok());
  EXPECT_EQ(kv.lease, kept);
  EXPECT_TRUE(client.put(key("no-lease"), "z", 424242).not_found());  // an unknown lease

  const auto t0 = Clock::now();
  bool gone = false;
  while (!gone && Clock::now() - t0 < 8s) {
    int64_t ttl = 0;
    auto st = client.keep_alive(kept, &ttl);
    ASSERT_TRUE(st.ok()) << st.message;
    EXPECT_GE(ttl, 1);
    EXPECT_LE(ttl, 2);
    std::this_thread::sleep_for(400ms);
    gone = client.get(key("dying"), &kv).not_found();
  }
  EXPECT_TRUE(gone) << "key of the expired lease still there after 8 s";
  EXPECT_GT(seconds_since(t0), 1.0);
  std::printf("[ lease    ] key of a 2 s lease gone after %.2f s\n", seconds_since(t0));
  EXPECT_TRUE(client.get(key("kept"), &kv).ok()) << "kept alive, yet gone";
  EXPECT_EQ(client.keep_alive(dying).code, common::Status::kNotFound);

  ASSERT_TRUE(client.revoke_lease(kept).ok());
  EXPECT_TRUE(client.get(key("kept"), &kv).not_found());  // revoking deletes its keys at once
  EXPECT_EQ(client.keep_alive(kept).code, common::Status::kNotFound);
  EXPECT_EQ(client.revoke_lease(kept).code, common::Status::kNotFound);
}

TEST_F(EtcdClientTest, WatchDeliversPutsAndDeletesInOrder) {
  EtcdClient writer(all_members());
  std::vector<KeyValue> kvs;
  int64_t revision = 0;
  ASSERT_TRUE(writer.list(prefix_, &kvs, &revision).ok());

  // History: written before the watch starts, replayed from revision + 1.
  ASSERT_TRUE(writer.put(key("a"), "1").ok());
  ASSERT_TRUE(writer.put(key("b"), std::string("\0\xff", 2)).ok());
  ASSERT_TRUE(writer.put(prefix_.substr(0, prefix_.size() - 1) + "!", "no").ok());  // outside
  ASSERT_TRUE(writer.remove(key("a")).ok());

  EtcdClient client(all_members());
  Watcher w(client, prefix_, revision + 1);
  ASSERT_TRUE(w.wait_events(3, 5s));
  // Live: written while the watch runs.
  ASSERT_TRUE(writer.put(key("c"), "3").ok());
  ASSERT_TRUE(writer.put(key("a"), "again").ok());
  ASSERT_TRUE(writer.remove(key("b")).ok());
  ASSERT_TRUE(w.wait_events(6, 5s));
  w.stop();
  ASSERT_TRUE(w.wait_finished(2s));
  EXPECT_TRUE(w.status().ok()) << w.status().message;

  auto events = w.events();
  ASSERT_EQ(events.size(), 6u);
  struct Want {
    WatchEvent::Type type;
    std::string key, value;
  } want[] = {
      {WatchEvent::kPut, key("a"), "1"},     {WatchEvent::kPut, key("b"), std::string("\0\xff", 2)},
      {WatchEvent::kDelete, key("a"), ""},   {WatchEvent::kPut, key("c"), "3"},
      {WatchEvent::kPut, key("a"), "again"}, {WatchEvent::kDelete, key("b"), ""}};
  int64_t last = revision;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].type, want[i].type) << i;
    EXPECT_EQ(events[i].kv.key, want[i].key) << i;
    if (want[i].type == WatchEvent::kPut) {
      EXPECT_EQ(events[i].kv.value, want[i].value) << i;
    }
    EXPECT_GT(events[i].kv.mod_revision, last) << i;
    last = events[i].kv.mod_revision;
  }
  // Each batch's revision is that of its last event.
  EXPECT_EQ(w.revisions(), w.batch_last_mods());
  EXPECT_EQ(w.revisions().back(), last);
}

// More than 1000 revisions to catch up: etcd sends them in messages of at most 1000 revisions,
// each (in 3.4) with the store's current revision in its header; messages of ~100 KB arrive in
// many pieces. The batch revision stays that of the batch's last event.
TEST_F(EtcdClientTest, WatchCatchesUpOnLongHistoryInBatches) {
  EtcdClient client(all_members());
  int64_t revision = 0;
  std::vector<KeyValue> kvs;
  ASSERT_TRUE(client.list(prefix_, &kvs, &revision).ok());
  const std::string filler(64, 'x');
  constexpr int kWrites = 1200;
  for (int i = 0; i < kWrites; ++i)
    ASSERT_TRUE(client.put(key("k" + std::to_string(i % 10)), std::to_string(i) + filler).ok());
  Watcher w(client, prefix_, revision + 1);
  ASSERT_TRUE(w.wait_events(kWrites, 10s)) << w.status().message;
  auto events = w.events();
  ASSERT_EQ(events.size(), static_cast<size_t>(kWrites));
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_EQ(events[i].kv.value, std::to_string(i) + filler) << i;
    ASSERT_EQ(events[i].kv.mod_revision, revision + 1 + i) << i;
  }
  EXPECT_GE(w.revisions().size(), 2u);
  EXPECT_EQ(w.revisions(), w.batch_last_mods());
  std::printf("[ watch    ] %d revisions of history in %zu batches\n", kWrites,
              w.revisions().size());
}

TEST_F(EtcdClientTest, WatchEndsWhenOnEventsReturnsFalse) {
  EtcdClient client(all_members());
  int64_t revision = 0;
  std::vector<KeyValue> kvs;
  ASSERT_TRUE(client.list(prefix_, &kvs, &revision).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.put(key("k"), std::to_string(i)).ok());
  Watcher w(client, prefix_, revision + 1, /*stop_after=*/2);
  ASSERT_TRUE(w.wait_finished(5s));
  EXPECT_TRUE(w.status().ok()) << w.status().message;
  EXPECT_GE(w.events().size(), 2u);
}

TEST_F(EtcdClientTest, WatchHandsBackAnExceptionOfOnEvents) {
  EtcdClient client(all_members());
  int64_t revision = 0;
  std::vector<KeyValue> kvs;
  ASSERT_TRUE(client.list(prefix_, &kvs, &revision).ok());
  ASSERT_TRUE(client.put(key("k"), "v").ok());
  std::atomic<bool> stop{false};
  EXPECT_THROW((void)client.watch(
                   prefix_, revision + 1,
                   [](const std::vector<WatchEvent>&, int64_t) -> bool {
                     throw std::runtime_error("the caller's own");
                   },
                   stop),
               std::runtime_error);
  KeyValue kv;
  EXPECT_TRUE(client.get(key("k"), &kv).ok());  // the client goes on
}

TEST_F(EtcdClientTest, WatchStopsPromptly) {
  EtcdClient client(all_members());
  Watcher w(client, prefix_, 0);
  std::this_thread::sleep_for(700ms);  // created and idle by now
  ASSERT_FALSE(w.wait_finished(0ms)) << w.status().message;
  const auto t0 = Clock::now();
  w.stop();
  ASSERT_TRUE(w.wait_finished(2s));
  const double took = std::chrono::duration<double>(w.ended_at() - t0).count();
  EXPECT_LT(took, 0.5);
  std::printf("[ watch    ] stopped %.0f ms after stop was set\n", took * 1000);
  EXPECT_TRUE(w.status().ok()) << w.status().message;
}

TEST_F(EtcdClientTest, WatchOfACompactedRevisionIsNotFound) {
  EtcdClient client(all_members());
  int64_t revisions[3];
  KeyValue kv;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.put(key("k"), std::to_string(i)).ok());
    ASSERT_TRUE(client.get(key("k"), &kv).ok());
    revisions[i] = kv.mod_revision;
  }
  std::string error;
  ASSERT_TRUE(cluster_->compact(revisions[2], &error)) << error;

  const auto t0 = Clock::now();
  std::atomic<bool> stop{false};
  int calls = 0;
  auto st = client.watch(
      prefix_, revisions[0],
      [&](const std::vector<WatchEvent>&, int64_t) {
        ++calls;
        return true;
      },
      stop);
  EXPECT_EQ(st.code, common::Status::kNotFound) << st.message;
  EXPECT_EQ(calls, 0);
  EXPECT_LT(seconds_since(t0), 2.0);  // the gateway keeps the stream open after the cancel

  // The compaction revision itself is kept.
  Watcher w(client, prefix_, revisions[2]);
  ASSERT_TRUE(w.wait_events(1, 5s)) << w.status().message;
  EXPECT_EQ(w.events()[0].kv.value, "2");
}

TEST_F(EtcdClientTest, WatchIsUnavailableWhenItsMemberIsKilled) {
  EtcdClient writer(all_members());
  EtcdClient client(only_member(2));
  std::vector<KeyValue> kvs;
  int64_t revision = 0;
  ASSERT_TRUE(writer.list(prefix_, &kvs, &revision).ok());
  Watcher w(client, prefix_, revision + 1);
  ASSERT_TRUE(writer.put(key("k"), "v").ok());
  ASSERT_TRUE(w.wait_events(1, 5s)) << w.status().message;  // the stream is up
  const auto t0 = Clock::now();
  cluster_->kill(2);
  ASSERT_TRUE(w.wait_finished(3s));
  EXPECT_EQ(w.status().code, common::Status::kUnavailable) << w.status().message;
  std::printf("[ watch    ] ended %.0f ms after its member was killed: %s\n",
              std::chrono::duration<double>(w.ended_at() - t0).count() * 1000,
              w.status().message.c_str());
}

TEST_F(EtcdClientTest, FailsOverWhenTheFirstEndpointIsDown) {
  cluster_->kill(0);
  // m0 may have been the leader: the others elect a new one first (a write sent to a follower
  // in that window is lost with the old leader and etcd answers "request timed out" ~7 s later).
  std::string error;
  ASSERT_TRUE(cluster_->wait_healthy(15s, &error)) << error;
  EtcdClient client(all_members());
  auto st = client.put(key("k"), "v");
  ASSERT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(client.requests(), 2u);  // m0 refused, m1 answered
  KeyValue kv;
  ASSERT_TRUE(client.get(key("k"), &kv).ok());
  EXPECT_EQ(kv.value, "v");
  EXPECT_EQ(client.requests(), 3u);  // straight to m1, the member that answered last

  // A watch fails over too.
  EtcdClient watcher(all_members());
  Watcher w(watcher, prefix_, kv.mod_revision);
  ASSERT_TRUE(w.wait_events(1, 5s)) << w.status().message;
  EXPECT_EQ(w.events()[0].kv.value, "v");
  EXPECT_EQ(watcher.requests(), 2u);
}

TEST_F(EtcdClientTest, QuorumLossIsUnavailableWithinTheRequestTimeout) {
  EtcdOptions o = only_member(0);
  o.request_timeout_ms = 1500;
  EtcdClient client(o);
  ASSERT_TRUE(client.put(key("k"), "before").ok());
  cluster_->kill(1);
  cluster_->kill(2);

  auto t0 = Clock::now();
  auto st = client.put(key("k"), "during");
  double took = seconds_since(t0);
  EXPECT_EQ(st.code, common::Status::kUnavailable) << st.message;
  EXPECT_LT(took, 1.5 + 1.0);
  std::printf("[ quorum   ] put: %s after %.2f s\n", st.message.c_str(), took);
  t0 = Clock::now();
  KeyValue kv;
  st = client.get(key("k"), &kv);
  took = seconds_since(t0);
  EXPECT_EQ(st.code, common::Status::kUnavailable) << st.message;
  EXPECT_LT(took, 1.5 + 1.0);
  std::printf("[ quorum   ] get: %s after %.2f s\n", st.message.c_str(), took);
  EXPECT_EQ(client.requests(), 3u);  // an answer that is an error is not retried elsewhere

  ASSERT_TRUE(cluster_->start_member(1));
  ASSERT_TRUE(cluster_->start_member(2));
  std::string error;
  ASSERT_TRUE(cluster_->wait_healthy(30s, &error)) << error;
  t0 = Clock::now();
  do {
    st = client.put(key("k"), "after");
  } while (!st.ok() && Clock::now() - t0 < 10s);
  ASSERT_TRUE(st.ok()) << st.message;
  ASSERT_TRUE(client.get(key("k"), &kv).ok());
  EXPECT_EQ(kv.value, "after");
}

TEST_F(EtcdClientTest, NoMemberReachableIsUnavailableQuickly) {
  // Ports nothing listens on: the members of a cluster that is gone.
  EtcdCluster gone(2);
  EtcdOptions o;
  o.endpoints = gone.endpoints();
  EtcdClient client(o);
  auto t0 = Clock::now();
  auto st = client.put(key("k"), "v");
  EXPECT_EQ(st.code, common::Status::kUnavailable) << st.message;
  EXPECT_LT(seconds_since(t0), 0.5);
  EXPECT_EQ(client.requests(), 2u);  // each endpoint once

  std::atomic<bool> stop{false};
  t0 = Clock::now();
  st = client.watch(
      prefix_, 0, [](const std::vector<WatchEvent>&, int64_t) { return true; }, stop);
  EXPECT_EQ(st.code, common::Status::kUnavailable) << st.message;
  EXPECT_LT(seconds_since(t0), 0.5);

  EtcdClient nowhere(EtcdOptions{});
  EXPECT_EQ(nowhere.get("k", nullptr).code, common::Status::kInvalid);
}

TEST_F(EtcdClientTest, RequestsCountsEveryHttpRequest) {
  EtcdClient client(all_members());
  EXPECT_EQ(client.requests(), 0u);
  ASSERT_TRUE(client.put(key("k"), "v").ok());
  KeyValue kv;
  ASSERT_TRUE(client.get(key("k"), &kv).ok());
  std::vector<KeyValue> kvs;
  ASSERT_TRUE(client.list(prefix_, &kvs).ok());
  EXPECT_TRUE(client.create(key("k"), "w").conflict());
  ASSERT_TRUE(client.compare_and_put(key("k"), "w", kv.mod_revision).ok());
  int64_t lease = 0;
  ASSERT_TRUE(client.grant_lease(5, &lease).ok());
  ASSERT_TRUE(client.keep_alive(lease).ok());
  ASSERT_TRUE(client.revoke_lease(lease).ok());
  ASSERT_TRUE(client.remove(key("k")).ok());
  EXPECT_EQ(client.requests(), 9u);
}

TEST_F(EtcdClientTest, MalformedRequestIsInvalid) {
  EtcdClient client(all_members());
  KeyValue kv;
  auto st = client.get("", &kv);  // etcd: "key is not provided"
  EXPECT_EQ(st.code, common::Status::kInvalid) << st.message;
}

TEST_F(EtcdClientTest, ConcurrentCallsFromManyThreads) {
  EtcdClient client(all_members());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string k = key(std::to_string(t) + "/" + std::to_string(i));
        if (!client.create(k, k).ok()) ++failures;
        KeyValue kv;
        if (!client.get(k, &kv).ok() || kv.value != k) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<KeyValue> kvs;
  ASSERT_TRUE(client.list(prefix_, &kvs).ok());
  EXPECT_EQ(kvs.size(), 100u);
  EXPECT_EQ(client.requests(), 201u);
}

}  // namespace
}  // namespace c8y::cluster

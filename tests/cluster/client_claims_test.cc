// ClusterClientClaims against 3 real etcd members: D5 across nodes (a client id claimed for one
// identity is refused for another on every node), the cache that makes a reconnect free,
// releases that delete only what is still ours, and what happens while etcd has no quorum.
#include "plugin/cluster/client_claims.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "tests/cluster/etcd_cluster.h"

namespace c8y::cluster {
namespace {

using namespace std::chrono_literals;
using common::ClaimVerdict;
using Clock = std::chrono::steady_clock;

// One node's claims: its own clients (the quick one with the plugin's short timeout).
struct NodeClaims {
  NodeClaims(const std::vector<std::string>& endpoints, const Keys& keys, const std::string& node,
             std::vector<std::string> local_tenants = {}) {
    EtcdOptions q;
    q.endpoints = endpoints;
    q.request_timeout_ms = 250;
    q.connect_timeout_ms = 250;
    quick = std::make_unique<EtcdClient>(q);
    EtcdOptions s;
    s.endpoints = endpoints;
    s.request_timeout_ms = 1500;
    slow = std::make_unique<EtcdClient>(s);
    ClientClaimsOptions o{keys, node, 100ms, 10s, 0ms};  // no wait budget: every first claim asks
    claims = std::make_unique<ClusterClientClaims>(
        *quick, *slow, o, [local_tenants] { return local_tenants; }, &outbox);
  }
  // The kicks queued since the last call (log lines are kept in `logs`).
  std::vector<std::string> kicks() {
    std::vector<std::string> out;
    for (auto& item : outbox.take()) {
      if (auto* k = std::get_if<common::outbox::Kick>(&item)) out.push_back(k->client_id);
      if (auto* l = std::get_if<common::outbox::Log>(&item)) logs.push_back(l->message);
    }
    return out;
  }
  bool logged(const std::string& part) {
    (void)kicks();
    for (auto& l : logs)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
  std::vector<std::string> logs;
  common::Outbox outbox;
  std::unique_ptr<EtcdClient> quick;
  std::unique_ptr<EtcdClient> slow;
  std::unique_ptr<ClusterClientClaims> claims;
};

class ClientClaimsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    etcd_ = new testing::EtcdCluster(3);
    if (!etcd_->start(30s, &setup_error_))
      for (int i = 0; i < etcd_->size(); ++i) setup_error_ += "\n" + etcd_->log_tail(i);
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    std::string error;
    ASSERT_TRUE(etcd_->restore(30s, &error)) << error;
    // Each test has its own prefix: no test sees another's claims.
    keys_ = Keys(std::string("/claims-") +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    EtcdOptions o;
    o.endpoints = etcd_->endpoints();
    reader_ = std::make_unique<EtcdClient>(o);
  }
  void TearDown() override {
    std::string error;
    EXPECT_TRUE(etcd_->restore(30s, &error)) << error;
  }
  std::unique_ptr<NodeClaims> node(const std::string& name, std::vector<std::string> local = {}) {
    return std::make_unique<NodeClaims>(etcd_->endpoints(), keys_, name, std::move(local));
  }
  // The claim stored in etcd for a client id, or nullopt.
  std::optional<ClaimRecord> stored(const std::string& client_id) {
    KeyValue kv;
    if (!reader_->get(claim_key(keys_, client_id), &kv).ok()) return std::nullopt;
    return decode_claim(kv.value);
  }
  // Runs rounds until one succeeds with nothing left waiting (etcd answers again).
  static bool settle(ClusterClientClaims& c, std::chrono::seconds timeout = 20s) {
    const auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
      if (c.round().ok() && c.waiting() == 0) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  static testing::EtcdCluster* etcd_;
  static std::string setup_error_;
  Keys keys_;
  std::unique_ptr<EtcdClient> reader_;
};
testing::EtcdCluster* ClientClaimsTest::etcd_ = nullptr;
std::string ClientClaimsTest::setup_error_;

TEST_F(ClientClaimsTest, FirstClaimIsOneTransactionAndAReconnectAsksNothing) {
  auto n1 = node("n1");
  const uint64_t before = n1->quick->requests();
  auto v = n1->claims->claim("1234", "t1", "device_1234");
  EXPECT_EQ(v.outcome, ClaimVerdict::kOurs);
  EXPECT_TRUE(v.asked);
  EXPECT_EQ(n1->quick->requests() - before, 1u);  // one create-if-absent transaction
  auto rec = stored("1234");
  ASSERT_TRUE(rec);
  EXPECT_EQ(*rec, (ClaimRecord{"t1", "device_1234", "n1"}));

  // Reconnects of the same identity: answered from the cache, no request at all.
  const uint64_t after_first = n1->quick->requests() + n1->slow->requests();
  for (int i = 0; i < 100; ++i) {
    auto again = n1->claims->claim("1234", "t1", "device_1234");
    EXPECT_EQ(again.outcome, ClaimVerdict::kOurs);
    EXPECT_FALSE(again.asked);
  }
  EXPECT_EQ(n1->quick->requests() + n1->slow->requests(), after_first);
  EXPECT_EQ(n1->claims->stats().cached, 100u);
  EXPECT_EQ(n1->claims->cache_size(), 1u);
}

TEST_F(ClientClaimsTest, AnotherTenantIsRefusedOnAnotherNode) {
  auto n1 = node("n1");
  auto n2 = node("n2");
  ASSERT_EQ(n1->claims->claim("X", "t1", "device_a").outcome, ClaimVerdict::kOurs);

  auto v = n2->claims->claim("X", "t3", "device_a");
  EXPECT_EQ(v.outcome, ClaimVerdict::kHeld);
  EXPECT_EQ(v.holder_tenant, "t1");
  EXPECT_TRUE(v.asked);
  // Another user of the same tenant is another identity: refused as well.
  EXPECT_EQ(n2->claims->claim("X", "t1", "admin").outcome, ClaimVerdict::kHeld);
  // A refused device that retries is answered from the cache for a while.
  const uint64_t before = n2->quick->requests();
  auto again = n2->claims->claim("X", "t3", "device_a");
  EXPECT_EQ(again.outcome, ClaimVerdict::kHeld);
  EXPECT_FALSE(again.asked);
  EXPECT_EQ(n2->quick->requests(), before);
  // On n1 too: the node that holds the claim refuses another identity without asking.
  const uint64_t n1_before = n1->quick->requests();
  EXPECT_EQ(n1->claims->claim("X", "t2", "device_a").outcome, ClaimVerdict::kHeld);
  EXPECT_EQ(n1->quick->requests(), n1_before);
  EXPECT_EQ(stored("X")->tenant, "t1");  // untouched

  // The holder's identity on another node (its tenant moved there) adopts the claim.
  auto n3 = node("n3");
  auto moved = n3->claims->claim("X", "t1", "device_a");
  EXPECT_EQ(moved.outcome, ClaimVerdict::kOurs);
  EXPECT_EQ(stored("X")->node, "n1");  // adopted, not rewritten
}

TEST_F(ClientClaimsTest, ReleaseDeletesOnlyClaimsThatAreStillOurs) {
  auto n1 = node("n1");
  ASSERT_EQ(n1->claims->claim("A", "t1", "device_a").outcome, ClaimVerdict::kOurs);
  ASSERT_EQ(n1->claims->claim("B", "t1", "device_b").outcome, ClaimVerdict::kOurs);
  ASSERT_EQ(n1->claims->claim("C", "t2", "device_c").outcome, ClaimVerdict::kOurs);
  ASSERT_EQ(n1->claims->claim("D", "t2", "device_d").outcome, ClaimVerdict::kOurs);

  // A deleted user: its claims only.
  n1->claims->release("t1", "device_a");
  ASSERT_TRUE(n1->claims->round().ok());
  EXPECT_FALSE(stored("A"));
  EXPECT_TRUE(stored("B"));
  // Released: another tenant may claim it now.
  auto n2 = node("n2");
  EXPECT_EQ(n2->claims->claim("A", "t3", "device_a").outcome, ClaimVerdict::kOurs);

  // D was taken over meanwhile (written by someone else): a release leaves it alone.
  ASSERT_TRUE(reader_->put(claim_key(keys_, "D"), encode(ClaimRecord{"t9", "x", "n9"})).ok());
  // A deleted tenant: every identity of it.
  n1->claims->release("t2", "");
  ASSERT_TRUE(n1->claims->round().ok());
  EXPECT_FALSE(stored("C"));
  ASSERT_TRUE(stored("D"));
  EXPECT_EQ(stored("D")->tenant, "t9");
  EXPECT_TRUE(stored("B"));  // t1's other device keeps its claim
  EXPECT_EQ(n1->claims->stats().released, 2u);
  EXPECT_EQ(n1->claims->cache_size(), 1u);
}

TEST_F(ClientClaimsTest, ForgettingAMovedTenantKeepsItsClaimsInEtcd) {
  auto n1 = node("n1");
  ASSERT_EQ(n1->claims->claim("M", "t1", "device_m").outcome, ClaimVerdict::kOurs);
  ASSERT_EQ(n1->claims->claim("N", "t2", "device_n").outcome, ClaimVerdict::kOurs);
  n1->claims->forget("t1");  // t1 moved to another node
  EXPECT_EQ(n1->claims->cache_size(), 1u);
  ASSERT_TRUE(n1->claims->round().ok());
  EXPECT_EQ(stored("M")->tenant, "t1");  // still t1's, wherever it lives
  // This node no longer answers for M from its cache: it asks (and still refuses t2).
  auto v = n1->claims->claim("M", "t2", "device_m");
  EXPECT_EQ(v.outcome, ClaimVerdict::kHeld);
  EXPECT_TRUE(v.asked);
  EXPECT_EQ(n1->claims->claim("N", "t2", "device_n").outcome, ClaimVerdict::kOurs);
}

TEST_F(ClientClaimsTest, PreloadMakesTheFirstConnectAfterARestartFree) {
  {
    auto before = node("n1");
    ASSERT_EQ(before->claims->claim("P", "t1", "device_p").outcome, ClaimVerdict::kOurs);
    ASSERT_EQ(before->claims->claim("Q", "t5", "device_q").outcome, ClaimVerdict::kOurs);
  }
  auto n1 = node("n1", {"t1", "t2"});  // the node restarted; t5 is not one of its tenants
  ASSERT_TRUE(n1->claims->round().ok());
  EXPECT_TRUE(n1->claims->preloaded());
  EXPECT_EQ(n1->claims->cache_size(), 1u);
  const uint64_t before = n1->quick->requests();
  auto v = n1->claims->claim("P", "t1", "device_p");
  EXPECT_EQ(v.outcome, ClaimVerdict::kOurs);
  EXPECT_FALSE(v.asked);
  EXPECT_EQ(n1->quick->requests(), before);
  // A claim of another node's tenant is not in the cache: asked, and refused for t2.
  auto q = n1->claims->claim("Q", "t2", "device_q");
  EXPECT_EQ(q.outcome, ClaimVerdict::kHeld);
  EXPECT_TRUE(q.asked);
}

TEST_F(ClientClaimsTest, WithoutQuorumClaimsAreProvisionalThenReconciled) {
  auto n1 = node("n1");
  auto n2 = node("n2");
  ASSERT_EQ(n2->claims->claim("X", "t3", "device_x").outcome, ClaimVerdict::kOurs);
  ASSERT_EQ(n1->claims->claim("K", "t1", "device_k").outcome, ClaimVerdict::kOurs);
  etcd_->stop(1);
  etcd_->stop(2);

  // The first claim waits for etcd at most the quick client's timeout (per member tried), then
  // the connection is accepted provisionally.
  auto t0 = Clock::now();
  auto v = n1->claims->claim("X", "t1", "device_x");
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(v.outcome, ClaimVerdict::kProvisional);
  EXPECT_TRUE(v.asked);
  EXPECT_FALSE(n1->claims->healthy());
  std::printf("[ claims   ] first claim without quorum: provisional after %.3f s\n", took);
  // etcd is known to be away: the next first claims do not wait for it at all.
  const uint64_t before = n1->quick->requests();
  auto w = n1->claims->claim("Y", "t1", "device_y");
  EXPECT_EQ(w.outcome, ClaimVerdict::kProvisional);
  EXPECT_FALSE(w.asked);
  EXPECT_EQ(n1->quick->requests(), before);
  // Known claims still answer from the cache, provisional ones as provisional.
  EXPECT_EQ(n1->claims->claim("K", "t1", "device_k").outcome, ClaimVerdict::kOurs);
  EXPECT_EQ(n1->claims->claim("Y", "t1", "device_y").outcome, ClaimVerdict::kProvisional);
  // On this node, a provisional claim is first come: another identity is refused.
  EXPECT_EQ(n1->claims->claim("Y", "t2", "device_y").outcome, ClaimVerdict::kHeld);
  EXPECT_FALSE(n1->claims->round().ok());  // still no quorum: nothing is decided
  EXPECT_EQ(n1->claims->waiting(), 2u);
  EXPECT_TRUE(n1->kicks().empty());
  EXPECT_TRUE(n1->logged("accepted provisionally"));

  std::string error;
  ASSERT_TRUE(etcd_->restore(30s, &error)) << error;
  ASSERT_TRUE(settle(*n1->claims));
  EXPECT_TRUE(n1->claims->healthy());
  // Y was free: claimed for t1. X is t3's: the connection accepted meanwhile is disconnected.
  ASSERT_TRUE(stored("Y"));
  EXPECT_EQ(stored("Y")->tenant, "t1");
  EXPECT_EQ(stored("X")->tenant, "t3");
  EXPECT_EQ(n1->kicks(), std::vector<std::string>{"X"});
  EXPECT_EQ(n1->claims->stats().kicked, 1u);
  EXPECT_TRUE(n1->logged("client id 'X' is held by tenant t3 (device_x) in the cluster"));
  EXPECT_TRUE(n1->logged("answers client-id claims again"));
  // Its reconnect is refused, from the cache.
  auto r = n1->claims->claim("X", "t1", "device_x");
  EXPECT_EQ(r.outcome, ClaimVerdict::kHeld);
  EXPECT_EQ(r.holder_tenant, "t3");
  EXPECT_FALSE(r.asked);
  EXPECT_EQ(n1->claims->claim("Y", "t1", "device_y").outcome, ClaimVerdict::kOurs);
}

TEST_F(ClientClaimsTest, AThreadReconcilesByItself) {
  auto n1 = node("n1");
  etcd_->stop(1);
  etcd_->stop(2);
  ASSERT_EQ(n1->claims->claim("Z", "t1", "device_z").outcome, ClaimVerdict::kProvisional);
  n1->claims->start();
  std::string error;
  ASSERT_TRUE(etcd_->restore(30s, &error)) << error;
  const auto end = Clock::now() + 20s;
  while (Clock::now() < end && n1->claims->waiting() > 0) std::this_thread::sleep_for(50ms);
  n1->claims->stop();
  EXPECT_EQ(n1->claims->waiting(), 0u);
  ASSERT_TRUE(stored("Z"));
  EXPECT_EQ(stored("Z")->tenant, "t1");
  EXPECT_EQ(n1->claims->claim("Z", "t1", "device_z").outcome, ClaimVerdict::kOurs);
}

TEST_F(ClientClaimsTest, ABurstOfFirstClaimsWaitsForEtcdOnlyUpToTheBudget) {
  NodeClaims n1(etcd_->endpoints(), keys_, "n1");
  ClientClaimsOptions o{keys_, "n1", 100ms, 10s, 1ms};  // 1 ms of waiting per second
  ClusterClientClaims claims(*n1.quick, *n1.slow, o, {}, &n1.outbox);
  ASSERT_EQ(n1.claims->claim("B-held", "t3", "device_b").outcome, ClaimVerdict::kOurs);
  // Each claim waits for a transaction: a few spend the budget, the next is provisional without
  // asking (etcd is healthy).
  std::string provisional;
  for (int i = 0; i < 200 && provisional.empty(); ++i) {
    const std::string id = "B-" + std::to_string(i);
    auto v = claims.claim(id, "t1", "device_" + std::to_string(i));
    if (v.outcome == ClaimVerdict::kProvisional) {
      EXPECT_FALSE(v.asked);
      provisional = id;
    } else {
      ASSERT_EQ(v.outcome, ClaimVerdict::kOurs);
    }
  }
  ASSERT_FALSE(provisional.empty());
  EXPECT_TRUE(claims.healthy());
  EXPECT_GE(claims.stats().over_budget, 1u);
  // Past the budget a held id is accepted too, and reconciled by the thread: disconnected.
  auto held = claims.claim("B-held", "t1", "device_x");
  if (held.outcome == ClaimVerdict::kProvisional) {
    ASSERT_TRUE(settle(claims));
    EXPECT_EQ(n1.kicks(), std::vector<std::string>{"B-held"});
  } else {
    EXPECT_EQ(held.outcome, ClaimVerdict::kHeld);  // a new second began: asked and refused
  }
  ASSERT_TRUE(settle(claims));
  ASSERT_TRUE(stored(provisional));
  EXPECT_EQ(stored(provisional)->tenant, "t1");
  EXPECT_EQ(stored("B-held")->tenant, "t3");
}

TEST_F(ClientClaimsTest, FirstClaimLatency) {
  auto n1 = node("n1");
  constexpr int kClaims = 200;
  for (int i = 0; i < kClaims; ++i)
    ASSERT_EQ(n1->claims->claim("lat-" + std::to_string(i), "t1", "u" + std::to_string(i)).outcome,
              ClaimVerdict::kOurs);
  auto s = n1->claims->stats();
  EXPECT_EQ(s.asked, static_cast<uint64_t>(kClaims));
  std::printf(
      "[ claims   ] first claim (create-if-absent txn) on the caller's thread: "
      "mean %.2f ms, max %.2f ms over %d\n",
      s.ask_us_total / 1000.0 / kClaims, s.ask_us_max / 1000.0, kClaims);
}

}  // namespace
}  // namespace c8y::cluster

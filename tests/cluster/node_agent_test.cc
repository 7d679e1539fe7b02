// NodeAgent against a real etcd member: membership by lease, tenant placement by
// create-if-absent, what it does when etcd is away.
#include "plugin/cluster/node_agent.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "tests/cluster/etcd_fixture.h"

namespace c8y::cluster {
namespace {

class NodeAgentTest : public OneEtcdMemberTest {
 protected:
  std::unique_ptr<NodeAgent> agent(const std::string& node, std::vector<std::string> tenants,
                                   int ttl = 5) {
    NodeAgentOptions o{keys_, {node, "127.0.0.1:8111", 1, 0}, ttl, std::chrono::milliseconds(100)};
    return std::make_unique<NodeAgent>(
        *client_, o, [tenants] { return tenants; }, &outbox_);
  }
  bool node_present(const std::string& node) {
    KeyValue kv;
    return client_->get(keys_.node(node), &kv).ok();
  }
  std::vector<std::string> logs() {
    std::vector<std::string> out;
    for (auto& item : outbox_.take())
      if (auto* l = std::get_if<common::outbox::Log>(&item)) out.push_back(l->message);
    return out;
  }

  common::Outbox outbox_;
};

TEST_F(NodeAgentTest, RegistersWithALeaseAndLeavesOnStop) {
  auto a = agent("n1", {});
  ASSERT_TRUE(a->round().ok());
  KeyValue kv;
  ASSERT_TRUE(client_->get(keys_.node("n1"), &kv).ok());
  auto rec = decode_node(kv.value);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->name, "n1");
  EXPECT_EQ(rec->rest, "127.0.0.1:8111");
  EXPECT_NE(kv.lease, 0);
  EXPECT_TRUE(a->view().registered);
  a->stop();  // the lease is revoked: the record goes at once, not after the TTL
  EXPECT_FALSE(node_present("n1"));
}

TEST_F(NodeAgentTest, PlacesItsTenantsAndLeavesOthersPlacements) {
  ASSERT_TRUE(client_->put(keys_.tenant("t2"), encode(Placement{"n2", 4})).ok());
  auto a = agent("n1", {"t1", "t2"});
  ASSERT_TRUE(a->round().ok());
  EXPECT_EQ(stored("t1"), (Placement{"n1", 1}));
  EXPECT_EQ(stored("t2"), (Placement{"n2", 4}));  // placed elsewhere: not taken
  EXPECT_EQ(a->placement("t1"), (Placement{"n1", 1}));
  EXPECT_EQ(a->placement("t2"), (Placement{"n2", 4}));
  EXPECT_FALSE(a->placement("t3"));
  // Where each tenant is served (what CONNECT and REST ask): here, or n2 - down, no address.
  EXPECT_TRUE(a->home("t1").here);
  EXPECT_TRUE(a->home("t3").here);  // nothing known: served if this node has it
  auto h = a->home("t2");
  EXPECT_FALSE(h.here);
  EXPECT_EQ(h.node, "n2");
  EXPECT_EQ(h.rest, "");
  ASSERT_TRUE(client_->put(keys_.node("n2"), encode(NodeRecord{"n2", "10.0.0.2:8111", 1, 0})).ok());
  ASSERT_TRUE(a->round().ok());
  EXPECT_EQ(a->home("t2").rest, "10.0.0.2:8111");
  auto lines = logs();
  bool warned = false;
  for (auto& l : lines) warned |= l.find("t2 is placed on n2") != std::string::npos;
  EXPECT_TRUE(warned);
  ASSERT_TRUE(a->round().ok());  // the warning is said once
  for (auto& l : logs()) EXPECT_EQ(l.find("t2 is placed"), std::string::npos) << l;
  // A placement changed by someone else (a move) is seen on the next round.
  ASSERT_TRUE(client_->put(keys_.tenant("t1"), encode(Placement{"n3", 2})).ok());
  ASSERT_TRUE(a->round().ok());
  EXPECT_EQ(a->placement("t1"), (Placement{"n3", 2}));
  EXPECT_EQ(stored("t1"), (Placement{"n3", 2}));  // not taken back
}

TEST_F(NodeAgentTest, OfTwoNodesClaimingATenantOneWins) {
  auto a = agent("n1", {"t1"});
  auto b = agent("n2", {"t1"});
  std::thread ta([&] { (void)a->round(); });
  std::thread tb([&] { (void)b->round(); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a->round().ok());
  ASSERT_TRUE(b->round().ok());
  auto p = stored("t1");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->node == "n1" || p->node == "n2");
  EXPECT_EQ(a->placement("t1"), p);
  EXPECT_EQ(b->placement("t1"), p);
}

TEST_F(NodeAgentTest, AnExpiredLeaseIsTakenAgain) {
  auto a = agent("n1", {}, 2);
  ASSERT_TRUE(a->round().ok());
  const int64_t first = a->view().lease;
  // No keep-alive for longer than the TTL (a stalled node): the record goes.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  EXPECT_FALSE(node_present("n1"));
  ASSERT_TRUE(a->round().ok());
  EXPECT_TRUE(node_present("n1"));
  EXPECT_NE(a->view().lease, first);
}

TEST_F(NodeAgentTest, TheThreadKeepsTheNodeAlive) {
  auto a = agent("n1", {"t1"}, 2);
  a->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(4000));  // twice the TTL
  EXPECT_TRUE(node_present("n1"));
  EXPECT_EQ(stored("t1"), (Placement{"n1", 1}));
  a->stop();
  EXPECT_FALSE(node_present("n1"));
}

TEST_F(NodeAgentTest, WithoutEtcdTheLastViewStays) {
  auto a = agent("n1", {"t1"});
  ASSERT_TRUE(a->round().ok());
  etcd_->kill(0);
  common::Status s = a->round();
  EXPECT_TRUE(s.unavailable()) << s.message;
  EXPECT_EQ(a->placement("t1"), (Placement{"n1", 1}));  // still served
  std::string error;
  ASSERT_TRUE(etcd_->restore(std::chrono::seconds(20), &error)) << error;
  EXPECT_TRUE(a->round().ok());
}

// A move (or delete) of one of its tenants that nobody carries out (the node that began it died
// before reaching this one, or this node restarted in the middle) is abandoned after a while:
// the tenant is served here again, with the change's epoch. One this node carries out is not.
TEST_F(NodeAgentTest, AnAbandonedMoveOfItsTenantIsTakenBack) {
  NodeAgentOptions o{keys_, {"n1", "127.0.0.1:8111", 1, 0}, 5, std::chrono::milliseconds(100)};
  o.abandoned_after = std::chrono::milliseconds(300);
  NodeAgent a(
      *client_, o,
      [] {
        return std::vector<std::string>{"t1", "t2"};
      },
      &outbox_);
  ASSERT_TRUE(
      client_->put(keys_.tenant("t1"), encode(Placement{"n1", 3, "move", "n2", "tk"})).ok());
  ASSERT_TRUE(
      client_->put(keys_.tenant("t2"), encode(Placement{"n1", 5, "move", "n2", "tk2"})).ok());
  a.set_changing([](const std::string& t) { return t == "t2"; });  // t2's move runs here
  ASSERT_TRUE(a.round().ok());
  EXPECT_FALSE(a.home("t1").here);  // under way: not served
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_TRUE(a.round().ok());
  EXPECT_EQ(stored("t1"), (Placement{"n1", 3}));
  EXPECT_TRUE(a.home("t1").here);
  EXPECT_EQ(stored("t2"), (Placement{"n1", 5, "move", "n2", "tk2"}));  // carried out: left
  bool logged = false;
  for (auto& l : logs()) logged = logged || l.find("move of tenant t1 was abandoned") != l.npos;
  EXPECT_TRUE(logged);
  a.stop();
}

}  // namespace
}  // namespace c8y::cluster

// TenantControl against a real etcd member and a fake TenantHost (what a node does with its own
// tenants): creates and deletes on this node, ticket checks of the calls between nodes, and a
// move whose target cannot be reached, which must leave the tenant served where it was. The
// calls between real nodes are covered by tests/cluster/test_tenants.py.
#include "plugin/cluster/tenant_control.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "tests/cluster/etcd_fixture.h"

namespace c8y::cluster {
namespace {

// A node's own tenants, in memory: what was asked, in order.
class FakeHost : public common::TenantHost {
 public:
  common::Status create(const std::string& t, const std::string&) override {
    calls.push_back("create " + t);
    if (!tenants.insert(t).second) return common::Status::Conflict("exists");
    return {};
  }
  common::Status remove(const std::string& t) override {
    calls.push_back("remove " + t);
    if (!tenants.erase(t)) return common::Status::NotFound("no " + t);
    return {};
  }
  common::Status quiesce(const std::string& t, std::chrono::milliseconds) override {
    calls.push_back("quiesce " + t);
    return {};
  }
  common::Status export_tenant(const std::string& t, const std::string&,
                               std::vector<std::string>* files, uint64_t* bytes) override {
    calls.push_back("export " + t);
    *files = {"system.json"};
    *bytes = 10;
    return {};
  }
  common::Status import_tenant(const std::string& t, const std::string&) override {
    calls.push_back("import " + t);
    return {};
  }
  std::string staging_dir() const override { return ::testing::TempDir(); }

  std::set<std::string> tenants;
  std::vector<std::string> calls;
};

class TenantControlTest : public OneEtcdMemberTest {
 protected:
  void SetUp() override {
    OneEtcdMemberTest::SetUp();
    if (HasFatalFailure()) return;
    // This node, n1, and a node n2 whose REST API is a closed port.
    NodeAgentOptions ao{keys_, {"n1", "127.0.0.1:1", 1, 0}, 5, std::chrono::milliseconds(100)};
    agent_ = std::make_unique<NodeAgent>(
        *client_, ao,
        [this] { return std::vector<std::string>(host_.tenants.begin(), host_.tenants.end()); },
        &outbox_);
    ASSERT_TRUE(client_->put(keys_.node("n2"), encode(NodeRecord{"n2", "127.0.0.1:1", 1, 5})).ok());
    ASSERT_TRUE(agent_->round().ok());
    TenantControlOptions co{keys_};
    co.peer_timeout = std::chrono::milliseconds(2000);
    control_ = std::make_unique<TenantControl>(*client_, *agent_, host_, &outbox_, co);
  }
  void TearDown() override {
    control_.reset();
    agent_->stop();
  }

  common::Outbox outbox_;
  FakeHost host_;
  std::unique_ptr<NodeAgent> agent_;
  std::unique_ptr<TenantControl> control_;
};

TEST_F(TenantControlTest, CreatesATenantHereAndSettlesItsPlacement) {
  auto ch = control_->create_tenant("t1", "n1", "{}");
  ASSERT_TRUE(ch.status.ok()) << ch.status.message;
  EXPECT_EQ(ch.node, "n1");
  EXPECT_EQ(host_.tenants, std::set<std::string>{"t1"});
  EXPECT_EQ(stored("t1"), (Placement{"n1", 1}));
  EXPECT_TRUE(agent_->home("t1").here);
  // Unique in the cluster: a second create is a conflict and does not reach the host.
  host_.calls.clear();
  ch = control_->create_tenant("t1", "n2", "{}");
  EXPECT_TRUE(ch.status.conflict()) << ch.status.message;
  EXPECT_TRUE(host_.calls.empty());
  // An unknown node is refused before anything is written.
  ch = control_->create_tenant("t2", "n9", "{}");
  EXPECT_TRUE(ch.status.invalid()) << ch.status.message;
  EXPECT_FALSE(stored("t2"));
}

TEST_F(TenantControlTest, WithoutANodeTheOneWithFewestDevicesTakesIt) {
  // n1 has 0 connected devices, n2 5.
  auto ch = control_->create_tenant("t1", "", "{}");
  ASSERT_TRUE(ch.status.ok()) << ch.status.message;
  EXPECT_EQ(ch.node, "n1");
}

TEST_F(TenantControlTest, ACreateOnANodeThatCannotBeReachedLeavesNothingBehind) {
  auto ch = control_->create_tenant("t1", "n2", "{}");
  EXPECT_TRUE(ch.status.unavailable()) << ch.status.message;
  EXPECT_FALSE(stored("t1"));  // the placement written for it is gone again
}

TEST_F(TenantControlTest, DeletesATenantHereAndItsPlacement) {
  ASSERT_TRUE(control_->create_tenant("t1", "n1", "{}").status.ok());
  auto ch = control_->delete_tenant("t1");
  ASSERT_TRUE(ch.status.ok()) << ch.status.message;
  EXPECT_TRUE(host_.tenants.empty());
  EXPECT_FALSE(stored("t1"));
  EXPECT_TRUE(control_->delete_tenant("t1").status.not_found());
}

TEST_F(TenantControlTest, CallsOfOtherNodesNeedTheTicketOfTheChangeUnderWay) {
  ASSERT_TRUE(
      client_->put(keys_.tenant("t1"), encode(Placement{"n1", 1, "create", "", "right-ticket"}))
          .ok());
  EXPECT_TRUE(control_->peer_create("t1", "wrong-ticket", "{}").invalid());
  EXPECT_TRUE(control_->peer_create("t1", "", "{}").invalid());
  EXPECT_TRUE(control_->peer_delete("t1", "right-ticket").invalid());  // not a delete
  EXPECT_TRUE(control_->peer_move("t1", "right-ticket").status.invalid());
  EXPECT_TRUE(control_->peer_create("t9", "right-ticket", "{}").invalid());  // no placement
  EXPECT_TRUE(host_.tenants.empty());
  EXPECT_TRUE(control_->peer_create("t1", "right-ticket", "{}").ok());
  EXPECT_EQ(host_.tenants, std::set<std::string>{"t1"});
  // An import is for the move's target only, and no export is handed out without the ticket.
  ASSERT_TRUE(
      client_->put(keys_.tenant("t1"), encode(Placement{"n2", 2, "move", "n3", "mv"})).ok());
  EXPECT_TRUE(control_->peer_import("t1", "mv", "127.0.0.1:1", {"system.json"}).invalid());
  EXPECT_EQ(control_->export_file("t1", "mv", "system.json"), "");
}

TEST_F(TenantControlTest, AMoveToANodeThatCannotImportLeavesTheTenantServedHere) {
  ASSERT_TRUE(control_->create_tenant("t1", "n1", "{}").status.ok());
  host_.calls.clear();
  auto ch = control_->move_tenant("t1", "n2");
  EXPECT_TRUE(ch.status.unavailable()) << ch.status.message;
  // It was fenced, its writers stopped and exported, then put back: served here again, with
  // the move's epoch.
  EXPECT_EQ(host_.calls, (std::vector<std::string>{"quiesce t1", "export t1"}));
  EXPECT_EQ(stored("t1"), (Placement{"n1", 2}));
  EXPECT_TRUE(agent_->home("t1").here);
  EXPECT_EQ(host_.tenants, std::set<std::string>{"t1"});
  // Moving onto its own node changes nothing; an unknown tenant is not found.
  ch = control_->move_tenant("t1", "n1");
  EXPECT_TRUE(ch.status.ok());
  EXPECT_EQ(stored("t1"), (Placement{"n1", 2}));
  EXPECT_TRUE(control_->move_tenant("t9", "n2").status.not_found());
}

TEST_F(TenantControlTest, ACaSubjectBelongsToOneTenant) {
  EXPECT_TRUE(control_->claim_ca_subject("CN=Fleet CA,O=x", "t1").ok());
  EXPECT_TRUE(control_->claim_ca_subject("CN=Fleet CA,O=x", "t1").ok());  // its own again
  EXPECT_TRUE(control_->claim_ca_subject("CN=Fleet CA,O=x", "t2").conflict());
  control_->release_ca_subject("CN=Fleet CA,O=x", "t2");  // not t2's: stays
  EXPECT_TRUE(control_->claim_ca_subject("CN=Fleet CA,O=x", "t2").conflict());
  control_->release_ca_subject("CN=Fleet CA,O=x", "t1");
  EXPECT_TRUE(control_->claim_ca_subject("CN=Fleet CA,O=x", "t2").ok());
  // Deleting a tenant frees its subjects.
  ASSERT_TRUE(control_->create_tenant("t2", "n1", "{}").status.ok());
  ASSERT_TRUE(control_->delete_tenant("t2").status.ok());
  EXPECT_TRUE(control_->claim_ca_subject("CN=Fleet CA,O=x", "t3").ok());
}

TEST(TenantControlNames, TicketsAreFreshAndPathsStayInside) {
  std::string a = new_ticket(), b = new_ticket();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  for (auto good : {"system.json", "family/000012.sst", "family/family.meta"})
    EXPECT_TRUE(safe_relative_path(good)) << good;
  for (auto bad : {"", "/etc/passwd", "../x", "family/../../x", "./x", "a b", "a\\b"})
    EXPECT_FALSE(safe_relative_path(bad)) << bad;
}

}  // namespace
}  // namespace c8y::cluster

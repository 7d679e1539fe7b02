// OperationDelivery: PENDING operations reach the agent's subscribed operation topics — on a
// new subscription (at the next flush), on a new operation, and for child devices through their
// agent — once per channel, and JSON carries the device's external id.
#include "plugin/app/operation_delivery.h"

#include <gtest/gtest.h>

#include "plugin/domain/operations.h"
#include "tests/unit/app/component_rig.h"

namespace c8y::app {
namespace {

class OperationDeliveryTest : public ::testing::Test {
 protected:
  // A live session of device "agent1" in the table, subscribed to nothing yet.
  Session& open_agent() {
    auto s = std::make_unique<Session>();
    s->conn = &conn_;
    s->client_id = "agent1";
    s->tenant = "t1";
    s->user = "dev";
    s->serial = "agent1";
    s->space = &rig_.space("t1");
    Session& ref = rig_.c().sessions.open(std::move(s));
    storage::StoreStatus st;
    agent_ = rig_.c().devices.own_device(ref, "", "", &st);
    return ref;
  }
  std::string create(uint64_t device, const nlohmann::json& body) {
    domain::Operations ops(rig_.store(), rig_.space("t1"));
    nlohmann::json op;
    EXPECT_TRUE(ops.create(device, body, 0, &op).ok());
    return op.value("id", "");
  }

  testing::ComponentRig rig_;
  const int conn_ = 1;
  uint64_t agent_ = 0;
};

TEST_F(OperationDeliveryTest, ChannelsOfFilters) {
  EXPECT_EQ(OperationDelivery::channel_of("s/ds"), OperationDelivery::kSmartRest);
  EXPECT_EQ(OperationDelivery::channel_of("devicecontrol/notifications"), OperationDelivery::kJson);
  EXPECT_EQ(OperationDelivery::channel_of("notification/operations"), OperationDelivery::kJson);
  EXPECT_EQ(OperationDelivery::channel_of("s/dc/x"), OperationDelivery::kTemplates);
  EXPECT_EQ(OperationDelivery::channel_of("s/dd"), OperationDelivery::kTemplates);
  EXPECT_EQ(OperationDelivery::channel_of("s/e"), 0u);
  EXPECT_EQ(OperationDelivery::channel_of("s/#"), 0u);
}

TEST_F(OperationDeliveryTest, PendingOperationsFollowASubscriptionAtTheNextFlush) {
  Session& s = open_agent();
  create(agent_, {{"c8y_Restart", nlohmann::json::object()}});
  rig_.c().sessions.add_subscription(s, "s/ds", 1);
  EXPECT_TRUE(rig_.port.sent("agent1", "s/ds").empty());  // not before the SUBACK
  rig_.c().operations.flush();
  EXPECT_EQ(rig_.port.sent("agent1", "s/ds"), std::vector<std::string>{"510,agent1"});
  rig_.c().operations.flush();  // nothing queued any more
  EXPECT_EQ(rig_.port.sent("agent1", "s/ds").size(), 1u);
}

TEST_F(OperationDeliveryTest, ANewOperationOfAChildGoesToItsAgentWithTheChildSerial) {
  Session& s = open_agent();
  storage::StoreStatus st;
  std::string error;
  uint64_t child = rig_.c().devices.child_device(s, "child1", &st, &error);
  rig_.c().sessions.add_subscription(s, "s/ds", 1);
  rig_.c().sessions.add_subscription(s, "devicecontrol/notifications", 1);
  rig_.c().operations.flush();
  rig_.port.clear();
  auto id = create(child, {{"c8y_Restart", nlohmann::json::object()}});
  rig_.c().operations.deliver("t1", id);
  EXPECT_EQ(rig_.port.sent("agent1", "s/ds"), std::vector<std::string>{"510,child1"});
  auto json = rig_.port.sent("agent1", "devicecontrol/notifications");
  ASSERT_EQ(json.size(), 1u);
  auto j = nlohmann::json::parse(json[0]);
  EXPECT_EQ(j["id"], id);
  EXPECT_EQ(j["externalSource"]["externalId"], "child1");
  EXPECT_EQ(j["externalSource"]["type"], "c8y_Serial");
  rig_.c().operations.deliver("t2", id);  // another tenant's id names nothing there
  rig_.c().operations.deliver("t1", "not-an-id");
  EXPECT_EQ(rig_.port.sent("agent1", "s/ds").size(), 1u);
}

TEST_F(OperationDeliveryTest, AnOperationQueuedBySubscriptionIsNotDeliveredTwice) {
  Session& s = open_agent();
  rig_.c().sessions.add_subscription(s, "s/ds", 1);
  auto id = create(agent_, {{"c8y_Restart", nlohmann::json::object()}});
  rig_.c().operations.deliver("t1", id);  // s/ds is queued: left to the flush
  EXPECT_TRUE(rig_.port.sent("agent1", "s/ds").empty());
  rig_.c().operations.flush();
  EXPECT_EQ(rig_.port.sent("agent1", "s/ds"), std::vector<std::string>{"510,agent1"});
}

TEST_F(OperationDeliveryTest, OnlyPendingOperationsAreSent) {
  Session& s = open_agent();
  auto id = create(agent_, {{"c8y_Restart", nlohmann::json::object()}});
  domain::Operations ops(rig_.store(), rig_.space("t1"));
  ASSERT_TRUE(ops.update(*domain::parse_id(id), {{"status", "EXECUTING"}}).status.ok());
  rig_.c().sessions.add_subscription(s, "s/ds", 1);
  rig_.c().operations.flush();
  rig_.c().operations.deliver("t1", id);
  EXPECT_TRUE(rig_.port.sent("agent1", "s/ds").empty());
}

}  // namespace
}  // namespace c8y::app

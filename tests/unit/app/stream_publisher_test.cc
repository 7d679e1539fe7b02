#include "plugin/app/stream_publisher.h"

#include <gtest/gtest.h>

#include "tests/unit/app/fake_broker_port.h"

namespace c8y::app {
namespace {

using policy::Mode;

TEST(StreamPublisher, NothingIsPublishedWithoutListeners) {
  testing::FakeBrokerPort port;
  StreamPublisher streams(port);
  EXPECT_FALSE(streams.wanted("t1"));
  streams.publish("t1", Mode::kPersistent, "measurements", 7, "CREATE", {{"a", 1}});
  streams.forward("tenants/t1/notifications/events/7", "{}");
  EXPECT_TRUE(port.published.empty());
}

TEST(StreamPublisher, ListenersAreCountedPerTenant) {
  testing::FakeBrokerPort port;
  StreamPublisher streams(port);
  streams.subscribed("t1");
  streams.subscribed("t1", 2);
  EXPECT_TRUE(streams.wanted("t1"));
  EXPECT_FALSE(streams.wanted("t2"));
  EXPECT_FALSE(streams.wanted("t"));  // no prefix matching
  streams.unsubscribed("t1", 2);
  EXPECT_TRUE(streams.wanted("t1"));
  streams.unsubscribed("t1", 5);  // more than held: gone, never negative
  EXPECT_FALSE(streams.wanted("t1"));
  streams.unsubscribed("t9", 1);  // unknown tenant: nothing happens
  EXPECT_FALSE(streams.wanted("t9"));
}

TEST(StreamPublisher, ModesReachTheirStreams) {
  testing::FakeBrokerPort port;
  StreamPublisher streams(port);
  streams.subscribed("t1");
  streams.publish("t1", Mode::kPersistent, "events", 42, "CREATE", {{"type", "x"}});
  ASSERT_EQ(port.published.size(), 2u);
  EXPECT_EQ(port.published[0].topic, "tenants/t1/notifications/events/42");
  EXPECT_EQ(port.published[1].topic, "tenants/t1/processing/events/42");
  EXPECT_EQ(port.published[0].client_id, "");
  EXPECT_EQ(port.published[0].qos, 0);
  EXPECT_EQ(nlohmann::json::parse(port.published[0].payload),
            nlohmann::json({{"realtimeAction", "CREATE"}, {"data", {{"type", "x"}}}}));
  port.clear();
  streams.publish("t1", Mode::kQuiescent, "measurements", 42, "CREATE", {});
  ASSERT_EQ(port.published.size(), 1u);  // quiescent data reaches processing only
  EXPECT_EQ(port.published[0].topic, "tenants/t1/processing/measurements/42");
}

TEST(StreamPublisher, ForwardChecksTheTenantOfTheTopic) {
  testing::FakeBrokerPort port;
  StreamPublisher streams(port);
  streams.subscribed("t1");
  streams.forward("tenants/t2/notifications/events/1", "a");
  streams.forward("tenants/t1/notifications/events/1", "b");
  ASSERT_EQ(port.published.size(), 1u);
  EXPECT_EQ(port.published[0].payload, "b");
}

}  // namespace
}  // namespace c8y::app

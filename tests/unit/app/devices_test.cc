// DeviceResolver: the device a publish is for, created once and cached in the session; child
// devices created below it or refused when they belong elsewhere; CREATE on the inventory
// streams only while an admin listens.
#include "plugin/app/devices.h"

#include <gtest/gtest.h>

#include "tests/unit/app/component_rig.h"

namespace c8y::app {
namespace {

TEST(DeviceResolverTest, TheOwnDeviceIsCreatedOnceWithItsSerialAndCached) {
  testing::ComponentRig rig;
  Session& s = rig.session("dev1");
  storage::StoreStatus st;
  uint64_t id = rig.c().devices.own_device(s, "Name", "thing", &st);
  ASSERT_TRUE(st.ok()) << st.message;
  ASSERT_NE(id, 0u);
  EXPECT_EQ(s.device_id, id);
  EXPECT_EQ(rig.device_id("t1", "dev1"), id);
  auto mo = rig.inventory("t1").get(id);
  ASSERT_TRUE(mo);
  EXPECT_EQ((*mo)["name"], "Name");
  EXPECT_EQ((*mo)["type"], "thing");
  EXPECT_EQ(rig.c().devices.own_device(s, "Other", "", &st), id);
  EXPECT_EQ((*rig.inventory("t1").get(id))["name"], "Name");
  EXPECT_FALSE(rig.device_id("t2", "dev1"));  // one tenant's device is not another's
}

TEST(DeviceResolverTest, FindOwnDeviceFindsOnlyAnExistingDevice) {
  testing::ComponentRig rig;
  Session& a = rig.session("dev1");
  EXPECT_FALSE(rig.c().devices.find_own_device(a));
  EXPECT_EQ(a.device_id, 0u);
  storage::StoreStatus st;
  uint64_t id = rig.c().devices.own_device(a, "", "", &st);
  Session& b = rig.session("dev1");
  EXPECT_TRUE(rig.c().devices.find_own_device(b));
  EXPECT_EQ(b.device_id, id);
}

TEST(DeviceResolverTest, AChildIsCreatedBelowTheDeviceAndAForeignDeviceIsRefused) {
  testing::ComponentRig rig;
  Session& s = rig.session("dev1");
  storage::StoreStatus st;
  std::string error;
  uint64_t child = rig.c().devices.child_device(s, "child1", &st, &error);
  ASSERT_NE(child, 0u) << error;
  EXPECT_TRUE(rig.c().devices.in_hierarchy(s, child));
  EXPECT_EQ(rig.c().devices.target(s, "child1", &st, &error), child);
  EXPECT_EQ(rig.c().devices.target(s, "", &st, &error), s.device_id);

  Session& other = rig.session("dev2");
  uint64_t foreign = rig.c().devices.own_device(other, "", "", &st);
  EXPECT_FALSE(rig.c().devices.in_hierarchy(s, foreign));
  EXPECT_EQ(rig.c().devices.child_device(s, "dev2", &st, &error), 0u);
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(error, "Device dev2 is not a child of this device");
  error.clear();
  EXPECT_EQ(rig.c().devices.child_device(s, "dev1", &st, &error), 0u);  // itself
  EXPECT_FALSE(error.empty());
}

TEST(DeviceResolverTest, ForgetDropsTheCachedDeviceAndChildren) {
  testing::ComponentRig rig;
  Session& s = rig.session("dev1");
  storage::StoreStatus st;
  std::string error;
  uint64_t child = rig.c().devices.child_device(s, "c", &st, &error);
  uint64_t own = s.device_id;
  DeviceResolver::forget(s, child);
  EXPECT_TRUE(s.extra().children.empty());
  EXPECT_EQ(s.device_id, own);
  DeviceResolver::forget(s, own);
  EXPECT_EQ(s.device_id, 0u);
}

// The child cache is part of the session's rarely used state: a device that publishes only for
// itself never makes it, one that names a child keeps the child there.
TEST(DeviceResolverTest, OnlyASessionThatNamesChildrenKeepsACacheOfThem) {
  testing::ComponentRig rig;
  Session& s = rig.session("dev1");
  storage::StoreStatus st;
  std::string error;
  const uint64_t own = rig.c().devices.target(s, "", &st, &error);
  ASSERT_NE(own, 0u);
  DeviceResolver::forget(s, own + 1000);  // an object the session does not know
  EXPECT_FALSE(s.has_extra());
  EXPECT_EQ(s.device_id, own);
  const uint64_t child = rig.c().devices.target(s, "kid", &st, &error);
  ASSERT_NE(child, 0u) << error;
  ASSERT_TRUE(s.has_extra());
  EXPECT_EQ(s.extra().children.size(), 1u);
  EXPECT_EQ(rig.c().devices.target(s, "kid", &st, &error), child);
  Session& other = rig.session("dev2");
  EXPECT_TRUE(other.extra().children.empty());  // reading makes nothing
  EXPECT_FALSE(other.has_extra());
}

TEST(DeviceResolverTest, ACreatedDeviceIsPublishedOnlyWhileAnAdminListens) {
  testing::ComponentRig rig;
  Session& quiet = rig.session("dev1");
  storage::StoreStatus st;
  rig.c().devices.own_device(quiet, "", "", &st);
  EXPECT_TRUE(rig.port.published.empty());
  rig.c().streams.subscribed("t1");
  Session& s = rig.session("dev2");
  uint64_t id = rig.c().devices.own_device(s, "", "", &st);
  ASSERT_FALSE(rig.port.published.empty());
  for (auto& p : rig.port.published) {
    EXPECT_EQ(p.client_id, "");  // routed by subscription
    EXPECT_TRUE(p.topic.starts_with("tenants/t1/")) << p.topic;
    EXPECT_NE(p.payload.find("CREATE"), std::string::npos);
    EXPECT_NE(p.payload.find("\"" + domain::format_id(id) + "\""), std::string::npos);
  }
}

}  // namespace
}  // namespace c8y::app

// Quotas (per-tenant limits on the MQTT side) over the component rig: the limits a tenant's
// options set over the node's defaults, the device and tenant message rates with their burst,
// what a refused device is told (and how often), stored bytes, connected devices, and that one
// tenant's limits never touch another's devices.
#include "plugin/app/quotas.h"

#include <gtest/gtest.h>

#include <fstream>

#include "plugin/app/plugin_core.h"
#include "plugin/policy/topic_route.h"
#include "tests/unit/app/component_rig.h"

namespace c8y::app {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

Options with_limits(common::Limits limits, unsigned burst_s = 1) {
  Options o;
  o.limits = limits;
  o.limit_burst_s = burst_s;
  return o;
}

void set_tenant_limits(testing::ComponentRig& rig, const char* tenant, const char* limits) {
  identity::TenantRecord t;
  t.id = tenant;
  t.options = nlohmann::json::parse(std::string(R"({"limits": )") + limits + "}");
  ASSERT_TRUE(rig.directory().put_tenant(t).ok());
  rig.c().quotas.refresh(std::chrono::steady_clock::now(), true);
}

const policy::TopicRoute kStatic = *policy::route_upstream("s/us");
const policy::TopicRoute kJson = *policy::route_upstream("measurement/measurements/create");

uint64_t limited(testing::ComponentRig& rig, const char* tenant, common::LimitKind kind) {
  return rig.space(tenant).metrics.limited[static_cast<size_t>(kind)].get();
}

TEST(QuotasTest, TheNodeDefaultsApplyUntilATenantSetsItsOwn) {
  testing::ComponentRig rig(with_limits({100, 10, 1000, 0, 20}));
  rig.c().quotas.refresh(std::chrono::steady_clock::now(), true);
  EXPECT_EQ(rig.space("t1").limits.get(), (common::Limits{100, 10, 1000, 0, 20}));
  set_tenant_limits(rig, "t1", R"({"devices": 3, "restRequestsPerSecond": 0})");
  EXPECT_EQ(rig.space("t1").limits.get(), (common::Limits{3, 10, 1000, 0, 0}));
  EXPECT_EQ(rig.space("t2").limits.get(), (common::Limits{100, 10, 1000, 0, 20}));
}

TEST(QuotasTest, ADeviceBurstPassesThenMessagesAreRefusedAndReportedOnceASecond) {
  testing::ComponentRig rig(with_limits({0, 2, 0, 0, 0}, 3));  // 2/s, bucket of 6
  rig.c().quotas.refresh(std::chrono::steady_clock::now(), true);
  Session& s = rig.session("d1");
  auto& q = rig.c().quotas;
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(q.admit_message_at(s, kStatic, 0)) << i;
  EXPECT_EQ(q.admit_message_at(s, kStatic, 0), common::LimitKind::kDeviceRate);
  EXPECT_EQ(q.admit_message_at(s, kStatic, kSecond / 10), common::LimitKind::kDeviceRate);
  auto lines = rig.port.sent("d1", "s/e");
  ASSERT_EQ(lines.size(), 1u);  // one notice for both
  EXPECT_EQ(lines[0],
            "50,,Too many messages: this device may send 2 messages per second; messages over the "
            "limit are not processed (this notice comes at most once a second)");
  EXPECT_EQ(limited(rig, "t1", common::LimitKind::kDeviceRate), 2u);
  // 0.6 s later one message is allowed again (1.2 tokens); a second after the notice, the next
  // refusal is told again.
  EXPECT_FALSE(q.admit_message_at(s, kStatic, kSecond * 6 / 10));
  EXPECT_EQ(q.admit_message_at(s, kStatic, kSecond * 6 / 10), common::LimitKind::kDeviceRate);
  EXPECT_EQ(rig.port.sent("d1", "s/e").size(), 1u);
  EXPECT_FALSE(q.admit_message_at(s, kStatic, kSecond * 12 / 10));
  EXPECT_EQ(q.admit_message_at(s, kStatic, kSecond * 12 / 10), common::LimitKind::kDeviceRate);
  EXPECT_EQ(rig.port.sent("d1", "s/e").size(), 2u);
  // Another device of the same tenant has its own bucket.
  Session& other = rig.session("d2");
  EXPECT_FALSE(q.admit_message_at(other, kStatic, kSecond));
}

// A device's bucket is made on its first PUBLISH under a device rate (a device without one keeps
// no per-device limit state), and from then on it limits like any bucket: a limit set while the
// device is connected applies to it at once, with a full burst.
TEST(QuotasTest, ADevicesBucketIsMadeOnlyOnceADeviceRateApplies) {
  testing::ComponentRig rig(with_limits({}, 2));
  rig.c().quotas.refresh(std::chrono::steady_clock::now(), true);
  Session& s = rig.session("d1");
  auto& q = rig.c().quotas;
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(q.admit_message(s, kStatic)) << i;
  set_tenant_limits(rig, "t1", R"({"tenantMessagesPerSecond": 1000})");
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(q.admit_message_at(s, kStatic, 0)) << i;
  EXPECT_FALSE(s.has_extra());  // no device rate: nothing per device was made

  set_tenant_limits(rig, "t1", R"({"deviceMessagesPerSecond": 2})");  // bucket of 4
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(q.admit_message_at(s, kStatic, kSecond)) << i;
  EXPECT_TRUE(s.has_extra());
  EXPECT_EQ(q.admit_message_at(s, kStatic, kSecond), common::LimitKind::kDeviceRate);
  EXPECT_FALSE(q.admit_message_at(s, kStatic, kSecond * 16 / 10));  // 1.2 tokens by then
  EXPECT_EQ(q.admit_message_at(s, kStatic, kSecond * 16 / 10), common::LimitKind::kDeviceRate);
  EXPECT_EQ(rig.port.sent("d1", "s/e").size(), 1u);
  EXPECT_EQ(limited(rig, "t1", common::LimitKind::kDeviceRate), 2u);
}

TEST(QuotasTest, TheTenantRateIsSharedByItsDevicesAndNoOtherTenants) {
  testing::ComponentRig rig(with_limits({}, 1));  // buckets of one second
  set_tenant_limits(rig, "t1", R"({"tenantMessagesPerSecond": 4, "deviceMessagesPerSecond": 3})");
  auto& q = rig.c().quotas;
  Session& a = rig.session("a");
  Session& b = rig.session("b");
  Session& other = rig.session("o", "t2");
  EXPECT_FALSE(q.admit_message_at(a, kStatic, 0));
  EXPECT_FALSE(q.admit_message_at(a, kStatic, 0));
  EXPECT_FALSE(q.admit_message_at(b, kStatic, 0));
  EXPECT_FALSE(q.admit_message_at(b, kStatic, 0));
  EXPECT_EQ(q.admit_message_at(a, kStatic, 0), common::LimitKind::kTenantRate);
  EXPECT_EQ(q.admit_message_at(b, kStatic, 0), common::LimitKind::kTenantRate);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(q.admit_message_at(other, kStatic, 0));
  auto lines = rig.port.sent("a", "s/e");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("the devices of tenant t1 may send 4 messages per second together"),
            std::string::npos);
  // The tenant's refusal gave the device's token back: 0.3 s later a has 1 + 0.9 tokens (not
  // 0.9) and the tenant 1.2.
  EXPECT_FALSE(q.admit_message_at(a, kStatic, kSecond * 3 / 10));
  EXPECT_EQ(limited(rig, "t1", common::LimitKind::kTenantRate), 2u);
  EXPECT_EQ(limited(rig, "t2", common::LimitKind::kTenantRate), 0u);
  EXPECT_TRUE(rig.port.sent("o", "s/e").empty());
}

TEST(QuotasTest, JsonTopicsAreToldOnTheirErrorTopic) {
  testing::ComponentRig rig(with_limits({0, 1, 0, 0, 0}));
  rig.c().quotas.refresh(std::chrono::steady_clock::now(), true);
  Session& s = rig.session("j1");
  EXPECT_FALSE(rig.c().quotas.admit_message_at(s, kJson, 0));
  EXPECT_TRUE(rig.c().quotas.admit_message_at(s, kJson, 0));
  auto errors = rig.port.sent("j1", "error");
  ASSERT_EQ(errors.size(), 1u);
  auto e = nlohmann::json::parse(errors[0]);
  EXPECT_EQ(e["error"], "general/limitExceeded");
  EXPECT_TRUE(rig.port.sent("j1", "s/e").empty());
}

TEST(QuotasTest, RefusedPublishesAreAcknowledgedAndNotProcessed) {
  testing::ComponentRig rig(with_limits({0, 1, 0, 0, 0}));  // 1/s, bucket of 1
  rig.c().quotas.refresh(std::chrono::steady_clock::now(), true);
  Session& s = rig.session("p1");
  auto received = [&] {
    uint64_t n = 0;
    for (auto& c : rig.space("t1").metrics.received) n += c.get();
    return n;
  };
  EXPECT_EQ(rig.c().upstream.publish(s, "s/us", "100,p1,c8y_Linux", 40), MessageDecision::kAccept);
  EXPECT_EQ(received(), 1u);
  EXPECT_EQ(rig.c().upstream.publish(s, "s/us", "100,p1,c8y_Linux", 40), MessageDecision::kDrop);
  EXPECT_EQ(received(), 1u);  // not handled
  EXPECT_EQ(rig.port.sent("p1", "s/e").size(), 1u);
  // Bootstrap and token requests are not counted against the device's messages.
  rig.c().upstream.publish(s, "s/uat", "", 10);
  EXPECT_EQ(limited(rig, "t1", common::LimitKind::kDeviceRate), 1u);
}

TEST(QuotasTest, ATenantOverItsStoredBytesHasItsDevicesMessagesRefused) {
  testing::ComponentRig rig;
  ASSERT_TRUE(
      rig.store()
          .put(rig.space("t1").family, "Mx", std::string(16384, 'x'), storage::Store::When::kNow)
          .ok());
  // An empty family's memtable takes a few kilobytes.
  set_tenant_limits(rig, "t1", R"({"storedBytes": 8000})");
  set_tenant_limits(rig, "t2", R"({"storedBytes": 8000})");
  EXPECT_TRUE(rig.space("t1").limits.over_storage());
  EXPECT_FALSE(rig.space("t2").limits.over_storage());
  Session& s = rig.session("s1");
  EXPECT_EQ(rig.c().quotas.admit_message(s, kStatic), common::LimitKind::kStoredBytes);
  auto lines = rig.port.sent("s1", "s/e");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("Storage limit reached: tenant t1 stores more than 8000 bytes"),
            std::string::npos);
  EXPECT_FALSE(rig.c().quotas.admit_message(rig.session("s2", "t2"), kStatic));
  // Lifted: accepted again at the next refresh.
  set_tenant_limits(rig, "t1", R"({"storedBytes": 0})");
  EXPECT_FALSE(rig.c().quotas.admit_message(s, kStatic));
}

TEST(QuotasTest, ConnectedDevicesUpToTheLimitAndAConnectedOneAlwaysComesBack) {
  testing::ComponentRig rig;
  set_tenant_limits(rig, "t1", R"({"devices": 2})");
  auto& space = rig.space("t1");
  EXPECT_TRUE(rig.c().quotas.admit_device(space, false));
  space.metrics.devices_connected.add(2);
  EXPECT_FALSE(rig.c().quotas.admit_device(space, false));
  EXPECT_TRUE(rig.c().quotas.admit_device(space, true));  // replaces its own connection
  EXPECT_EQ(limited(rig, "t1", common::LimitKind::kDevices), 1u);
  rig.space("t2").metrics.devices_connected.add(50);
  EXPECT_TRUE(rig.c().quotas.admit_device(rig.space("t2"), false));
}

}  // namespace
}  // namespace c8y::app

namespace c8y::app {
namespace {

// The limit of connected devices at CONNECT, through the plugin core: refused beyond it (and
// counted as a refusal for quota), a connected device's reconnect let in, admins not counted.
TEST(QuotasCoreTest, ADeviceBeyondTheTenantsLimitIsRefusedAtConnect) {
  testing::TempDir dir;
  const std::string prov = dir.path() + "/provisioning.json";
  std::ofstream(prov) << R"({"tenants": [
      {"id": "t1", "options": {"limits": {"devices": 2}}, "users": [
        {"name": "dev", "password": "t1-dev-pass", "roles": ["device"]},
        {"name": "admin", "password": "t1-admin-pass", "roles": ["admin"]}]},
      {"id": "t2", "users": [{"name": "dev", "password": "t2-dev-pass", "roles": ["device"]}]}]})";
  Options o;
  o.data_dir = dir.path() + "/data";
  o.provisioning_file = prov;
  o.rest_port = 0;
  testing::FakeBrokerPort port;
  std::string error;
  auto core = PluginCore::create(o, port, &error);
  ASSERT_TRUE(core) << error;
  int conns[6] = {};
  auto connect = [&](int i, std::string_view client_id, std::string_view user,
                     std::string_view password) {
    ConnectInfo info;
    info.conn = &conns[i];
    info.client_id = client_id;
    info.username = user;
    info.password = password;
    info.address = "127.0.0.1";
    return core->on_connect(info);
  };
  EXPECT_TRUE(connect(0, "d1", "t1/dev", "t1-dev-pass"));
  EXPECT_TRUE(connect(1, "d2", "t1/dev", "t1-dev-pass"));
  EXPECT_FALSE(connect(2, "d3", "t1/dev", "t1-dev-pass"));
  EXPECT_TRUE(port.logged("has its limit of 2 devices connected"));
  EXPECT_TRUE(connect(3, "d1", "t1/dev", "t1-dev-pass"));  // d1 again: a takeover
  core->on_disconnect(&conns[0]);  // Mosquitto closes the connection taken over
  EXPECT_TRUE(connect(4, "admin-app", "t1/admin", "t1-admin-pass"));
  EXPECT_TRUE(connect(5, "e1", "t2/dev", "t2-dev-pass"));  // another tenant
  auto& space = *core->services().spaces.get("t1");
  EXPECT_EQ(
      space.metrics.connections_refused[static_cast<size_t>(common::RefusalReason::kQuota)].get(),
      1u);
  EXPECT_EQ(space.metrics.limited[static_cast<size_t>(common::LimitKind::kDevices)].get(), 1u);
  // One leaves: the next device is let in.
  core->on_disconnect(&conns[1]);
  EXPECT_TRUE(connect(2, "d3", "t1/dev", "t1-dev-pass"));
  core->stop();
}

}  // namespace
}  // namespace c8y::app

namespace c8y::app {
namespace {

class ElsewherePlacement : public common::TenantPlacement {
 public:
  common::TenantHome home(std::string_view tenant) const override {
    if (tenant == "t2") return {false, "n2", "10.0.0.2:8111"};
    return {};
  }
  std::vector<common::PlacedTenant> tenants() const override { return {}; }
};

// In a cluster, a device of a tenant placed on another node (a stale route) is refused at
// CONNECT and counted as "elsewhere"; tenants served here are let in.
TEST(PlacementCoreTest, ADeviceOfATenantPlacedElsewhereIsRefusedAtConnect) {
  testing::TempDir dir;
  const std::string prov = dir.path() + "/provisioning.json";
  std::ofstream(prov) << R"({"tenants": [
      {"id": "t1", "users": [{"name": "dev", "password": "t1-dev-pass", "roles": ["device"]}]},
      {"id": "t2", "users": [{"name": "dev", "password": "t2-dev-pass", "roles": ["device"]}]}]})";
  Options o;
  o.data_dir = dir.path() + "/data";
  o.provisioning_file = prov;
  o.rest_port = 0;
  testing::FakeBrokerPort port;
  std::string error;
  auto core = PluginCore::create(o, port, &error);
  ASSERT_TRUE(core) << error;
  ElsewherePlacement placement;
  core->set_placement(&placement);
  int conns[2] = {};
  auto connect = [&](int i, std::string_view client_id, std::string_view user,
                     std::string_view password) {
    ConnectInfo info;
    info.conn = &conns[i];
    info.client_id = client_id;
    info.username = user;
    info.password = password;
    info.address = "127.0.0.1";
    return core->on_connect(info);
  };
  EXPECT_TRUE(connect(0, "d1", "t1/dev", "t1-dev-pass"));
  EXPECT_FALSE(connect(1, "d2", "t2/dev", "t2-dev-pass"));
  EXPECT_TRUE(port.logged("tenant t2 is served by node n2"));
  auto& space = *core->services().spaces.get("t2");
  EXPECT_EQ(
      space.metrics.connections_refused[static_cast<size_t>(common::RefusalReason::kElsewhere)]
          .get(),
      1u);
  core->set_placement(nullptr);  // a single node again: served
  EXPECT_TRUE(connect(1, "d2", "t2/dev", "t2-dev-pass"));
  core->stop();
}

}  // namespace
}  // namespace c8y::app

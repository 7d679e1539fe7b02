// The plugin core against a fake broker port and a real store in a temporary directory: what a
// device's CONNECT, SUBSCRIBE and PUBLISH turn into, and what other threads hand over through
// the outbox. The integration suite covers the same through the real Mosquitto; these run in
// milliseconds and pin the core's contract for the split into components.
#include "plugin/app/plugin_core.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "plugin/domain/inventory.h"
#include "plugin/domain/measurement.h"
#include "plugin/domain/operations.h"
#include "tests/unit/app/fake_broker_port.h"
#include "tests/unit/temp_dir.h"

namespace c8y::app {
namespace {

using testing::FakeBrokerPort;

class PluginCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string prov = dir_.path() + "/provisioning.json";
    std::ofstream(prov) << R"({"tenants": [
      {"id": "t1", "users": [
        {"name": "dev", "password": "t1-dev-pass", "roles": ["device"]},
        {"name": "admin", "password": "t1-admin-pass", "roles": ["admin"]}]},
      {"id": "t2", "users": [
        {"name": "dev", "password": "t2-dev-pass", "roles": ["device"]}]}]})";
    Options o;
    o.data_dir = dir_.path() + "/data";
    o.provisioning_file = prov;
    o.rest_port = 0;
    std::string error;
    core_ = PluginCore::create(o, port_, &error);
    ASSERT_TRUE(core_) << error;
    port_.clear();
  }
  void TearDown() override {
    if (core_) core_->stop();
  }

  // A CONNECT of client `client_id` as `user`; the connection handle is the address of `conn`.
  bool connect(const int& conn, std::string_view client_id, std::string_view user,
               std::string_view password) {
    ConnectInfo info;
    info.conn = &conn;
    info.client_id = client_id;
    info.username = user;
    info.password = password;
    info.address = "127.0.0.1";
    return core_->on_connect(info);
  }
  bool subscribe(const int& conn, std::string_view filter) {
    return core_->on_acl(&conn, policy::Access::kSubscribe, filter, 1);
  }
  MessageDecision publish(const int& conn, std::string_view topic, std::string_view payload) {
    bool retain = true;
    auto d = core_->on_message(&conn, topic, payload, payload.size() + topic.size() + 4, &retain);
    EXPECT_FALSE(retain);  // upstream publishes are never retained
    return d;
  }
  domain::TenantSpace& space(std::string_view tenant) {
    return *core_->services().spaces.get(tenant);
  }
  std::optional<uint64_t> device_id(std::string_view tenant, std::string_view serial) {
    domain::Inventory inv(core_->services().store, space(tenant));
    return inv.find_external(domain::kSerialType, serial);
  }

  testing::TempDir dir_;
  FakeBrokerPort port_;
  std::unique_ptr<PluginCore> core_;
  const int conn1_ = 1, conn2_ = 2;
};

TEST_F(PluginCoreTest, ConnectChecksTenantUserAndPassword) {
  EXPECT_TRUE(connect(conn1_, "d:1234", "t1/dev", "t1-dev-pass"));
  EXPECT_FALSE(connect(conn2_, "d:5678", "t1/dev", "t2-dev-pass"));  // another tenant's password
  EXPECT_FALSE(connect(conn2_, "d:5678", "t3/dev", "t1-dev-pass"));  // no such tenant
  EXPECT_FALSE(connect(conn2_, "d:5678", "dev", "t1-dev-pass"));     // no tenant at all
  EXPECT_TRUE(port_.kicked.empty());
}

TEST_F(PluginCoreTest, StaticLinesAreStoredAndBadLinesAnsweredOnSE) {
  ASSERT_TRUE(connect(conn1_, "d:1234", "t1/dev", "t1-dev-pass"));
  ASSERT_TRUE(subscribe(conn1_, "s/e"));
  EXPECT_EQ(publish(conn1_, "s/us", "211,25\n999,x\n211,26"), MessageDecision::kAccept);

  auto errors = port_.sent("d:1234", "s/e");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("40,999,", 0), 0u) << errors[0];

  auto id = device_id("t1", "1234");
  ASSERT_TRUE(id);  // created implicitly by the first line
  ASSERT_TRUE(core_->services().store.settle().ok());
  domain::Measurements ms(core_->services().store, space("t1"));
  domain::MeasurementQuery q;
  q.source = *id;
  q.page_size = 10;
  std::vector<domain::Measurement> found;
  bool more = false;
  ASSERT_TRUE(ms.query(q, &found, &more).ok());
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].series[0].value, 25);
  EXPECT_EQ(found[1].series[0].value, 26);
  EXPECT_FALSE(device_id("t2", "1234"));  // nothing crossed into the other tenant
}

TEST_F(PluginCoreTest, ErrorsGoOnlyToADeviceSubscribedToSE) {
  ASSERT_TRUE(connect(conn1_, "d:1234", "t1/dev", "t1-dev-pass"));
  EXPECT_EQ(publish(conn1_, "s/us", "999"), MessageDecision::kAccept);
  EXPECT_TRUE(port_.sent("d:1234", "s/e").empty());
}

TEST_F(PluginCoreTest, MessageOverTheCapIsDroppedWithAnError) {
  ASSERT_TRUE(connect(conn1_, "d:1234", "t1/dev", "t1-dev-pass"));
  ASSERT_TRUE(subscribe(conn1_, "s/e"));
  bool retain = false;
  EXPECT_EQ(core_->on_message(&conn1_, "s/us", "211,1", 16185, &retain), MessageDecision::kDrop);
  auto errors = port_.sent("d:1234", "s/e");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("16185 bytes exceeds the limit of 16184"), std::string::npos);
  EXPECT_FALSE(device_id("t1", "1234"));  // nothing of it was processed
}

TEST_F(PluginCoreTest, OperationFromAnotherThreadReachesTheSubscribedDevice) {
  ASSERT_TRUE(connect(conn1_, "d:1234", "t1/dev", "t1-dev-pass"));
  ASSERT_TRUE(subscribe(conn1_, "s/ds"));
  EXPECT_EQ(publish(conn1_, "s/us", "100"), MessageDecision::kAccept);
  core_->on_tick();  // the subscription's delivery of PENDING operations (none yet)
  port_.clear();

  auto id = device_id("t1", "1234");
  ASSERT_TRUE(id);
  domain::Operations ops(core_->services().store, space("t1"));
  nlohmann::json op;
  ASSERT_TRUE(ops.create(*id, {{"c8y_Restart", nlohmann::json::object()}}, 0, &op).ok());
  core_->services().outbox.push(common::outbox::DeliverOperation{"t1", op.value("id", "")});
  EXPECT_TRUE(port_.sent("d:1234", "s/ds").empty());  // nothing before the broker's tick
  core_->on_tick();
  auto lines = port_.sent("d:1234", "s/ds");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "510,1234");
}

TEST_F(PluginCoreTest, AnOperationCreatedAsTheDeviceSubscribesArrivesOnce) {
  ASSERT_TRUE(connect(conn1_, "d:1234", "t1/dev", "t1-dev-pass"));
  EXPECT_EQ(publish(conn1_, "s/us", "100"), MessageDecision::kAccept);
  core_->on_tick();
  auto id = device_id("t1", "1234");
  ASSERT_TRUE(id);
  // The SUBSCRIBE and the REST creation land between the same two ticks: the subscription's
  // delivery of PENDING operations and the creation's delivery both cover the new operation.
  ASSERT_TRUE(subscribe(conn1_, "s/ds"));
  domain::Operations ops(core_->services().store, space("t1"));
  nlohmann::json op;
  ASSERT_TRUE(ops.create(*id, {{"c8y_Restart", nlohmann::json::object()}}, 0, &op).ok());
  core_->services().outbox.push(common::outbox::DeliverOperation{"t1", op.value("id", "")});
  core_->on_tick();
  EXPECT_EQ(port_.sent("d:1234", "s/ds"), std::vector<std::string>{"510,1234"});
}

TEST_F(PluginCoreTest, OutboxKicksUsersOfOneTenantAndLogs) {
  ASSERT_TRUE(connect(conn1_, "d:1234", "t1/dev", "t1-dev-pass"));
  ASSERT_TRUE(connect(conn2_, "d:9999", "t2/dev", "t2-dev-pass"));
  core_->services().outbox.push(common::outbox::KickUsers{"t1", "dev"});
  core_->services().outbox.log(common::LogLevel::kNotice, "hello from another thread");
  core_->on_tick();
  ASSERT_EQ(port_.kicked.size(), 1u);
  EXPECT_EQ(port_.kicked[0], "d:1234");
  EXPECT_TRUE(port_.logged("hello from another thread"));
}

// At start the core tells how many connections the file-descriptor limit leaves room for.
TEST_F(PluginCoreTest, TheReadyLineComesWithTheConnectionsTheDescriptorLimitAllows) {
  core_->log_ready();
  EXPECT_TRUE(port_.logged("c8y: ready, data in"));
  EXPECT_TRUE(port_.logged("c8y: file descriptors: limit "));
  EXPECT_EQ(PluginCore::descriptor_budget(65536),
            "c8y: file descriptors: limit 65536 (ulimit -n); RocksDB keeps up to 512 open, which "
            "leaves room for about 64924 MQTT connections (one each); raise the limit "
            "(LimitNOFILE) for more");
  EXPECT_NE(PluginCore::descriptor_budget(1024).find("room for about 412 MQTT"), std::string::npos);
  EXPECT_NE(PluginCore::descriptor_budget(100).find("room for about 0 MQTT"), std::string::npos);
}

// plugin_opt_memtable_mb, _memtable_budget_mb and _block_cache_mb size the store's memory: a
// family's memtable is flushed once it holds about that much, so it stays bounded.
TEST(PluginCoreMemoryTest, TheRocksDbMemoryOptionsSizeTheStore) {
  testing::TempDir dir;
  FakeBrokerPort port;
  Options o;
  o.data_dir = dir.path() + "/data";
  o.rest_port = 0;
  o.memtable_mb = 1;
  o.memtable_budget_mb = 8;
  o.block_cache_mb = 2;
  std::string error;
  auto core = PluginCore::create(o, port, &error);
  ASSERT_TRUE(core) << error;
  storage::Store& store = core->services().store;
  EXPECT_EQ(store.metrics().block_cache_capacity_bytes, 2u << 20);
  const storage::Family* f = nullptr;
  ASSERT_TRUE(store.create_tenant("t1", &f).ok());
  for (int i = 0; i < 8000; ++i)
    ASSERT_TRUE(
        store.put(f, "k" + std::to_string(i), std::string(1000, 'v'), storage::Store::When::kNow)
            .ok());
  ASSERT_TRUE(store.settle().ok());
  const storage::StoreMetrics m = store.metrics();
  EXPECT_GE(m.flushes, 1u);                        // 8 MB through memtables of 1 MiB
  EXPECT_LT(m.memtable_bytes, uint64_t{5} << 20);  // at most three of them at once
  core->stop();
}

}  // namespace
}  // namespace c8y::app

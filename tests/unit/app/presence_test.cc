#include "plugin/app/presence.h"

#include <gtest/gtest.h>

#include "plugin/domain/inventory.h"
#include "tests/unit/temp_dir.h"

namespace c8y::app {
namespace {

class PresenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    spaces_ = std::make_unique<domain::TenantSpaces>(*store_, 1);
    const storage::Family* f = nullptr;
    ASSERT_TRUE(store_->create_tenant("t1", &f).ok());
    space_ = spaces_->get("t1");
    ASSERT_TRUE(space_);
    domain::Inventory inv(*store_, *space_);
    domain::DeviceSpec spec;
    spec.serial = "d1";
    auto r = inv.ensure_device(spec);
    ASSERT_TRUE(r.status.ok());
    device_ = r.id;
  }
  std::string status() {
    auto mo = domain::Inventory(*store_, *space_).get(device_);
    if (!mo || !mo->contains("c8y_Connection")) return "";
    return (*mo)["c8y_Connection"].value("status", "");
  }
  std::vector<uint64_t> connected() {
    std::vector<uint64_t> ids;
    EXPECT_TRUE(domain::Inventory(*store_, *space_).connected_devices(&ids).ok());
    return ids;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<domain::TenantSpaces> spaces_;
  domain::TenantSpace* space_ = nullptr;
  uint64_t device_ = 0;
  std::vector<std::string> logs_;
  Log log_ = [this](LogLevel, const std::string& m) { logs_.push_back(m); };
};

TEST_F(PresenceTest, FirstConnectionAndLastDisconnectionAreWritten) {
  PresenceTracker p(*store_, log_);
  p.set(space_, device_, true);
  EXPECT_TRUE(p.pending());
  EXPECT_EQ(status(), "");  // batched: nothing before a flush
  p.flush();
  EXPECT_EQ(status(), "CONNECTED");
  EXPECT_EQ(connected(), std::vector<uint64_t>{device_});
  p.set(space_, device_, true);  // a second connection (takeover) changes nothing shown
  EXPECT_FALSE(p.pending());
  p.set(space_, device_, false);
  EXPECT_FALSE(p.pending());  // one connection is still open
  p.set(space_, device_, false);
  EXPECT_TRUE(p.pending());
  p.flush();
  EXPECT_EQ(status(), "DISCONNECTED");
  EXPECT_TRUE(connected().empty());
  EXPECT_TRUE(logs_.empty());
}

TEST_F(PresenceTest, FlushIfDueWritesAtMostOnceASecond) {
  PresenceTracker p(*store_, log_);
  const auto t0 = std::chrono::steady_clock::now();
  p.set(space_, device_, true);
  p.flush_if_due(t0);
  EXPECT_EQ(status(), "CONNECTED");
  p.set(space_, device_, false);
  p.flush_if_due(t0 + std::chrono::milliseconds(500));
  EXPECT_EQ(status(), "CONNECTED");  // too soon
  p.flush_if_due(t0 + std::chrono::milliseconds(1500));
  EXPECT_EQ(status(), "DISCONNECTED");
}

TEST_F(PresenceTest, StartShowsDevicesOfAPreviousRunDisconnected) {
  {
    PresenceTracker before(*store_, log_);
    before.set(space_, device_, true);
    before.flush();
  }
  ASSERT_EQ(status(), "CONNECTED");
  PresenceTracker after(*store_, log_);
  EXPECT_EQ(after.mark_all_disconnected(*spaces_), 1u);
  EXPECT_EQ(status(), "DISCONNECTED");
  EXPECT_TRUE(connected().empty());
  EXPECT_EQ(after.mark_all_disconnected(*spaces_), 0u);
}

TEST_F(PresenceTest, ADeletedDeviceIsNoError) {
  PresenceTracker p(*store_, log_);
  p.set(space_, device_, true);
  ASSERT_TRUE(domain::Inventory(*store_, *space_).remove(device_).ok());
  p.flush();
  EXPECT_TRUE(logs_.empty());
  EXPECT_TRUE(connected().empty());
}

}  // namespace
}  // namespace c8y::app

// SessionTable: sessions by connection, the same device under another client id, takeovers,
// persistent subscriptions kept while offline and handed to the resuming connection, closed
// sessions kept for their will, and the subscription hooks.
#include "plugin/app/sessions.h"

#include <gtest/gtest.h>

#include <variant>

#include "tests/unit/temp_dir.h"

namespace c8y::app {
namespace {

class SessionTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.open_store();
    spaces_ = std::make_unique<domain::TenantSpaces>(*store_, 0);
    client_ids_ = std::make_unique<identity::ClientIdDirectory>(*store_, 3600);
    presence_ = std::make_unique<PresenceTracker>(*store_, [](LogLevel, const std::string&) {});
    table_ = std::make_unique<SessionTable>(
        3600, *client_ids_, *presence_, outbox_,
        SessionTable::Hooks{[this](Session& s, std::string_view f) {
                              added_.push_back(s.client_id + ":" + std::string(f));
                            },
                            [this](Session&, size_t n) { removed_ += n; }});
  }
  std::unique_ptr<Session> make(const int& conn, std::string_view client_id,
                                std::string_view serial, bool persistent = false,
                                std::string_view user = "dev") {
    auto s = std::make_unique<Session>();
    s->conn = &conn;
    s->client_id = std::string(client_id);
    s->tenant = "t1";
    s->user = std::string(user);
    s->serial = std::string(serial);
    s->persistent = persistent;
    s->space = spaces_->get("t1");
    return s;
  }
  std::vector<std::string> kicks() {
    std::vector<std::string> out;
    for (auto& item : outbox_.take())
      if (auto* k = std::get_if<common::outbox::Kick>(&item)) out.push_back(k->client_id);
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<domain::TenantSpaces> spaces_;
  std::unique_ptr<identity::ClientIdDirectory> client_ids_;
  std::unique_ptr<PresenceTracker> presence_;
  common::Outbox outbox_;
  std::unique_ptr<SessionTable> table_;
  std::vector<std::string> added_;
  size_t removed_ = 0;
  const int c1_ = 1, c2_ = 2, c3_ = 3;
};

TEST_F(SessionTableTest, SessionsAreFoundByConnectionUntilTheyClose) {
  Session& s = table_->open(make(c1_, "dev1", "dev1"));
  EXPECT_EQ(table_->find(&c1_), &s);
  EXPECT_EQ(table_->find(&c2_), nullptr);
  EXPECT_EQ(table_->size(), 1u);
  table_->close(&c1_);
  EXPECT_EQ(table_->find(&c1_), nullptr);
  EXPECT_EQ(table_->size(), 0u);
  // Kept for its will, then dropped.
  ASSERT_NE(table_->closing(&c1_), nullptr);
  EXPECT_EQ(table_->closing(&c1_)->client_id, "dev1");
  table_->tick(std::chrono::steady_clock::now() + std::chrono::seconds(3));
  EXPECT_EQ(table_->closing(&c1_), nullptr);
}

TEST_F(SessionTableTest, TheSameDeviceUnderAnotherClientIdKicksTheOlderConnection) {
  table_->open(make(c1_, "dev1", "dev1"));
  EXPECT_TRUE(kicks().empty());
  table_->open(make(c2_, "d:dev1", "dev1"));
  EXPECT_EQ(kicks(), std::vector<std::string>{"dev1"});
}

TEST_F(SessionTableTest, SubscriptionsCallTheHooksOncePerFilter) {
  Session& s = table_->open(make(c1_, "dev1", "dev1"));
  table_->add_subscription(s, "s/ds", 1);
  table_->add_subscription(s, "s/ds", 2);  // a new QoS only
  table_->add_subscription(s, "s/e", 0);
  EXPECT_EQ(added_, (std::vector<std::string>{"dev1:s/ds", "dev1:s/e"}));
  ASSERT_EQ(s.subscriptions.size(), 2u);
  EXPECT_EQ(s.subscriptions[0].second, 2);
  table_->remove_subscription(s, "s/ds");
  table_->remove_subscription(s, "nothing");
  EXPECT_EQ(removed_, 1u);
  table_->close(&c1_);
  EXPECT_EQ(removed_, 2u);  // the rest went with the connection
}

TEST_F(SessionTableTest, APersistentSessionGetsItsSubscriptionsBackAndACleanOneDoesNot) {
  Session& s = table_->open(make(c1_, "dev1", "dev1", true));
  table_->add_subscription(s, "s/ds", 1);
  table_->close(&c1_);
  added_.clear();
  Session& back = table_->open(make(c2_, "dev1", "dev1", true));
  EXPECT_EQ(added_, std::vector<std::string>{"dev1:s/ds"});
  ASSERT_EQ(back.subscriptions.size(), 1u);
  table_->close(&c2_);
  added_.clear();
  Session& clean = table_->open(make(c3_, "dev1", "dev1", false));
  EXPECT_TRUE(added_.empty());
  EXPECT_TRUE(clean.subscriptions.empty());
}

TEST_F(SessionTableTest, AnotherUserDoesNotResumeTheSubscriptions) {
  Session& s = table_->open(make(c1_, "dev1", "dev1", true));
  table_->add_subscription(s, "s/ds", 1);
  table_->close(&c1_);
  added_.clear();
  Session& other = table_->open(make(c2_, "dev1", "dev1", true, "intruder"));
  EXPECT_TRUE(added_.empty());
  EXPECT_TRUE(other.subscriptions.empty());
}

TEST_F(SessionTableTest, ATakeoverHandsTheSubscriptionsOverWhenTheOldConnectionCloses) {
  Session& old = table_->open(make(c1_, "dev1", "dev1", true));
  table_->add_subscription(old, "s/ds", 1);
  Session& fresh = table_->open(make(c2_, "dev1", "dev1", true));
  EXPECT_TRUE(table_->taken_over(old));
  EXPECT_TRUE(fresh.subscriptions.empty());
  table_->close(&c1_);
  EXPECT_FALSE(table_->taken_over(fresh));
  ASSERT_EQ(fresh.subscriptions.size(), 1u);
  EXPECT_EQ(fresh.subscriptions[0].first, "s/ds");
}

TEST_F(SessionTableTest, AClosedConnectionIsNotFoundEvenRightAfterALookup) {
  table_->open(make(c1_, "dev1", "dev1"));
  ASSERT_NE(table_->find(&c1_), nullptr);
  table_->close(&c1_);
  EXPECT_EQ(table_->find(&c1_), nullptr);
  Session& again = table_->open(make(c1_, "dev2", "dev2"));  // the handle reused
  EXPECT_EQ(table_->find(&c1_), &again);
}

TEST_F(SessionTableTest, ThreeConnectionsOfOneClientIdUnwindToNone) {
  Session& a = table_->open(make(c1_, "dev1", "dev1"));
  table_->open(make(c2_, "dev1", "dev1"));
  Session& c = table_->open(make(c3_, "dev1", "dev1"));
  EXPECT_TRUE(table_->taken_over(a));
  table_->close(&c1_);
  EXPECT_TRUE(table_->taken_over(c));
  table_->close(&c2_);
  EXPECT_FALSE(table_->taken_over(c));
}

TEST_F(SessionTableTest, ConnectedDevicesGaugeFollowsOpenAndClose) {
  ASSERT_TRUE(store_->create_tenant("t1", nullptr).ok());
  auto* space = spaces_->get("t1");
  ASSERT_TRUE(space);
  int a = 0, b = 0, admin = 0;
  table_->open(make(a, "dev-a", "dev-a"));
  table_->open(make(b, "dev-b", "dev-b"));
  auto adm = make(admin, "admin-ui", "admin-ui");
  adm->role = policy::Role::kAdmin;
  table_->open(std::move(adm));
  EXPECT_EQ(space->metrics.devices_connected.get(), 2);  // admins are not devices
  EXPECT_EQ(space->metrics.connections_accepted.get(), 3u);
  table_->close(&a);
  table_->close(&a);  // reported twice: counted once
  EXPECT_EQ(space->metrics.devices_connected.get(), 1);
  table_->close(&b);
  table_->close(&admin);
  EXPECT_EQ(space->metrics.devices_connected.get(), 0);
}

}  // namespace
}  // namespace c8y::app

// The client-id directory (one identity per client id): the pure rule and the persisted directory.
#include "plugin/identity/client_id_directory.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "storage/keys.h"
#include "tests/unit/temp_dir.h"

namespace c8y::identity {
namespace {

constexpr int64_t kExpiry = 3600;
constexpr int64_t kT0 = 1'700'000'000;

ClientIdEntry entry(std::string tenant, std::string user, bool persistent, bool online,
                    int64_t last_seen) {
  return ClientIdEntry{std::move(tenant), std::move(user), persistent, online, last_seen};
}

// ---------------------------------------------------------------------------------------------
// may_claim

TEST(MayClaim, FreeId) {
  EXPECT_TRUE(may_claim(nullptr, "t1", "dev", kT0, kExpiry));
}

TEST(MayClaim, SameIdentityAlways) {
  for (bool persistent : {false, true})
    for (bool online : {false, true}) {
      auto e = entry("t1", "dev", persistent, online, kT0);
      EXPECT_TRUE(may_claim(&e, "t1", "dev", kT0, kExpiry)) << persistent << online;
      EXPECT_TRUE(may_claim(&e, "t1", "dev", kT0 + 10 * kExpiry, kExpiry)) << persistent << online;
    }
}

TEST(MayClaim, OtherIdentityOnlineRefused) {
  for (bool persistent : {false, true}) {
    auto e = entry("t1", "dev", persistent, true, kT0 - 100 * kExpiry);
    EXPECT_FALSE(may_claim(&e, "t2", "dev", kT0, kExpiry)) << persistent;   // other tenant
    EXPECT_FALSE(may_claim(&e, "t1", "dev2", kT0, kExpiry)) << persistent;  // other user
    EXPECT_FALSE(may_claim(&e, "t1", "Dev", kT0, kExpiry)) << persistent;
  }
}

TEST(MayClaim, OtherIdentityOfflinePersistentUntilExpiry) {
  auto e = entry("t1", "dev", true, false, kT0);
  EXPECT_FALSE(may_claim(&e, "t2", "dev", kT0, kExpiry));
  EXPECT_FALSE(may_claim(&e, "t2", "dev", kT0 + kExpiry - 1, kExpiry));
  EXPECT_TRUE(may_claim(&e, "t2", "dev", kT0 + kExpiry, kExpiry));
  EXPECT_TRUE(may_claim(&e, "t2", "dev", kT0 + 10 * kExpiry, kExpiry));
  EXPECT_TRUE(may_claim(&e, "t1", "other", kT0 + kExpiry, kExpiry));
}

TEST(MayClaim, OtherIdentityOfflineCleanIsFree) {
  auto e = entry("t1", "dev", false, false, kT0);
  EXPECT_TRUE(may_claim(&e, "t2", "dev", kT0, kExpiry));
  EXPECT_TRUE(may_claim(&e, "t1", "dev2", kT0, kExpiry));
}

TEST(MayClaim, TenantAndUserAreComparedSeparately) {
  // "t1" + "2/dev" and "t12" + "/dev" spell the same "tenant/user" string but are other owners.
  auto e = entry("t1", "2dev", true, true, kT0);
  EXPECT_FALSE(may_claim(&e, "t12", "dev", kT0, kExpiry));
}

// ---------------------------------------------------------------------------------------------
// ClientIdDirectory with a real store

class ClientIds : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    ids_ = std::make_unique<ClientIdDirectory>(*store_, kExpiry);
    ASSERT_TRUE(ids_->load(kT0).ok());
  }

  // Simulates a broker restart at `now`.
  void restart(int64_t now) {
    ids_.reset();
    store_.reset();
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    ids_ = std::make_unique<ClientIdDirectory>(*store_, kExpiry);
    ASSERT_TRUE(ids_->load(now).ok());
  }

  bool stored(const std::string& client_id) const {
    std::string v;
    return store_->get(store_->system(), storage::key::client(client_id), &v).ok();
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ClientIdDirectory> ids_;
};

TEST_F(ClientIds, EmptyAtStart) {
  EXPECT_EQ(ids_->size(), 0u);
  EXPECT_EQ(ids_->find("1234"), nullptr);
  EXPECT_TRUE(ids_->may_claim("1234", "t1", "dev", kT0));
  // Releasing an unknown id is harmless.
  EXPECT_TRUE(ids_->release("1234", kT0).ok());
  EXPECT_EQ(ids_->size(), 0u);
}

TEST_F(ClientIds, CleanSessionClaimAndRelease) {
  ASSERT_TRUE(ids_->claim("1234", "t1", "dev", false).ok());
  const ClientIdEntry* e = ids_->find("1234");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->tenant, "t1");
  EXPECT_EQ(e->user, "dev");
  EXPECT_FALSE(e->persistent);
  EXPECT_TRUE(e->online);
  EXPECT_FALSE(stored("1234"));  // clean sessions are not persisted

  EXPECT_TRUE(ids_->may_claim("1234", "t1", "dev", kT0));
  EXPECT_FALSE(ids_->may_claim("1234", "t2", "dev", kT0));
  EXPECT_FALSE(ids_->may_claim("1234", "t1", "admin", kT0));

  ASSERT_TRUE(ids_->release("1234", kT0 + 1).ok());
  EXPECT_EQ(ids_->find("1234"), nullptr);
  EXPECT_EQ(ids_->size(), 0u);
  EXPECT_TRUE(ids_->may_claim("1234", "t2", "dev", kT0 + 1));
}

TEST_F(ClientIds, PersistentSessionClaimAndRelease) {
  ASSERT_TRUE(ids_->claim("1234", "t1", "dev", true).ok());
  EXPECT_TRUE(stored("1234"));
  EXPECT_TRUE(ids_->find("1234")->online);
  EXPECT_FALSE(ids_->may_claim("1234", "t2", "dev", kT0));

  ASSERT_TRUE(ids_->release("1234", kT0 + 10).ok());
  const ClientIdEntry* e = ids_->find("1234");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->online);
  EXPECT_TRUE(e->persistent);
  EXPECT_EQ(e->last_seen_s, kT0 + 10);
  EXPECT_TRUE(stored("1234"));

  // Held for the expiry time, then free.
  EXPECT_FALSE(ids_->may_claim("1234", "t2", "dev", kT0 + 10 + kExpiry - 1));
  EXPECT_TRUE(ids_->may_claim("1234", "t2", "dev", kT0 + 10 + kExpiry));
  // The owner may come back at any time.
  EXPECT_TRUE(ids_->may_claim("1234", "t1", "dev", kT0 + 11));
  ASSERT_TRUE(ids_->claim("1234", "t1", "dev", true).ok());
  EXPECT_TRUE(ids_->find("1234")->online);
}

TEST_F(ClientIds, ExpiredIdCanBeTakenOver) {
  ASSERT_TRUE(ids_->claim("1234", "t1", "dev", true).ok());
  ASSERT_TRUE(ids_->release("1234", kT0).ok());
  const int64_t later = kT0 + kExpiry;
  ASSERT_TRUE(ids_->may_claim("1234", "t2", "dev", later));
  ASSERT_TRUE(ids_->claim("1234", "t2", "dev", false).ok());
  EXPECT_EQ(ids_->find("1234")->tenant, "t2");
  EXPECT_FALSE(ids_->find("1234")->persistent);
  EXPECT_FALSE(ids_->may_claim("1234", "t1", "dev", later));
  // The new clean owner leaves: the id is free and nothing of it stays in the store.
  ASSERT_TRUE(ids_->release("1234", later + 1).ok());
  EXPECT_EQ(ids_->find("1234"), nullptr);
  EXPECT_FALSE(stored("1234"));
  EXPECT_TRUE(ids_->may_claim("1234", "t1", "dev", later + 1));
}

TEST_F(ClientIds, PersistentThenCleanSameOwnerFreesTheId) {
  ASSERT_TRUE(ids_->claim("1234", "t1", "dev", true).ok());
  ASSERT_TRUE(ids_->release("1234", kT0).ok());
  // The owner reconnects with a clean session and leaves.
  ASSERT_TRUE(ids_->claim("1234", "t1", "dev", false).ok());
  ASSERT_TRUE(ids_->release("1234", kT0 + 1).ok());
  EXPECT_EQ(ids_->find("1234"), nullptr);
  EXPECT_FALSE(stored("1234"));
  restart(kT0 + 2);
  EXPECT_EQ(ids_->find("1234"), nullptr);
  EXPECT_TRUE(ids_->may_claim("1234", "t2", "dev", kT0 + 2));
}

TEST_F(ClientIds, PersistentEntriesSurviveRestartOffline) {
  ASSERT_TRUE(ids_->claim("online-p", "t1", "a", true).ok());
  ASSERT_TRUE(ids_->claim("offline-p", "t1", "b", true).ok());
  ASSERT_TRUE(ids_->release("offline-p", kT0 + 5).ok());
  ASSERT_TRUE(ids_->claim("online-c", "t1", "c", false).ok());

  const int64_t restart_at = kT0 + 100;
  restart(restart_at);
  EXPECT_EQ(ids_->size(), 2u);
  EXPECT_EQ(ids_->find("online-c"), nullptr);  // clean sessions do not survive

  const ClientIdEntry* on = ids_->find("online-p");
  ASSERT_NE(on, nullptr);
  EXPECT_EQ(on->tenant, "t1");
  EXPECT_EQ(on->user, "a");
  EXPECT_TRUE(on->persistent);
  EXPECT_FALSE(on->online);                // everything starts offline
  EXPECT_EQ(on->last_seen_s, restart_at);  // was online when the broker stopped

  const ClientIdEntry* off = ids_->find("offline-p");
  ASSERT_NE(off, nullptr);
  EXPECT_FALSE(off->online);
  EXPECT_EQ(off->last_seen_s, kT0 + 5);  // kept from before the restart

  // Still protected against other identities until expiry, counted from those times.
  EXPECT_FALSE(ids_->may_claim("online-p", "t2", "a", restart_at + kExpiry - 1));
  EXPECT_TRUE(ids_->may_claim("online-p", "t2", "a", restart_at + kExpiry));
  EXPECT_FALSE(ids_->may_claim("offline-p", "t2", "b", kT0 + 5 + kExpiry - 1));
  EXPECT_TRUE(ids_->may_claim("offline-p", "t2", "b", kT0 + 5 + kExpiry));
  EXPECT_TRUE(ids_->may_claim("online-p", "t1", "a", restart_at));
}

TEST_F(ClientIds, ReleaseAfterRestartPersistsOfflineState) {
  ASSERT_TRUE(ids_->claim("p", "t1", "a", true).ok());
  ASSERT_TRUE(ids_->release("p", kT0 + 1).ok());
  restart(kT0 + 2);
  ASSERT_TRUE(ids_->claim("p", "t1", "a", true).ok());
  ASSERT_TRUE(ids_->release("p", kT0 + 50).ok());
  restart(kT0 + 60);
  ASSERT_NE(ids_->find("p"), nullptr);
  EXPECT_EQ(ids_->find("p")->last_seen_s, kT0 + 50);
}

TEST_F(ClientIds, ClientIdsOfTenantsAreOneSpace) {
  ASSERT_TRUE(ids_->claim("1234", "t1", "device_1234", true).ok());
  ASSERT_TRUE(ids_->claim("d:1234", "t2", "device_1234", false).ok());
  EXPECT_EQ(ids_->size(), 2u);
  EXPECT_EQ(ids_->find("1234")->tenant, "t1");
  EXPECT_EQ(ids_->find("d:1234")->tenant, "t2");
  EXPECT_FALSE(ids_->may_claim("1234", "t2", "device_1234", kT0));
  EXPECT_FALSE(ids_->may_claim("d:1234", "t1", "device_1234", kT0));
}

// Regression: a clean session replacing a persistent one left the persistent record in the store,
// so that after a restart the id was held (offline persistent) against other identities.
TEST_F(ClientIds, CleanSessionReplacingPersistentOneLeavesNoRecord) {
  ASSERT_TRUE(ids_->claim("1234", "t1", "dev", true).ok());
  ASSERT_TRUE(stored("1234"));
  ASSERT_TRUE(ids_->claim("1234", "t1", "dev", false).ok());  // reconnects with a clean session
  EXPECT_FALSE(stored("1234"));
  restart(kT0 + 1);  // e.g. a crash while the clean session is online
  EXPECT_EQ(ids_->find("1234"), nullptr);
  EXPECT_TRUE(ids_->may_claim("1234", "t2", "dev", kT0 + 1));
}

TEST_F(ClientIds, CleanTakeOverOfExpiredIdRemovesOldRecord) {
  ASSERT_TRUE(ids_->claim("1234", "t1", "dev", true).ok());
  ASSERT_TRUE(ids_->release("1234", kT0).ok());
  ASSERT_TRUE(ids_->may_claim("1234", "t2", "dev", kT0 + kExpiry));
  ASSERT_TRUE(ids_->claim("1234", "t2", "dev", false).ok());
  EXPECT_FALSE(stored("1234"));
}

TEST_F(ClientIds, ClaimUpdatesOwnerAndMode) {
  ASSERT_TRUE(ids_->claim("x", "t1", "a", false).ok());
  EXPECT_FALSE(stored("x"));
  // Same owner turns to a persistent session: now persisted.
  ASSERT_TRUE(ids_->claim("x", "t1", "a", true).ok());
  EXPECT_TRUE(ids_->find("x")->persistent);
  EXPECT_TRUE(stored("x"));
}

}  // namespace
}  // namespace c8y::identity

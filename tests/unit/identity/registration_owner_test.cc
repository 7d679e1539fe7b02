// RegistrationOwner: what the node holding a request does when another node polled for it.
#include "plugin/identity/registration_owner.h"

#include <gtest/gtest.h>

#include <memory>

#include "plugin/identity/password_hash.h"
#include "tests/unit/temp_dir.h"

namespace c8y::identity {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;
int64_t fixed_now() {
  return kT0;
}

class RegistrationOwnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.open_store();
    directory_ = std::make_unique<Directory>(*store_);
    ASSERT_TRUE(directory_->load().ok());
    TenantRecord t;
    t.id = "t3";
    ASSERT_TRUE(directory_->put_tenant(t).ok());
    regs_ = std::make_unique<Registrations>(*store_);
    ASSERT_TRUE(regs_->load().ok());
    owner_ = std::make_unique<RegistrationOwner>(*directory_, *regs_, fixed_now);
    ASSERT_TRUE(regs_->create("t3", "sn-1", "admin", kT0).value);
  }
  void accept() {
    owner_->contacted("sn-1", "t3");
    ASSERT_TRUE(regs_->set_status("t3", "sn-1", RegistrationStatus::kAccepted, kT0).value);
  }

  c8y::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<Registrations> regs_;
  std::unique_ptr<RegistrationOwner> owner_;
};

TEST_F(RegistrationOwnerTest, HoldsOnlyItsTenantsRequests) {
  EXPECT_TRUE(owner_->holds("sn-1", "t3"));
  EXPECT_FALSE(owner_->holds("sn-1", "t5"));
  EXPECT_FALSE(owner_->holds("sn-2", "t3"));
  auto all = owner_->requests();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].serial, "sn-1");
  EXPECT_EQ(all[0].tenant, "t3");
  EXPECT_EQ(all[0].status, "WAITING_FOR_CONNECTION");
}

TEST_F(RegistrationOwnerTest, ContactMovesTheRequestToPendingAcceptance) {
  owner_->contacted("sn-1", "t5");  // not this tenant's: nothing
  EXPECT_EQ(regs_->get("t3", "sn-1")->status, RegistrationStatus::kWaitingForConnection);
  owner_->contacted("sn-1", "t3");
  EXPECT_EQ(regs_->get("t3", "sn-1")->status, RegistrationStatus::kPendingAcceptance);
  EXPECT_EQ(regs_->get("t3", "sn-1")->updated_ms, kT0);
}

TEST_F(RegistrationOwnerTest, InstallsAHashOnlyForAnAcceptedRequest) {
  auto hash = hash_secret("0123456789abcdef0123");
  ASSERT_TRUE(hash);
  std::string why;
  EXPECT_FALSE(owner_->install("sn-1", "t3", *hash, &why));  // not accepted yet
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(directory_->user("t3", "device_sn-1"));
  accept();
  EXPECT_FALSE(owner_->install("sn-1", "t5", *hash, &why));         // another tenant's
  EXPECT_FALSE(owner_->install("sn-1", "t3", "not a hash", &why));  // garbage from the store
  EXPECT_FALSE(directory_->user("t3", "device_sn-1"));

  ASSERT_TRUE(owner_->install("sn-1", "t3", *hash, &why)) << why;
  auto u = directory_->user("t3", "device_sn-1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->role, policy::Role::kDevice);
  EXPECT_EQ(u->device_serial, "sn-1");  // bound to its serial
  EXPECT_TRUE(u->enabled);
  EXPECT_TRUE(verify_password(u->password_hash, "0123456789abcdef0123"));
  // Issued: the device's first login completes the request.
  EXPECT_TRUE(regs_->complete("t3", "sn-1"));
}

TEST(BootstrapDeviceUser, KeepsAnExistingUsersOtherFields) {
  c8y::testing::TempDir dir;
  auto store = dir.open_store();
  Directory directory(*store);
  ASSERT_TRUE(directory.load().ok());
  TenantRecord t;
  t.id = "t1";
  ASSERT_TRUE(directory.put_tenant(t).ok());
  UserRecord old;
  old.tenant = "t1";
  old.name = "device_x";
  old.role = policy::Role::kDevice;
  old.enabled = false;
  ASSERT_TRUE(directory.put_user(old).ok());
  auto u = bootstrap_device_user(directory, "t1", "x", "$7$hash");
  EXPECT_EQ(u.name, "device_x");
  EXPECT_TRUE(u.enabled);  // pairing enables it again
  EXPECT_EQ(u.device_serial, "x");
  EXPECT_EQ(u.password_hash, "$7$hash");
}

}  // namespace
}  // namespace c8y::identity

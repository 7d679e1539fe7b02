// New-device requests: every state change, tenant isolation, persistence.
#include "plugin/identity/registrations.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/unit/temp_dir.h"

namespace c8y::identity {
namespace {

using S = RegistrationStatus;
constexpr int64_t kT0 = 1'700'000'000'000;

class RegistrationsTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    regs_.reset();
    store_.reset();
    store_ = dir_.open_store();
    regs_ = std::make_unique<Registrations>(*store_);
    ASSERT_TRUE(regs_->load().ok());
  }
  S status(std::string_view tenant, std::string_view serial) {
    auto r = regs_->get(tenant, serial);
    EXPECT_TRUE(r.has_value());
    return r ? r->status : S::kWaitingForConnection;
  }
  std::optional<Registration> poll(std::string_view serial, int64_t now = kT0) {
    storage::StoreStatus st;
    auto r = regs_->poll(serial, now, &st);
    EXPECT_TRUE(st.ok()) << st.message;
    return r;
  }

  c8y::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Registrations> regs_;
};

TEST(RegistrationStatusNames, RoundTrip) {
  for (auto s : {S::kWaitingForConnection, S::kPendingAcceptance, S::kAccepted})
    EXPECT_EQ(parse_registration_status(to_string(s)), s);
  EXPECT_EQ(to_string(S::kPendingAcceptance), "PENDING_ACCEPTANCE");
  for (const char* bad : {"", "accepted", "ACCEPTED ", "SUCCESSFUL"})
    EXPECT_FALSE(parse_registration_status(bad)) << bad;
}

TEST_F(RegistrationsTest, CreateStartsWaiting) {
  auto ch = regs_->create("t1", "dev-1", "admin", kT0);
  ASSERT_EQ(ch.status.code, common::Status::kOk) << ch.status.message;
  EXPECT_EQ(ch.value->status, S::kWaitingForConnection);
  EXPECT_EQ(ch.value->owner, "admin");
  EXPECT_EQ(ch.value->created_ms, kT0);
  EXPECT_TRUE(regs_->exists("dev-1"));
  EXPECT_FALSE(regs_->exists("dev-2"));
}

TEST_F(RegistrationsTest, InvalidSerialsRefused) {
  for (const char* bad : {"", "a/b", "a:b", "d:x", "a+b", "a#b", "a b", "tab\t"}) {
    auto ch = regs_->create("t1", bad, "admin", kT0);
    EXPECT_EQ(ch.status.code, common::Status::kInvalid) << bad;
    EXPECT_FALSE(regs_->exists(bad)) << bad;
  }
  EXPECT_EQ(regs_->create("t1", std::string(129, 'x'), "admin", kT0).status.code,
            common::Status::kInvalid);
  EXPECT_EQ(regs_->create("t1", std::string(128, 'x'), "admin", kT0).status.code,
            common::Status::kOk);
}

TEST_F(RegistrationsTest, OneRequestPerSerialAcrossTenants) {
  ASSERT_EQ(regs_->create("t1", "dev-1", "admin", kT0).status.code, common::Status::kOk);
  auto same = regs_->create("t1", "dev-1", "admin", kT0);
  EXPECT_EQ(same.status.code, common::Status::kConflict);
  auto other = regs_->create("t2", "dev-1", "admin", kT0);
  EXPECT_EQ(other.status.code, common::Status::kConflict);
  EXPECT_EQ(other.status.message.find("t1"), std::string::npos) << "must not name the other tenant";
  EXPECT_EQ(regs_->get("t1", "dev-1")->tenant, "t1");
}

TEST_F(RegistrationsTest, OtherTenantCannotSeeOrChange) {
  ASSERT_EQ(regs_->create("t1", "dev-1", "admin", kT0).status.code, common::Status::kOk);
  poll("dev-1");
  EXPECT_FALSE(regs_->get("t2", "dev-1"));
  EXPECT_TRUE(regs_->list("t2").empty());
  EXPECT_EQ(regs_->set_status("t2", "dev-1", S::kAccepted, kT0).status.code,
            common::Status::kNotFound);
  EXPECT_EQ(regs_->remove("t2", "dev-1").status.code, common::Status::kNotFound);
  EXPECT_FALSE(regs_->complete("t2", "dev-1"));
  EXPECT_EQ(status("t1", "dev-1"), S::kPendingAcceptance);
}

TEST_F(RegistrationsTest, FirstPollMovesToPendingAcceptance) {
  EXPECT_FALSE(poll("dev-1")) << "an unknown serial creates nothing";
  EXPECT_FALSE(regs_->exists("dev-1"));
  ASSERT_EQ(regs_->create("t1", "dev-1", "admin", kT0).status.code, common::Status::kOk);
  auto r = poll("dev-1", kT0 + 5);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, S::kPendingAcceptance);
  EXPECT_EQ(r->updated_ms, kT0 + 5);
  r = poll("dev-1", kT0 + 9);  // polls while pending change nothing
  EXPECT_EQ(r->status, S::kPendingAcceptance);
  EXPECT_EQ(r->updated_ms, kT0 + 5);
}

// Every (from, to) pair of the REST PUT.
TEST_F(RegistrationsTest, StatusTable) {
  struct Cell {
    S from, to;
    common::Status::Code outcome;
  };
  const Cell cells[] = {
      {S::kWaitingForConnection, S::kWaitingForConnection, common::Status::kOk},
      {S::kWaitingForConnection, S::kPendingAcceptance, common::Status::kInvalid},
      {S::kWaitingForConnection, S::kAccepted, common::Status::kInvalid},
      {S::kPendingAcceptance, S::kWaitingForConnection, common::Status::kInvalid},
      {S::kPendingAcceptance, S::kPendingAcceptance, common::Status::kOk},
      {S::kPendingAcceptance, S::kAccepted, common::Status::kOk},
      {S::kAccepted, S::kWaitingForConnection, common::Status::kInvalid},
      {S::kAccepted, S::kPendingAcceptance, common::Status::kInvalid},
      {S::kAccepted, S::kAccepted, common::Status::kOk},
  };
  int n = 0;
  for (const auto& c : cells) {
    const std::string serial = "dev-" + std::to_string(n++);
    ASSERT_EQ(regs_->create("t1", serial, "admin", kT0).status.code, common::Status::kOk);
    if (c.from != S::kWaitingForConnection) poll(serial);
    if (c.from == S::kAccepted) {
      ASSERT_EQ(regs_->set_status("t1", serial, S::kAccepted, kT0).status.code,
                common::Status::kOk);
    }
    ASSERT_EQ(status("t1", serial), c.from);
    auto ch = regs_->set_status("t1", serial, c.to, kT0 + 1);
    EXPECT_EQ(ch.status.code, c.outcome) << to_string(c.from) << " -> " << to_string(c.to);
    EXPECT_EQ(status("t1", serial), c.outcome == common::Status::kOk ? c.to : c.from);
    if (c.outcome == common::Status::kInvalid) {
      EXPECT_FALSE(ch.status.message.empty());
    }
  }
}

TEST_F(RegistrationsTest, CompleteOnlyAfterCredentialsWereIssued) {
  ASSERT_EQ(regs_->create("t1", "dev-1", "admin", kT0).status.code, common::Status::kOk);
  poll("dev-1");
  EXPECT_FALSE(regs_->complete("t1", "dev-1")) << "not accepted yet";
  ASSERT_EQ(regs_->set_status("t1", "dev-1", S::kAccepted, kT0).status.code, common::Status::kOk);
  EXPECT_FALSE(regs_->complete("t1", "dev-1")) << "no credentials sent yet";
  regs_->mark_issued("dev-1");
  EXPECT_TRUE(regs_->complete("t1", "dev-1"));
  EXPECT_FALSE(regs_->exists("dev-1"));
  EXPECT_FALSE(poll("dev-1"));
  EXPECT_FALSE(regs_->complete("t1", "dev-1"));
  reopen();
  EXPECT_FALSE(regs_->exists("dev-1")) << "the removal is persisted";
}

TEST_F(RegistrationsTest, PersistedAcrossReopen) {
  ASSERT_EQ(regs_->create("t1", "dev-1", "admin", kT0).status.code, common::Status::kOk);
  ASSERT_EQ(regs_->create("t2", "dev-2", "boss", kT0 + 1).status.code, common::Status::kOk);
  poll("dev-1", kT0 + 2);
  ASSERT_EQ(regs_->set_status("t1", "dev-1", S::kAccepted, kT0 + 3).status.code,
            common::Status::kOk);
  regs_->mark_issued("dev-1");
  reopen();
  auto r = regs_->get("t1", "dev-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, S::kAccepted);
  EXPECT_EQ(r->owner, "admin");
  EXPECT_EQ(r->created_ms, kT0);
  EXPECT_EQ(r->updated_ms, kT0 + 3);
  EXPECT_TRUE(r->credentials_issued);
  EXPECT_EQ(status("t2", "dev-2"), S::kWaitingForConnection);
  EXPECT_TRUE(regs_->complete("t1", "dev-1"));
}

TEST_F(RegistrationsTest, ListIsTheTenantsInCreationOrder) {
  ASSERT_EQ(regs_->create("t1", "b", "admin", kT0 + 2).status.code, common::Status::kOk);
  ASSERT_EQ(regs_->create("t1", "a", "admin", kT0 + 1).status.code, common::Status::kOk);
  ASSERT_EQ(regs_->create("t2", "c", "admin", kT0).status.code, common::Status::kOk);
  auto l = regs_->list("t1");
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].serial, "a");
  EXPECT_EQ(l[1].serial, "b");
}

TEST_F(RegistrationsTest, RemoveAndForgetTenant) {
  ASSERT_EQ(regs_->create("t1", "a", "admin", kT0).status.code, common::Status::kOk);
  ASSERT_EQ(regs_->create("t2", "b", "admin", kT0).status.code, common::Status::kOk);
  ASSERT_EQ(regs_->create("t2", "c", "admin", kT0).status.code, common::Status::kOk);
  EXPECT_EQ(regs_->remove("t1", "a").status.code, common::Status::kOk);
  EXPECT_EQ(regs_->remove("t1", "a").status.code, common::Status::kNotFound);
  regs_->forget_tenant("t2");
  EXPECT_FALSE(regs_->exists("b"));
  EXPECT_FALSE(regs_->exists("c"));
  reopen();
  EXPECT_FALSE(regs_->exists("a"));
  EXPECT_FALSE(regs_->exists("b"));
  // The serials are free for any tenant again.
  EXPECT_EQ(regs_->create("t3", "b", "admin", kT0).status.code, common::Status::kOk);
}

}  // namespace
}  // namespace c8y::identity

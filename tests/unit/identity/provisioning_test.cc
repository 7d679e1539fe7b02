// The provisioning file applied to a Directory backed by a real Store.
#include "plugin/identity/provisioning.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "plugin/identity/directory.h"
#include "plugin/identity/password_hash.h"
#include "tests/unit/temp_dir.h"

namespace c8y::identity {
namespace {

using policy::Role;

constexpr const char* kBase = R"({"tenants": [
  {"id": "demo", "options": {"a": 1},
   "users": [{"name": "admin", "password": "admin-pw", "roles": ["admin"]},
             {"name": "dev1", "password": "dev1-pw", "roles": ["device"]}]},
  {"id": "other",
   "users": [{"name": "dev1", "password": "other-pw", "roles": ["device"], "enabled": false}]}
]})";

class Provisioning : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    directory_ = std::make_unique<Directory>(*store_);
    ASSERT_TRUE(directory_->load().ok());
  }

  void reopen() {
    directory_.reset();
    store_.reset();
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    directory_ = std::make_unique<Directory>(*store_);
    ASSERT_TRUE(directory_->load().ok());
  }

  // The message of the result ("" on success); a refusal must be kInvalid.
  std::string apply(const std::string& text, ProvisioningReport* report = nullptr) {
    auto st = apply_provisioning(*directory_, text, report);
    EXPECT_TRUE(st.ok() || st.invalid()) << st.message;
    EXPECT_EQ(st.ok(), st.message.empty());
    return st.message;
  }

  std::vector<std::string> sorted_tenants() const {
    auto ids = directory_->tenant_ids();
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Directory> directory_;
};

TEST_F(Provisioning, ValidFileCreatesTenantsAndUsers) {
  ProvisioningReport r;
  ASSERT_EQ(apply(kBase, &r), "");
  EXPECT_EQ(r.tenants_created, 2);
  EXPECT_EQ(r.users_written, 3);
  EXPECT_EQ(r.users_unchanged, 0);

  EXPECT_EQ(sorted_tenants(), (std::vector<std::string>{"demo", "other"}));
  EXPECT_TRUE(directory_->has_tenant("demo"));
  EXPECT_FALSE(directory_->has_tenant("nope"));
  EXPECT_EQ(directory_->tenant("demo")->options, nlohmann::json::parse(R"({"a":1})"));
  EXPECT_EQ(directory_->tenant("other")->options, nlohmann::json::object());
  // The tenants' column families exist.
  EXPECT_NE(store_->tenant("demo"), nullptr);
  EXPECT_NE(store_->tenant("other"), nullptr);

  EXPECT_EQ(directory_->user_count(), 3u);
  auto admin = directory_->user("demo", "admin");
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->tenant, "demo");
  EXPECT_EQ(admin->name, "admin");
  EXPECT_EQ(admin->role, Role::kAdmin);
  EXPECT_TRUE(admin->enabled);
  EXPECT_TRUE(admin->password_hash.starts_with("$7$"));
  EXPECT_TRUE(verify_password(admin->password_hash, "admin-pw"));
  EXPECT_FALSE(verify_password(admin->password_hash, "dev1-pw"));

  auto dev = directory_->user("demo", "dev1");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->role, Role::kDevice);
  EXPECT_TRUE(verify_password(dev->password_hash, "dev1-pw"));

  // Same user name in another tenant is another user.
  auto other = directory_->user("other", "dev1");
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->enabled);
  EXPECT_TRUE(verify_password(other->password_hash, "other-pw"));
  EXPECT_FALSE(verify_password(other->password_hash, "dev1-pw"));

  EXPECT_FALSE(directory_->user("demo", "nobody"));
  EXPECT_FALSE(directory_->user("other", "admin"));
}

TEST_F(Provisioning, ReportIsOptional) {
  EXPECT_EQ(apply(kBase, nullptr), "");
  EXPECT_EQ(directory_->user_count(), 3u);
}

TEST_F(Provisioning, ApplyingTwiceChangesNothing) {
  ASSERT_EQ(apply(kBase), "");
  auto before = directory_->user("demo", "admin");
  ASSERT_TRUE(before);

  ProvisioningReport r;
  ASSERT_EQ(apply(kBase, &r), "");
  EXPECT_EQ(r.tenants_created, 0);
  EXPECT_EQ(r.users_written, 0);
  EXPECT_EQ(r.users_unchanged, 3);

  auto after = directory_->user("demo", "admin");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->password_hash, before->password_hash);  // not rehashed (new salt otherwise)
  EXPECT_EQ(after->generation, before->generation);        // not rewritten
}

TEST_F(Provisioning, PlainPasswordChangeRewrites) {
  ASSERT_EQ(apply(kBase), "");
  auto before = directory_->user("demo", "dev1");
  ASSERT_TRUE(before);

  ProvisioningReport r;
  ASSERT_EQ(apply(R"({"tenants":[{"id":"demo","users":[
                   {"name":"dev1","password":"new-pw","roles":["device"]}]}]})",
                  &r),
            "");
  EXPECT_EQ(r.users_written, 1);
  EXPECT_EQ(r.users_unchanged, 0);
  auto after = directory_->user("demo", "dev1");
  ASSERT_TRUE(after);
  EXPECT_NE(after->password_hash, before->password_hash);
  EXPECT_TRUE(verify_password(after->password_hash, "new-pw"));
  EXPECT_FALSE(verify_password(after->password_hash, "dev1-pw"));
  EXPECT_GT(after->generation, before->generation);
  // The other users are untouched.
  EXPECT_TRUE(verify_password(directory_->user("demo", "admin")->password_hash, "admin-pw"));
}

TEST_F(Provisioning, RoleOrEnabledChangeRewrites) {
  ASSERT_EQ(apply(kBase), "");
  auto before = directory_->user("demo", "dev1");
  ProvisioningReport r;
  ASSERT_EQ(apply(R"({"tenants":[{"id":"demo","users":[
                   {"name":"dev1","password":"dev1-pw","roles":["admin"]}]}]})",
                  &r),
            "");
  EXPECT_EQ(r.users_written, 1);
  auto after = directory_->user("demo", "dev1");
  EXPECT_EQ(after->role, Role::kAdmin);
  EXPECT_EQ(after->password_hash, before->password_hash);  // password unchanged: same hash
  EXPECT_GT(after->generation, before->generation);

  ASSERT_EQ(apply(R"({"tenants":[{"id":"demo","users":[
                   {"name":"dev1","password":"dev1-pw","roles":["admin"],"enabled":false}]}]})",
                  &r),
            "");
  EXPECT_EQ(r.users_written, 1);
  EXPECT_FALSE(directory_->user("demo", "dev1")->enabled);
}

TEST_F(Provisioning, PasswordHashIsStoredAsGiven) {
  const std::string hash = hash_password("secret").value();
  ProvisioningReport r;
  ASSERT_EQ(apply(R"({"tenants":[{"id":"t1","users":[{"name":"d","password_hash":")" + hash +
                      R"(","roles":["device"]}]}]})",
                  &r),
            "");
  EXPECT_EQ(r.users_written, 1);
  EXPECT_EQ(directory_->user("t1", "d")->password_hash, hash);
  ASSERT_EQ(apply(R"({"tenants":[{"id":"t1","users":[{"name":"d","password_hash":")" + hash +
                      R"(","roles":["device"]}]}]})",
                  &r),
            "");
  EXPECT_EQ(r.users_written, 0);
  EXPECT_EQ(r.users_unchanged, 1);
}

TEST_F(Provisioning, HighestRoleWins) {
  ASSERT_EQ(apply(R"({"tenants":[{"id":"t1","users":[
      {"name":"a","password":"p","roles":["device","admin"]},
      {"name":"b","password":"p","roles":["admin","device"]},
      {"name":"c","password":"p","roles":["bootstrap","device"]},
      {"name":"d","password":"p","roles":["device","bootstrap"]},
      {"name":"e","password":"p","roles":["bootstrap"]}]}]})"),
            "");
  EXPECT_EQ(directory_->user("t1", "a")->role, Role::kAdmin);
  EXPECT_EQ(directory_->user("t1", "b")->role, Role::kAdmin);
  EXPECT_EQ(directory_->user("t1", "c")->role, Role::kDevice);
  EXPECT_EQ(directory_->user("t1", "d")->role, Role::kDevice);
  EXPECT_EQ(directory_->user("t1", "e")->role, Role::kBootstrap);
}

TEST_F(Provisioning, TenantOptionsAreMerged) {
  ASSERT_EQ(apply(kBase), "");
  ASSERT_EQ(apply(R"({"tenants":[{"id":"demo","options":{"b":"x"}}]})"), "");
  EXPECT_EQ(directory_->tenant("demo")->options, nlohmann::json::parse(R"({"a":1,"b":"x"})"));
  ASSERT_EQ(apply(R"({"tenants":[{"id":"demo","options":{"a":2}}]})"), "");
  EXPECT_EQ(directory_->tenant("demo")->options, nlohmann::json::parse(R"({"a":2,"b":"x"})"));
  // A tenant without users and an empty tenants array are fine.
  ProvisioningReport r;
  ASSERT_EQ(apply(R"({"tenants":[{"id":"bare"}]})", &r), "");
  EXPECT_EQ(r.tenants_created, 1);
  EXPECT_TRUE(directory_->has_tenant("bare"));
  ASSERT_EQ(apply(R"({"tenants":[]})", &r), "");
  EXPECT_EQ(r.tenants_created, 0);
}

// ---------------------------------------------------------------------------------------------
// Invalid files change nothing

struct Snapshot {
  std::vector<std::string> tenants;
  size_t users;
  std::string admin_hash;
  uint64_t admin_generation;
  std::vector<std::string> families;
};

class InvalidProvisioning : public Provisioning {
 protected:
  void SetUp() override {
    Provisioning::SetUp();
    ASSERT_EQ(apply(kBase), "");
    before_ = snapshot();
  }

  Snapshot snapshot() const {
    Snapshot s;
    s.tenants = sorted_tenants();
    s.users = directory_->user_count();
    auto admin = directory_->user("demo", "admin");
    s.admin_hash = admin ? admin->password_hash : "";
    s.admin_generation = admin ? admin->generation : 0;
    s.families = store_->tenant_ids();
    std::sort(s.families.begin(), s.families.end());
    return s;
  }

  // Applies `text`, expects an error containing `where`, and that nothing changed.
  void expect_refused(const std::string& text, const std::string& where) {
    ProvisioningReport r{-1, -1, -1};
    auto err = apply(text, &r);
    ASSERT_NE(err, "") << text;
    EXPECT_NE(err.find(where), std::string::npos) << "error: " << err << "\nwanted: " << where;
    EXPECT_EQ(r.tenants_created, -1);  // report untouched
    auto now = snapshot();
    EXPECT_EQ(now.tenants, before_.tenants);
    EXPECT_EQ(now.users, before_.users);
    EXPECT_EQ(now.admin_hash, before_.admin_hash);
    EXPECT_EQ(now.admin_generation, before_.admin_generation);
    EXPECT_EQ(now.families, before_.families);
    EXPECT_FALSE(directory_->has_tenant("fresh"));
    EXPECT_FALSE(directory_->user("demo", "fresh"));
    EXPECT_TRUE(verify_password(directory_->user("demo", "admin")->password_hash, "admin-pw"));
  }

  Snapshot before_;
};

// Every invalid file below starts with valid changes (a new tenant, a new user, a password
// change) that must not be applied either.
std::string file(const std::string& bad_tenant_or_user, bool as_user) {
  std::string head =
      R"({"tenants":[{"id":"fresh","users":[{"name":"u","password":"p","roles":["device"]}]},
    {"id":"demo","users":[{"name":"admin","password":"changed","roles":["admin"]},
                          {"name":"fresh","password":"p","roles":["device"]})";
  if (as_user) return head + "," + bad_tenant_or_user + "]}]}";
  return head + "]}," + bad_tenant_or_user + "]}";
}

TEST_F(InvalidProvisioning, BadTenantId) {
  expect_refused(file(R"({"id":"Bad-Id"})", false), "tenants[2].id");
  expect_refused(file(R"({"id":""})", false), "tenants[2].id");
  expect_refused(file(R"({"id":")" + std::string(33, 'a') + R"("})", false), "tenants[2].id");
  expect_refused(file(R"({"id":5})", false), "tenants[2].id");
  expect_refused(file(R"({"users":[]})", false), "tenants[2].id");
  expect_refused(file(R"("demo")", false), "tenants[2]");
}

TEST_F(InvalidProvisioning, BadTenantShape) {
  expect_refused(file(R"({"id":"x","options":[1]})", false), "tenants[2].options");
  expect_refused(file(R"({"id":"x","users":{}})", false), "tenants[2].users");
}

TEST_F(InvalidProvisioning, UserWithoutRoles) {
  expect_refused(file(R"({"name":"x","password":"p"})", true), "tenants[1].users[2].roles");
  expect_refused(file(R"({"name":"x","password":"p","roles":[]})", true),
                 "tenants[1].users[2].roles");
  expect_refused(file(R"({"name":"x","password":"p","roles":"device"})", true),
                 "tenants[1].users[2].roles");
}

TEST_F(InvalidProvisioning, UnknownRole) {
  expect_refused(file(R"({"name":"x","password":"p","roles":["root"]})", true),
                 "tenants[1].users[2].roles");
  expect_refused(file(R"({"name":"x","password":"p","roles":["device","Admin"]})", true),
                 "tenants[1].users[2].roles");
  expect_refused(file(R"({"name":"x","password":"p","roles":[1]})", true),
                 "tenants[1].users[2].roles");
}

TEST_F(InvalidProvisioning, PasswordAndHash) {
  const std::string hash = hash_password("p").value();
  expect_refused(
      file(R"({"name":"x","password":"p","password_hash":")" + hash + R"(","roles":["device"]})",
           true),
      "tenants[1].users[2]");
  // Neither (an empty password counts as none).
  expect_refused(file(R"({"name":"x","roles":["device"]})", true), "tenants[1].users[2]");
  expect_refused(file(R"({"name":"x","password":"","roles":["device"]})", true),
                 "tenants[1].users[2]");
}

TEST_F(InvalidProvisioning, BadHash) {
  for (const char* h : {"", "plain", "$7$101$bm90$bm90", "$5$abc$def", "$7$0$AAAA$AAAA"}) {
    expect_refused(
        file(R"({"name":"x","password_hash":")" + std::string(h) + R"(","roles":["device"]})",
             true),
        "tenants[1].users[2].password_hash");
  }
}

TEST_F(InvalidProvisioning, BadUserShape) {
  expect_refused(file(R"({"password":"p","roles":["device"]})", true), "tenants[1].users[2].name");
  expect_refused(file(R"({"name":"a b","password":"p","roles":["device"]})", true),
                 "tenants[1].users[2].name");
  expect_refused(file(R"({"name":"a/b","password":"p","roles":["device"]})", true),
                 "tenants[1].users[2].name");
  expect_refused(file(R"({"name":"x","password":"p","roles":["device"],"enabled":"yes"})", true),
                 "tenants[1].users[2].enabled");
  expect_refused(file(R"("x")", true), "tenants[1].users[2]");
}

TEST_F(InvalidProvisioning, NotJsonOrWrongTopLevel) {
  expect_refused("", "JSON");
  expect_refused("{", "JSON");
  expect_refused(R"({"tenants":[{"id":"fresh"}])", "JSON");
  expect_refused("[]", "tenants");
  expect_refused("{}", "tenants");
  expect_refused(R"({"tenants":{}})", "tenants");
}

// ---------------------------------------------------------------------------------------------
// Persistence and generations

TEST_F(Provisioning, ReopenLoadsTheSameUsers) {
  ASSERT_EQ(apply(kBase), "");
  auto admin = *directory_->user("demo", "admin");
  auto dev = *directory_->user("demo", "dev1");
  auto other = *directory_->user("other", "dev1");

  reopen();
  EXPECT_EQ(sorted_tenants(), (std::vector<std::string>{"demo", "other"}));
  EXPECT_EQ(directory_->tenant("demo")->options, nlohmann::json::parse(R"({"a":1})"));
  EXPECT_EQ(directory_->user_count(), 3u);
  for (const auto& want : {admin, dev, other}) {
    auto got = directory_->user(want.tenant, want.name);
    ASSERT_TRUE(got) << want.key();
    EXPECT_EQ(got->password_hash, want.password_hash) << want.key();
    EXPECT_EQ(got->role, want.role) << want.key();
    EXPECT_EQ(got->enabled, want.enabled) << want.key();
    EXPECT_TRUE(got->persisted) << want.key();
    EXPECT_GT(got->generation, 0u) << want.key();
  }
  EXPECT_NE(store_->tenant("demo"), nullptr);

  // Re-applying after the restart is still a no-op.
  ProvisioningReport r;
  ASSERT_EQ(apply(kBase, &r), "");
  EXPECT_EQ(r.tenants_created, 0);
  EXPECT_EQ(r.users_written, 0);
  EXPECT_EQ(r.users_unchanged, 3);
  EXPECT_EQ(directory_->user("demo", "admin")->password_hash, admin.password_hash);
}

TEST_F(Provisioning, GenerationBumpsOnPutUser) {
  UserRecord u;
  u.tenant = "t1";
  u.name = "x";
  u.password_hash = hash_password("a").value();
  ASSERT_TRUE(directory_->put_user(u).ok());
  const uint64_t g1 = directory_->user("t1", "x")->generation;
  EXPECT_GT(g1, 0u);
  // Even an identical record gets a new generation.
  ASSERT_TRUE(directory_->put_user(u).ok());
  const uint64_t g2 = directory_->user("t1", "x")->generation;
  EXPECT_GT(g2, g1);
  u.generation = 1000000;  // the caller's value is ignored
  u.enabled = false;
  ASSERT_TRUE(directory_->put_user(u).ok());
  const uint64_t g3 = directory_->user("t1", "x")->generation;
  EXPECT_GT(g3, g2);
  EXPECT_LT(g3, 1000000u);
  // Another user's put bumps only that user.
  UserRecord v = u;
  v.name = "y";
  ASSERT_TRUE(directory_->put_user(v).ok());
  EXPECT_EQ(directory_->user("t1", "x")->generation, g3);
  EXPECT_GT(directory_->user("t1", "y")->generation, g3);
}

TEST_F(Provisioning, InMemoryUsersAreNotPersisted) {
  UserRecord u;
  u.tenant = "management";
  u.name = "devicebootstrap";
  u.password_hash = hash_secret("s3cr3t-s3cr3t-s3cr3t").value();
  u.role = Role::kBootstrap;
  u.persisted = false;
  ASSERT_TRUE(directory_->put_user(u).ok());
  ASSERT_TRUE(directory_->user("management", "devicebootstrap"));
  reopen();
  EXPECT_FALSE(directory_->user("management", "devicebootstrap"));
  EXPECT_EQ(directory_->user_count(), 0u);
}

TEST(Roles, ParseAndName) {
  Role r = Role::kAdmin;
  for (Role want : {Role::kDevice, Role::kAdmin, Role::kBootstrap}) {
    ASSERT_TRUE(parse_role(role_name(want), &r));
    EXPECT_EQ(r, want);
  }
  EXPECT_FALSE(parse_role("", &r));
  EXPECT_FALSE(parse_role("Admin", &r));
  EXPECT_FALSE(parse_role("root", &r));
}

}  // namespace
}  // namespace c8y::identity

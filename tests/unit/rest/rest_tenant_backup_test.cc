// Tenant backups through the REST API: POST /admin/backups {"tenant"} writes one tenant's family
// and system records; after the tenant is deleted, POST /admin/backups/{id}/restore brings it
// back on the running node (its data, its users' logins, its id counter), and what cannot be
// restored is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/unit/rest/rest_fixture.h"

namespace c8y::rest::testing {
namespace {

class RestTenantBackupTest : public RestFixture {};

TEST_F(RestTenantBackupTest, ADeletedTenantComesBackFromItsBackup) {
  const std::string mgmt = basic("management", "admin");
  const std::string root = dir_.path() + "/backups";
  ASSERT_TRUE(std::filesystem::create_directory(root));
  server_->set_backup_dir(root);
  Answer mo = admin("POST", "/inventory/managedObjects", {{"name", "kept"}});
  ASSERT_EQ(mo.status, 201);
  const std::string id = mo.body["id"];

  EXPECT_EQ(call("POST", "/admin/backups", mgmt, R"({"tenant": "nope"})").status, 404);
  EXPECT_EQ(call("POST", "/admin/backups", mgmt, R"({"tenant": 5})").status, 422);
  EXPECT_EQ(admin("POST", "/admin/backups", {{"tenant", "t1"}}).status, 403);
  Answer b = call("POST", "/admin/backups", mgmt, R"({"tenant": "t1"})");
  ASSERT_EQ(b.status, 201) << b.text;
  EXPECT_EQ(b.body["tenant"], "t1");
  const std::string backup = b.body["id"];
  EXPECT_TRUE(std::filesystem::exists(root + "/" + backup + "/family/family.meta"));
  Answer listed = call("GET", "/admin/backups", mgmt);
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.body["backups"].size(), 1u);
  EXPECT_EQ(listed.body["backups"][0]["tenant"], "t1");

  // While t1 exists it cannot be restored over.
  EXPECT_EQ(call("POST", "/admin/backups/" + backup + "/restore", mgmt).status, 409);
  ASSERT_EQ(call("DELETE", "/tenant/tenants/t1", mgmt).status, 204);
  EXPECT_EQ(admin("GET", "/inventory/managedObjects/" + id).status, 401);  // gone, users too

  Answer restored = call("POST", "/admin/backups/" + backup + "/restore", mgmt);
  ASSERT_EQ(restored.status, 201) << restored.text;
  EXPECT_EQ(restored.body["tenant"], "t1");
  Answer got = admin("GET", "/inventory/managedObjects/" + id);
  ASSERT_EQ(got.status, 200) << got.text;
  EXPECT_EQ(got.body["name"], "kept");
  EXPECT_EQ(device("GET", "/inventory/managedObjects/" + own_).status, 200);
  // New objects get new ids (the id counter came back with the family).
  Answer next = admin("POST", "/inventory/managedObjects", {{"name", "new"}});
  ASSERT_EQ(next.status, 201);
  EXPECT_NE(next.body["id"], mo.body["id"]);
  EXPECT_NE(next.body["id"], own_);
  // t2 saw nothing of it.
  EXPECT_EQ(call("GET", "/inventory/managedObjects/" + id, basic("t2", "admin")).status, 404);

  EXPECT_EQ(call("POST", "/admin/backups/nope/restore", mgmt).status, 404);
  EXPECT_EQ(call("POST", "/admin/backups/..%2Fx/restore", mgmt).status, 404);
}

}  // namespace
}  // namespace c8y::rest::testing

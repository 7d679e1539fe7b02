// The REST side of per-tenant limits: a user's request rate (429 with Retry-After, per user and
// per tenant), requests that add data while the tenant is over its stored bytes (507), and the
// limits set through the tenant's options (management admin only, validated). The limits are
// put into the tenant space here as the plugin core's Quotas would (app/quotas.h).
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/rest/rest_fixture.h"

namespace c8y::rest::testing {
namespace {

class RestLimitsTest : public RestFixture {
 protected:
  domain::TenantSpace& space(const char* tenant) { return *spaces_->get(tenant); }
};

TEST_F(RestLimitsTest, AUserOverItsRequestRateGets429WithRetryAfter) {
  common::Limits l;
  l.rest_requests_per_s = 1;
  space("t1").limits.set(l);
  server_->set_limit_burst(3);  // three requests at once, then one a second
  for (int i = 0; i < 3; ++i) EXPECT_EQ(admin("GET", "/inventory/managedObjects").status, 200) << i;
  Answer refused = admin("GET", "/inventory/managedObjects");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.body["error"], "limits/tooManyRequests");
  EXPECT_NE(refused.body["message"].get<std::string>().find("may make 1 requests per second"),
            std::string::npos);
  auto retry = refused.headers.find("Retry-After");
  ASSERT_NE(retry, refused.headers.end());
  EXPECT_EQ(retry->second, "1");
  // Per user: t1's device user and t2's admin are not held back by t1/admin.
  EXPECT_EQ(device("GET", "/inventory/managedObjects/" + own_).status, 200);
  EXPECT_EQ(call("GET", "/inventory/managedObjects", basic("t2", "admin")).status, 200);
  // A body request is refused too, and counted.
  EXPECT_EQ(admin("POST", "/inventory/managedObjects", {{"name", "x"}}).status, 429);
  EXPECT_EQ(space("t1").metrics.limited[static_cast<size_t>(common::LimitKind::kRestRate)].get(),
            2u);
  // No limit: no refusal.
  space("t1").limits.set({});
  EXPECT_EQ(admin("GET", "/inventory/managedObjects").status, 200);
}

TEST_F(RestLimitsTest, OverItsStoredBytesATenantCannotAddDataButCanReadAndDelete) {
  Answer mo = admin("POST", "/inventory/managedObjects", {{"name", "before"}});
  ASSERT_EQ(mo.status, 201);
  common::Limits l;
  l.stored_bytes = 1;
  space("t1").limits.set(l);
  space("t1").limits.set_over_storage(true);
  json m = {{"source", {{"id", own_}}},
            {"type", "t"},
            {"time", "2026-01-01T00:00:00.000Z"},
            {"c8y_T", {{"T", {{"value", 1}}}}}};
  Answer refused = admin("POST", "/measurement/measurements", m);
  EXPECT_EQ(refused.status, 507);
  EXPECT_EQ(refused.body["error"], "limits/storageExceeded");
  EXPECT_EQ(admin("POST", "/event/events",
                  {{"source", {{"id", own_}}},
                   {"type", "e"},
                   {"text", "x"},
                   {"time", "2026-01-01T00:00:00.000Z"}})
                .status,
            507);
  EXPECT_EQ(admin("GET", "/inventory/managedObjects").status, 200);
  const std::string id = mo.body["id"];
  EXPECT_EQ(admin("DELETE", "/inventory/managedObjects/" + id).status, 204);
  // Another tenant is not affected.
  EXPECT_EQ(
      call("POST", "/inventory/managedObjects", basic("t2", "admin"), R"({"name":"y"})").status,
      201);
}

TEST_F(RestLimitsTest, TheManagementAdminSetsATenantsLimitsInItsOptions) {
  const std::string mgmt = basic("management", "admin");
  Answer put = call("PUT", "/tenant/tenants/t1", mgmt,
                    R"({"options": {"limits": {"devices": 5, "deviceMessagesPerSecond": 2.5}}})");
  ASSERT_EQ(put.status, 200) << put.text;
  EXPECT_EQ(put.body["options"]["limits"]["devices"], 5);
  EXPECT_EQ(directory_->tenant("t1")->options["limits"]["deviceMessagesPerSecond"], 2.5);
  Answer bad =
      call("PUT", "/tenant/tenants/t1", mgmt, R"({"options": {"limits": {"devices": -1}}})");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body["message"].get<std::string>().find("options.limits.devices"),
            std::string::npos);
  EXPECT_EQ(directory_->tenant("t1")->options["limits"]["devices"], 5);  // unchanged
  // A tenant's own admin cannot raise its limits.
  EXPECT_EQ(admin("PUT", "/tenant/tenants/t1", json::parse(R"({"options": {}})")).status, 403);
  EXPECT_EQ(call("PUT", "/tenant/tenants/nope", mgmt, R"({"options": {}})").status, 404);
  // Creating a tenant takes its options too, validated the same way.
  EXPECT_EQ(call("POST", "/tenant/tenants", mgmt,
                 R"({"id": "t3", "options": {"limits": {"storedBytes": "lots"}}})")
                .status,
            422);
  EXPECT_FALSE(directory_->has_tenant("t3"));
  Answer created = call("POST", "/tenant/tenants", mgmt,
                        R"({"id": "t3", "options": {"limits": {"storedBytes": 1000000}}})");
  ASSERT_EQ(created.status, 201) << created.text;
  EXPECT_EQ(directory_->tenant("t3")->options["limits"]["storedBytes"], 1000000);
}

}  // namespace
}  // namespace c8y::rest::testing

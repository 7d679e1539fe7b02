// In a cluster, a REST request for a tenant placed on another node is sent there: a redirect to
// the owner's REST address with the same path and query (307, so a client repeats its method and
// body), or 503 while the owner is down; never a 401 or 404 from a node that does not hold the
// tenant. Tenants served here are untouched.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "plugin/common/placement.h"
#include "tests/unit/rest/rest_fixture.h"

namespace c8y::rest::testing {
namespace {

class FakePlacement : public common::TenantPlacement {
 public:
  common::TenantHome home(std::string_view tenant) const override {
    auto it = elsewhere.find(std::string(tenant));
    return it == elsewhere.end() ? common::TenantHome{} : it->second;
  }
  std::vector<common::PlacedTenant> tenants() const override { return placed; }
  std::map<std::string, common::TenantHome> elsewhere;
  std::vector<common::PlacedTenant> placed;
};

std::string header(const Answer& a, const std::string& name) {
  auto it = a.headers.find(name);
  return it == a.headers.end() ? "" : it->second;
}

class RestPlacementTest : public RestFixture {
 protected:
  void SetUp() override {
    RestFixture::SetUp();
    server_->set_placement(&placement_);
  }
  FakePlacement placement_;
};

TEST_F(RestPlacementTest, ATenantPlacedElsewhereIsRedirectedToItsNode) {
  EXPECT_EQ(admin("GET", "/inventory/managedObjects?pageSize=5").status, 200);
  placement_.elsewhere["t1"] = {false, "n2", "10.0.0.2:8111"};
  Answer a = admin("GET", "/inventory/managedObjects?pageSize=5&q=a%20b");
  EXPECT_EQ(a.status, 307);
  EXPECT_EQ(header(a, "Location"),
            "http://10.0.0.2:8111/inventory/managedObjects?pageSize=5&q=a%20b");
  EXPECT_EQ(a.body["error"], "cluster/tenantElsewhere");
  // A request with a body is redirected on its head, before the body is read.
  EXPECT_EQ(admin("POST", "/inventory/managedObjects", {{"name", "x"}}).status, 307);
  // Also with a wrong password: the owner judges the credentials, not this node.
  EXPECT_EQ(call("GET", "/inventory/managedObjects", basic("t1", "admin", "wrong")).status, 307);
  // A device token of that tenant too.
  EXPECT_EQ(device("GET", "/inventory/managedObjects/" + own_).status, 307);
  // Another tenant is served here as before.
  EXPECT_EQ(call("GET", "/inventory/managedObjects", basic("t2", "admin")).status, 200);
  // The owner down: 503 with Retry-After, not a redirect to nowhere.
  placement_.elsewhere["t1"] = {false, "n2", ""};
  Answer down = admin("GET", "/inventory/managedObjects");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body["error"], "cluster/tenantUnavailable");
  EXPECT_EQ(header(down, "Retry-After"), "5");
  // Open routes need no tenant.
  EXPECT_EQ(call("GET", "/health", "").status, 200);
}

// GET /tenant/tenants in a cluster: every placed tenant, those of other nodes too, each with its
// node and whether that node is alive.
TEST_F(RestPlacementTest, TheTenantListShowsEveryTenantsNode) {
  placement_.placed = {{"t1", "n1", true}, {"t7", "n3", false}};
  Answer a = call("GET", "/tenant/tenants?pageSize=100", basic("management", "admin"));
  ASSERT_EQ(a.status, 200) << a.body.dump();
  std::map<std::string, json> by_id;
  for (auto& t : a.body["tenants"]) by_id[t["id"].get<std::string>()] = t;
  ASSERT_TRUE(by_id.count("t1") && by_id.count("t2") && by_id.count("t7")) << a.body.dump();
  EXPECT_EQ(by_id["t1"]["c8y_Placement"], (json{{"node", "n1"}, {"available", true}}));
  EXPECT_EQ(by_id["t1"]["status"], "ACTIVE");  // held here: what this node knows of it
  EXPECT_EQ(by_id["t7"]["c8y_Placement"], (json{{"node", "n3"}, {"available", false}}));
  EXPECT_FALSE(by_id["t7"].contains("options"));        // another node's tenant: only its placement
  EXPECT_FALSE(by_id["t2"].contains("c8y_Placement"));  // not placed (yet)
}

}  // namespace
}  // namespace c8y::rest::testing

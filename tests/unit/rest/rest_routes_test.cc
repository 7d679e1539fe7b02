// The route table and the authentication it drives: which credentials each route takes (open,
// admin, management admin) and what a device token may do on it (its device scope), through the
// router without a socket.
#include "plugin/rest/rest_routes.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <utility>

#include "tests/unit/rest/rest_fixture.h"

namespace c8y::rest {
namespace {

using nlohmann::json;
using testing::Answer;
using testing::RestFixture;

std::string row_name(const RouteRow& r) {
  return std::string(r.method) + " " + r.pattern;
}

TEST(RestRouteTable, EachRouteOnce) {
  std::set<std::string> seen;
  for (const auto& r : route_table()) EXPECT_TRUE(seen.insert(row_name(r)).second) << row_name(r);
  EXPECT_EQ(seen.size(), 74u);
}

// Open: health, metrics, and the calls between cluster nodes (each authorized by the ticket of a
// change under way, checked against etcd; 404 on a single node).
TEST(RestRouteTable, OnlyHealthMetricsAndTheClusterCallsAreOpen) {
  for (const auto& r : route_table())
    EXPECT_EQ(r.access == Access::kOpen, r.pattern == "/health" || r.pattern == "/metrics" ||
                                             r.pattern.starts_with("/cluster/"))
        << row_name(r);
}

TEST(RestRouteTable, TenantsAndBackupsAreTheManagementAdminsOnly) {
  std::set<std::string> management;
  for (const auto& r : route_table())
    if (r.access == Access::kManagement) management.insert(row_name(r));
  EXPECT_EQ(management, (std::set<std::string>{
                            "GET /tenant/tenants",
                            "POST /tenant/tenants",
                            "GET /tenant/tenants/([^/]+)",
                            "PUT /tenant/tenants/([^/]+)",
                            "DELETE /tenant/tenants/([^/]+)",
                            "POST /tenant/tenants/([^/]+)/move",
                            "POST /admin/backups",
                            "GET /admin/backups",
                            "POST /admin/retention",
                            "POST /admin/backups/([^/]+)/restore",
                        }));
}

// Every route a device token may use, and how; all others are kNone.
TEST(RestRouteTable, DeviceScopes) {
  std::map<std::string, DeviceScope> scoped;
  for (const auto& r : route_table())
    if (r.device != DeviceScope::kNone) scoped.emplace(row_name(r), r.device);
  using enum DeviceScope;
  const std::map<std::string, DeviceScope> expected = {
      {"GET /tenant/currentTenant", kAlways},
      {"GET /identity/externalIds/([^/]+)/(.+)", kOwnSerial},
      {"GET /inventory/managedObjects/([^/]+)", kOwnObject},
      {"GET /inventory/managedObjects/([^/]+)/(childDevices|childAdditions|childAssets)",
       kOwnObject},
      {"GET /inventory/managedObjects/([^/]+)/(supportedMeasurements|supportedSeries)", kOwnObject},
      {"GET /measurement/measurements", kSourceParam},
      {"GET /measurement/measurements/series", kSourceParam},
      {"GET /event/events", kSourceParam},
      {"GET /alarm/alarms", kSourceParam},
      {"GET /devicecontrol/operations", kDeviceIdParam},
      {"POST /measurement/measurements", kBodySource},
      {"POST /event/events", kBodySource},
      {"POST /alarm/alarms", kBodySource},
      {"PUT /devicecontrol/operations/([^/]+)", kOwnOperation},
  };
  EXPECT_EQ(scoped, expected);
}

class RestAuthTest : public RestFixture {};

TEST_F(RestAuthTest, HealthIsOpen) {
  Answer a = call("GET", "/health", "");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, (json{{"status", "UP"}}));
  EXPECT_EQ(call("HEAD", "/health", "").status, 200);
  // A body does not change that: the head is admitted without credentials.
  EXPECT_EQ(call("GET", "/health", "", std::string("{}")).status, 200);
}

TEST_F(RestAuthTest, TheClusterCallsAreAbsentOnASingleNode) {
  for (auto [method, path] : {std::pair{"POST", "/cluster/tenants/t1"},
                              {"DELETE", "/cluster/tenants/t1"},
                              {"POST", "/cluster/moves/t1"},
                              {"POST", "/cluster/imports/t1"},
                              {"GET", "/cluster/exports/t1/system.json"}})
    EXPECT_EQ(call(method, path, "", method == std::string("POST") ? "{}" : "").status, 404)
        << method << " " << path;
  // Nor can a tenant be moved.
  Answer a = call("POST", "/tenant/tenants/t1/move", basic("management", "admin"),
                  std::string(R"({"node":"n2"})"));
  EXPECT_EQ(a.status, 409);
}

TEST_F(RestAuthTest, AdminRoutesNeedValidAdminCredentials) {
  Answer a = call("GET", "/tenant/currentTenant", "");
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body, error("security/Unauthorized", "Authentication required"));
  EXPECT_EQ(a.headers.find("WWW-Authenticate")->second, "Basic realm=\"c8y\"");

  a = call("GET", "/tenant/currentTenant", basic("t1", "admin", "wrong-password"));
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body, error("security/Unauthorized", "Invalid credentials"));

  a = call("GET", "/tenant/currentTenant", "Basic bm9jb2xvbg==");  // "nocolon"
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body, error("security/Unauthorized", "Malformed Basic credentials"));

  a = call("GET", "/tenant/currentTenant", basic("t1", "dev"));
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.body, error("security/Forbidden", "The admin role is required"));

  a = call("GET", "/tenant/currentTenant", basic("t1", "admin"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, (json{{"name", "t1"}, {"self", "http://c8y.test/tenant/currentTenant"}}));
}

TEST_F(RestAuthTest, BadCredentialsAreRefusedOnTheHeadOfARequestWithABody) {
  Request req;
  req.method = "POST";
  req.path = "/event/events";
  req.body = "{}";
  Response res;
  EXPECT_FALSE(server_->admit(req, res));
  EXPECT_EQ(res.status, 401);
  // A device token out of its scope passes the head (credentials only) and is refused before
  // its handler, with the body read.
  EXPECT_EQ(device("POST", "/event/events", {{"source", {{"id", other_}}}}).status, 403);
}

TEST_F(RestAuthTest, TenantRoutesTakeOnlyTheManagementAdmin) {
  Answer a = admin("GET", "/tenant/tenants");
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.body,
            error("security/Forbidden", "Only the management tenant's admin manages tenants"));
  EXPECT_EQ(admin("DELETE", "/tenant/tenants/t2").status, 403);
  EXPECT_EQ(call("GET", "/tenant/tenants", basic("management", "admin")).status, 200);
  EXPECT_EQ(call("GET", "/tenant/tenants/t2", basic("management", "admin")).status, 200);
}

TEST_F(RestAuthTest, UnknownPathsAndMethods) {
  Answer a = admin("GET", "/nothing/here");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body, error("general/404", "No such resource"));
  EXPECT_EQ(call("PATCH", "/inventory/managedObjects", "").status, 404);
  EXPECT_EQ(call("BREW", "/inventory/managedObjects", "").status, 400);
}

// A request of a device token, and the status it gets (403: out of its scope).
struct Case {
  const char* method;
  std::string target;
  json body;
  int status;
};

class RestDeviceScopeTest : public RestFixture {
 protected:
  void expect_all(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
      Answer a = device(c.method, c.target, c.body);
      EXPECT_EQ(a.status, c.status) << c.method << " " << c.target << " " << a.body;
      if (c.status == 403) {
        EXPECT_EQ(a.body,
                  error("security/Forbidden", "A device token reaches only its own device's data"))
            << c.method << " " << c.target;
      }
    }
  }
};

TEST_F(RestDeviceScopeTest, AlwaysReachesTheCurrentTenant) {
  Answer a = device("GET", "/tenant/currentTenant");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["name"], "t1");
}

TEST_F(RestDeviceScopeTest, ReachesItsOwnExternalIdOnly) {
  expect_all({
      {"GET", "/identity/externalIds/c8y_Serial/dev-1", nullptr, 200},
      {"GET", "/identity/externalIds/c8y_Serial/other-1", nullptr, 403},
      {"GET", "/identity/externalIds/c8y_Other/dev-1", nullptr, 403},
      {"GET", "/identity/globalIds/" + own_ + "/externalIds", nullptr, 403},
  });
}

TEST_F(RestDeviceScopeTest, ReadsItsOwnObjectByPathId) {
  const std::string mine = "/inventory/managedObjects/" + own_;
  expect_all({
      {"GET", mine, nullptr, 200},
      {"GET", mine + "/childDevices", nullptr, 200},
      {"GET", mine + "/childAdditions", nullptr, 200},
      {"GET", mine + "/childAssets", nullptr, 200},
      {"GET", mine + "/supportedMeasurements", nullptr, 200},
      {"GET", mine + "/supportedSeries", nullptr, 200},
      {"GET", "/inventory/managedObjects/" + other_, nullptr, 403},
      {"GET", "/inventory/managedObjects/0" + own_, nullptr, 403},
      {"GET", "/inventory/managedObjects/" + other_ + "/childDevices", nullptr, 403},
      {"GET", "/inventory/managedObjects", nullptr, 403},
      {"GET", "/inventory/managedObjects/count", nullptr, 403},
      // Reading is all: no change to its own object either.
      {"PUT", mine, {{"name", "x"}}, 403},
      {"DELETE", mine, nullptr, 403},
      {"POST", mine + "/childDevices", {{"managedObject", {{"id", other_}}}}, 403},
      {"POST", "/inventory/managedObjects", {{"name", "x"}}, 403},
  });
  // HEAD takes the GET routes, but not a device token's scope.
  EXPECT_EQ(call("HEAD", mine, bearer()).status, 403);
  EXPECT_EQ(call("HEAD", mine, basic("t1", "admin")).status, 200);
}

TEST_F(RestDeviceScopeTest, ListsWithItsOwnSourceOrDeviceId) {
  expect_all({
      {"GET", "/measurement/measurements?source=" + own_, nullptr, 200},
      {"GET", "/measurement/measurements/series?source=" + own_, nullptr, 200},
      {"GET", "/event/events?source=" + own_, nullptr, 200},
      {"GET", "/alarm/alarms?source=" + own_, nullptr, 200},
      {"GET", "/devicecontrol/operations?deviceId=" + own_, nullptr, 200},
      {"GET", "/measurement/measurements?source=" + other_, nullptr, 403},
      {"GET", "/measurement/measurements", nullptr, 403},
      {"GET", "/event/events?source=" + other_, nullptr, 403},
      {"GET", "/alarm/alarms?source=" + other_, nullptr, 403},
      {"GET", "/alarm/alarms/count?source=" + own_, nullptr, 403},
      {"GET", "/devicecontrol/operations?deviceId=" + other_, nullptr, 403},
      {"GET", "/devicecontrol/operations?source=" + own_, nullptr, 403},
      {"GET", "/event/events?deviceId=" + own_, nullptr, 403},
  });
}

TEST_F(RestDeviceScopeTest, CreatesDataWithItsOwnSourceInTheBody) {
  const json event = {{"type", "t"}, {"text", "x"}, {"time", "2026-01-01T00:00:00Z"}};
  json own_event = event, other_event = event, number_event = event;
  own_event["source"] = {{"id", own_}};
  other_event["source"] = {{"id", other_}};
  number_event["source"] = {{"id", std::stoull(own_)}};  // the id as a number is not its own
  json alarm = own_event;
  alarm["severity"] = "MAJOR";
  const json measurement = {{"source", {{"id", own_}}},
                            {"type", "t"},
                            {"time", "2026-01-01T00:00:00Z"},
                            {"c8y_T", {{"T", {{"value", 1}}}}}};
  expect_all({
      {"POST", "/event/events", own_event, 201},
      {"POST", "/alarm/alarms", alarm, 201},
      {"POST", "/measurement/measurements", measurement, 201},
      {"POST", "/event/events", other_event, 403},
      {"POST", "/event/events", number_event, 403},
      {"POST", "/event/events", event, 403},
      {"POST", "/devicecontrol/operations", {{"deviceId", own_}}, 403},
  });
  // A body that is not JSON is outside the scope too (403, not the handler's 400).
  EXPECT_EQ(call("POST", "/event/events", bearer(), std::string("{not json")).status, 403);
}

TEST_F(RestDeviceScopeTest, UpdatesItsOwnOperationsOnly) {
  Answer mine =
      admin("POST", "/devicecontrol/operations", {{"deviceId", own_}, {"c8y_Restart", {}}});
  ASSERT_EQ(mine.status, 201);
  Answer theirs =
      admin("POST", "/devicecontrol/operations", {{"deviceId", other_}, {"c8y_Restart", {}}});
  ASSERT_EQ(theirs.status, 201);
  const std::string ops = "/devicecontrol/operations/";
  const json executing = {{"status", "EXECUTING"}};
  expect_all({
      {"PUT", ops + mine.body["id"].get<std::string>(), executing, 200},
      {"PUT", ops + theirs.body["id"].get<std::string>(), executing, 403},
      {"PUT", ops + "999999", executing, 403},
      {"PUT", ops + "x", executing, 403},
      {"GET", ops + mine.body["id"].get<std::string>(), nullptr, 403},
  });
}

TEST_F(RestDeviceScopeTest, ReachesNothingElse) {
  expect_all({
      {"GET", "/application/applications", nullptr, 403},
      {"GET", "/user/currentUser", nullptr, 403},
      {"GET", "/user/t1/users", nullptr, 403},
      {"GET", "/tenant/tenants", nullptr, 403},
      {"GET", "/tenant/tenants/t1/trusted-certificates", nullptr, 403},
      {"GET", "/devicecontrol/newDeviceRequests", nullptr, 403},
      {"GET", "/audit/auditRecords", nullptr, 403},
      {"DELETE", "/event/events/1", nullptr, 403},
      {"PUT", "/alarm/alarms?source=" + own_, {{"status", "CLEARED"}}, 403},
  });
}

TEST_F(RestDeviceScopeTest, OfADeviceWithoutItsObjectReachesNoObject) {
  const std::string token = bearer("not-yet");
  EXPECT_EQ(call("GET", "/tenant/currentTenant", token).status, 200);
  EXPECT_EQ(call("GET", "/inventory/managedObjects/" + own_, token).status, 403);
  EXPECT_EQ(call("GET", "/event/events?source=" + own_, token).status, 403);
}

TEST_F(RestDeviceScopeTest, BadOrDeadTokensAre401) {
  Answer a = call("GET", "/tenant/currentTenant", "Bearer garbage");
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body, error("security/Unauthorized", "Invalid or expired token"));
  EXPECT_EQ(a.headers.find("WWW-Authenticate")->second, "Bearer realm=\"c8y\"");
  const std::string token = bearer();
  auto u = directory_->user("t1", "dev");
  u->enabled = false;
  ASSERT_TRUE(directory_->put_user(*u).ok());
  EXPECT_EQ(call("GET", "/tenant/currentTenant", token).status, 401);
}

}  // namespace
}  // namespace c8y::rest

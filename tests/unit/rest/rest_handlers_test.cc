// REST handlers end to end through the router, without a socket: a request in, the status, the
// JSON answer and what went to the broker thread (the outbox) out. An admin of t1 calls unless a
// test says otherwise.
#include <gtest/gtest.h>

#include <filesystem>

#include <string>

#include "storage/keys.h"
#include "tests/unit/rest/rest_fixture.h"

namespace c8y::rest {
namespace {

using nlohmann::json;
using testing::Answer;
using testing::RestFixture;

class RestHandlersTest : public RestFixture {
 protected:
  json event_body(const std::string& source) {
    return {{"source", {{"id", source}}},
            {"type", "c8y_Test"},
            {"text", "hello"},
            {"time", "2026-01-01T00:00:00Z"}};
  }
  json alarm_body(const std::string& source, const std::string& type = "c8y_Hot") {
    return {{"source", {{"id", source}}},
            {"type", type},
            {"text", "too hot"},
            {"severity", "MAJOR"},
            {"time", "2026-01-01T00:00:00Z"}};
  }
};

TEST_F(RestHandlersTest, ManagedObjectCreateReadUpdateDelete) {
  Answer a = admin("POST", "/inventory/managedObjects", {{"name", "box"}, {"type", "c8y_Box"}});
  ASSERT_EQ(a.status, 201) << a.body;
  const std::string id = a.body["id"];
  EXPECT_EQ(a.body["self"], "http://c8y.test/inventory/managedObjects/" + id);
  EXPECT_EQ(pushed<common::outbox::Publish>().size(), 2u);  // notification and processing stream

  a = admin("GET", "/inventory/managedObjects/" + id);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["name"], "box");

  a = admin("PUT", "/inventory/managedObjects/" + id, {{"name", "crate"}});
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["name"], "crate");
  auto changed = pushed<common::outbox::ObjectChanged>();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].object_id, id);
  EXPECT_FALSE(changed[0].deleted);

  EXPECT_EQ(admin("POST", "/inventory/managedObjects", {{"name", 5}}).body,
            error("validationError", "name must be a string"));

  EXPECT_EQ(admin("DELETE", "/inventory/managedObjects/" + id).status, 204);
  changed = pushed<common::outbox::ObjectChanged>();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_TRUE(changed[0].deleted);
  a = admin("GET", "/inventory/managedObjects/" + id);
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body, error("inventory/Not Found",
                          "Finding device data from database failed : No managedObject for id '" +
                              id + "'!"));
  EXPECT_EQ(admin("DELETE", "/inventory/managedObjects/" + id).status, 404);
  EXPECT_EQ(admin("GET", "/inventory/managedObjects/x").status, 404);
}

TEST_F(RestHandlersTest, ManagedObjectListAndCountTakeTheSameFilters) {
  Answer a = admin("GET", "/inventory/managedObjects?pageSize=10&withTotalElements=true");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["managedObjects"].size(), 2u);
  EXPECT_EQ(a.body["statistics"]["totalElements"], 2);

  a = admin("GET", "/inventory/managedObjects/count?query=name eq 'dev-1'");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, 1);
  EXPECT_EQ(admin("GET", "/inventory/managedObjects/count?q=").body, 2);  // both are devices

  for (const char* path : {"/inventory/managedObjects", "/inventory/managedObjects/count"}) {
    a = admin("GET", std::string(path) + "?text=x");
    EXPECT_EQ(a.status, 400) << path;
    EXPECT_EQ(a.body,
              error("general/badRequest", "Query parameter text is not supported by this server"));
    a = admin("GET", std::string(path) + "?query=a&q=b");
    EXPECT_EQ(a.body, error("general/badRequest", "Use either query or q, not both")) << path;
    a = admin("GET", std::string(path) + "?query=name eq");
    EXPECT_EQ(a.status, 400) << path;
    EXPECT_EQ(a.body["message"].get<std::string>().rfind("Invalid query parameter query: ", 0), 0u)
        << a.body;
  }
  // The list's own parameters are not the count's.
  EXPECT_EQ(admin("GET", "/inventory/managedObjects?withChildren=maybe").status, 400);
  EXPECT_EQ(admin("GET", "/inventory/managedObjects/count?withChildren=maybe").status, 200);
}

TEST_F(RestHandlersTest, ChildReferencesAddListAndRemove) {
  const std::string devices = "/inventory/managedObjects/" + own_ + "/childDevices";
  Answer a = admin("POST", devices, {{"managedObject", {{"id", other_}}}});
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(
      a.body,
      (json{{"managedObject",
             {{"id", other_}, {"self", "http://c8y.test/inventory/managedObjects/" + other_}}}}));
  EXPECT_EQ(pushed<common::outbox::ObjectChanged>().size(), 2u);  // parent and child

  a = admin("GET", devices);
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(a.body["references"].size(), 1u);
  EXPECT_EQ(a.body["references"][0]["managedObject"]["id"], other_);
  EXPECT_EQ(a.body["self"], "http://c8y.test" + devices);

  auto missing = [](const std::string& id) {
    return error(
        "inventory/Not Found",
        "Finding device data from database failed : No managedObject for id '" + id + "'!");
  };
  // Adding: a missing child is named, else the parent.
  EXPECT_EQ(admin("POST", devices, {{"managedObject", {{"id", "987654"}}}}).body,
            missing("987654"));
  EXPECT_EQ(admin("POST", "/inventory/managedObjects/987654/childAssets",
                  {{"managedObject", {{"id", own_}}}})
                .body,
            missing("987654"));
  EXPECT_EQ(admin("POST", devices, json::object()).body,
            error("validationError", "managedObject.id is mandatory"));
  a = admin("POST", devices, {{"managedObject", {{"id", own_}}}});
  EXPECT_EQ(a.status, 422);  // its own child
  EXPECT_EQ(a.body["error"], "validationError");

  // Removing: a missing parent is named, else the child (also when it is not in that list).
  EXPECT_EQ(admin("DELETE", "/inventory/managedObjects/987654/childDevices/" + other_).body,
            missing("987654"));
  EXPECT_EQ(admin("DELETE", "/inventory/managedObjects/" + own_ + "/childAssets/" + other_).body,
            missing(other_));
  EXPECT_EQ(admin("DELETE", devices + "/987654").body, missing("987654"));
  pushed<common::outbox::ObjectChanged>();
  EXPECT_EQ(admin("DELETE", devices + "/" + other_).status, 204);
  EXPECT_EQ(pushed<common::outbox::ObjectChanged>().size(), 2u);
  EXPECT_EQ(admin("GET", devices).body["references"], json::array());
}

TEST_F(RestHandlersTest, ExternalIds) {
  Answer a = admin("GET", "/identity/externalIds/c8y_Serial/dev-1");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["managedObject"]["id"], own_);
  a = admin("GET", "/identity/externalIds/c8y_Serial/nobody");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body, error("identity/Not Found",
                          "External id not found; external id = ID [type=c8y_Serial, "
                          "value=nobody]"));
  const std::string ids = "/identity/globalIds/" + own_ + "/externalIds";
  EXPECT_EQ(admin("POST", ids, {{"type", "c8y_Imei"}, {"externalId", "42"}}).status, 201);
  a = admin("GET", ids);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["externalIds"].size(), 2u);
  a = admin("POST", "/identity/globalIds/" + other_ + "/externalIds",
            {{"type", "c8y_Imei"}, {"externalId", "42"}});
  EXPECT_EQ(a.status, 409);
  EXPECT_EQ(a.body["error"], "identity/Conflict");
  EXPECT_EQ(admin("POST", ids, {{"type", ""}, {"externalId", "1"}}).status, 422);
}

TEST_F(RestHandlersTest, EventsCreateReadUpdateDelete) {
  Answer a = admin("POST", "/event/events", event_body(own_));
  ASSERT_EQ(a.status, 201) << a.body;
  const std::string id = a.body["id"];
  EXPECT_EQ(a.body["self"], "http://c8y.test/event/events/" + id);
  EXPECT_EQ(a.body["source"]["self"], "http://c8y.test/inventory/managedObjects/" + own_);

  a = admin("GET", "/event/events/" + id);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["text"], "hello");
  a = admin("PUT", "/event/events/" + id, {{"text", "changed"}});
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["text"], "changed");
  EXPECT_EQ(admin("PUT", "/event/events/" + id, {{"text", 1}}).body,
            error("validationError", "text must be a string"));

  a = admin("GET", "/event/events?source=" + own_ + "&withTotalPages=true");
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(a.body["events"].size(), 1u);
  EXPECT_EQ(a.body["events"][0]["self"], "http://c8y.test/event/events/" + id);
  EXPECT_EQ(a.body["statistics"]["totalPages"], 1);
  EXPECT_EQ(admin("GET", "/event/events?source=" + other_).body["events"], json::array());

  EXPECT_EQ(admin("DELETE", "/event/events/" + id).status, 204);
  a = admin("GET", "/event/events/" + id);
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body, error("event/Not Found", "Event with id '" + id + "' not found"));
  EXPECT_EQ(admin("PUT", "/event/events/x", json::object()).body,
            error("event/Not Found", "Event with id 'x' not found"));
  EXPECT_EQ(admin("DELETE", "/event/events/" + id).status, 404);
}

TEST_F(RestHandlersTest, NewEventsAlarmsAndMeasurementsNameTheirSource) {
  EXPECT_EQ(admin("POST", "/event/events", json::object()).body,
            error("validationError", "source.id, text, time and type are mandatory"));
  EXPECT_EQ(admin("POST", "/alarm/alarms", {{"type", "t"}}).body,
            error("validationError", "severity, source.id, text and time are mandatory"));
  EXPECT_EQ(admin("POST", "/measurement/measurements", {{"c8y_T", {{"T", {{"value", 1}}}}}}).body,
            error("validationError", "source.id, time and type are mandatory"));
  const json unknown = error("validationError", "source.id is not the id of a managed object");
  EXPECT_EQ(admin("POST", "/event/events", event_body("987654")).body, unknown);
  EXPECT_EQ(admin("POST", "/alarm/alarms", alarm_body("987654")).body, unknown);
  EXPECT_EQ(admin("POST", "/measurement/measurements",
                  {{"source", {{"id", "987654"}}},
                   {"type", "t"},
                   {"time", "2026-01-01T00:00:00Z"},
                   {"c8y_T", {{"T", {{"value", 1}}}}}})
                .body,
            unknown);
  // An admin may name the source as a number.
  json numbered = event_body(own_);
  numbered["source"]["id"] = std::stoull(own_);
  EXPECT_EQ(admin("POST", "/event/events", numbered).status, 201);
}

TEST_F(RestHandlersTest, BadBodiesAndParameters) {
  Answer a = call("POST", "/event/events", basic("t1", "admin"), std::string("{nope"));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body, error("general/badRequest", "Request body is not valid JSON"));
  a = call("POST", "/event/events", basic("t1", "admin"), std::string("[1]"));
  EXPECT_EQ(a.body, error("general/badRequest", "Request body must be a JSON object"));
  for (const char* list :
       {"/event/events", "/alarm/alarms", "/measurement/measurements", "/audit/auditRecords"}) {
    a = admin("GET", std::string(list) + "?dateFrom=yesterday");
    EXPECT_EQ(a.status, 400) << list;
    EXPECT_EQ(a.body,
              error("general/badRequest", "Invalid value of query parameter dateFrom: 'yesterday'"))
        << list;
    a = admin("GET", std::string(list) + "?source=x&dateFrom=yesterday");
    EXPECT_EQ(a.body, error("general/badRequest", "Invalid value of query parameter source: 'x'"))
        << list;
    EXPECT_EQ(admin("GET", std::string(list) + "?revert=yes").status, 400) << list;
    EXPECT_EQ(admin("GET", std::string(list) + "?pageSize=0").status, 400) << list;
  }
  EXPECT_EQ(admin("GET", "/measurement/measurements/series").body,
            error("general/badRequest", "Query parameter source is mandatory"));
}

TEST_F(RestHandlersTest, AlarmsListCountAndUpdate) {
  Answer a = admin("POST", "/alarm/alarms", alarm_body(own_));
  ASSERT_EQ(a.status, 201) << a.body;
  const std::string id = a.body["id"];
  EXPECT_EQ(a.body["source"]["self"], "http://c8y.test/inventory/managedObjects/" + own_);
  ASSERT_EQ(admin("POST", "/alarm/alarms", alarm_body(other_, "c8y_Cold")).status, 201);

  EXPECT_EQ(admin("GET", "/alarm/alarms/count").body, 2);
  EXPECT_EQ(admin("GET", "/alarm/alarms/count?source=" + own_).body, 1);
  a = admin("GET", "/alarm/alarms/count?status=BURNING");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body,
            error("general/badRequest", "Invalid value of query parameter status: 'BURNING'"));
  EXPECT_EQ(admin("GET", "/alarm/alarms?severity=HUGE").body,
            error("general/badRequest", "Invalid value of query parameter severity: 'HUGE'"));
  a = admin("GET", "/alarm/alarms?type=c8y_Cold");
  ASSERT_EQ(a.body["alarms"].size(), 1u);
  EXPECT_EQ(a.body["alarms"][0]["source"]["id"], other_);

  a = admin("PUT", "/alarm/alarms/" + id, {{"status", "ACKNOWLEDGED"}});
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["status"], "ACKNOWLEDGED");
  EXPECT_EQ(admin("GET", "/alarm/alarms/987654").body,
            error("alarm/Not Found", "Alarm with id '987654' not found"));

  EXPECT_EQ(admin("PUT", "/alarm/alarms?status=ACTIVE", {{"status", "NOPE"}}).body,
            error("validationError", "status must be ACTIVE, ACKNOWLEDGED or CLEARED"));
  a = admin("PUT", "/alarm/alarms?status=ACTIVE", {{"status", "CLEARED"}});
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, (json{{"updated", 1}}));
  EXPECT_EQ(admin("GET", "/alarm/alarms/count?status=ACTIVE").body, 0);
}

TEST_F(RestHandlersTest, OperationsGoToTheBrokerThreadForDelivery) {
  Answer a = admin("POST", "/devicecontrol/operations", {{"deviceId", own_}, {"c8y_Restart", {}}});
  ASSERT_EQ(a.status, 201) << a.body;
  const std::string id = a.body["id"];
  EXPECT_EQ(a.body["self"], "http://c8y.test/devicecontrol/operations/" + id);
  auto delivered = pushed<common::outbox::DeliverOperation>();
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].tenant, "t1");
  EXPECT_EQ(delivered[0].operation_id, id);

  EXPECT_EQ(
      admin("POST", "/devicecontrol/operations", {{"c8y_Restart", {}}}).body,
      error("validationError", "deviceId is mandatory and must be the id of a managed object"));
  a = admin("GET", "/devicecontrol/operations?deviceId=" + own_);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["operations"].size(), 1u);
  EXPECT_EQ(admin("GET", "/devicecontrol/operations?status=LOST").status, 400);
  EXPECT_EQ(admin("GET", "/devicecontrol/operations/987654").body,
            error("devicecontrol/Not Found", "Operation with id '987654' not found"));
  a = admin("PUT", "/devicecontrol/operations/" + id, {{"status", "SUCCESSFUL"}});
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body["status"], "SUCCESSFUL");
}

TEST_F(RestHandlersTest, NewDeviceRequestsOnePerSerial) {
  Answer a = admin("POST", "/devicecontrol/newDeviceRequests", {{"id", "box-7"}});
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(a.body["status"], "WAITING_FOR_CONNECTION");
  EXPECT_EQ(a.body["self"], "http://c8y.test/devicecontrol/newDeviceRequests/box-7");
  const json taken = error("devicecontrol/Conflict", "A request for device box-7 exists already");
  EXPECT_EQ(admin("POST", "/devicecontrol/newDeviceRequests", {{"id", "box-7"}}).body, taken);
  a = call("POST", "/devicecontrol/newDeviceRequests", basic("t2", "admin"),
           json{{"id", "box-7"}}.dump());
  EXPECT_EQ(a.status, 409);  // another tenant's serial: taken, without saying whose
  EXPECT_EQ(a.body, taken);
  a = admin("POST", "/devicecontrol/newDeviceRequests", {{"id", "a/b"}});
  EXPECT_EQ(a.status, 422);
  EXPECT_EQ(a.body["error"], "validationError");
  EXPECT_EQ(
      admin("POST", "/devicecontrol/newDeviceRequests", {{"id", "box-8"}, {"status", "ACCEPTED"}})
          .body,
      error("validationError", "A new request starts as WAITING_FOR_CONNECTION"));

  a = admin("GET", "/devicecontrol/newDeviceRequests?withTotalElements=true");
  EXPECT_EQ(a.body["newDeviceRequests"].size(), 1u);
  EXPECT_EQ(a.body["statistics"]["totalElements"], 1);
  EXPECT_EQ(call("GET", "/devicecontrol/newDeviceRequests/box-7", basic("t2", "admin")).status,
            404);
  a = admin("PUT", "/devicecontrol/newDeviceRequests/box-7", {{"status", "ACCEPTED"}});
  EXPECT_EQ(a.status, 422);  // the device has not polled yet
  EXPECT_EQ(admin("DELETE", "/devicecontrol/newDeviceRequests/box-7").status, 204);
  EXPECT_EQ(admin("DELETE", "/devicecontrol/newDeviceRequests/box-7").status, 404);
}

TEST_F(RestHandlersTest, UsersAndCertificatesOfAnotherTenantLookAbsent) {
  Answer a = admin("GET", "/user/t2/users");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body, error("user/Not Found", "Tenant t2 not found"));
  a = admin("GET", "/tenant/tenants/t2/trusted-certificates");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body, error("tenant/Not Found", "Tenant t2 not found"));
  EXPECT_EQ(call("GET", "/user/t2/users", basic("management", "admin")).status, 200);
  EXPECT_EQ(call("GET", "/user/t9/users", basic("management", "admin")).body,
            error("user/Not Found", "Tenant t9 not found"));
  a = admin("GET", "/tenant/tenants/t1/trusted-certificates");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["certificates"], json::array());
  EXPECT_EQ(admin("GET", "/tenant/tenants/t1/trusted-certificates/abcd").body,
            error("tenant/Not Found", "No trusted certificate abcd"));
}

TEST_F(RestHandlersTest, UserChangesAreAuditedAndKickTheirSessions) {
  Answer a = admin("POST", "/user/t1/users",
                   {{"userName", "ann"}, {"password", "ann-password"}, {"roles", {"admin"}}});
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(a.body["roles"], json::array({"admin"}));
  EXPECT_EQ(
      admin("POST", "/user/t1/users", {{"userName", "ann"}, {"password", "ann-password"}}).body,
      error("user/Conflict", "User ann exists already"));
  a = admin("PUT", "/user/t1/users/ann", {{"enabled", false}});
  EXPECT_EQ(a.status, 200);
  auto kicked = pushed<common::outbox::KickUsers>();
  ASSERT_EQ(kicked.size(), 1u);
  EXPECT_EQ(kicked[0].user, "ann");
  EXPECT_EQ(admin("DELETE", "/user/t1/users/admin").body,
            error("validationError", "A user cannot delete itself"));

  a = admin("GET", "/audit/auditRecords?type=User&pageSize=10");
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(a.body["auditRecords"].size(), 2u);
  EXPECT_EQ(a.body["auditRecords"][0]["activity"], "User created");  // oldest first
  EXPECT_EQ(a.body["auditRecords"][1]["activity"], "User updated");
  const std::string id = a.body["auditRecords"][0]["id"];
  a = admin("GET", "/audit/auditRecords/" + id);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["self"], "http://c8y.test/audit/auditRecords/" + id);
  EXPECT_EQ(admin("GET", "/audit/auditRecords/987654").body,
            error("audit/Not Found", "Audit record with id '987654' not found"));
  EXPECT_EQ(admin("GET", "/audit/auditRecords?application=x").status, 400);
}

TEST_F(RestHandlersTest, TenantsByTheManagementAdmin) {
  const std::string mgmt = basic("management", "admin");
  Answer a = call("POST", "/tenant/tenants", mgmt,
                  json{{"id", "t3"}, {"adminName", "boss"}, {"adminPass", "boss-pass"}}.dump());
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(a.body["self"], "http://c8y.test/tenant/tenants/t3");
  EXPECT_EQ(call("GET", "/tenant/currentTenant", basic("t3", "boss", "boss-pass")).status, 200);
  EXPECT_EQ(call("POST", "/tenant/tenants", mgmt, json{{"id", "t3"}}.dump()).body,
            error("tenant/Conflict", "Tenant t3 exists already"));
  a = call("GET", "/tenant/tenants?pageSize=2&currentPage=2", mgmt);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["tenants"].size(), 2u);  // management, t1 | t2, t3
  EXPECT_EQ(a.body["tenants"][0]["id"], "t2");
  EXPECT_EQ(call("DELETE", "/tenant/tenants/management", mgmt).body,
            error("validationError", "The management tenant cannot be deleted"));
  EXPECT_EQ(call("DELETE", "/tenant/tenants/t3", mgmt).status, 204);
  EXPECT_EQ(call("GET", "/tenant/tenants/t3", mgmt).body,
            error("tenant/Not Found", "Tenant t3 not found"));
}

TEST_F(RestHandlersTest, MeasurementsAndTheirSeries) {
  for (int v : {20, 21}) {
    Answer a = admin("POST", "/measurement/measurements",
                     {{"source", {{"id", own_}}},
                      {"type", "c8y_Temperature"},
                      {"time", "2026-01-01T00:00:0" + std::to_string(v - 20) + "Z"},
                      {"c8y_Temperature", {{"T", {{"value", v}, {"unit", "C"}}}}}});
    ASSERT_EQ(a.status, 201) << a.body;
  }
  ASSERT_TRUE(store_->settle().ok());
  Answer a = admin("GET", "/measurement/measurements?source=" + own_);
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(a.body["measurements"].size(), 2u);
  EXPECT_EQ(a.body["measurements"][0]["c8y_Temperature"]["T"]["value"], 20);  // oldest first
  EXPECT_EQ(a.body["measurements"][0]["source"]["self"],
            "http://c8y.test/inventory/managedObjects/" + own_);
  EXPECT_EQ(admin("GET", "/inventory/managedObjects/" + own_ + "/supportedSeries").body,
            (json{{"c8y_SupportedSeries", {"c8y_Temperature.T"}}}));
  EXPECT_EQ(admin("GET", "/inventory/managedObjects/" + own_ + "/supportedMeasurements").body,
            (json{{"c8y_SupportedMeasurements", {"c8y_Temperature"}}}));
  a = admin("GET", "/measurement/measurements/series?source=" + own_ +
                       "&dateFrom=2026-01-01T00:00:00Z&dateTo=2026-01-02T00:00:00Z");
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body["series"].size(), 1u) << a.body;
}

TEST_F(RestHandlersTest, ApplicationsAreAnEmptyCollection) {
  Answer a = admin("GET", "/application/applications?withTotalPages=true");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["applications"], json::array());
  EXPECT_EQ(a.body["statistics"]["totalPages"], 0);
}

// ---- GET /metrics
// --------------------------------------------------------------------------------

TEST_F(RestHandlersTest, MetricsAreOpenAndCountRequestsOperationsAndTenants) {
  EXPECT_EQ(admin("GET", "/inventory/managedObjects").status, 200);
  EXPECT_EQ(call("GET", "/inventory/managedObjects", "").status, 401);
  EXPECT_EQ(admin("GET", "/no/such/thing").status, 404);
  Answer op = admin("POST", "/devicecontrol/operations",
                    {{"deviceId", own_}, {"c8y_Restart", json::object()}});
  ASSERT_EQ(op.status, 201) << op.body;
  EXPECT_EQ(admin("PUT", "/devicecontrol/operations/" + op.body["id"].get<std::string>(),
                  {{"status", "EXECUTING"}})
                .status,
            200);

  Answer m = call("GET", "/metrics", "");  // no credentials
  ASSERT_EQ(m.status, 200);
  ASSERT_EQ(m.headers.count("Content-Type"), 1u);
  EXPECT_TRUE(m.headers.find("Content-Type")->second.starts_with("text/plain"));
  const std::string& t = m.text;
  auto has = [&](const std::string& line) {
    return t.find("\n" + line + "\n") != std::string::npos;
  };
  EXPECT_TRUE(has("# TYPE c8y_messages_received_total counter")) << t;
  EXPECT_TRUE(has("c8y_rest_requests_total{code=\"2xx\"} 3")) << t;
  EXPECT_TRUE(has("c8y_rest_requests_total{code=\"4xx\"} 2")) << t;
  EXPECT_TRUE(has("c8y_rest_request_duration_seconds_count 4")) << t;  // routed requests
  EXPECT_TRUE(has("c8y_operations_total{tenant=\"t1\",status=\"PENDING\"} 1")) << t;
  EXPECT_TRUE(has("c8y_operations_total{tenant=\"t1\",status=\"EXECUTING\"} 1")) << t;
  EXPECT_TRUE(has("c8y_operations_total{tenant=\"t1\",status=\"SUCCESSFUL\"} 0")) << t;
  EXPECT_TRUE(has("c8y_devices_connected{tenant=\"t1\"} 0")) << t;
  EXPECT_NE(t.find("\nc8y_ingest_log_records "), std::string::npos) << t;
  EXPECT_NE(t.find("c8y_storage_bytes{tenant=\"t1\"} "), std::string::npos) << t;
}

// ---- /admin/backups
// ------------------------------------------------------------------------------

TEST_F(RestHandlersTest, BackupsByTheManagementAdminAreCompleteDataDirectories) {
  const std::string mgmt = basic("management", "admin");
  EXPECT_EQ(call("POST", "/admin/backups", mgmt).status, 409);  // no plugin_opt_backup_dir
  const std::string root = dir_.path() + "/backups";
  ASSERT_TRUE(std::filesystem::create_directory(root));
  server_->set_backup_dir(root);
  Answer mo = admin("POST", "/inventory/managedObjects", {{"name", "kept"}});
  ASSERT_EQ(mo.status, 201);
  EXPECT_EQ(admin("POST", "/admin/backups").status, 403);  // a tenant's admin may not
  Answer b = call("POST", "/admin/backups", mgmt);
  ASSERT_EQ(b.status, 201) << b.body;
  const std::string path = b.body["path"];
  EXPECT_EQ(path, root + "/" + b.body["id"].get<std::string>());
  EXPECT_GT(b.body["bytes"].get<uint64_t>(), 0u);
  Answer listed = call("GET", "/admin/backups", mgmt);
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.body["backups"].size(), 1u);
  EXPECT_EQ(listed.body["backups"][0]["id"], b.body["id"]);
  // What the backup holds: the object made before it, in t1's family, found by a store opened
  // on a copy of the backup (as scripts/restore.sh makes it).
  const std::string copy = dir_.path() + "/restored";
  std::filesystem::copy(path, copy);
  storage::StoreOptions o;
  o.path = copy;
  std::string error;
  auto restored = storage::Store::open(o, &error);
  ASSERT_TRUE(restored) << error;
  const storage::Family* t1 = restored->tenant("t1");
  ASSERT_TRUE(t1);
  std::string value;
  auto id = domain::parse_id(mo.body["id"].get<std::string>());
  ASSERT_TRUE(id);
  ASSERT_TRUE(restored->get(t1, storage::key::managed_object(*id), &value).ok());
  EXPECT_NE(value.find("kept"), std::string::npos);
}

}  // namespace
}  // namespace c8y::rest

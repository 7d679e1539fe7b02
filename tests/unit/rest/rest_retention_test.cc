// /retention/retentions (a tenant's rules) and POST /admin/retention through the router.
#include <gtest/gtest.h>

#include <string>

#include <chrono>

#include "plugin/common/values.h"
#include "plugin/domain/events.h"
#include "plugin/domain/retention.h"
#include "tests/unit/rest/rest_fixture.h"

namespace c8y::rest {
namespace {

using nlohmann::json;
using testing::Answer;
using testing::RestFixture;

class RestRetentionTest : public RestFixture {};

TEST_F(RestRetentionTest, CreateListGetUpdateDelete) {
  Answer empty = admin("GET", "/retention/retentions");
  ASSERT_EQ(empty.status, 200) << empty.text;
  EXPECT_EQ(empty.body["retentionRules"], json::array());
  EXPECT_TRUE(empty.body.contains("statistics"));
  EXPECT_TRUE(empty.body.contains("self"));

  Answer made = admin("POST", "/retention/retentions",
                      {{"dataType", "EVENT"}, {"type", "c8y_Log"}, {"maximumAge", 30}});
  ASSERT_EQ(made.status, 201) << made.text;
  const std::string id = made.body["id"];
  EXPECT_EQ(made.body, (json{{"id", id},
                             {"dataType", "EVENT"},
                             {"fragmentType", "*"},
                             {"type", "c8y_Log"},
                             {"source", "*"},
                             {"maximumAge", 30},
                             {"editable", true},
                             {"self", "http://c8y.test/retention/retentions/" + id}}));
  Answer second = admin("POST", "/retention/retentions",
                        {{"dataType", "MEASUREMENT"}, {"source", own_}, {"maximumAge", 7}});
  ASSERT_EQ(second.status, 201) << second.text;

  Answer list = admin("GET", "/retention/retentions?pageSize=1");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body["retentionRules"].size(), 1u);
  EXPECT_EQ(list.body["retentionRules"][0]["id"], id);
  EXPECT_EQ(list.body["statistics"]["totalPages"], 2);
  EXPECT_TRUE(list.body.contains("next"));

  EXPECT_EQ(admin("GET", "/retention/retentions/" + id).body, made.body);
  Answer changed = admin("PUT", "/retention/retentions/" + id, {{"maximumAge", 90}});
  ASSERT_EQ(changed.status, 200) << changed.text;
  EXPECT_EQ(changed.body["maximumAge"], 90);
  EXPECT_EQ(changed.body["type"], "c8y_Log");
  EXPECT_EQ(admin("GET", "/retention/retentions/" + id).body["maximumAge"], 90);

  EXPECT_EQ(admin("DELETE", "/retention/retentions/" + id).status, 204);
  Answer gone = admin("GET", "/retention/retentions/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body["error"], "retention/Not Found");
  EXPECT_EQ(admin("DELETE", "/retention/retentions/" + id).status, 404);
  EXPECT_EQ(admin("PUT", "/retention/retentions/" + id, {{"maximumAge", 1}}).status, 404);
  EXPECT_EQ(admin("GET", "/retention/retentions/not-an-id").status, 404);
  EXPECT_EQ(admin("GET", "/retention/retentions").body["retentionRules"].size(), 1u);
}

TEST_F(RestRetentionTest, BadRulesAre422WithTheReason) {
  auto bad = [&](const json& body, const std::string& fragment) {
    Answer a = admin("POST", "/retention/retentions", body);
    EXPECT_EQ(a.status, 422) << body.dump() << " " << a.text;
    EXPECT_EQ(a.body["error"], "validationError");
    EXPECT_NE(a.body.value("message", "").find(fragment), std::string::npos) << a.text;
  };
  bad({{"dataType", "AUDIT"}, {"maximumAge", 1}}, "dataType");
  bad({{"dataType", "EVENT"}}, "maximumAge");
  bad({{"maximumAge", -3}}, "maximumAge");
  bad({{"maximumAge", "ten"}}, "maximumAge");
  bad({{"maximumAge", 3}, {"source", "x1"}}, "source");
  EXPECT_EQ(call("POST", "/retention/retentions", basic("t1", "admin"), "{not json").status, 400);
  EXPECT_EQ(call("POST", "/retention/retentions", basic("t1", "admin"), "[1]").status, 400);
  Answer made = admin("POST", "/retention/retentions", {{"maximumAge", 3}});
  ASSERT_EQ(made.status, 201);
  EXPECT_EQ(made.body["dataType"], "*");
  const std::string id = made.body["id"];
  Answer a = admin("PUT", "/retention/retentions/" + id, {{"maximumAge", 1.5}});
  EXPECT_EQ(a.status, 422);
  EXPECT_EQ(admin("GET", "/retention/retentions/" + id).body["maximumAge"], 3);
  EXPECT_EQ(admin("GET", "/retention/retentions").body["retentionRules"].size(), 1u);
}

TEST_F(RestRetentionTest, RulesBelongToTheTenantAndItsAdmin) {
  Answer made = admin("POST", "/retention/retentions", {{"maximumAge", 3}});
  ASSERT_EQ(made.status, 201);
  const std::string id = made.body["id"];
  const std::string t2 = basic("t2", "admin");
  EXPECT_EQ(call("GET", "/retention/retentions/" + id, t2).status, 404);
  EXPECT_EQ(call("DELETE", "/retention/retentions/" + id, t2).status, 404);
  EXPECT_EQ(call("GET", "/retention/retentions", t2).body["retentionRules"], json::array());
  // Devices and device users may not.
  EXPECT_EQ(device("GET", "/retention/retentions").status, 403);
  EXPECT_EQ(device("POST", "/retention/retentions", {{"maximumAge", 3}}).status, 403);
  EXPECT_EQ(call("GET", "/retention/retentions", basic("t1", "dev")).status, 403);
  EXPECT_EQ(call("GET", "/retention/retentions", "").status, 401);
}

TEST_F(RestRetentionTest, PassOnDemandByTheManagementAdminOnly) {
  const std::string mgmt = basic("management", "admin");
  EXPECT_EQ(call("POST", "/admin/retention", mgmt).status, 409);  // not set up
  domain::Retention retention(*store_, *spaces_, 0);
  server_->set_retention(&retention);
  const std::string old_time = "2020-01-01T00:00:00.000Z";
  Answer old_ev =
      admin("POST", "/event/events",
            {{"source", {{"id", own_}}}, {"type", "x"}, {"text", "t"}, {"time", old_time}});
  ASSERT_EQ(old_ev.status, 201) << old_ev.text;
  Answer new_ev = admin(
      "POST", "/event/events",
      {{"source", {{"id", own_}}},
       {"type", "x"},
       {"text", "t"},
       {"time", common::format_iso8601_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count())}});
  ASSERT_EQ(new_ev.status, 201);
  ASSERT_EQ(
      admin("POST", "/retention/retentions", {{"dataType", "EVENT"}, {"maximumAge", 365}}).status,
      201);
  EXPECT_EQ(admin("POST", "/admin/retention").status, 403);  // a tenant's admin may not
  EXPECT_EQ(device("POST", "/admin/retention").status, 403);
  Answer run = call("POST", "/admin/retention", mgmt);
  ASSERT_EQ(run.status, 200) << run.text;
  EXPECT_EQ(run.body["events"], 1);
  EXPECT_EQ(run.body["measurements"], 0);
  EXPECT_EQ(run.body["tenants"]["t1"]["events"], 1);
  EXPECT_TRUE(run.body["seconds"].is_number());
  EXPECT_EQ(admin("GET", "/event/events/" + old_ev.body["id"].get<std::string>()).status, 404);
  EXPECT_EQ(admin("GET", "/event/events/" + new_ev.body["id"].get<std::string>()).status, 200);
}

}  // namespace
}  // namespace c8y::rest

// The message handlers over the component rig: static templates, custom templates and JSON via
// MQTT, each called directly with a device session, checked by what reaches the fake broker and
// the store.
#include <gtest/gtest.h>

#include "plugin/app/custom_template_handler.h"
#include "plugin/app/json_topic_handler.h"
#include "plugin/app/static_template_handler.h"
#include "plugin/domain/events.h"
#include "plugin/domain/operations.h"
#include "plugin/policy/topic_route.h"
#include "tests/unit/app/component_rig.h"

namespace c8y::app {
namespace {

class HandlerTest : public ::testing::Test {
 protected:
  MessageDecision static_lines(Session& s, std::string_view topic, std::string_view payload) {
    auto route = policy::route_upstream(topic);
    EXPECT_TRUE(route);
    MessageDecision d = MessageDecision::kAccept;
    rig_.c().static_templates.handle(s, *route, payload, &d);
    return d;
  }
  MessageDecision custom(Session& s, std::string_view topic, std::string_view payload) {
    auto route = policy::route_upstream(topic);
    EXPECT_TRUE(route);
    MessageDecision d = MessageDecision::kAccept;
    rig_.c().custom_templates.use(s, *route, payload, &d);
    return d;
  }
  MessageDecision json(Session& s, std::string_view topic, std::string_view payload) {
    auto route = policy::route_upstream(topic);
    EXPECT_TRUE(route);
    MessageDecision d = MessageDecision::kAccept;
    rig_.c().json.handle(s, *route, payload, &d);
    return d;
  }
  std::vector<domain::Measurement> measurements(uint64_t device) {
    EXPECT_TRUE(rig_.store().settle().ok());
    domain::Measurements ms(rig_.store(), rig_.space("t1"));
    domain::MeasurementQuery q;
    q.source = device;
    q.page_size = 100;
    std::vector<domain::Measurement> found;
    bool more = false;
    EXPECT_TRUE(ms.query(q, &found, &more).ok());
    return found;
  }
  std::vector<nlohmann::json> events(uint64_t device) {
    domain::Events ev(rig_.store(), rig_.space("t1"));
    domain::EventQuery q;
    q.source = device;
    q.page_size = 100;
    domain::DocPage page;
    EXPECT_TRUE(ev.query(q, &page).ok());
    return page.docs;
  }

  testing::ComponentRig rig_;
};

// ---- static templates --------------------------------------------------------------------------

TEST_F(HandlerTest, OneHundredCreatesTheDeviceOnceAndOnlyForTheConnection) {
  Session& s = rig_.session("dev1");
  EXPECT_EQ(static_lines(s, "s/us", "100,My device,c8y_Thing"), MessageDecision::kAccept);
  auto id = rig_.device_id("t1", "dev1");
  ASSERT_TRUE(id);
  EXPECT_EQ((*rig_.inventory("t1").get(*id))["name"], "My device");
  static_lines(s, "s/us", "100,Again,x");
  static_lines(s, "s/us/child1", "100,Child,x");
  EXPECT_EQ(rig_.port.sent("dev1", "s/e"),
            (std::vector<std::string>{
                "41,100,Device already existing",
                "45,100,100 creates the connecting device; use 101 for child devices"}));
  // A second session of the same device finds it rather than creating another.
  Session& again = rig_.session("dev1");
  static_lines(again, "s/us", "100,Third,x");
  EXPECT_EQ(again.device_id, *id);
}

TEST_F(HandlerTest, MeasurementsAreStoredOnTheTopicsDeviceAndBadLinesAnswered) {
  Session& s = rig_.session("dev1");
  static_lines(s, "s/us", "211,25\n999\n\"open");
  static_lines(s, "s/us/child1", "211,30");
  auto errors = rig_.port.sent("dev1", "s/e");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_TRUE(errors[0].starts_with("40,999,")) << errors[0];
  EXPECT_TRUE(errors[1].starts_with("42,")) << errors[1];
  auto own = measurements(*rig_.device_id("t1", "dev1"));
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].series[0].value, 25);
  auto child = measurements(*rig_.device_id("t1", "child1"));
  ASSERT_EQ(child.size(), 1u);
  EXPECT_EQ(child[0].series[0].value, 30);
}

TEST_F(HandlerTest, MoreThanTenBadLinesGetOneSummary) {
  Session& s = rig_.session("dev1");
  std::string payload;
  for (int i = 0; i < 13; ++i) payload += "999\n";
  static_lines(s, "s/us", payload);
  auto errors = rig_.port.sent("dev1", "s/e");
  ASSERT_EQ(errors.size(), 11u);
  EXPECT_EQ(errors.back(), "45,,3 more lines of this message rejected");
}

TEST_F(HandlerTest, FiveHundredSendsThePendingOperationsAgainAndStatusLinesMoveThem) {
  Session& s = rig_.session("dev1");
  static_lines(s, "s/us", "100");
  domain::Operations ops(rig_.store(), rig_.space("t1"));
  nlohmann::json op;
  ASSERT_TRUE(ops.create(s.device_id, {{"c8y_Restart", nlohmann::json::object()}}, 0, &op).ok());
  static_lines(s, "s/us", "500");
  EXPECT_EQ(rig_.port.sent("dev1", "s/ds"), std::vector<std::string>{"510,dev1"});
  static_lines(s, "s/us", "501,c8y_Restart\n503,c8y_Restart");
  const auto id = *domain::parse_id(op.value("id", ""));
  EXPECT_EQ(ops.get(id)->value("status", ""), "SUCCESSFUL");
  static_lines(s, "s/us", "501,c8y_Restart");
  EXPECT_EQ(rig_.port.sent("dev1", "s/e"),
            std::vector<std::string>{"45,501,No PENDING operation with c8y_Restart"});
}

TEST_F(HandlerTest, PlatformCapabilitiesAreAnswered) {
  Session& s = rig_.session("dev1");
  static_lines(s, "s/us", "602");
  auto lines = rig_.port.sent("dev1", "s/ds");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].starts_with("603,")) << lines[0];
  EXPECT_NE(lines[0].find(",211,"), std::string::npos);
}

TEST_F(HandlerTest, TransientMeasurementsAreNotStored) {
  Session& s = rig_.session("dev1");
  static_lines(s, "t/us", "211,25");
  EXPECT_TRUE(measurements(*rig_.device_id("t1", "dev1")).empty());
}

// ---- custom templates --------------------------------------------------------------------------

TEST_F(HandlerTest, ACollectionIsDefinedOnceAndUsedForMeasurementsAndEvents) {
  Session& s = rig_.session("dev1", "t1", policy::Role::kDevice, {"s/e", "s/dt", "s/dc/xid1"});
  rig_.c().custom_templates.define(s, "xid1", "");
  EXPECT_EQ(rig_.port.sent("dev1", "s/dt"), std::vector<std::string>{"41,xid1"});
  rig_.c().custom_templates.define(
      s, "xid1",
      "10,1,POST,MEASUREMENT,,c8y_Env,,c8y_Env.T.value,NUMBER,,c8y_Env.T.unit,STRING,C\n"
      "10,2,POST,EVENT,,c8y_Tpl,from template,\n"
      "10,3,GET,INVENTORY,true,,\n"
      "11,4,,,$.name");
  auto dt = rig_.port.sent("dev1", "s/dt");
  ASSERT_EQ(dt.size(), 2u);
  EXPECT_TRUE(dt[1].starts_with("20,xid1,")) << dt[1];
  rig_.c().custom_templates.define(s, "xid1", "10,9,POST,EVENT,,x,y,");
  EXPECT_EQ(rig_.port.sent("dev1", "s/e"),
            std::vector<std::string>{"41,xid1,Cannot create templates for existing collection"});

  custom(s, "s/uc/xid1", "1,,21.5\n2\n3");
  const uint64_t dev = *rig_.device_id("t1", "dev1");
  auto ms = measurements(dev);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].series[0].fragment, "c8y_Env");
  EXPECT_EQ(ms[0].series[0].unit, "C");
  auto ev = events(dev);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["text"], "from template");
  EXPECT_EQ(rig_.port.sent("dev1", "s/dc/xid1"), std::vector<std::string>{"4,MQTT Device dev1"});
}

TEST_F(HandlerTest, AnUnknownCollectionOrDefaultIsAnError) {
  Session& s = rig_.session("dev1");
  custom(s, "s/uc/nothing", "1,2");
  custom(s, "s/ud", "1,2");
  EXPECT_EQ(rig_.port.sent("dev1", "s/e"),
            (std::vector<std::string>{
                "41,nothing,Template collection not found",
                "41,,No default template collection: connect as d:<serial>:<X-ID>"}));
}

TEST_F(HandlerTest, OperationsAreRenderedByTheResponseTemplatesTheDeviceListensTo) {
  Session& s = rig_.session("dev1", "t1", policy::Role::kDevice, {"s/dt", "s/dc/ops"});
  rig_.c().custom_templates.define(s, "ops", "11,600,,c8y_Restart,$.description");
  nlohmann::json op = {{"c8y_Restart", nlohmann::json::object()}, {"description", "reboot"}};
  rig_.c().custom_templates.send_operation(s, op, "dev1");
  EXPECT_EQ(rig_.port.sent("dev1", "s/dc/ops"), std::vector<std::string>{"600,dev1,reboot"});
  // A REST change of the collection empties the cache; it is read again on demand.
  rig_.c().custom_templates.forget("t1");
  rig_.c().custom_templates.send_operation(s, op, "dev1");
  EXPECT_EQ(rig_.port.sent("dev1", "s/dc/ops").size(), 2u);
}

// ---- JSON via MQTT ------------------------------------------------------------------------------

TEST_F(HandlerTest, JsonEventsAreCreatedForTheDeviceOrTheChildInExternalSource) {
  Session& s = rig_.session("dev1");
  json(s, "event/events/create", R"({"type":"e1","text":"hello","time":"2026-01-01T00:00:00Z"})");
  json(s, "event/events/create",
       R"({"type":"e2","text":"child","time":"2026-01-01T00:00:00Z",)"
       R"("externalSource":{"externalId":"kid","type":"c8y_Serial"}})");
  auto own = events(*rig_.device_id("t1", "dev1"));
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0]["text"], "hello");
  auto kid = events(*rig_.device_id("t1", "kid"));
  ASSERT_EQ(kid.size(), 1u);
  EXPECT_EQ(kid[0]["text"], "child");
  EXPECT_TRUE(rig_.port.sent("dev1", "error").empty());
}

TEST_F(HandlerTest, BadJsonIsAnsweredOnErrorWithTheMessageNumber) {
  Session& s = rig_.session("dev1");
  json(s, "event/events/create", "{not json");
  json(s, "event/events/frobnicate", "{}");
  auto errors = rig_.port.sent("dev1", "error");
  ASSERT_EQ(errors.size(), 2u);
  auto first = nlohmann::json::parse(errors[0]);
  EXPECT_EQ(first["error"], "general/badRequest");
  EXPECT_EQ(first["messageId"], 1);
  auto second = nlohmann::json::parse(errors[1]);
  EXPECT_EQ(second["error"], "general/notSupported");
  EXPECT_EQ(second["messageId"], 2);
}

TEST_F(HandlerTest, JsonMeasurementsOfAnotherDeviceAreRefused) {
  Session& other = rig_.session("dev2");
  storage::StoreStatus st;
  rig_.c().devices.own_device(other, "", "", &st);
  Session& s = rig_.session("dev1");
  json(s, "measurement/measurements/create",
       R"({"type":"m","time":"2026-01-01T00:00:00Z","c8y_T":{"T":{"value":1}},)"
       R"("externalSource":{"externalId":"dev2","type":"c8y_Serial"}})");
  EXPECT_TRUE(measurements(*rig_.device_id("t1", "dev2")).empty());
  auto errors = rig_.port.sent("dev1", "error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("not a child of this device"), std::string::npos) << errors[0];
}

// ---- metrics -----------------------------------------------------------------------------------

TEST_F(HandlerTest, EveryLineCountsByKindForItsTenantOnly) {
  Session& s = rig_.session("dev1", "t1", policy::Role::kDevice, {"s/e", "error"});
  static_lines(s, "s/us", "211,1\n211,2\n400,c8y_E,text\n301,c8y_A,text\n999\n\"open");
  json(
      s, "measurement/measurements/createBulk",
      R"({"measurements":[{"type":"a","time":"2026-12-07T10:00:00.000Z","c8y_T":{"T":{"value":1}}},)"
      R"({"type":"b","time":"2026-12-07T10:00:01.000Z","c8y_T":{"T":{"value":2}}}]})");
  json(s, "event/events/create", R"({"type":"e","text":"x","time":"2026-12-07T10:00:00.000Z"})");
  const auto& m = rig_.space("t1").metrics;
  auto received = [&](common::MessageKind k) { return m.received[static_cast<size_t>(k)].get(); };
  EXPECT_EQ(received(common::MessageKind::kMeasurement), 4u);  // 2 lines, 2 bulk items
  EXPECT_EQ(received(common::MessageKind::kEvent), 2u);
  EXPECT_EQ(received(common::MessageKind::kAlarm), 1u);
  EXPECT_EQ(received(common::MessageKind::kOther), 2u);  // the unknown and the malformed line
  EXPECT_EQ(m.errors_sent.get(), 2u) << ::testing::PrintToString(rig_.port.sent("dev1", "error"))
                                     << ::testing::PrintToString(rig_.port.sent("dev1", "s/e"));
  // Nothing of it counts for another tenant.
  const auto& other = rig_.space("t2").metrics;
  for (auto& c : other.received) EXPECT_EQ(c.get(), 0u);
  EXPECT_EQ(other.errors_sent.get(), 0u);
}

TEST_F(HandlerTest, CustomTemplateLinesCountByTheirApi) {
  Session& s = rig_.session("dev1");
  rig_.c().custom_templates.define(s, "xid1",
                                   "10,1,POST,MEASUREMENT,,c8y_Env,,c8y_Env.T.value,NUMBER,\n10,2,"
                                   "POST,EVENT,,c8y_Tpl,from template,");
  custom(s, "s/uc/xid1", "1,,5\n2\n1,,6");
  const auto& m = rig_.space("t1").metrics;
  EXPECT_EQ(m.received[static_cast<size_t>(common::MessageKind::kMeasurement)].get(), 2u);
  EXPECT_EQ(m.received[static_cast<size_t>(common::MessageKind::kEvent)].get(), 1u);
}

}  // namespace
}  // namespace c8y::app

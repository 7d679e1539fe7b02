// Validation of Cumulocity-shaped JSON input shared by REST and JSON via MQTT.
#include "plugin/domain/json_input.h"

#include <gtest/gtest.h>

namespace c8y::domain {
namespace {

using nlohmann::json;

const char* kTime = "2026-03-01T10:00:00.000Z";
constexpr int64_t kTimeMs = 1772359200000;

TEST(JsonString, MandatoryOptionalAndLimits) {
  std::string out, error;
  EXPECT_TRUE(json_string(json{{"a", "x"}}, "a", true, &out, &error));
  EXPECT_EQ(out, "x");
  EXPECT_FALSE(json_string(json::object(), "a", true, &out, &error));
  EXPECT_EQ(error, "a is mandatory");
  out = "kept";
  EXPECT_TRUE(json_string(json::object(), "a", false, &out, &error));
  EXPECT_EQ(out, "kept");
  for (const json& bad : {json(1), json(nullptr), json::array(), json::object(), json(true)})
    EXPECT_FALSE(json_string(json{{"a", bad}}, "a", false, &out, &error)) << bad;
  EXPECT_FALSE(json_string(json{{"a", ""}}, "a", true, &out, &error));
  EXPECT_TRUE(json_string(json{{"a", ""}}, "a", false, &out, &error));
  EXPECT_TRUE(json_string(json{{"a", std::string(8, 'x')}}, "a", true, &out, &error, 8));
  EXPECT_FALSE(json_string(json{{"a", std::string(9, 'x')}}, "a", true, &out, &error, 8));
  EXPECT_NE(error.find("at most 8 bytes"), std::string::npos);
}

TEST(JsonTime, Iso8601Only) {
  int64_t ms = 0;
  std::string error;
  EXPECT_TRUE(json_time(json{{"time", kTime}}, &ms, &error));
  EXPECT_EQ(ms, kTimeMs);
  for (const json& bad : {json("yesterday"), json(""), json(123), json("2026-13-01T00:00:00Z")}) {
    EXPECT_FALSE(json_time(json{{"time", bad}}, &ms, &error)) << bad;
    EXPECT_FALSE(error.empty());
  }
  EXPECT_FALSE(json_time(json::object(), &ms, &error));
  EXPECT_EQ(error, "time is mandatory");
}

TEST(JsonBool, BooleansAndTheirStrings) {
  std::optional<bool> out;
  std::string error;
  EXPECT_TRUE(json_bool(json::object(), "b", &out, &error));
  EXPECT_FALSE(out.has_value());  // absent: untouched
  for (auto [value, want] : {std::pair{json(true), true},
                             {json(false), false},
                             {json("true"), true},
                             {json("false"), false}}) {
    out.reset();
    EXPECT_TRUE(json_bool(json{{"b", value}}, "b", &out, &error)) << value;
    EXPECT_EQ(out, std::optional<bool>(want)) << value;
  }
  for (const json& bad : {json("yes"), json("True"), json("FALSE"), json(""), json(1), json(0),
                          json(nullptr), json::array(), json::object()}) {
    out.reset();
    error.clear();
    EXPECT_FALSE(json_bool(json{{"b", bad}}, "b", &out, &error)) << bad;
    EXPECT_FALSE(out.has_value()) << bad;
    EXPECT_EQ(error, "b must be true or false");
  }
}

TEST(EventInput, AllMandatory) {
  EventInput in;
  std::string error;
  ASSERT_TRUE(
      event_input(json{{"type", "t"}, {"text", "x"}, {"time", kTime}, {"f", 1}}, &in, &error));
  EXPECT_EQ(in.type, "t");
  EXPECT_EQ(in.text, "x");
  EXPECT_EQ(in.time_ms, kTimeMs);
  for (const char* missing : {"type", "text", "time"}) {
    json body = {{"type", "t"}, {"text", "x"}, {"time", kTime}};
    body.erase(missing);
    EXPECT_FALSE(event_input(body, &in, &error)) << missing;
    EXPECT_EQ(error, std::string(missing) + " is mandatory");
  }
  EXPECT_FALSE(event_input(json{{"type", std::string(128, 't')}, {"text", "x"}, {"time", kTime}},
                           &in, &error));
}

TEST(AlarmInput, SeverityAndStatus) {
  AlarmInput in;
  std::string error;
  json ok = {{"type", "t"}, {"text", "x"}, {"severity", "MAJOR"}, {"time", kTime}};
  ASSERT_TRUE(alarm_input(ok, &in, &error));
  EXPECT_EQ(in.severity, "MAJOR");
  for (const char* sev : {"CRITICAL", "MAJOR", "MINOR", "WARNING"}) {
    ok["severity"] = sev;
    EXPECT_TRUE(alarm_input(ok, &in, &error)) << sev;
  }
  for (const char* sev : {"major", "LOUD", ""}) {
    ok["severity"] = sev;
    EXPECT_FALSE(alarm_input(ok, &in, &error)) << sev;
  }
  ok["severity"] = "MINOR";
  ok["status"] = "ACTIVE";
  EXPECT_TRUE(alarm_input(ok, &in, &error));
  for (const char* st : {"CLEARED", "ACKNOWLEDGED"}) {
    ok["status"] = st;
    EXPECT_FALSE(alarm_input(ok, &in, &error)) << st;
    EXPECT_EQ(error, "a new alarm must be ACTIVE");
  }
}

TEST(MeasurementInput, SeriesTypesAndSkippedKeys) {
  Measurement m;
  std::string error;
  json body = {{"type", "m"},
               {"time", kTime},
               {"source", {{"id", "1"}}},
               {"externalSource", {{"externalId", "x"}}},
               {"c8y_T", {{"T", {{"value", 21.5}, {"unit", "C"}}}, {"U", {{"value", -1}}}}},
               {"note", "not a series"}};
  ASSERT_TRUE(measurement_input(body, &m, &error)) << error;
  EXPECT_EQ(m.type, "m");
  EXPECT_EQ(m.time_ms, kTimeMs);
  ASSERT_EQ(m.count, 2u);
  EXPECT_EQ(m.series[0].fragment, "c8y_T");
  EXPECT_EQ(m.series[0].series, "T");
  EXPECT_EQ(m.series[0].value, 21.5);
  EXPECT_EQ(m.series[0].unit, "C");
  EXPECT_EQ(m.series[1].series, "U");
  EXPECT_EQ(m.series[1].unit, "");
  // A second call starts from an empty measurement.
  ASSERT_TRUE(measurement_input(
      json{{"type", "m"}, {"time", kTime}, {"f", {{"s", {{"value", 1}}}}}}, &m, &error));
  EXPECT_EQ(m.count, 1u);
  EXPECT_FALSE(measurement_input(json{{"type", "m"}, {"time", kTime}}, &m, &error));
  EXPECT_EQ(error, "a measurement needs at least one series");
  EXPECT_FALSE(measurement_input(
      json{{"type", "m"}, {"time", kTime}, {"f", {{"s", {{"value", "1"}}}}}}, &m, &error));
  EXPECT_EQ(error, "f.s.value must be a number");
  EXPECT_FALSE(
      measurement_input(json{{"time", kTime}, {"f", {{"s", {{"value", 1}}}}}}, &m, &error));
  EXPECT_FALSE(measurement_input(json{{"type", "m"}, {"f", {{"s", {{"value", 1}}}}}}, &m, &error));
  EXPECT_FALSE(measurement_input(json{{"type", 5}, {"time", kTime}, {"f", {{"s", {{"value", 1}}}}}},
                                 &m, &error));
}

}  // namespace
}  // namespace c8y::domain

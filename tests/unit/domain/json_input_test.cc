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
  // Without a limit, only the body's cap bounds a text.
  EXPECT_TRUE(json_string(json{{"a", std::string(100000, 'x')}}, "a", true, &out, &error));
  EXPECT_EQ(out.size(), 100000u);
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

TEST(MandatoryMessage, NamesSortedAndJoined) {
  EXPECT_EQ(mandatory_message({"text"}), "text is mandatory");
  EXPECT_EQ(mandatory_message({"text", "severity"}), "severity and text are mandatory");
  EXPECT_EQ(mandatory_message({"time", "text", "severity"}),
            "severity, text and time are mandatory");
}

TEST(EventInput, EveryMissingFieldInOneMessage) {
  EventInput in;
  std::string error;
  EXPECT_FALSE(event_input(json{{"type", "t"}}, &in, &error));
  EXPECT_EQ(error, "text and time are mandatory");
  EXPECT_FALSE(event_input(json::object(), &in, &error));
  EXPECT_EQ(error, "text, time and type are mandatory");
  // The REST API: the body must name its source too.
  EXPECT_FALSE(event_input(json{{"type", "t"}}, &in, &error, SourceField::kMandatory));
  EXPECT_EQ(error, "source.id, text and time are mandatory");
  for (const json& src : {json("1"), json::object(), json{{"id", nullptr}}}) {
    EXPECT_FALSE(event_input(json{{"type", "t"}, {"text", "x"}, {"time", kTime}, {"source", src}},
                             &in, &error, SourceField::kMandatory))
        << src;
    EXPECT_EQ(error, "source.id is mandatory");
  }
  EXPECT_TRUE(
      event_input(json{{"type", "t"}, {"text", "x"}, {"time", kTime}, {"source", {{"id", "5"}}}},
                  &in, &error, SourceField::kMandatory));
  // Missing fields come before faults of the fields that are there.
  EXPECT_FALSE(event_input(json{{"type", 5}, {"time", "never"}}, &in, &error));
  EXPECT_EQ(error, "text is mandatory");
  EXPECT_FALSE(event_input(json{{"type", "t"}, {"text", "x"}, {"time", "never"}}, &in, &error));
  EXPECT_EQ(error, "time is not an ISO 8601 date: never");
}

TEST(AlarmInput, EveryMissingFieldInOneMessage) {
  AlarmInput in;
  std::string error;
  EXPECT_FALSE(alarm_input(json{{"type", "c8y_NoSeverity"}}, &in, &error));
  EXPECT_EQ(error, "severity, text and time are mandatory");
  EXPECT_FALSE(alarm_input(json{{"type", "c8y_NoSeverity"}}, &in, &error, SourceField::kMandatory));
  EXPECT_EQ(error, "severity, source.id, text and time are mandatory");
  EXPECT_FALSE(alarm_input(json{{"type", "t"}, {"text", "x"}, {"time", kTime}}, &in, &error));
  EXPECT_EQ(error, "severity is mandatory");
  EXPECT_FALSE(alarm_input(json::object(), &in, &error));
  EXPECT_EQ(error, "severity, text, time and type are mandatory");
}

TEST(MeasurementInput, EveryMissingFieldInOneMessage) {
  Measurement m;
  std::string error;
  const json series = {{"s", {{"value", 1}}}};
  EXPECT_FALSE(measurement_input(json{{"f", series}}, &m, &error));
  EXPECT_EQ(error, "time and type are mandatory");
  EXPECT_FALSE(
      measurement_input(json{{"f", series}}, &m, &error, nullptr, SourceField::kMandatory));
  EXPECT_EQ(error, "source.id, time and type are mandatory");
  EXPECT_FALSE(measurement_input(json{{"type", "m"}, {"f", series}}, &m, &error));
  EXPECT_EQ(error, "time is mandatory");
  // A time the caller knows (a custom template's) makes "time" optional.
  const int64_t t = kTimeMs;
  EXPECT_FALSE(measurement_input(json{{"f", series}}, &m, &error, &t));
  EXPECT_EQ(error, "type is mandatory");
  ASSERT_TRUE(measurement_input(json{{"type", "m"}, {"f", series}}, &m, &error, &t)) << error;
  EXPECT_EQ(m.time_ms, kTimeMs);
  EXPECT_FALSE(measurement_input(json{{"type", "m"}, {"time", "soon"}, {"f", series}}, &m, &error));
  EXPECT_EQ(error, "time is not an ISO 8601 date: soon");
  EXPECT_FALSE(measurement_input(json{{"type", ""}, {"time", kTime}, {"f", series}}, &m, &error));
  EXPECT_NE(error.find("type must be a non-empty string"), std::string::npos) << error;
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
  // A "value" that is not a number makes no series: the fragment is custom data (below).
  EXPECT_FALSE(measurement_input(
      json{{"type", "m"}, {"time", kTime}, {"f", {{"s", {{"value", "1"}}}}}}, &m, &error));
  EXPECT_EQ(error, "a measurement needs at least one series");
  EXPECT_FALSE(
      measurement_input(json{{"time", kTime}, {"f", {{"s", {{"value", 1}}}}}}, &m, &error));
  EXPECT_FALSE(measurement_input(json{{"type", "m"}, {"f", {{"s", {{"value", 1}}}}}}, &m, &error));
  EXPECT_FALSE(measurement_input(json{{"type", 5}, {"time", kTime}, {"f", {{"s", {{"value", 1}}}}}},
                                 &m, &error));
}

// Cumulocity stores the fragments of a measurement that are not series as they are; only
// {"value": <number>, "unit"?: <string>} leaves are series. (The first body is the example of
// Cumulocity's JSON-via-MQTT documentation.)
TEST(MeasurementInput, CustomFragmentsAreKeptAsTheyAre) {
  Measurement m;
  std::string error;
  json body = json::parse(R"({"time":"2023-03-20T08:03:56.940907Z",
      "environment":{"temperature":{"value":29.9,"unit":"°C"}},"type":"10min_average",
      "meta":{"sensorLocation":"Brisbane, Australia"}})");
  ASSERT_TRUE(measurement_input(body, &m, &error)) << error;
  ASSERT_EQ(m.count, 1u);
  EXPECT_EQ(m.series[0].fragment, "environment");
  EXPECT_EQ(m.series[0].series, "temperature");
  EXPECT_EQ(m.series[0].value, 29.9);
  EXPECT_EQ(m.series[0].unit, "°C");
  EXPECT_EQ(json::parse(m.custom),
            json::parse(R"({"meta":{"sensorLocation":"Brisbane, Australia"}})"));

  // A fragment that holds a series and other data keeps both; leaves with more than value and
  // unit, a non-string unit, top-level scalars and empty objects are custom data.
  body = json::parse(R"({"type":"m","time":"2023-03-20T08:03:56Z",
      "c8y_X":{"T":{"value":1,"unit":"C"},"note":"n","V":{"value":2,"unit":3},
               "W":{"value":3,"quality":"good"}},
      "count":5,"flag":true,"list":[1,{"value":2}],"empty":{}})");
  ASSERT_TRUE(measurement_input(body, &m, &error)) << error;
  ASSERT_EQ(m.count, 1u);
  EXPECT_EQ(m.series[0].series, "T");
  EXPECT_EQ(json::parse(m.custom), json::parse(R"({"c8y_X":{"note":"n","V":{"value":2,"unit":3},
      "W":{"value":3,"quality":"good"}},"count":5,"flag":true,"list":[1,{"value":2}],"empty":{}})"));

  // Without custom fragments nothing is kept (the stored form stays the compact one).
  ASSERT_TRUE(measurement_input(
      json{{"type", "m"}, {"time", kTime}, {"f", {{"s", {{"value", 1}}}}}}, &m, &error));
  EXPECT_TRUE(m.custom.empty());
}

// Names that the stored form cannot hold are refused with a message, not a storage failure.
TEST(MeasurementInput, OverlongSeriesNamesAndTypeAreRefused) {
  Measurement m;
  std::string error;
  const std::string l(128, 'x');
  EXPECT_FALSE(measurement_input(json{{"type", "m"}, {"time", kTime}, {l, {{"s", {{"value", 1}}}}}},
                                 &m, &error));
  EXPECT_NE(error.find("at most 127 bytes"), std::string::npos) << error;
  EXPECT_FALSE(measurement_input(json{{"type", "m"}, {"time", kTime}, {"f", {{l, {{"value", 1}}}}}},
                                 &m, &error));
  EXPECT_FALSE(measurement_input(
      json{{"type", "m"}, {"time", kTime}, {"f", {{"s", {{"value", 1}, {"unit", l}}}}}}, &m,
      &error));
  EXPECT_FALSE(measurement_input(json{{"type", l}, {"time", kTime}, {"f", {{"s", {{"value", 1}}}}}},
                                 &m, &error));
  EXPECT_NE(error.find("type must be a non-empty string of at most 127 bytes"), std::string::npos)
      << error;
  // A long custom fragment is fine.
  EXPECT_TRUE(measurement_input(json{{"type", "m"},
                                     {"time", kTime},
                                     {"f", {{"s", {{"value", 1}}}}},
                                     {l, std::string(4000, 'y')}},
                                &m, &error))
      << error;
}

}  // namespace
}  // namespace c8y::domain

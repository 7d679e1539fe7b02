#include "plugin/smartrest/alarm_event_templates.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "plugin/smartrest/csv.h"

namespace c8y::smartrest {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1700000000123;        // 2023-11-14T22:13:20.123Z
constexpr int64_t kT20160622 = 1466607794000;  // 2016-06-22T15:03:14.000Z

// One CSV line as the reader produces it.
CsvRecord record(std::string_view line) {
  CsvReader reader(line);
  CsvRecord rec;
  EXPECT_TRUE(reader.next(rec)) << line;
  EXPECT_FALSE(rec.malformed) << line;
  return rec;
}

// A record built field by field (for bytes the CSV reader would treat specially).
CsvRecord fields(std::vector<std::string> f) {
  CsvRecord rec;
  rec.fields = std::move(f);
  return rec;
}

AlarmCommand alarm_ok(const CsvRecord& rec) {
  AlarmCommand a;
  auto e = decode_alarm(rec, kNow, a);
  EXPECT_FALSE(e) << (rec.fields.empty() ? "" : rec.fields[0]) << ": " << e->text;
  return a;
}
AlarmCommand alarm_ok(std::string_view line) {
  AlarmCommand a;
  auto e = decode_alarm(record(line), kNow, a);
  EXPECT_FALSE(e) << line << ": " << e->text;
  return a;
}

EventCommand event_ok(const CsvRecord& rec) {
  EventCommand ev;
  auto e = decode_event(rec, kNow, ev);
  EXPECT_FALSE(e) << (rec.fields.empty() ? "" : rec.fields[0]) << ": " << e->text;
  return ev;
}
EventCommand event_ok(std::string_view line) {
  EventCommand ev;
  auto e = decode_event(record(line), kNow, ev);
  EXPECT_FALSE(e) << line << ": " << e->text;
  return ev;
}

void expect_alarm_45(const CsvRecord& rec, std::string_view what) {
  AlarmCommand a;
  auto e = decode_alarm(rec, kNow, a);
  ASSERT_TRUE(e) << "accepted: " << what;
  EXPECT_EQ(e->code, 45) << what << ": " << e->text;
  EXPECT_FALSE(e->text.empty()) << what;
}
void expect_alarm_45(std::string_view line) {
  expect_alarm_45(record(line), line);
}

void expect_event_45(const CsvRecord& rec, std::string_view what) {
  EventCommand ev;
  auto e = decode_event(rec, kNow, ev);
  ASSERT_TRUE(e) << "accepted: " << what;
  EXPECT_EQ(e->code, 45) << what << ": " << e->text;
  EXPECT_FALSE(e->text.empty()) << what;
}
void expect_event_45(std::string_view line) {
  expect_event_45(record(line), line);
}

// The error text of a rejected line (for checking that the text names the problem).
std::string event_error(std::string_view line) {
  EventCommand ev;
  auto e = decode_event(record(line), kNow, ev);
  return e ? e->text : std::string("<accepted>");
}
std::string alarm_error(std::string_view line) {
  AlarmCommand a;
  auto e = decode_alarm(record(line), kNow, a);
  return e ? e->text : std::string("<accepted>");
}

// ---------------------------------------------------------------------------------------------
// Template ids

TEST(TemplateIds, Alarm) {
  for (const char* id : {"301", "302", "303", "304", "305", "306", "307"})
    EXPECT_TRUE(is_alarm_template(id)) << id;
  for (const char* id : {"300", "308", "309", "30", "3010", "+301", "0301", " 301", "301 ", "",
                         "400", "401", "201", "3a1", "-301"})
    EXPECT_FALSE(is_alarm_template(id)) << '"' << id << '"';
}

TEST(TemplateIds, Event) {
  for (const char* id : {"400", "401", "402", "407", "408"})
    EXPECT_TRUE(is_event_template(id)) << id;
  for (const char* id : {"403", "404", "405", "406", "409", "399", "40", "4000", "+400", "0400",
                         " 400", "", "301", "500"})
    EXPECT_FALSE(is_event_template(id)) << '"' << id << '"';
}

TEST(TemplateIds, WrongDecoderGives40) {
  for (const char* line : {"400,t,x", "300,t", "308,t", "211,5", "abc"}) {
    AlarmCommand a;
    auto e = decode_alarm(record(line), kNow, a);
    ASSERT_TRUE(e) << line;
    EXPECT_EQ(e->code, 40) << line;
  }
  for (const char* line : {"301,t", "403,t", "409,a,s,1", "406,t,f", "100"}) {
    EventCommand ev;
    auto e = decode_event(record(line), kNow, ev);
    ASSERT_TRUE(e) << line;
    EXPECT_EQ(e->code, 40) << line;
  }
}

TEST(ErrorTexts, QuotedValuesAreShortPrintableUtf8) {
  // Invalid UTF-8 and control characters are replaced, long values cut.
  auto text = alarm_error("305,t,\"BAD\xff\x01\tX\"");
  EXPECT_EQ(text, "unknown severity: BAD???X");
  text = alarm_error("305,t," + std::string(500, 'Z'));
  EXPECT_EQ(text, "unknown severity: " + std::string(64, 'Z') + "...");
  // A multi-byte character is not cut in half: 63 'a' then a 2-byte character at bytes 63..64.
  text = event_error("408,,,,p,n," + std::string(63, 'a') + "\xc3\xa9tail");
  EXPECT_EQ(text, "value is not a number: " + std::string(63, 'a') + "...");
  text = event_error("408,,,,p,n,\xc3\xa9x");
  EXPECT_EQ(text, "value is not a number: \xc3\xa9x");
  EXPECT_EQ(event_error("401,1,2,3,4,\"2016\n\""), "value is not a date: 2016?");
}

// ---------------------------------------------------------------------------------------------
// 301-304: raise

TEST(AlarmRaise, SeverityPerTemplateAndDefaults) {
  const std::pair<const char*, const char*> cases[] = {
      {"301", "CRITICAL"}, {"302", "MAJOR"}, {"303", "MINOR"}, {"304", "WARNING"}};
  for (auto [id, severity] : cases) {
    auto a = alarm_ok(std::string(id) + ",c8y_TemperatureAlarm");
    EXPECT_EQ(a.op, AlarmCommand::Op::kRaise) << id;
    EXPECT_EQ(a.type, "c8y_TemperatureAlarm") << id;
    EXPECT_EQ(a.severity, severity) << id;
    EXPECT_EQ(a.text, "Alarm of type c8y_TemperatureAlarm raised") << id;
    EXPECT_EQ(a.time_ms, kNow) << id;
    EXPECT_TRUE(a.fragments.empty()) << id;
  }
}

TEST(AlarmRaise, TextAndTime) {
  auto a = alarm_ok("302,c8y_TemperatureAlarm,\"This is an alarm\"");
  EXPECT_EQ(a.severity, "MAJOR");
  EXPECT_EQ(a.text, "This is an alarm");
  EXPECT_EQ(a.time_ms, kNow);

  a = alarm_ok("304,c8y_TemperatureAlarm,,2016-06-22T17:03:14.000+02:00");
  EXPECT_EQ(a.severity, "WARNING");
  EXPECT_EQ(a.text, "Alarm of type c8y_TemperatureAlarm raised");
  EXPECT_EQ(a.time_ms, kT20160622);

  a = alarm_ok("301,t,\"a, b \"\"c\"\"\",2016-06-22T15:03:14Z");
  EXPECT_EQ(a.text, "a, b \"c\"");
  EXPECT_EQ(a.time_ms, kT20160622);

  a = alarm_ok("303,t,text\xc3\xa9,2016-06-22");
  EXPECT_EQ(a.text, "text\xc3\xa9");
  EXPECT_EQ(a.time_ms, 1466553600000);
}

TEST(AlarmRaise, OptionalFieldsEmptyOrOmitted) {
  for (const char* line : {"301,t", "301,t,", "301,t,,", "301,t,,,", "301,t,,,,,,"}) {
    auto a = alarm_ok(line);
    EXPECT_EQ(a.text, "Alarm of type t raised") << line;
    EXPECT_EQ(a.time_ms, kNow) << line;
  }
}

TEST(AlarmRaise, TypeMayHoldDotsAndDollars) {
  auto a = alarm_ok("301,com.example.$Alarm");
  EXPECT_EQ(a.type, "com.example.$Alarm");
  EXPECT_EQ(a.text, "Alarm of type com.example.$Alarm raised");
}

TEST(AlarmRaise, MissingType) {
  for (const char* line :
       {"301", "301,", "301,,text", "302,,,2016-06-22T15:03:14Z", "303,,", "304"})
    expect_alarm_45(line);
  EXPECT_NE(alarm_error("301").find("missing alarm type"), std::string::npos);
}

TEST(AlarmRaise, TooManyArguments) {
  expect_alarm_45("301,t,x,2016-06-22T15:03:14Z,extra");
  expect_alarm_45("302,t,,,x");
  EXPECT_NE(alarm_error("303,t,a,,b").find("too many arguments"), std::string::npos);
}

TEST(AlarmRaise, BadTime) {
  expect_alarm_45("301,t,x,notadate");
  expect_alarm_45("301,t,x,2016-06-22T15:03:14");  // no zone
  expect_alarm_45("301,t,,2016-02-30");
  expect_alarm_45("301,t,,1466607794000");
  EXPECT_NE(alarm_error("301,t,,yesterday").find("not a date"), std::string::npos);
}

TEST(AlarmRaise, TypeLimits) {
  auto a = alarm_ok("301," + std::string(127, 't'));
  EXPECT_EQ(a.type.size(), 127u);
  expect_alarm_45("301," + std::string(128, 't'));
  expect_alarm_45("301,bad\xff");
  expect_alarm_45("301,\xc3");           // truncated sequence
  expect_alarm_45("301,\xed\xa0\x80");   // surrogate
  expect_alarm_45("301,\"tab\there\"");  // control character
  expect_alarm_45("301,\"line\nbreak\"");
  expect_alarm_45(fields({"301", std::string("nul\0x", 5)}), "NUL in type");
  expect_alarm_45(fields({"301", "del\x7f"}), "DEL in type");
  a = alarm_ok("301,\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(a.type, "\xc3\xa9t\xc3\xa9");
}

TEST(AlarmRaise, TextLimits) {
  // No limit below the message cap (Cumulocity has none).
  auto a = alarm_ok("301,t," + std::string(16000, 'x'));
  EXPECT_EQ(a.text.size(), 16000u);
  expect_alarm_45("301,t,bad\xff");
  // Control characters, NUL included, are fine in texts (they are JSON string values).
  a = alarm_ok(fields({"301", "t", std::string("a\0b", 3)}));
  EXPECT_EQ(a.text, std::string("a\0b", 3));
  a = alarm_ok("301,t,\"two\nlines\"");
  EXPECT_EQ(a.text, "two\nlines");
}

// ---------------------------------------------------------------------------------------------
// 305: severity

TEST(AlarmSeverity, EachSeverity) {
  for (const char* s : {"CRITICAL", "MAJOR", "MINOR", "WARNING"}) {
    auto a = alarm_ok(std::string("305,c8y_TemperatureAlarm,") + s);
    EXPECT_EQ(a.op, AlarmCommand::Op::kSetSeverity) << s;
    EXPECT_EQ(a.type, "c8y_TemperatureAlarm") << s;
    EXPECT_EQ(a.severity, s);
    EXPECT_EQ(a.text, "") << s;
    EXPECT_EQ(a.time_ms, 0) << s;
  }
}

TEST(AlarmSeverity, AnyCaseIsNormalised) {
  const std::pair<const char*, const char*> cases[] = {
      {"critical", "CRITICAL"}, {"Major", "MAJOR"}, {"mInOr", "MINOR"}, {"warning", "WARNING"}};
  for (auto [given, want] : cases)
    EXPECT_EQ(alarm_ok(std::string("305,t,") + given).severity, want);
}

TEST(AlarmSeverity, BadArguments) {
  expect_alarm_45("305");
  expect_alarm_45("305,t");   // missing severity
  expect_alarm_45("305,t,");  // empty severity
  expect_alarm_45("305,,MAJOR");
  for (const char* s : {"FATAL", "CRIT", "MAJORS", "INFO", "CLEARED", "ACTIVE", "1", "\" MAJOR\"",
                        "\"MAJOR \"", "MA JOR",
                        "\xef\xbc\xad"
                        "AJOR"})
    expect_alarm_45(std::string("305,t,") + s);
  expect_alarm_45("305,t,MAJOR,x");  // too many
  EXPECT_NE(alarm_error("305,t,FATAL").find("unknown severity: FATAL"), std::string::npos);
  EXPECT_NE(alarm_error("305,t").find("missing severity"), std::string::npos);
  // Trailing empty fields are not arguments.
  EXPECT_EQ(alarm_ok("305,t,MINOR,,").severity, "MINOR");
}

// ---------------------------------------------------------------------------------------------
// 306: clear

TEST(AlarmClear, Clear) {
  auto a = alarm_ok("306,c8y_TemperatureAlarm");
  EXPECT_EQ(a.op, AlarmCommand::Op::kClear);
  EXPECT_EQ(a.type, "c8y_TemperatureAlarm");
  EXPECT_EQ(a.severity, "");
  EXPECT_EQ(a.text, "");
  EXPECT_TRUE(a.fragments.empty());
  EXPECT_EQ(alarm_ok("306,t,,").type, "t");
}

TEST(AlarmClear, BadArguments) {
  expect_alarm_45("306");
  expect_alarm_45("306,");
  expect_alarm_45("306,t,x");
  expect_alarm_45("306,t,,x");
  expect_alarm_45("306," + std::string(128, 't'));
}

// ---------------------------------------------------------------------------------------------
// 307: remove fragments

TEST(AlarmRemoveFragments, Fragments) {
  auto a = alarm_ok("307,c8y_TemperatureAlarm,c8y_Position,c8y_Configuration");
  EXPECT_EQ(a.op, AlarmCommand::Op::kRemoveFragments);
  EXPECT_EQ(a.type, "c8y_TemperatureAlarm");
  EXPECT_EQ(a.fragments, (std::vector<std::string>{"c8y_Position", "c8y_Configuration"}));
  a = alarm_ok("307,t,one,,");
  EXPECT_EQ(a.fragments, (std::vector<std::string>{"one"}));
  a = alarm_ok("307,t,a,b,a,c,b");  // duplicates dropped, order kept
  EXPECT_EQ(a.fragments, (std::vector<std::string>{"a", "b", "c"}));
  a = alarm_ok("307,t," + std::string(127, 'f'));
  EXPECT_EQ(a.fragments.at(0).size(), 127u);
}

TEST(AlarmRemoveFragments, BadArguments) {
  expect_alarm_45("307");
  expect_alarm_45("307,t");
  expect_alarm_45("307,t,");
  expect_alarm_45("307,t,,");
  expect_alarm_45("307,,c8y_Position");
  expect_alarm_45("307,t,a,,b");  // empty name between names
  expect_alarm_45("307,t,a.b");
  expect_alarm_45("307,t,$a");
  expect_alarm_45("307,t,bad\xff");
  expect_alarm_45("307,t," + std::string(128, 'f'));
  for (const char* std_prop :
       {"id", "self", "type", "text", "time", "source", "severity", "status", "count",
        "firstOccurrenceTime", "creationTime", "lastUpdated", "history"})
    expect_alarm_45(std::string("307,t,ok,") + std_prop);
  EXPECT_NE(alarm_error("307,t").find("missing fragment"), std::string::npos);
  EXPECT_NE(alarm_error("307,t,severity").find("standard property severity"), std::string::npos);
}

TEST(AlarmCommandReuse, FieldsAreReset) {
  AlarmCommand a;
  ASSERT_FALSE(decode_alarm(record("307,t,f1,f2"), kNow, a));
  ASSERT_FALSE(decode_alarm(record("301,u,text,2016-06-22T15:03:14Z"), kNow, a));
  EXPECT_TRUE(a.fragments.empty());
  ASSERT_FALSE(decode_alarm(record("306,v"), kNow, a));
  EXPECT_EQ(a.op, AlarmCommand::Op::kClear);
  EXPECT_EQ(a.text, "");
  EXPECT_EQ(a.severity, "");
  EXPECT_EQ(a.time_ms, 0);
}

// ---------------------------------------------------------------------------------------------
// 400: basic event

TEST(Event400, Basic) {
  auto ev = event_ok("400,c8y_MyEvent,\"Something was triggered\"");
  EXPECT_EQ(ev.op, EventCommand::Op::kCreate);
  EXPECT_EQ(ev.template_id, "400");
  EXPECT_EQ(ev.type, "c8y_MyEvent");
  EXPECT_EQ(ev.text, "Something was triggered");
  EXPECT_EQ(ev.time_ms, kNow);
  EXPECT_EQ(ev.fragments, json::object());
  EXPECT_FALSE(ev.update_device);
  EXPECT_EQ(ev.device_fragments, json::object());
  EXPECT_FALSE(ev.mirror_parameters);
  EXPECT_FALSE(ev.change_detect);
  EXPECT_TRUE(ev.parameters.empty());
  EXPECT_TRUE(ev.remove.empty());
}

TEST(Event400, TimeAndOptionalTime) {
  EXPECT_EQ(event_ok("400,t,x,2016-06-22T17:03:14.000+02:00").time_ms, kT20160622);
  EXPECT_EQ(event_ok("400,t,x,").time_ms, kNow);
  EXPECT_EQ(event_ok("400,t,x,,").time_ms, kNow);
  EXPECT_EQ(event_ok("400,t,x,2016-06-22T15:03:14.5Z").time_ms, kT20160622 + 500);
}

TEST(Event400, BadArguments) {
  expect_event_45("400");
  expect_event_45("400,t");    // text is mandatory
  expect_event_45("400,t,");   // empty text
  expect_event_45("400,t,,");  // empty text
  expect_event_45("400,,text");
  expect_event_45("400,t,x,notadate");
  expect_event_45("400,t,x,2016-06-22T15:03:14");
  expect_event_45("400,t,x,2016-06-22T15:03:14Z,extra");
  expect_event_45("400,t,x,,extra");
  expect_event_45("400," + std::string(128, 't') + ",x");
  expect_event_45("400,t\xff,x");
  expect_event_45("400,\"t\tt\",x");
  expect_event_45("400,t,bad\xc3");
  EXPECT_EQ(event_ok("400,t," + std::string(16000, 'x')).text.size(), 16000u);
  EXPECT_EQ(event_ok("400," + std::string(127, 't') + ",x").type.size(), 127u);
  EXPECT_NE(event_error("400,t").find("missing text"), std::string::npos);
  expect_event_45(fields({"400", std::string("t\0", 2), "x"}), "NUL in event type");
  EXPECT_EQ(event_ok(fields({"400", "t", std::string("x\0y", 3)})).text, std::string("x\0y", 3));
  EXPECT_NE(event_error("400,,x").find("missing event type"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// 401 / 402: location

TEST(Event401, AllFields) {
  auto ev = event_ok("401,51.151977,6.95173,67,10,2016-06-22T15:03:14Z");
  EXPECT_EQ(ev.op, EventCommand::Op::kCreate);
  EXPECT_EQ(ev.template_id, "401");
  EXPECT_EQ(ev.type, "c8y_LocationUpdate");
  EXPECT_EQ(ev.text, "Location updated");
  EXPECT_EQ(ev.time_ms, kT20160622);
  EXPECT_EQ(
      ev.fragments,
      json::parse(R"({"c8y_Position":{"lat":51.151977,"lng":6.95173,"alt":67,"accuracy":10}})"));
  EXPECT_TRUE(ev.fragments["c8y_Position"]["accuracy"].is_number_integer());
  EXPECT_TRUE(ev.fragments["c8y_Position"]["lat"].is_number_float());
  EXPECT_FALSE(ev.update_device);
  EXPECT_EQ(ev.device_fragments, json::object());
  EXPECT_FALSE(ev.mirror_parameters);
}

TEST(Event401, DocExampleAndAbsentMembers) {
  auto ev = event_ok("401,51.151977,6.95173,67");
  EXPECT_EQ(ev.fragments,
            json::parse(R"({"c8y_Position":{"lat":51.151977,"lng":6.95173,"alt":67}})"));
  EXPECT_EQ(ev.time_ms, kNow);
  EXPECT_EQ(event_ok("401,1.5,-2.5").fragments,
            json::parse(R"({"c8y_Position":{"lat":1.5,"lng":-2.5}})"));
  EXPECT_EQ(event_ok("401,,,67").fragments, json::parse(R"({"c8y_Position":{"alt":67}})"));
  EXPECT_EQ(event_ok("401,,,,-3").fragments, json::parse(R"({"c8y_Position":{"accuracy":-3}})"));
  EXPECT_EQ(event_ok("401,0,0").fragments, json::parse(R"({"c8y_Position":{"lat":0,"lng":0}})"));
  for (const char* line : {"401", "401,", "401,,,,,", "401,,,,,,,"}) {
    auto e = event_ok(line);
    EXPECT_EQ(e.fragments, json::parse(R"({"c8y_Position":{}})")) << line;
    EXPECT_EQ(e.time_ms, kNow) << line;
  }
  ev = event_ok("401,,,,,2016-06-22T15:03:14Z");
  EXPECT_EQ(ev.fragments, json::parse(R"({"c8y_Position":{}})"));
  EXPECT_EQ(ev.time_ms, kT20160622);
  EXPECT_EQ(event_ok("401,1e1,+2,-0.5").fragments,
            json::parse(R"({"c8y_Position":{"lat":10,"lng":2,"alt":-0.5}})"));
}

TEST(Event401, BadArguments) {
  for (const char* line :
       {"401,abc", "401,NaN", "401,1,inf", "401,1,2,-Infinity", "401,1e400", "401,1,2,1e400",
        "401,0x10", "401,\"1 \"", "401,1,2,3,5.5", "401,1,2,3,1e1", "401,1,2,3,x",
        "401,1,2,3,99999999999999999999", "401,1,2,3,4,bad", "401,1,2,3,4,2016-06-22T15:03:14",
        "401,1,2,3,4,2016-06-22T15:03:14Z,x", "401,,,,,,x", "401,1,2,3,4,,x"})
    expect_event_45(line);
  EXPECT_NE(event_error("401,1,2,3,5.5").find("accuracy is not an integer"), std::string::npos);
  EXPECT_NE(event_error("401,1,x").find("lng is not a number"), std::string::npos);
}

TEST(Event402, AlsoUpdatesTheDevice) {
  auto ev = event_ok("402,51.151977,6.95173,67");
  EXPECT_EQ(ev.op, EventCommand::Op::kCreate);
  EXPECT_EQ(ev.template_id, "402");
  EXPECT_EQ(ev.type, "c8y_LocationUpdate");
  EXPECT_EQ(ev.text, "Location updated");
  EXPECT_EQ(ev.time_ms, kNow);
  const json want = json::parse(R"({"c8y_Position":{"lat":51.151977,"lng":6.95173,"alt":67}})");
  EXPECT_EQ(ev.fragments, want);
  EXPECT_TRUE(ev.update_device);
  EXPECT_EQ(ev.device_fragments, want);
  EXPECT_FALSE(ev.mirror_parameters);

  ev = event_ok("402,1,2,3,4,2016-06-22T15:03:14Z");
  EXPECT_EQ(ev.time_ms, kT20160622);
  EXPECT_EQ(ev.device_fragments,
            json::parse(R"({"c8y_Position":{"lat":1,"lng":2,"alt":3,"accuracy":4}})"));
  ev = event_ok("402");
  EXPECT_TRUE(ev.update_device);
  EXPECT_EQ(ev.device_fragments, json::parse(R"({"c8y_Position":{}})"));
}

TEST(Event402, BadArguments) {
  for (const char* line : {"402,abc", "402,1,NaN", "402,1,2,3,4.0", "402,1,2,3,4,bad",
                           "402,1,2,3,4,2016-06-22T15:03:14Z,x"})
    expect_event_45(line);
}

// ---------------------------------------------------------------------------------------------
// 407: remove event fragments

TEST(Event407, Fragments) {
  auto ev = event_ok("407,c8y_MyEvent,c8y_Position,c8y_Configuration");
  EXPECT_EQ(ev.op, EventCommand::Op::kRemoveFragments);
  EXPECT_EQ(ev.template_id, "407");
  EXPECT_EQ(ev.type, "c8y_MyEvent");
  EXPECT_EQ(ev.remove, (std::vector<std::string>{"c8y_Position", "c8y_Configuration"}));
  EXPECT_EQ(ev.text, "");
  EXPECT_EQ(ev.time_ms, 0);
  EXPECT_EQ(ev.fragments, json::object());
  EXPECT_FALSE(ev.update_device);
  EXPECT_FALSE(ev.mirror_parameters);
  EXPECT_EQ(event_ok("407,t,x,x,y,,").remove, (std::vector<std::string>{"x", "y"}));
}

TEST(Event407, BadArguments) {
  expect_event_45("407");
  expect_event_45("407,t");
  expect_event_45("407,t,");
  expect_event_45("407,,c8y_Position");
  expect_event_45("407,t,a,,b");
  expect_event_45("407,t,a.b");
  expect_event_45("407,t,a$");
  expect_event_45("407,t," + std::string(128, 'f'));
  expect_event_45("407,t,\xff");
  for (const char* std_prop :
       {"id", "self", "type", "text", "time", "source", "creationTime", "lastUpdated"})
    expect_event_45(std::string("407,t,") + std_prop);
  // Alarm-only properties are ordinary fragments of an event.
  EXPECT_EQ(event_ok("407,t,severity,status").remove,
            (std::vector<std::string>{"severity", "status"}));
}

// ---------------------------------------------------------------------------------------------
// 408: parameter update

TEST(Event408, DocExample) {
  auto ev =
      event_ok("408,,,,c8y_RelayStatus.left,BOOLEAN,true,c8y_RelayStatus.right,BOOLEAN,false");
  EXPECT_EQ(ev.op, EventCommand::Op::kCreate);
  EXPECT_EQ(ev.template_id, "408");
  EXPECT_EQ(ev.type, "c8y_ParameterUpdate");
  EXPECT_EQ(ev.text, "Parameter 'c8y_RelayStatus' was updated");
  EXPECT_EQ(ev.time_ms, kNow);
  EXPECT_FALSE(ev.change_detect);
  EXPECT_TRUE(ev.mirror_parameters);
  EXPECT_FALSE(ev.update_device);
  EXPECT_EQ(ev.device_fragments, json::object());
  EXPECT_EQ(ev.fragments, json::parse(R"({"c8y_RelayStatus":{"left":true,"right":false}})"));
  ASSERT_EQ(ev.parameters.size(), 2u);
  EXPECT_EQ(ev.parameters[0].path, "c8y_RelayStatus.left");
  EXPECT_EQ(ev.parameters[0].segments, (std::vector<std::string>{"c8y_RelayStatus", "left"}));
  EXPECT_EQ(ev.parameters[0].type, ParameterValueType::kBoolean);
  EXPECT_EQ(ev.parameters[0].value, json(true));
  EXPECT_EQ(ev.parameters[1].path, "c8y_RelayStatus.right");
  EXPECT_EQ(ev.parameters[1].value, json(false));
}

TEST(Event408, DocExampleWithChangeDetect) {
  auto ev =
      event_ok("408,,,true,c8y_RelayStatus.left,BOOLEAN,false,c8y_RelayStatus.right,BOOLEAN,true");
  EXPECT_TRUE(ev.change_detect);
  EXPECT_EQ(ev.fragments, json::parse(R"({"c8y_RelayStatus":{"left":false,"right":true}})"));
  EXPECT_TRUE(event_ok("408,,,TRUE,a,b,true").change_detect);
  EXPECT_FALSE(event_ok("408,,,false,a,b,true").change_detect);
  EXPECT_FALSE(event_ok("408,,,False,a,b,true").change_detect);
}

TEST(Event408, TextAndTime) {
  auto ev = event_ok("408,\"Relay status updated\",2016-06-22T17:03:14.000+02:00,,r.left,b,true");
  EXPECT_EQ(ev.text, "Relay status updated");
  EXPECT_EQ(ev.time_ms, kT20160622);
  EXPECT_EQ(ev.fragments, json::parse(R"({"r":{"left":true}})"));
}

TEST(Event408, DefaultTextNamesEveryRoot) {
  EXPECT_EQ(event_ok("408,,,,MyParameter,b,true").text, "Parameter 'MyParameter' was updated");
  EXPECT_EQ(event_ok("408,,,,a.x,s,1,b,s,2,a.y,s,3,c.d.e,n,4").text,
            "Parameters 'a', 'b', 'c' were updated");
}

TEST(Event408, TypeCodes) {
  struct Case {
    const char* type;
    const char* value;
    ParameterValueType want_type;
    json want;
  };
  const Case cases[] = {
      {"STRING", "hello", ParameterValueType::kString, "hello"},
      {"s", "John Smithsky", ParameterValueType::kString, "John Smithsky"},
      {"String", "12312", ParameterValueType::kString, "12312"},
      {"S", "true", ParameterValueType::kString, "true"},
      {"NUMBER", "42", ParameterValueType::kNumber, 42},
      {"n", "-7", ParameterValueType::kNumber, -7},
      {"number", "1.5", ParameterValueType::kNumber, 1.5},
      {"N", "1e2", ParameterValueType::kNumber, 100.0},
      {"NUMBER", "+3", ParameterValueType::kNumber, 3},
      {"BOOLEAN", "true", ParameterValueType::kBoolean, true},
      {"b", "false", ParameterValueType::kBoolean, false},
      {"boolean", "TRUE", ParameterValueType::kBoolean, true},
      {"B", "False", ParameterValueType::kBoolean, false},
  };
  for (const auto& c : cases) {
    std::string line = std::string("408,,,,p.q,") + c.type + "," + c.value;
    auto ev = event_ok(line);
    ASSERT_EQ(ev.parameters.size(), 1u) << line;
    EXPECT_EQ(ev.parameters[0].type, c.want_type) << line;
    EXPECT_EQ(ev.parameters[0].value, c.want) << line;
    EXPECT_EQ(ev.fragments, json({{"p", {{"q", c.want}}}})) << line;
  }
}

TEST(Event408, NumberRepresentation) {
  auto v = [](const char* text) {
    return event_ok(std::string("408,,,,p,n,") + text).parameters.at(0).value;
  };
  EXPECT_TRUE(v("42").is_number_integer());
  EXPECT_EQ(v("42").dump(), "42");
  EXPECT_TRUE(v("-9223372036854775808").is_number_integer());
  EXPECT_TRUE(v("1.0").is_number_float());
  EXPECT_TRUE(v("1e2").is_number_float());
  auto big = v("99999999999999999999");  // does not fit int64: a double
  EXPECT_TRUE(big.is_number_float());
  EXPECT_DOUBLE_EQ(big.get<double>(), 1e20);
}

TEST(Event408, StringValuesKeepTheirText) {
  auto ev = event_ok("408,,,,a.b,STRING,\"x, \"\"y\"\"\",a.c,s,\" padded \"");
  EXPECT_EQ(ev.fragments, json::parse(R"({"a":{"b":"x, \"y\"","c":" padded "}})"));
  ev = event_ok("408,,,,a,s," + std::string(16000, 'v'));
  EXPECT_EQ(ev.parameters[0].value.get<std::string>().size(), 16000u);
}

TEST(Event408, EmptyValueIsNull) {
  for (const char* type : {"STRING", "NUMBER", "BOOLEAN", "s", "n", "b"}) {
    std::string line = std::string("408,,,,p.q,") + type + ",";
    auto ev = event_ok(line);
    ASSERT_EQ(ev.parameters.size(), 1u) << line;
    EXPECT_TRUE(ev.parameters[0].value.is_null()) << line;
    EXPECT_EQ(ev.fragments, json::parse(R"({"p":{"q":null}})")) << line;
  }
  // Omitted value at the end, and an empty one in the middle (532 style "Problems,,").
  auto ev = event_ok("408,,,,Problems,s");
  EXPECT_EQ(ev.fragments, json::parse(R"({"Problems":null})"));
  ev = event_ok("408,,,,a,b,,c,n,5");
  EXPECT_EQ(ev.fragments, json::parse(R"({"a":null,"c":5})"));
  ev = event_ok("408,,,,a,b,,,,");
  EXPECT_EQ(ev.fragments, json::parse(R"({"a":null})"));
}

TEST(Event408, NestedPaths) {
  auto ev = event_ok(
      "408,,,,MyParameter,b,true,DeviceMaintainer.name,s,John Smithsky,"
      "DeviceMaintainer.contact,s,12312,Problems,s,,a.b.c.d,n,1,a.b.e,n,2,a.f,b,false");
  EXPECT_EQ(ev.fragments, json::parse(R"({
    "MyParameter": true,
    "DeviceMaintainer": {"name": "John Smithsky", "contact": "12312"},
    "Problems": null,
    "a": {"b": {"c": {"d": 1}, "e": 2}, "f": false}
  })"));
  ASSERT_EQ(ev.parameters.size(), 7u);
  EXPECT_EQ(ev.parameters[4].segments, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(ev.text, "Parameters 'MyParameter', 'DeviceMaintainer', 'Problems', 'a' were updated");
}

TEST(Event408, ReservedNamesOnlyAtTheTop) {
  // Standard properties are fine below the first segment.
  auto ev = event_ok("408,,,,x.type,s,t,x.id,n,1,x.time,s,now");
  EXPECT_EQ(ev.fragments, json::parse(R"({"x":{"type":"t","id":1,"time":"now"}})"));
  for (const char* root : {"id", "self", "type", "text", "time", "source", "creationTime",
                           "lastUpdated", "owner", "childDevices", "childAssets", "childAdditions",
                           "deviceParents", "assetParents", "additionParents"}) {
    expect_event_45(std::string("408,,,,") + root + ",s,x");
    expect_event_45(std::string("408,,,,") + root + ".sub,s,x");
  }
  // Names are case-sensitive: "Type" is an ordinary fragment.
  EXPECT_EQ(event_ok("408,,,,Type,s,x").fragments, json::parse(R"({"Type":"x"})"));
}

TEST(Event408, PathLimits) {
  std::string deep = "s0";
  for (int i = 1; i < 32; ++i) deep += ".s" + std::to_string(i);
  auto ev = event_ok("408,,,,a" + deep.substr(2) + ",n,1");  // 32 segments
  EXPECT_EQ(ev.parameters[0].segments.size(), 32u);
  expect_event_45("408,,,,a" + deep.substr(2) + ".x,n,1");  // 33 segments
  std::string seg127(127, 'k');
  ev = event_ok("408,,,,r." + seg127 + ",n,1");
  EXPECT_EQ(ev.parameters[0].segments[1].size(), 127u);
  expect_event_45("408,,,,r." + std::string(128, 'k') + ",n,1");
  // The whole path is bounded by its segments only: 32 segments of 127 bytes.
  std::string longest = seg127;
  for (int i = 1; i < 32; ++i) longest += "." + seg127;
  EXPECT_EQ(event_ok("408,,,," + longest + ",n,1").parameters[0].path.size(), 32u * 128 - 1);
}

TEST(Event408, BadPaths) {
  for (const char* path : {"a..b", ".a", "a.", ".", "a$b", "$a", "a.$b", "bad\xff", "a.\xc3"})
    expect_event_45(std::string("408,,,,") + path + ",s,x");
  expect_event_45("408,,,,a,s,x,,s,y");  // empty path in the middle
  EXPECT_NE(event_error("408,,,,a..b,s,x").find("empty segment"), std::string::npos);
}

TEST(Event408, PathConflicts) {
  expect_event_45("408,,,,a,s,1,a,s,2");        // same path twice
  expect_event_45("408,,,,a.b,s,1,a.b,n,2");    // same nested path twice
  expect_event_45("408,,,,a,s,1,a.b,s,2");      // a leaf, then an object
  expect_event_45("408,,,,a.b,s,1,a,s,2");      // an object, then a leaf
  expect_event_45("408,,,,a.b,s,1,a.b.c,s,2");  // deeper
  expect_event_45("408,,,,a,s,,a.b,s,2");       // null leaf, then an object
  EXPECT_NE(event_error("408,,,,a,s,1,a,s,2").find("given twice"), std::string::npos);
  EXPECT_NE(event_error("408,,,,a,s,1,a.b,s,2").find("conflict"), std::string::npos);
  // Siblings are fine.
  EXPECT_EQ(event_ok("408,,,,a.b,s,1,a.c,s,2").fragments,
            json::parse(R"({"a":{"b":"1","c":"2"}})"));
}

TEST(Event408, BadArguments) {
  expect_event_45("408");
  expect_event_45("408,");
  expect_event_45("408,,,");
  expect_event_45("408,,,,");
  expect_event_45("408,text,2016-06-22T15:03:14Z,true");  // no parameter
  expect_event_45("408,,notadate,,a,s,x");
  expect_event_45("408,,2016-06-22T15:03:14,,a,s,x");
  for (const char* cd : {"yes", "1", "0", "no", "t", "truee"})
    expect_event_45(std::string("408,,,") + cd + ",a,s,x");
  expect_event_45("408,,,,a");        // type missing
  expect_event_45("408,,,,a,");       // type empty
  expect_event_45("408,,,,a,,x");     // type empty
  expect_event_45("408,,,,a,s,x,b");  // second group without type
  for (const char* type : {"DATE", "INTEGER", "bool", "str", "x", "BOOLEANS", "NULL", "o"})
    expect_event_45(std::string("408,,,,a,") + type + ",1");
  for (const char* v : {"yes", "1", "0", "on", "tru"})
    expect_event_45(std::string("408,,,,a,b,") + v);
  for (const char* v : {"abc", "NaN", "inf", "-Infinity", "1e400", "0x10", "1,5"})
    expect_event_45(std::string("408,,,,a,n,\"") + v + "\"");
  expect_event_45("408,,,,a,s,bad\xff");
  expect_event_45("408,bad\xff,,,a,s,x");
  EXPECT_NE(event_error("408,,,,a,DATE,1").find("unknown parameter type: DATE"), std::string::npos);
  EXPECT_NE(event_error("408,,,,a,b,yes").find("not a boolean"), std::string::npos);
  EXPECT_NE(event_error("408,,,,a,n,x").find("not a number"), std::string::npos);
  EXPECT_NE(event_error("408,,,maybe,a,s,x").find("changeDetect"), std::string::npos);
  EXPECT_NE(event_error("408,,,").find("at least one parameter"), std::string::npos);
}

TEST(Event408, AsManyParametersAsTheMessageHolds) {
  std::string line = "408,,,";
  for (int i = 0; i < 1000; ++i) line += ",p" + std::to_string(i) + ",n," + std::to_string(i);
  auto ev = event_ok(line);
  EXPECT_EQ(ev.parameters.size(), 1000u);
  EXPECT_EQ(ev.fragments.size(), 1000u);
  EXPECT_EQ(ev.fragments["p999"], json(999));
}

TEST(EventCommandReuse, FieldsAreReset) {
  EventCommand ev;
  ASSERT_FALSE(decode_event(record("408,,,true,a.b,n,1"), kNow, ev));
  ASSERT_FALSE(decode_event(record("402,1,2"), kNow, ev));
  EXPECT_FALSE(ev.change_detect);
  EXPECT_FALSE(ev.mirror_parameters);
  EXPECT_TRUE(ev.parameters.empty());
  ASSERT_FALSE(decode_event(record("407,t,f"), kNow, ev));
  EXPECT_FALSE(ev.update_device);
  EXPECT_EQ(ev.device_fragments, json::object());
  EXPECT_EQ(ev.fragments, json::object());
  ASSERT_FALSE(decode_event(record("400,t,x"), kNow, ev));
  EXPECT_TRUE(ev.remove.empty());
  EXPECT_EQ(ev.template_id, "400");
}

// ---------------------------------------------------------------------------------------------
// apply_parameter_update

EventCommand p408(std::string_view line) {
  return event_ok(line);
}

// What Inventory::merge does with top-level fragments.
json merged(json device, const json& fragments) {
  for (auto& [k, v] : fragments.items()) {
    if (v.is_null())
      device.erase(k);
    else
      device[k] = v;
  }
  return device;
}

TEST(ApplyParameterUpdate, UnknownStateIsAChange) {
  auto cmd =
      p408("408,,,true,c8y_RelayStatus.left,BOOLEAN,true,c8y_RelayStatus.right,BOOLEAN,false");
  auto r = apply_parameter_update(json::parse(R"({"id":"1","name":"dev"})"), cmd);
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.create_event);
  EXPECT_EQ(r.device_fragments, json::parse(R"({"c8y_RelayStatus":{"left":true,"right":false}})"));
}

TEST(ApplyParameterUpdate, KnownStateWithChangeDetectCreatesNothing) {
  const json device =
      json::parse(R"({"id":"1","c8y_RelayStatus":{"left":true,"right":false,"extra":1}})");
  auto r = apply_parameter_update(
      device, p408("408,,,true,c8y_RelayStatus.left,BOOLEAN,true,c8y_RelayStatus.right,b,false"));
  EXPECT_FALSE(r.changed);
  EXPECT_FALSE(r.create_event);
  EXPECT_EQ(r.device_fragments, json::object());
}

TEST(ApplyParameterUpdate, KnownStateWithoutChangeDetectStillCreatesTheEvent) {
  const json device = json::parse(R"({"c8y_RelayStatus":{"left":true,"right":false}})");
  for (const char* cd : {"", "false"}) {
    auto r = apply_parameter_update(
        device, p408(std::string("408,,,") + cd +
                     ",c8y_RelayStatus.left,BOOLEAN,true,c8y_RelayStatus.right,b,false"));
    EXPECT_FALSE(r.changed) << cd;
    EXPECT_TRUE(r.create_event) << cd;
    EXPECT_EQ(r.device_fragments, json::object()) << cd;
  }
}

TEST(ApplyParameterUpdate, OneDifferenceIsEnoughAndSiblingsAreKept) {
  const json device = json::parse(
      R"({"c8y_RelayStatus":{"left":true,"right":true,"middle":{"x":1}},"other":{"k":2}})");
  auto cmd = p408("408,,,true,c8y_RelayStatus.left,b,true,c8y_RelayStatus.right,b,false");
  auto r = apply_parameter_update(device, cmd);
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.create_event);
  EXPECT_EQ(r.device_fragments,
            json::parse(R"({"c8y_RelayStatus":{"left":true,"right":false,"middle":{"x":1}}})"));
  // After the merge the same report is known state.
  auto again = apply_parameter_update(merged(device, r.device_fragments), cmd);
  EXPECT_FALSE(again.changed);
  EXPECT_FALSE(again.create_event);
}

TEST(ApplyParameterUpdate, OnlyChangedRootsAreWritten) {
  const json device = json::parse(R"({"a":{"x":1},"b":{"y":"same"}})");
  auto r = apply_parameter_update(device, p408("408,,,true,a.x,n,2,b.y,s,same,c,b,true"));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.device_fragments, json::parse(R"({"a":{"x":2},"c":true})"));
}

TEST(ApplyParameterUpdate, NumbersCompareByValueNotByType) {
  const json device = json::parse(R"({"p":{"i":1,"f":2.5,"s":"3"}})");
  auto r = apply_parameter_update(device, p408("408,,,true,p.i,n,1.0,p.f,n,2.5"));
  EXPECT_FALSE(r.changed);
  r = apply_parameter_update(device, p408("408,,,true,p.i,n,1e0"));
  EXPECT_FALSE(r.changed);
  // A string is not a number.
  r = apply_parameter_update(device, p408("408,,,true,p.s,n,3"));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.device_fragments, json::parse(R"({"p":{"i":1,"f":2.5,"s":3}})"));
  r = apply_parameter_update(device, p408("408,,,true,p.i,s,1"));
  EXPECT_TRUE(r.changed);
  // Booleans are not numbers either.
  r = apply_parameter_update(json::parse(R"({"p":{"b":1}})"), p408("408,,,true,p.b,b,true"));
  EXPECT_TRUE(r.changed);
}

TEST(ApplyParameterUpdate, NullEqualsAbsent) {
  // Null for a path the device does not have: nothing known changes.
  auto r = apply_parameter_update(json::parse(R"({"p":{"a":1}})"), p408("408,,,true,p.b,s,"));
  EXPECT_FALSE(r.changed);
  EXPECT_FALSE(r.create_event);
  EXPECT_EQ(r.device_fragments, json::object());
  r = apply_parameter_update(json::parse(R"({"p":{"b":null}})"), p408("408,,,true,p.b,s,"));
  EXPECT_FALSE(r.changed);
  r = apply_parameter_update(json::object(), p408("408,,,true,Problems,s,"));
  EXPECT_FALSE(r.changed);
  r = apply_parameter_update(json::parse(R"({"Problems":null})"), p408("408,,,true,Problems,s,"));
  EXPECT_FALSE(r.changed);
  // A value where the device holds null is a change.
  r = apply_parameter_update(json::parse(R"({"p":{"b":null}})"), p408("408,,,true,p.b,s,x"));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.device_fragments, json::parse(R"({"p":{"b":"x"}})"));
}

TEST(ApplyParameterUpdate, NullRemovesTheMember) {
  auto r = apply_parameter_update(json::parse(R"({"p":{"a":1,"b":2}})"), p408("408,,,true,p.b,n,"));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.device_fragments, json::parse(R"({"p":{"a":1}})"));
  // A one-segment path set to null removes the whole fragment (Inventory::merge erases nulls).
  const json device = json::parse(R"({"Problems":"many","k":1})");
  r = apply_parameter_update(device, p408("408,,,,Problems,s,"));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.device_fragments, json::parse(R"({"Problems":null})"));
  EXPECT_EQ(merged(device, r.device_fragments), json::parse(R"({"k":1})"));
  // A null under a missing member creates nothing.
  r = apply_parameter_update(json::parse(R"({"a":{"x":1}})"), p408("408,,,,a.x,n,2,a.y.z,n,"));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.device_fragments, json::parse(R"({"a":{"x":2}})"));
}

TEST(ApplyParameterUpdate, NonObjectsOnThePathAreReplaced) {
  auto r = apply_parameter_update(json::parse(R"({"a":5})"), p408("408,,,true,a.b.c,n,1"));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.device_fragments, json::parse(R"({"a":{"b":{"c":1}}})"));
  r = apply_parameter_update(json::parse(R"({"a":{"b":[1,2]}})"), p408("408,,,true,a.b.c,n,1"));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.device_fragments, json::parse(R"({"a":{"b":{"c":1}}})"));
  // A whole fragment replaced by a leaf value.
  r = apply_parameter_update(json::parse(R"({"a":{"b":1}})"), p408("408,,,true,a,s,flat"));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.device_fragments, json::parse(R"({"a":"flat"})"));
}

TEST(ApplyParameterUpdate, DeviceThatIsNotAnObject) {
  for (const json& device : {json(), json::array({1}), json("x"), json(3)}) {
    auto r = apply_parameter_update(device, p408("408,,,true,a.b,n,1"));
    EXPECT_TRUE(r.changed) << device.dump();
    EXPECT_TRUE(r.create_event);
    EXPECT_EQ(r.device_fragments, json::parse(R"({"a":{"b":1}})"));
  }
}

TEST(ApplyParameterUpdate, DeepPathsMergeIntoExistingState) {
  const json device = json::parse(R"({"cfg":{"net":{"ip":"1.2.3.4","mask":24},"log":"info"}})");
  auto r = apply_parameter_update(device,
                                  p408("408,,,true,cfg.net.ip,s,10.0.0.1,cfg.net.gw,s,10.0.0.254"));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(
      r.device_fragments,
      json::parse(R"({"cfg":{"net":{"ip":"10.0.0.1","mask":24,"gw":"10.0.0.254"},"log":"info"}})"));
}

TEST(ApplyParameterUpdate, NotAParameterUpdate) {
  for (const char* line : {"400,t,x", "402,1,2", "407,t,f"}) {
    auto r = apply_parameter_update(json::parse(R"({"c8y_Position":{"lat":1}})"), p408(line));
    EXPECT_FALSE(r.changed) << line;
    EXPECT_TRUE(r.create_event) << line;
    EXPECT_EQ(r.device_fragments, json::object()) << line;
  }
}

}  // namespace
}  // namespace c8y::smartrest

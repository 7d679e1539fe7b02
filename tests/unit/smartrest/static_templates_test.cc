#include "plugin/smartrest/static_templates.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <string_view>

#include "plugin/smartrest/csv.h"

namespace c8y::smartrest {
namespace {

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

// ---------------------------------------------------------------------------------------------
// template_kind

TEST(TemplateKind, Implemented) {
  EXPECT_EQ(template_kind("100"), TemplateKind::kCreateDevice);
  for (const char* id :
       {"101", "102", "104", "105", "107", "110", "111", "112", "113", "114", "115", "116", "117",
        "118", "119", "120", "121", "122", "123", "125", "140", "141", "142", "143", "150"})
    EXPECT_EQ(template_kind(id), TemplateKind::kInventory) << id;
  for (const char* id : {"200", "201", "210", "211", "212"})
    EXPECT_EQ(template_kind(id), TemplateKind::kMeasurement) << id;
  for (const char* id : {"301", "302", "303", "304", "305", "306", "307"})
    EXPECT_EQ(template_kind(id), TemplateKind::kAlarm) << id;
  for (const char* id : {"400", "401", "402", "407", "408"})
    EXPECT_EQ(template_kind(id), TemplateKind::kEvent) << id;
  for (const char* id : {"600", "602"})
    EXPECT_EQ(template_kind(id), TemplateKind::kCapability) << id;
}

TEST(TemplateKind, Operations) {
  for (const char* id : {"500", "501", "502", "503", "504", "505", "506", "507"})
    EXPECT_EQ(template_kind(id), TemplateKind::kOperation) << id;
}

TEST(TemplateKind, SupportedListNamesEveryHandledTemplate) {
  const std::string list = "," + supported_static_templates() + ",";
  for (int id = 0; id < 1000; ++id) {
    const auto k = template_kind(std::to_string(id));
    const bool handled = k != TemplateKind::kUnknown;
    EXPECT_EQ(handled, list.find("," + std::to_string(id) + ",") != std::string::npos) << id;
  }
}

TEST(TemplateKind, Unknown) {
  for (const char* id :
       {"999", "abc",  "+211", "0211", "",     "-1",   "-211", "0",   "1",   "99",  "103", "202",
        "213", "1000", "2110", "21",   " 211", "211 ", "2 1",  "1e2", "+10", "099", "21a"})
    EXPECT_EQ(template_kind(id), TemplateKind::kUnknown) << '"' << id << '"';
}

// ---------------------------------------------------------------------------------------------
// 100: create device

TEST(CreateDevice, NameAndType) {
  CreateDevice d;
  auto e = decode_create_device(record("100,My Device,c8y_Gateway"), d);
  ASSERT_FALSE(e) << e->text;
  EXPECT_EQ(d.name, "My Device");
  EXPECT_EQ(d.type, "c8y_Gateway");
}

TEST(CreateDevice, DefaultsAreEmpty) {
  for (const char* line : {"100", "100,", "100,,", "100,,,,"}) {
    CreateDevice d{"stale", "stale"};
    auto e = decode_create_device(record(line), d);
    ASSERT_FALSE(e) << line << ": " << e->text;
    EXPECT_EQ(d.name, "") << line;
    EXPECT_EQ(d.type, "") << line;
  }
  CreateDevice d;
  ASSERT_FALSE(decode_create_device(record("100,,t"), d));
  EXPECT_EQ(d.name, "");
  EXPECT_EQ(d.type, "t");
}

TEST(CreateDevice, QuotedNameKeepsComma) {
  CreateDevice d;
  ASSERT_FALSE(decode_create_device(record("100,\"a, b\",t"), d));
  EXPECT_EQ(d.name, "a, b");
}

TEST(CreateDevice, TooManyArguments) {
  CreateDevice d;
  auto e = decode_create_device(record("100,n,t,x"), d);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 45);
  e = decode_create_device(record("100,,,x"), d);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 45);
}

TEST(CreateDevice, LimitsAndUtf8) {
  CreateDevice d;
  // Name and type are values: no limit below the message cap.
  EXPECT_FALSE(decode_create_device(
      record("100," + std::string(8000, 'n') + "," + std::string(8000, 't')), d));
  EXPECT_EQ(d.name.size(), 8000u);
  EXPECT_EQ(d.type.size(), 8000u);
  auto e = decode_create_device(record("100,bad\xff"), d);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 45);
  e = decode_create_device(record("100,n,\xc3"), d);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 45);
  EXPECT_FALSE(decode_create_device(record("100,\xc3\xa9t\xc3\xa9"), d));
  EXPECT_EQ(d.name, "\xc3\xa9t\xc3\xa9");
}

// ---------------------------------------------------------------------------------------------
// Measurements

void expect_series(const common::Measurement& m, size_t i, std::string_view fragment,
                   std::string_view series, double value, std::string_view unit) {
  ASSERT_LT(i, m.count);
  EXPECT_EQ(m.series[i].fragment, fragment) << i;
  EXPECT_EQ(m.series[i].series, series) << i;
  EXPECT_EQ(m.series[i].value, value) << i;
  EXPECT_EQ(m.series[i].unit, unit) << i;
}

// Decodes and expects error 45.
void expect_45(std::string_view line) {
  common::Measurement m;
  auto e = decode_measurement(record(line), kNow, m);
  ASSERT_TRUE(e) << "accepted: " << line;
  EXPECT_EQ(e->code, 45) << line << ": " << e->text;
  EXPECT_FALSE(e->text.empty()) << line;
}

TEST(Measurement211, Temperature) {
  common::Measurement m;
  auto e = decode_measurement(record("211,25.5"), kNow, m);
  ASSERT_FALSE(e) << e->text;
  EXPECT_EQ(m.type, "c8y_TemperatureMeasurement");
  EXPECT_EQ(m.time_ms, kNow);
  ASSERT_EQ(m.count, 1u);
  expect_series(m, 0, "c8y_TemperatureMeasurement", "T", 25.5, "C");
}

TEST(Measurement211, ExplicitTime) {
  common::Measurement m;
  ASSERT_FALSE(decode_measurement(record("211,-3,2016-06-22T17:03:14.000+02:00"), kNow, m));
  EXPECT_EQ(m.time_ms, kT20160622);
  expect_series(m, 0, "c8y_TemperatureMeasurement", "T", -3, "C");
  ASSERT_FALSE(decode_measurement(record("211,1,2016-06-22T15:03:14.000Z"), kNow, m));
  EXPECT_EQ(m.time_ms, kT20160622);
  ASSERT_FALSE(decode_measurement(record("211,1,2016-06-22T10:03:14.5-05:00"), kNow, m));
  EXPECT_EQ(m.time_ms, kT20160622 + 500);
  ASSERT_FALSE(decode_measurement(record("211,1,"), kNow, m));  // empty time: now
  EXPECT_EQ(m.time_ms, kNow);
}

TEST(Measurement211, BadArguments) {
  expect_45("211");
  expect_45("211,");
  expect_45("211,,2016-06-22T15:03:14Z");
  expect_45("211,abc");
  expect_45("211,NaN");
  expect_45("211,nan");
  expect_45("211,inf");
  expect_45("211,-Infinity");
  expect_45("211,1e400");
  expect_45("211,-1e400");
  expect_45("211,0x10");
  expect_45("211,1,notadate");
  expect_45("211,1,2016-06-22T15:03:14");  // no zone: no instant
  expect_45("211,1,2016-02-30");
  expect_45("211,1,2016-06-22T15:03:14Z,x");  // too many
}

TEST(Measurement212, Battery) {
  common::Measurement m;
  ASSERT_FALSE(decode_measurement(record("212,80"), kNow, m));
  EXPECT_EQ(m.type, "c8y_Battery");
  EXPECT_EQ(m.time_ms, kNow);
  ASSERT_EQ(m.count, 1u);
  expect_series(m, 0, "c8y_Battery", "level", 80, "%");
  ASSERT_FALSE(decode_measurement(record("212,1e2,2016-06-22"), kNow, m));
  EXPECT_EQ(m.time_ms, 1466553600000);
  expect_series(m, 0, "c8y_Battery", "level", 100, "%");
  expect_45("212");
  expect_45("212,x");
  expect_45("212,1,2,3");
}

TEST(Measurement210, RssiAndBer) {
  common::Measurement m;
  ASSERT_FALSE(decode_measurement(record("210,-90,23,2016-06-22T15:03:14Z"), kNow, m));
  EXPECT_EQ(m.type, "c8y_SignalStrength");
  EXPECT_EQ(m.time_ms, kT20160622);
  ASSERT_EQ(m.count, 2u);
  expect_series(m, 0, "c8y_SignalStrength", "rssi", -90, "dBm");
  expect_series(m, 1, "c8y_SignalStrength", "ber", 23, "%");
}

TEST(Measurement210, OnlyOne) {
  common::Measurement m;
  ASSERT_FALSE(decode_measurement(record("210,-90"), kNow, m));
  EXPECT_EQ(m.time_ms, kNow);
  ASSERT_EQ(m.count, 1u);
  expect_series(m, 0, "c8y_SignalStrength", "rssi", -90, "dBm");

  ASSERT_FALSE(decode_measurement(record("210,,5"), kNow, m));
  ASSERT_EQ(m.count, 1u);
  expect_series(m, 0, "c8y_SignalStrength", "ber", 5, "%");

  ASSERT_FALSE(decode_measurement(record("210,,5,2016-06-22T15:03:14Z"), kNow, m));
  ASSERT_EQ(m.count, 1u);
  EXPECT_EQ(m.time_ms, kT20160622);
}

TEST(Measurement210, BadArguments) {
  expect_45("210");
  expect_45("210,");
  expect_45("210,,");
  expect_45("210,,,2016-06-22T15:03:14Z");  // neither rssi nor ber
  expect_45("210,x");
  expect_45("210,,x");
  expect_45("210,-90,NaN");
  expect_45("210,-90,5,bad");
  expect_45("210,-90,5,2016-06-22T15:03:14Z,x");
}

TEST(Measurement200, Full) {
  common::Measurement m;
  auto e = decode_measurement(record("200,c8y_Temperature,T,25.3,C,2016-06-22T17:03:14.000+02:00"),
                              kNow, m);
  ASSERT_FALSE(e) << e->text;
  EXPECT_EQ(m.type, "c8y_Temperature");
  EXPECT_EQ(m.time_ms, kT20160622);
  ASSERT_EQ(m.count, 1u);
  expect_series(m, 0, "c8y_Temperature", "T", 25.3, "C");
}

TEST(Measurement200, OptionalUnitAndTime) {
  common::Measurement m;
  ASSERT_FALSE(decode_measurement(record("200,f,s,1"), kNow, m));
  EXPECT_EQ(m.time_ms, kNow);
  expect_series(m, 0, "f", "s", 1, "");
  ASSERT_FALSE(decode_measurement(record("200,f,s,1,,2016-06-22T15:03:14Z"), kNow, m));
  EXPECT_EQ(m.time_ms, kT20160622);
  expect_series(m, 0, "f", "s", 1, "");
  ASSERT_FALSE(decode_measurement(record("200,f,s,1,u,"), kNow, m));
  EXPECT_EQ(m.time_ms, kNow);
  expect_series(m, 0, "f", "s", 1, "u");
}

TEST(Measurement200, BadArguments) {
  expect_45("200");
  expect_45("200,f");
  expect_45("200,f,s");
  expect_45("200,f,s,");
  expect_45("200,,s,1");
  expect_45("200,f,,1");
  expect_45("200,f,s,NaN");
  expect_45("200,f,s,inf");
  expect_45("200,f,s,1e400");
  expect_45("200,f,s,one");
  expect_45("200,f,s,1,u,yesterday");
  expect_45("200,f,s,1,u,2016-06-22T15:03:14Z,x");  // too many
  // Names are JSON keys: no '.' or '$', valid UTF-8, at most 127 bytes.
  expect_45("200,c8y.Temp,T,1");
  expect_45("200,$set,T,1");
  expect_45("200,f,a.b,1");
  expect_45("200,f,$,1");
  expect_45("200,f\xff,s,1");
  expect_45("200,f,\xc3,1");          // truncated sequence
  expect_45("200,f,\xed\xa0\x80,1");  // surrogate
  expect_45("200," + std::string(128, 'f') + ",s,1");
  expect_45("200,f," + std::string(128, 's') + ",1");
  expect_45("200,f,s,1," + std::string(128, 'u'));
  expect_45("200,f,s,1,\xff");
}

TEST(Measurement200, NameLimitsAccepted) {
  common::Measurement m;
  const std::string f(127, 'f'), s(127, 's'), u(127, 'u');
  ASSERT_FALSE(decode_measurement(record("200," + f + "," + s + ",1," + u), kNow, m));
  expect_series(m, 0, f, s, 1, u);
  ASSERT_FALSE(decode_measurement(record("200,\xc3\xa9t\xc3\xa9,s,1,\xc2\xb0"
                                         "C"),
                                  kNow, m));
  expect_series(m, 0, "\xc3\xa9t\xc3\xa9", "s", 1,
                "\xc2\xb0"
                "C");
}

TEST(Measurement201, SeveralGroups) {
  common::Measurement m;
  auto e = decode_measurement(
      record("201,c8y_Weather,2016-06-22T15:03:14Z,c8y_Temperature,T,20,C,c8y_Humidity,h,55,%"),
      kNow, m);
  ASSERT_FALSE(e) << e->text;
  EXPECT_EQ(m.type, "c8y_Weather");
  EXPECT_EQ(m.time_ms, kT20160622);
  ASSERT_EQ(m.count, 2u);
  expect_series(m, 0, "c8y_Temperature", "T", 20, "C");
  expect_series(m, 1, "c8y_Humidity", "h", 55, "%");
}

TEST(Measurement201, LastUnitOmitted) {
  common::Measurement m;
  ASSERT_FALSE(decode_measurement(record("201,t,,f,s,1"), kNow, m));
  EXPECT_EQ(m.time_ms, kNow);
  ASSERT_EQ(m.count, 1u);
  expect_series(m, 0, "f", "s", 1, "");

  ASSERT_FALSE(decode_measurement(record("201,t,,f,s,1,u,g,x,2"), kNow, m));
  ASSERT_EQ(m.count, 2u);
  expect_series(m, 0, "f", "s", 1, "u");
  expect_series(m, 1, "g", "x", 2, "");

  // Trailing empty fields are not a group.
  ASSERT_FALSE(decode_measurement(record("201,t,,f,s,1,u,,,"), kNow, m));
  ASSERT_EQ(m.count, 1u);
  // An empty unit in the middle is allowed.
  ASSERT_FALSE(decode_measurement(record("201,t,,f,s,1,,g,x,2,v"), kNow, m));
  ASSERT_EQ(m.count, 2u);
  expect_series(m, 0, "f", "s", 1, "");
  expect_series(m, 1, "g", "x", 2, "v");
}

TEST(Measurement201, BadArguments) {
  expect_45("201");
  expect_45("201,t");
  expect_45("201,t,");
  expect_45("201,t,,f");
  expect_45("201,t,,f,s");
  expect_45("201,t,,f,s,");
  expect_45("201,,,f,s,1");             // type is mandatory
  expect_45("201,t,bad,f,s,1");         // time
  expect_45("201,t,,f,s,1,u,g");        // incomplete second group
  expect_45("201,t,,f,s,1,u,g,x");      // incomplete second group
  expect_45("201,t,,f,s,1,u,g,x,NaN");  // bad value in second group
  expect_45("201,t,,f,s,1,u,,x,2");     // empty fragment in second group
  expect_45("201,t,,f,s,1,u,g,,2");     // empty series
  expect_45("201,t,,f.x,s,1");
  expect_45("201,t,,f,s$,1");
  expect_45("201,t,,f,s,1,\xff");
  expect_45("201,t,,f\xc3,s,1");
  expect_45("201," + std::string(128, 't') + ",,f,s,1");
}

std::string groups(size_t n) {
  std::string line = "201,t,";
  for (size_t i = 0; i < n; ++i) line += ",f" + std::to_string(i) + ",s,1,u";
  return line;
}

TEST(Measurement201, AtMost255Series) {
  common::Measurement m;
  auto e = decode_measurement(record(groups(255)), kNow, m);
  ASSERT_FALSE(e) << e->text;
  ASSERT_EQ(m.count, 255u);
  expect_series(m, 254, "f254", "s", 1, "u");
  expect_45(groups(256));
  // 256 groups with the last unit omitted are still too many.
  std::string line = groups(256);
  line.resize(line.size() - 2);
  expect_45(line);
}

TEST(Measurement, ReusedMeasurementIsCleared) {
  common::Measurement m;
  ASSERT_FALSE(decode_measurement(record("201,t,,a,s,1,u,b,s,2,u,c,s,3,u"), kNow, m));
  ASSERT_EQ(m.count, 3u);
  ASSERT_FALSE(decode_measurement(record("211,7"), kNow + 1, m));
  EXPECT_EQ(m.count, 1u);
  EXPECT_EQ(m.type, "c8y_TemperatureMeasurement");
  EXPECT_EQ(m.time_ms, kNow + 1);
  expect_series(m, 0, "c8y_TemperatureMeasurement", "T", 7, "C");
}

TEST(Measurement, NotAMeasurementTemplate) {
  common::Measurement m;
  for (const char* line : {"100,a", "999,1", "213,1"}) {
    auto e = decode_measurement(record(line), kNow, m);
    ASSERT_TRUE(e) << line;
    EXPECT_EQ(e->code, 40) << line;
  }
}

TEST(Measurement, ValuesKeepTheirSignAndPrecision) {
  common::Measurement m;
  ASSERT_FALSE(decode_measurement(record("200,f,s,-0.0"), kNow, m));
  EXPECT_TRUE(std::signbit(m.series[0].value));
  ASSERT_FALSE(decode_measurement(record("200,f,s,1.7976931348623157e308"), kNow, m));
  EXPECT_EQ(m.series[0].value, 1.7976931348623157e308);
  ASSERT_FALSE(decode_measurement(record("200,f,s,0.1"), kNow, m));
  EXPECT_EQ(m.series[0].value, 0.1);
}

// Device input in an error text is cut to 64 bytes of printable, valid UTF-8 (echo_value).
TEST(ErrorTexts, DeviceInputIsEchoedBounded) {
  common::Measurement m;
  const std::string junk = "x\x01\x7fy" + std::string(5000, 'z');
  for (const std::string& line : {"211," + junk, "211,1," + junk, "200,f.x" + junk + ",s,1"}) {
    auto e = decode_measurement(record(line), kNow, m);
    ASSERT_TRUE(e) << line.substr(0, 12);
    EXPECT_EQ(e->code, 45);
    EXPECT_LT(e->text.size(), 200u) << line.substr(0, 12);
    for (unsigned char c : e->text) EXPECT_GE(c, 0x20) << line.substr(0, 12);
  }
}

}  // namespace
}  // namespace c8y::smartrest

// The compact stored form of a measurement and its JSON form (plugin/domain/measurement.h).
#include "plugin/domain/measurement.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace c8y::domain {
namespace {

Measurement make(std::string type, std::initializer_list<Series> series) {
  Measurement m;
  m.type = std::move(type);
  for (const auto& s : series) m.add() = s;
  return m;
}

void expect_same(const Measurement& a, const Measurement& b) {
  EXPECT_EQ(a.type, b.type);
  ASSERT_EQ(a.count, b.count);
  for (size_t i = 0; i < a.count; ++i) {
    EXPECT_EQ(a.series[i].fragment, b.series[i].fragment) << i;
    EXPECT_EQ(a.series[i].series, b.series[i].series) << i;
    // Bit-exact: the stored form keeps the double as is.
    EXPECT_EQ(std::memcmp(&a.series[i].value, &b.series[i].value, 8), 0) << i;
    EXPECT_EQ(a.series[i].unit, b.series[i].unit) << i;
  }
}

Measurement round_trip(const Measurement& m) {
  std::string enc;
  EXPECT_TRUE(encode_measurement(m, enc));
  Measurement out;
  EXPECT_TRUE(decode_measurement(enc, out));
  return out;
}

TEST(MeasurementCodec, DictionaryNamesRoundTrip) {
  auto m = make("c8y_TemperatureMeasurement", {{"c8y_TemperatureMeasurement", "T", 21.5, "C"},
                                               {"c8y_SignalStrength", "rssi", -90, "dBm"},
                                               {"c8y_SignalStrength", "ber", 3, "%"}});
  expect_same(m, round_trip(m));
}

TEST(MeasurementCodec, DictionaryNamesAreOneByte) {
  auto m = make("c8y_Battery", {{"c8y_Battery", "level", 80, "%"}});
  std::string enc;
  ASSERT_TRUE(encode_measurement(m, enc));
  // version + type + count + (fragment + series + f64 + unit)
  EXPECT_EQ(enc.size(), 1u + 1 + 1 + (1 + 1 + 8 + 1));
  EXPECT_EQ(enc[0], 1);  // format version
}

TEST(MeasurementCodec, OtherNamesRoundTrip) {
  auto m = make("my_Type", {{"my_Fragment", "x", 1.25, "mm/s"},
                            {"c8y_Temperature", "custom", 2, ""},
                            {"\xc3\xa9t\xc3\xa9", "s\0x", 3,
                             "\xc2\xb0"
                             "C"}});
  m.series[2].series.assign("s\0x", 3);  // NUL bytes are just bytes here
  expect_same(m, round_trip(m));
  // A name that merely starts like a dictionary entry is stored in full.
  auto p = make("c8y_Batter", {{"c8y_Battery_", "levels", 1, "%%"}});
  expect_same(p, round_trip(p));
}

TEST(MeasurementCodec, EmptyNamesRoundTrip) {
  auto m = make("", {{"", "", 0, ""}});
  expect_same(m, round_trip(m));
}

TEST(MeasurementCodec, ZeroSeries) {
  Measurement m;
  m.type = "t";
  std::string enc;
  ASSERT_TRUE(encode_measurement(m, enc));
  Measurement out;
  out.add().fragment = "stale";
  ASSERT_TRUE(decode_measurement(enc, out));
  EXPECT_EQ(out.count, 0u);
  EXPECT_EQ(out.type, "t");
}

TEST(MeasurementCodec, MaxSeries) {
  Measurement m;
  m.type = "t";
  for (int i = 0; i < 255; ++i) m.add() = {"f" + std::to_string(i), "s", double(i), "u"};
  auto out = round_trip(m);
  expect_same(m, out);
  EXPECT_EQ(out.count, 255u);

  m.add() = {"f255", "s", 255, "u"};
  std::string enc;
  EXPECT_FALSE(encode_measurement(m, enc));
}

TEST(MeasurementCodec, SpecialValuesAreBitExact) {
  auto m = make("t", {{"f", "a", -0.0, ""},
                      {"f", "b", std::numeric_limits<double>::denorm_min(), ""},
                      {"f", "c", std::numeric_limits<double>::max(), ""},
                      {"f", "d", std::numeric_limits<double>::lowest(), ""}});
  expect_same(m, round_trip(m));
  EXPECT_TRUE(std::signbit(round_trip(m).series[0].value));
}

TEST(MeasurementCodec, NameLength127Accepted128Refused) {
  const std::string n127(127, 'n'), n128(128, 'n');
  auto m = make(n127, {{n127, n127, 1, n127}});
  expect_same(m, round_trip(m));

  std::string enc;
  EXPECT_FALSE(encode_measurement(make(n128, {{"f", "s", 1, "u"}}), enc));
  EXPECT_FALSE(encode_measurement(make("t", {{n128, "s", 1, "u"}}), enc));
  EXPECT_FALSE(encode_measurement(make("t", {{"f", n128, 1, "u"}}), enc));
  EXPECT_FALSE(encode_measurement(make("t", {{"f", "s", 1, n128}}), enc));
  // Refused in a later series too.
  EXPECT_FALSE(encode_measurement(make("t", {{"f", "s", 1, "u"}, {"f", "s", 1, n128}}), enc));
}

TEST(MeasurementCodec, UnusedSeriesEntriesAreNotEncoded) {
  auto m = make("t", {{"a", "s", 1, ""}, {"b", "s", 2, ""}});
  m.clear();
  m.add() = {"c", "s", 3, ""};
  auto out = round_trip(m);
  ASSERT_EQ(out.count, 1u);
  EXPECT_EQ(out.series[0].fragment, "c");
}

TEST(MeasurementCodec, EveryTruncationIsRejected) {
  auto m = make("my_Type", {{"c8y_Temperature", "T", 1.5, "C"}, {"frag", "series", 2, "unit"}});
  std::string enc;
  ASSERT_TRUE(encode_measurement(m, enc));
  for (size_t n = 0; n < enc.size(); ++n) {
    Measurement out;
    EXPECT_FALSE(decode_measurement(std::string_view(enc).substr(0, n), out)) << n;
  }
  Measurement out;
  EXPECT_TRUE(decode_measurement(enc, out));
}

TEST(MeasurementCodec, CustomFragmentsRoundTripAndMergeIntoTheJson) {
  auto m = make("t", {{"environment", "temperature", 29.9, "°C"}});
  m.custom = R"({"environment":{"sensor":"s1"},"meta":{"sensorLocation":"Brisbane"}})";
  std::string enc;
  ASSERT_TRUE(encode_measurement(m, enc));
  EXPECT_EQ(enc[0], 2);
  Measurement out;
  out.custom = "stale";
  ASSERT_TRUE(decode_measurement(enc, out));
  expect_same(m, out);
  EXPECT_EQ(out.custom, m.custom);
  out.id = 7;
  out.source = 9;
  auto j = measurement_json(out);
  EXPECT_EQ(j["environment"]["temperature"]["value"], 29.9);
  EXPECT_EQ(j["environment"]["sensor"], "s1");
  EXPECT_EQ(j["meta"]["sensorLocation"], "Brisbane");
  EXPECT_EQ(j["id"], "7");
  // Every truncation of the longer form is refused too.
  for (size_t n = 0; n < enc.size(); ++n)
    EXPECT_FALSE(decode_measurement(enc.substr(0, n), out)) << n;
  // Decoding a version 1 value clears what a version 2 value left behind.
  auto plain = make("t", {{"f", "s", 1, "u"}});
  ASSERT_TRUE(encode_measurement(plain, enc));
  EXPECT_EQ(enc[0], 1);
  ASSERT_TRUE(decode_measurement(enc, out));
  EXPECT_TRUE(out.custom.empty());
}

TEST(MeasurementCodec, TrailingBytesAreRejected) {
  auto m = make("t", {{"f", "s", 1, "u"}});
  std::string enc;
  ASSERT_TRUE(encode_measurement(m, enc));
  Measurement out;
  EXPECT_FALSE(decode_measurement(enc + '\0', out));
  EXPECT_FALSE(decode_measurement(enc + "x", out));
}

TEST(MeasurementCodec, GarbageIsRejected) {
  Measurement out;
  EXPECT_FALSE(decode_measurement("", out));
  EXPECT_FALSE(decode_measurement(std::string("\x03\x81\x00", 3), out));  // unknown version
  EXPECT_FALSE(decode_measurement(std::string("\x02\x81\x00", 3), out));  // no custom length
  EXPECT_FALSE(decode_measurement(std::string("\x02\x81\x00\x00\x00\x00\x00", 7), out));
  EXPECT_FALSE(decode_measurement(std::string("\x00\x81\x00", 3), out));
  // Dictionary index past the end of the dictionary (it has 17 entries).
  EXPECT_FALSE(decode_measurement(std::string("\x01\x91\x00", 3), out));
  EXPECT_FALSE(decode_measurement(std::string("\x01\xff\x00", 3), out));
  EXPECT_TRUE(decode_measurement(std::string("\x01\x90\x00", 3), out));  // index 16
  EXPECT_EQ(out.type, "voltage");
  // Length byte larger than what follows.
  EXPECT_FALSE(decode_measurement(std::string("\x01\x05"
                                              "ab\x00",
                                              5),
                                  out));
  // Count larger than the series present.
  EXPECT_FALSE(decode_measurement(std::string("\x01\x80\x02", 3), out));
}

TEST(MeasurementCodec, RandomBytesNeverCrash) {
  // Random inputs and random mutations of a valid encoding: decoding returns without crashing,
  // and whatever it accepts encodes again and decodes to the same measurement.
  std::mt19937 rng(12345);
  auto m = make("my_Type", {{"c8y_Temperature", "T", 1.5, "C"}, {"frag", "series", 2, "unit"}});
  std::string valid;
  ASSERT_TRUE(encode_measurement(m, valid));
  Measurement out;
  for (int i = 0; i < 20000; ++i) {
    std::string in;
    if (i % 2) {
      in.resize(rng() % 64);
      for (auto& c : in) c = static_cast<char>(rng());
      if (!in.empty() && i % 4 == 1) in[0] = 1;
    } else {
      in = valid;
      in[rng() % in.size()] = static_cast<char>(rng());
    }
    if (decode_measurement(in, out)) {
      std::string again;
      ASSERT_TRUE(encode_measurement(out, again));
      Measurement back;
      ASSERT_TRUE(decode_measurement(again, back));
      expect_same(out, back);
    }
  }
}

TEST(MeasurementJson, Shape) {
  auto m = make("c8y_Weather", {{"c8y_Temperature", "T", 20.5, "C"},
                                {"c8y_Temperature", "T2", 21, ""},
                                {"c8y_Humidity", "h", 55, "%"}});
  m.id = 123001;
  m.source = 42001;
  m.time_ms = 1466607794123;
  auto j = measurement_json(m);
  auto want = nlohmann::json::parse(R"({
    "id": "123001",
    "time": "2016-06-22T15:03:14.123Z",
    "type": "c8y_Weather",
    "source": {"id": "42001"},
    "c8y_Temperature": {"T": {"value": 20.5, "unit": "C"}, "T2": {"value": 21}},
    "c8y_Humidity": {"h": {"value": 55, "unit": "%"}}
  })");
  EXPECT_EQ(j, want) << j.dump();
  EXPECT_TRUE(j["id"].is_string());
  EXPECT_TRUE(j["source"]["id"].is_string());
}

TEST(MeasurementJson, OnlyUsedSeries) {
  auto m = make("t", {{"a", "s", 1, ""}, {"b", "s", 2, ""}});
  m.clear();
  m.add() = {"c", "s", 3, ""};
  auto j = measurement_json(m);
  EXPECT_FALSE(j.contains("a"));
  EXPECT_FALSE(j.contains("b"));
  EXPECT_EQ(j["c"]["s"]["value"], 3);
}

}  // namespace
}  // namespace c8y::domain

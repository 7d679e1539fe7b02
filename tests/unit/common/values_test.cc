#include "plugin/common/values.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace c8y::common {
namespace {

using namespace std::string_literals;

// ---------------------------------------------------------------------------------------------
// parse_number

TEST(ParseNumber, Accepts) {
  const struct {
    const char* in;
    double want;
  } cases[] = {
      {"0", 0.0},
      {"1", 1.0},
      {"-1", -1.0},
      {"+5", 5.0},
      {"+0", 0.0},
      {"25.5", 25.5},
      {"-273.15", -273.15},
      {"1.", 1.0},
      {".5", 0.5},
      {"-.5", -0.5},
      {"+.5", 0.5},
      {"00012", 12.0},
      {"1e3", 1000.0},
      {"1E3", 1000.0},
      {"1e+3", 1000.0},
      {"1e-3", 0.001},
      {"2.5E-3", 0.0025},
      {"1e0", 1.0},
      {"1e007", 1e7},
      {"12345678901234567890", 12345678901234567890.0},
      {"1.7976931348623157e308", 1.7976931348623157e308},
      {"-1.7976931348623157e308", -1.7976931348623157e308},
      {"2.2250738585072014e-308", 2.2250738585072014e-308},
      {"1e-310", 1e-310},  // subnormal: kept
      {"4.9406564584124654e-324", 4.9406564584124654e-324},
      {"0e400", 0.0},
      {"0.000e999999999999999999", 0.0},
      {"1000e-3", 1.0},
      {"0.001e3", 1.0},
  };
  for (const auto& c : cases) {
    const auto v = parse_number(c.in);
    ASSERT_TRUE(v.has_value()) << c.in;
    EXPECT_EQ(*v, c.want) << c.in;
  }
}

TEST(ParseNumber, SignedZero) {
  ASSERT_TRUE(parse_number("-0").has_value());
  EXPECT_EQ(*parse_number("-0"), 0.0);
  EXPECT_TRUE(std::signbit(*parse_number("-0")));
  EXPECT_TRUE(std::signbit(*parse_number("-0.0e5")));
  EXPECT_FALSE(std::signbit(*parse_number("0")));
  EXPECT_FALSE(std::signbit(*parse_number("+0")));
}

TEST(ParseNumber, UnderflowIsAcceptedAsSignedZero) {
  for (const char* s : {"1e-400", "2.4e-324", "0.0000001e-320", "1e-99999999999999999999999",
                        "123456789e-400", "00000000000000000000001e-330"}) {
    const auto v = parse_number(s);
    ASSERT_TRUE(v.has_value()) << s;
    EXPECT_EQ(*v, 0.0) << s;
    EXPECT_FALSE(std::signbit(*v)) << s;
  }
  const auto neg = parse_number("-1e-400");
  ASSERT_TRUE(neg.has_value());
  EXPECT_EQ(*neg, 0.0);
  EXPECT_TRUE(std::signbit(*neg));
}

TEST(ParseNumber, LongMantissas) {
  const std::string many_digits = "1" + std::string(400, '0');  // 1e400 written out
  EXPECT_FALSE(parse_number(many_digits).has_value());
  EXPECT_EQ(parse_number(many_digits + "e-400"), 1.0);
  EXPECT_EQ(parse_number("0." + std::string(500, '0') + "1"), 0.0);  // underflow
  EXPECT_EQ(parse_number("0." + std::string(300, '0') + "1e300"), 1e-1);
}

TEST(ParseNumber, Rejects) {
  for (const std::string& s : {""s,
                               " "s,
                               "+"s,
                               "-"s,
                               "."s,
                               "+."s,
                               "-."s,
                               "e5"s,
                               ".e5"s,
                               "1e"s,
                               "1e+"s,
                               "1e-"s,
                               "1e+-3"s,
                               "NaN"s,
                               "nan"s,
                               "NAN"s,
                               "-nan"s,
                               "nan(123)"s,
                               "inf"s,
                               "-inf"s,
                               "+inf"s,
                               "Inf"s,
                               "INF"s,
                               "Infinity"s,
                               "infinity"s,
                               "1e400"s,
                               "-1e400"s,
                               "1.7976931348623159e308"s,
                               "1e99999999999999999999999"s,
                               " 5"s,
                               "5 "s,
                               "5\t"s,
                               "\t5"s,
                               "1 000"s,
                               "1 e3"s,
                               "0x10"s,
                               "0X10"s,
                               "0x1p3"s,
                               "1,5"s,
                               "1.2.3"s,
                               "--1"s,
                               "+-1"s,
                               "-+1"s,
                               "++1"s,
                               "1e5.5"s,
                               "1f"s,
                               "5d"s,
                               "1_000"s,
                               "\xd9\xa1"s,  // ARABIC-INDIC DIGIT ONE
                               "1\0"s,
                               "\0"s,
                               "true"s}) {
    EXPECT_FALSE(parse_number(s).has_value()) << "[" << s << "]";
  }
}

// ---------------------------------------------------------------------------------------------
// parse_integer

TEST(ParseInteger, Accepts) {
  const struct {
    const char* in;
    int64_t want;
  } cases[] = {
      {"0", 0},
      {"-0", 0},
      {"+0", 0},
      {"+5", 5},
      {"-5", -5},
      {"007", 7},
      {"123456789", 123456789},
      {"9223372036854775807", std::numeric_limits<int64_t>::max()},
      {"+9223372036854775807", std::numeric_limits<int64_t>::max()},
      {"-9223372036854775808", std::numeric_limits<int64_t>::min()},
  };
  for (const auto& c : cases) {
    const auto v = parse_integer(c.in);
    ASSERT_TRUE(v.has_value()) << c.in;
    EXPECT_EQ(*v, c.want) << c.in;
  }
}

TEST(ParseInteger, Rejects) {
  for (const std::string& s : {""s,
                               "+"s,
                               "-"s,
                               "+-1"s,
                               "-+1"s,
                               "++1"s,
                               "--1"s,
                               "9223372036854775808"s,
                               "-9223372036854775809"s,
                               "99999999999999999999999"s,
                               " 5"s,
                               "5 "s,
                               "1.0"s,
                               "1."s,
                               "1e3"s,
                               "0x10"s,
                               "five"s,
                               "1_000"s,
                               "1,000"s,
                               "\xd9\xa1"s,
                               "5\0"s,
                               "NaN"s}) {
    EXPECT_FALSE(parse_integer(s).has_value()) << "[" << s << "]";
  }
}

// ---------------------------------------------------------------------------------------------
// parse_bool

TEST(ParseBool, AcceptsCaseInsensitive) {
  for (const char* s : {"true", "TRUE", "True", "tRuE"}) EXPECT_EQ(parse_bool(s), true) << s;
  for (const char* s : {"false", "FALSE", "False", "fAlSe"}) EXPECT_EQ(parse_bool(s), false) << s;
}

TEST(ParseBool, Rejects) {
  for (const std::string& s : {""s, "1"s, "0"s, "yes"s, "no"s, "t"s, "f"s, " true"s, "true "s,
                               "truee"s, "fals"s, "true\0"s, "tru\xc3\xa9"s}) {
    EXPECT_FALSE(parse_bool(s).has_value()) << "[" << s << "]";
  }
}

// ---------------------------------------------------------------------------------------------
// parse_iso8601_ms / format_iso8601_ms

// Independent reference through std::chrono.
int64_t utc_ms(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0, int ms = 0) {
  using namespace std::chrono;
  const sys_days day{year{y} / month{m} / d};
  const auto t = day + hours{hh} + minutes{mm} + seconds{ss} + milliseconds{ms};
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

TEST(ParseIso8601, AcceptsOffsetsAndZ) {
  const int64_t want = utc_ms(2016, 6, 22, 15, 3, 14);
  for (const char* s :
       {"2016-06-22T17:03:14.000+02:00", "2016-06-22T17:03:14+02:00", "2016-06-22T17:03:14+0200",
        "2016-06-22T17:03:14+02", "2016-06-22T15:03:14.000Z", "2016-06-22T15:03:14Z",
        "2016-06-22T15:03:14+00:00", "2016-06-22T15:03:14-00:00", "2016-06-22T15:03:14+0000",
        "2016-06-22T09:33:14-05:30", "2016-06-22T09:33:14-0530", "2016-06-22T10:03:14-05",
        "2016-06-23T09:03:14+18:00", "2016-06-21T21:03:14-18:00", "2016-06-23T05:03:14+14"}) {
    EXPECT_EQ(parse_iso8601_ms(s), want) << s;
  }
}

TEST(ParseIso8601, SecondsAreOptional) {
  EXPECT_EQ(parse_iso8601_ms("2016-06-22T17:03Z"), utc_ms(2016, 6, 22, 17, 3));
  EXPECT_EQ(parse_iso8601_ms("2016-06-22T17:03+02:00"), utc_ms(2016, 6, 22, 15, 3));
}

TEST(ParseIso8601, DateAloneIsMidnightUtc) {
  EXPECT_EQ(parse_iso8601_ms("2016-06-22"), utc_ms(2016, 6, 22));
  EXPECT_EQ(parse_iso8601_ms("1970-01-01"), 0);
}

TEST(ParseIso8601, FractionIsTruncatedToMilliseconds) {
  const int64_t base = utc_ms(2016, 6, 22, 15, 3, 14);
  EXPECT_EQ(parse_iso8601_ms("2016-06-22T15:03:14.1Z"), base + 100);
  EXPECT_EQ(parse_iso8601_ms("2016-06-22T15:03:14.12Z"), base + 120);
  EXPECT_EQ(parse_iso8601_ms("2016-06-22T15:03:14.123Z"), base + 123);
  EXPECT_EQ(parse_iso8601_ms("2016-06-22T15:03:14.1239Z"), base + 123);
  EXPECT_EQ(parse_iso8601_ms("2016-06-22T15:03:14.999999999Z"), base + 999);
  EXPECT_EQ(parse_iso8601_ms("2016-06-22T15:03:14.000000001Z"), base);
  EXPECT_EQ(parse_iso8601_ms("1969-12-31T23:59:59.9999Z"), -1);  // truncation inside the second
}

TEST(ParseIso8601, EpochAndBounds) {
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00.001Z"), 1);
  EXPECT_EQ(parse_iso8601_ms("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(parse_iso8601_ms("0000-01-01"), utc_ms(0, 1, 1));
  EXPECT_EQ(parse_iso8601_ms("0000-01-01T00:00:00Z"), -62167219200000);
  EXPECT_EQ(parse_iso8601_ms("9999-12-31T23:59:59.999Z"), utc_ms(9999, 12, 31, 23, 59, 59, 999));
  EXPECT_EQ(parse_iso8601_ms("9999-12-31T23:59:59.999-18:00"),
            utc_ms(9999, 12, 31, 23, 59, 59, 999) + 18 * 3'600'000);
  EXPECT_EQ(parse_iso8601_ms("0000-01-01T00:00+18:00"), utc_ms(0, 1, 1) - 18 * 3'600'000);
}

TEST(ParseIso8601, LeapYears) {
  EXPECT_EQ(parse_iso8601_ms("2000-02-29"), utc_ms(2000, 2, 29));
  EXPECT_EQ(parse_iso8601_ms("2024-02-29T12:00:00Z"), utc_ms(2024, 2, 29, 12));
  EXPECT_EQ(parse_iso8601_ms("1600-02-29"), utc_ms(1600, 2, 29));
  EXPECT_EQ(parse_iso8601_ms("0000-02-29"), utc_ms(0, 2, 29));
  EXPECT_EQ(parse_iso8601_ms("1900-02-28"), utc_ms(1900, 2, 28));
  EXPECT_FALSE(parse_iso8601_ms("1900-02-29").has_value());
  EXPECT_FALSE(parse_iso8601_ms("2100-02-29").has_value());
  EXPECT_FALSE(parse_iso8601_ms("2023-02-29").has_value());
  EXPECT_FALSE(parse_iso8601_ms("2024-02-30").has_value());
  EXPECT_FALSE(parse_iso8601_ms("2000-02-30").has_value());
}

TEST(ParseIso8601, LeapSecondCountsAsNextSecond) {
  EXPECT_EQ(parse_iso8601_ms("2016-12-31T23:59:60Z"), utc_ms(2017, 1, 1));
  EXPECT_EQ(parse_iso8601_ms("2016-12-31T23:59:60.5Z"), utc_ms(2017, 1, 1) + 500);
}

TEST(ParseIso8601, Rejects) {
  for (const std::string& s : {
           ""s,
           "2016-13-01"s,
           "2016-00-10"s,
           "2016-06-00"s,
           "2016-06-32"s,
           "2016-04-31"s,
           "2016-02-30"s,
           "2016-06-22T24:00:00Z"s,
           "2016-06-22T24:00Z"s,
           "2016-06-22T25:00:00Z"s,
           "2016-06-22T23:60:00Z"s,
           "2016-06-22T23:59:61Z"s,
           "2016-06-22T23:59:99Z"s,
           "2016-06-22T17:03:14+18:01"s,
           "2016-06-22T17:03:14-18:01"s,
           "2016-06-22T17:03:14+19:00"s,
           "2016-06-22T17:03:14-18:30"s,
           "2016-06-22T17:03:14+99"s,
           "2016-06-22T17:03:14+02:60"s,
           "2016-06-22T17:03:14+2"s,
           "2016-06-22T17:03:14+020"s,
           "2016-06-22T17:03:14+02:"s,
           "2016-06-22T17:03:14+02:0"s,
           "2016-06-22T17:03:14+02:00:00"s,
           "2016-06-22T17:03:14+02:00Z"s,
           "2016-06-22T17:03:14"s,  // no zone: no instant
           "2016-06-22T17:03:14.000"s,
           "2016-06-22T17:03"s,
           "2016-06-22T17:03:14.Z"s,
           "2016-06-22T17:03:14.1234567890Z"s,  // 10 fraction digits
           "2016-06-22T17:03:14,5Z"s,
           "2016-06-22T17:03.5Z"s,
           "2016-06-22T17Z"s,
           "2016-06-22T1703Z"s,
           "20160622T170314Z"s,
           "2016-06-22T"s,
           "2016-06-22TZ"s,
           "2016-06-22Z"s,
           "2016-06-22+02:00"s,
           "2016-06-22 17:03:14Z"s,
           "2016-06-22t17:03:14Z"s,
           "2016-06-22T17:03:14z"s,
           "2016-06-22T17:03:14Zjunk"s,
           "2016-06-22T17:03:14Z "s,
           " 2016-06-22"s,
           "2016-06-22 "s,
           "2016-6-22"s,
           "2016-06-2"s,
           "16-06-22"s,
           "20160-06-22"s,
           "+2016-06-22"s,
           "-0001-01-01"s,
           "10000-01-01"s,
           "2016/06/22"s,
           "2016-06-22\0"s,
           "abcd-ef-gh"s,
           "1466607794000"s,
       }) {
    EXPECT_FALSE(parse_iso8601_ms(s).has_value()) << "[" << s << "]";
  }
}

TEST(ParseIso8601, EveryDayOfYears0000To9999MatchesChrono) {
  using namespace std::chrono;
  char buf[32];
  size_t checked = 0;
  for (int y = 0; y <= 9999; ++y) {
    for (unsigned m = 1; m <= 12; ++m) {
      const auto month_len =
          static_cast<unsigned>(year_month_day_last{year{y} / month{m} / last}.day());
      for (unsigned d = 1; d <= month_len + 1; ++d) {
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
        const auto got = parse_iso8601_ms(buf);
        if (d > month_len) {
          ASSERT_FALSE(got.has_value()) << buf;
          continue;
        }
        const int64_t want = sys_days{year{y} / month{m} / day{d}}.time_since_epoch().count();
        ASSERT_EQ(got, want * 86'400'000) << buf;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 3'652'425u);  // days in 10000 Gregorian years
}

TEST(FormatIso8601, Examples) {
  EXPECT_EQ(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(1), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(format_iso8601_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(1466607794000), "2016-06-22T15:03:14.000Z");
  EXPECT_EQ(format_iso8601_ms(utc_ms(2000, 2, 29, 23, 59, 59, 7)), "2000-02-29T23:59:59.007Z");
  EXPECT_EQ(format_iso8601_ms(-62167219200000), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(-62167219200001), "-0001-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(253402300799999), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(253402300800000), "+10000-01-01T00:00:00.000Z");
}

TEST(FormatIso8601, ExtremesDoNotCrash) {
  const std::string max = format_iso8601_ms(std::numeric_limits<int64_t>::max());
  const std::string min = format_iso8601_ms(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(max, "+292278994-08-17T07:12:55.807Z");
  EXPECT_EQ(min, "-292275055-05-16T16:47:04.192Z");
}

TEST(FormatIso8601, RoundTripsThroughParse) {
  std::mt19937_64 rng(42);
  const int64_t lo = utc_ms(0, 1, 1);
  const int64_t hi = utc_ms(9999, 12, 31, 23, 59, 59, 999);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  for (int i = 0; i < 200000; ++i) {
    const int64_t ms = i == 0 ? lo : i == 1 ? hi : dist(rng);
    const std::string s = format_iso8601_ms(ms);
    ASSERT_EQ(s.size(), 24u) << s;
    ASSERT_EQ(parse_iso8601_ms(s), ms) << s;
  }
}

TEST(FormatIso8601, MatchesChrono) {
  std::mt19937_64 rng(43);
  std::uniform_int_distribution<int64_t> dist(utc_ms(0, 1, 1), utc_ms(9999, 12, 31));
  for (int i = 0; i < 20000; ++i) {
    using namespace std::chrono;
    const int64_t ms = dist(rng);
    const sys_time<milliseconds> t{milliseconds{ms}};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{t - day};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int{ymd.year()},
                  unsigned{ymd.month()}, unsigned{ymd.day()}, static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<int>(hms.subseconds().count()));
    ASSERT_EQ(format_iso8601_ms(ms), buf);
  }
}

// ---------------------------------------------------------------------------------------------
// is_valid_utf8

TEST(Utf8, AcceptsValid) {
  for (const std::string& s : {
           ""s,
           "abc"s,
           "\0"s,
           "a\0b"s,
           "\x7f"s,
           "h\xc3\xa9llo"s,      // U+00E9
           "\xc2\x80"s,          // U+0080
           "\xdf\xbf"s,          // U+07FF
           "\xe0\xa0\x80"s,      // U+0800
           "\xe2\x82\xac"s,      // U+20AC
           "\xed\x9f\xbf"s,      // U+D7FF
           "\xee\x80\x80"s,      // U+E000
           "\xef\xbf\xbf"s,      // U+FFFF
           "\xf0\x90\x80\x80"s,  // U+10000
           "\xf0\x9d\x84\x9e"s,  // U+1D11E
           "\xf4\x8f\xbf\xbf"s,  // U+10FFFF
           "0123456789abcdef\xe2\x82\xac"
           "0123456789"s,
       }) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
  }
}

TEST(Utf8, RejectsInvalid) {
  for (const std::string& s : {
           "\x80"s,  // lone continuation
           "\xbf"s,
           "\xc0\x80"s,          // overlong NUL
           "\xc1\xbf"s,          // overlong
           "\xe0\x80\x80"s,      // overlong
           "\xe0\x9f\xbf"s,      // overlong U+07FF
           "\xed\xa0\x80"s,      // U+D800
           "\xed\xbf\xbf"s,      // U+DFFF
           "\xf0\x80\x80\x80"s,  // overlong
           "\xf0\x8f\xbf\xbf"s,  // overlong U+FFFF
           "\xf4\x90\x80\x80"s,  // U+110000
           "\xf5\x80\x80\x80"s,
           "\xf8\x88\x80\x80\x80"s,
           "\xfe"s,
           "\xff"s,
           "\xc3"s,  // truncated
           "\xe2\x82"s,
           "\xf0\x9d\x84"s,
           "a\xc3"s,
           "\xc3\x41"s,  // bad continuation
           "\xe2\x28\xa1"s,
           "\xe2\x82\x28"s,
           "\xf0\x9d\x28\x9e"s,
           "\xf0\x9d\x84\x28"s,
       }) {
    EXPECT_FALSE(is_valid_utf8(s)) << s;
  }
}

TEST(Utf8, InvalidByteAtEveryPositionOfAsciiRun) {
  for (size_t len = 1; len <= 40; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      std::string s(len, 'a');
      EXPECT_TRUE(is_valid_utf8(s));
      s[pos] = '\x80';
      EXPECT_FALSE(is_valid_utf8(s)) << len << " " << pos;
      s[pos] = '\xc3';
      if (pos + 1 < len) s[pos + 1] = '\xa9';
      EXPECT_EQ(is_valid_utf8(s), pos + 1 < len) << len << " " << pos;
    }
  }
}

// Reference decoder written from the RFC 3629 definition, independent of the implementation.
bool reference_utf8(const unsigned char* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    const unsigned b = p[i];
    size_t len;
    uint32_t cp;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

TEST(Utf8, ExhaustiveUpToThreeBytesMatchesReference) {
  unsigned char buf[3];
  for (unsigned a = 0; a < 256; ++a) {
    buf[0] = static_cast<unsigned char>(a);
    ASSERT_EQ(is_valid_utf8({reinterpret_cast<char*>(buf), 1}), reference_utf8(buf, 1)) << a;
    for (unsigned b = 0; b < 256; ++b) {
      buf[1] = static_cast<unsigned char>(b);
      ASSERT_EQ(is_valid_utf8({reinterpret_cast<char*>(buf), 2}), reference_utf8(buf, 2));
      for (unsigned c = 0; c < 256; ++c) {
        buf[2] = static_cast<unsigned char>(c);
        ASSERT_EQ(is_valid_utf8({reinterpret_cast<char*>(buf), 3}), reference_utf8(buf, 3))
            << a << " " << b << " " << c;
      }
    }
  }
}

TEST(Utf8, FourByteSequencesMatchReference) {
  const unsigned edges[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  unsigned char buf[4];
  for (unsigned a = 0xE0; a < 256; ++a) {
    buf[0] = static_cast<unsigned char>(a);
    for (unsigned b = 0; b < 256; ++b) {
      buf[1] = static_cast<unsigned char>(b);
      for (unsigned c : edges) {
        buf[2] = static_cast<unsigned char>(c);
        for (unsigned d : edges) {
          buf[3] = static_cast<unsigned char>(d);
          ASSERT_EQ(is_valid_utf8({reinterpret_cast<char*>(buf), 4}), reference_utf8(buf, 4))
              << a << " " << b << " " << c << " " << d;
        }
      }
    }
  }
}

TEST(Utf8, RandomStringsMatchReference) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> len_dist(0, 40);
  std::uniform_int_distribution<int> byte_dist(0, 255);
  std::uniform_int_distribution<int> coin(0, 3);
  for (int i = 0; i < 100000; ++i) {
    std::string s;
    const int len = len_dist(rng);
    for (int k = 0; k < len; ++k) {
      // Mostly ASCII, with high bytes often enough to form valid sequences.
      s.push_back(static_cast<char>(coin(rng) ? byte_dist(rng) & 0x7F : byte_dist(rng)));
    }
    ASSERT_EQ(is_valid_utf8(s),
              reference_utf8(reinterpret_cast<const unsigned char*>(s.data()), s.size()));
  }
}

}  // namespace
}  // namespace c8y::common

#include "plugin/common/values.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <system_error>

namespace c8y::common {
namespace {

constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

constexpr char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// Proleptic Gregorian calendar (H. Hinnant's algorithms), 64-bit throughout.
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m;
  unsigned d;
};

constexpr Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(days_from_civil(0, 1, 1) == -719528);
static_assert(civil_from_days(11017).y == 2000 && civil_from_days(11017).m == 3);
static_assert(civil_from_days(-719528).y == 0 && civil_from_days(-719528).d == 1);

constexpr bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr unsigned days_in_month(int64_t y, unsigned m) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

constexpr int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Reads exactly n digits at s[pos..]; advances pos.
bool read_digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (s.size() - pos < n) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool read_char(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

void append_padded(std::string& out, int64_t v, int width) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  const auto len = static_cast<int>(r.ptr - buf);
  if (len < width) out.append(static_cast<size_t>(width - len), '0');
  out.append(buf, r.ptr);
}

}  // namespace

std::optional<double> parse_number(std::string_view s) {
  // Validate the grammar ourselves: from_chars also takes "inf", "nan", and we want '+'.
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  const size_t body = negative ? 0 : i;  // from_chars takes '-' but not '+'
  const size_t int_begin = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  const size_t int_end = i;
  size_t frac_begin = i;
  size_t frac_end = i;
  if (i < s.size() && s[i] == '.') {
    frac_begin = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    frac_end = i;
  }
  if (int_end == int_begin && frac_end == frac_begin) return std::nullopt;  // no digit
  int64_t exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      exp_negative = s[i] == '-';
      ++i;
    }
    const size_t exp_begin = i;
    while (i < s.size() && is_digit(s[i])) {
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (s[i] - '0');  // saturate
      ++i;
    }
    if (i == exp_begin) return std::nullopt;
    if (exp_negative) exponent = -exponent;
  }
  if (i != s.size()) return std::nullopt;

  double value = 0;
  const char* first = s.data() + body;
  const char* last = s.data() + s.size();
  const auto r = std::from_chars(first, last, value, std::chars_format::general);
  if (r.ptr != last) return std::nullopt;  // cannot happen after the grammar check
  if (r.ec == std::errc()) return value;
  if (r.ec != std::errc::result_out_of_range) return std::nullopt;

  // Out of range: overflow (reject) or underflow (accept as signed zero). The first non-zero
  // mantissa digit sits at 10^(magnitude); it is < 0 only for underflow.
  int64_t magnitude = 0;
  bool found = false;
  for (size_t k = int_begin; k < int_end && !found; ++k) {
    if (s[k] != '0') {
      magnitude = static_cast<int64_t>(int_end - k) - 1;
      found = true;
    }
  }
  for (size_t k = frac_begin; k < frac_end && !found; ++k) {
    if (s[k] != '0') {
      magnitude = -static_cast<int64_t>(k - frac_begin) - 1;
      found = true;
    }
  }
  if (!found) return negative ? -0.0 : 0.0;
  // Both terms are far below int64 limits: digits are bounded by the payload, exponent saturates.
  if (magnitude + exponent < 0) return negative ? -0.0 : 0.0;
  return std::nullopt;
}

std::optional<int64_t> parse_integer(std::string_view s) {
  size_t i = 0;
  if (!s.empty() && s[0] == '+') i = 1;
  if (i == s.size()) return std::nullopt;
  if (i == 1 && s[1] == '-') return std::nullopt;  // "+-1"
  int64_t value = 0;
  const char* first = s.data() + i;
  const char* last = s.data() + s.size();
  const auto r = std::from_chars(first, last, value, 10);
  if (r.ec != std::errc() || r.ptr != last) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (iequals(s, "true")) return true;
  if (iequals(s, "false")) return false;
  return std::nullopt;
}

std::optional<int64_t> parse_iso8601_ms(std::string_view s) {
  size_t p = 0;
  int year = 0, month = 0, day = 0;
  if (!read_digits(s, p, 4, year) || !read_char(s, p, '-') || !read_digits(s, p, 2, month) ||
      !read_char(s, p, '-') || !read_digits(s, p, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12) return std::nullopt;
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) {
    return std::nullopt;
  }
  const int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  if (p == s.size()) return days * 86'400'000;

  int hour = 0, minute = 0, second = 0;
  if (!read_char(s, p, 'T') || !read_digits(s, p, 2, hour) || !read_char(s, p, ':') ||
      !read_digits(s, p, 2, minute)) {
    return std::nullopt;
  }
  if (hour > 23 || minute > 59) return std::nullopt;
  int64_t millis = 0;
  if (read_char(s, p, ':')) {
    if (!read_digits(s, p, 2, second) || second > 60) return std::nullopt;
    if (read_char(s, p, '.')) {
      size_t n = 0;
      while (p < s.size() && is_digit(s[p])) {
        if (n < 3) millis = millis * 10 + (s[p] - '0');
        ++n;
        ++p;
      }
      if (n == 0 || n > 9) return std::nullopt;
      for (size_t k = n; k < 3; ++k) millis *= 10;
    }
  }

  if (p == s.size()) return std::nullopt;  // no zone
  int offset_minutes = 0;
  if (s[p] == 'Z') {
    ++p;
  } else if (s[p] == '+' || s[p] == '-') {
    const bool negative = s[p] == '-';
    ++p;
    int oh = 0, om = 0;
    if (!read_digits(s, p, 2, oh)) return std::nullopt;
    if (p < s.size()) {
      read_char(s, p, ':');  // optional in "+0200", required to be followed by minutes
      if (!read_digits(s, p, 2, om)) return std::nullopt;
    }
    if (om > 59 || oh * 60 + om > 18 * 60) return std::nullopt;
    offset_minutes = negative ? -(oh * 60 + om) : oh * 60 + om;
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;

  const int64_t local_seconds = days * 86'400 + hour * 3'600 + minute * 60 + second;
  return (local_seconds - offset_minutes * 60) * 1'000 + millis;
}

std::string format_iso8601_ms(int64_t ms) {
  const int64_t days = floor_div(ms, 86'400'000);
  int64_t in_day = ms % 86'400'000;  // not ms - days * 86'400'000: that overflows near INT64_MIN
  if (in_day < 0) in_day += 86'400'000;
  const Civil c = civil_from_days(days);
  std::string out;
  out.reserve(32);
  if (c.y < 0) {
    out.push_back('-');
    append_padded(out, -c.y, 4);
  } else if (c.y > 9999) {
    out.push_back('+');
    append_padded(out, c.y, 4);
  } else {
    append_padded(out, c.y, 4);
  }
  out.push_back('-');
  append_padded(out, c.m, 2);
  out.push_back('-');
  append_padded(out, c.d, 2);
  out.push_back('T');
  append_padded(out, in_day / 3'600'000, 2);
  out.push_back(':');
  append_padded(out, in_day / 60'000 % 60, 2);
  out.push_back(':');
  append_padded(out, in_day / 1'000 % 60, 2);
  out.push_back('.');
  append_padded(out, in_day % 1'000, 3);
  out.push_back('Z');
  return out;
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  while (p < end) {
    // ASCII fast path, eight bytes at a time.
    if (end - p >= 8) {
      uint64_t block;
      std::memcpy(&block, p, 8);
      if ((block & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned char b = *p;
    if (b < 0x80) {
      ++p;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b == 0xE0) {
      len = 3;
      lo = 0xA0;  // no overlong
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
      len = 3;
    } else if (b == 0xED) {
      len = 3;
      hi = 0x9F;  // no surrogates
    } else if (b == 0xF0) {
      len = 4;
      lo = 0x90;  // no overlong
    } else if (b >= 0xF1 && b <= 0xF3) {
      len = 4;
    } else if (b == 0xF4) {
      len = 4;
      hi = 0x8F;  // max U+10FFFF
    } else {
      return false;  // continuation byte, C0/C1 (overlong), F5..FF
    }
    if (static_cast<size_t>(end - p) < len) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (p[k] < 0x80 || p[k] > 0xBF) return false;
    }
    p += len;
  }
  return true;
}

std::string echo_value(std::string_view v) {
  constexpr size_t kMax = 64;
  const bool utf8 = is_valid_utf8(v);
  size_t n = std::min(v.size(), kMax);
  if (utf8)
    while (n > 0 && n < v.size() && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
  std::string out;
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    out += (c < 0x20 || c == 0x7f || (!utf8 && c >= 0x80)) ? '?' : static_cast<char>(c);
  }
  if (n < v.size()) out += "...";
  return out;
}

}  // namespace c8y::common

// libFuzzer target for the SmartREST CSV codec and value parsers.
// Properties checked (abort on violation):
//  * every well-formed record re-encoded with append_csv_field reads back as the same fields;
//  * all well-formed records of the input, re-encoded as one payload, read back as the same
//    sequence of records;
//  * record numbers count 1, 2, 3, ...;
//  * a date that parses formats and parses back to the same instant (if the UTC year is still
//    0000..9999); any integer formats to a date that parses back when its year is 0000..9999;
//  * the value parsers never crash on any field (ASan/UBSan watch them).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/common/values.h"
#include "plugin/smartrest/csv.h"

namespace {

using c8y::smartrest::CsvReader;
using c8y::smartrest::CsvRecord;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "csv_fuzz: %s: [%.*s]\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void check_values(std::string_view f) {
  namespace sr = c8y::smartrest;
  if (const auto d = c8y::common::parse_number(f)) {
    if (!std::isfinite(*d)) fail("parse_number returned a non-finite value", f);
  }
  if (const auto i = c8y::common::parse_integer(f)) {
    if (!c8y::common::parse_number(f)) fail("integer that is not a number", f);
    const std::string s = c8y::common::format_iso8601_ms(*i);
    const auto back = c8y::common::parse_iso8601_ms(s);
    const bool in_range = s.size() == 24;  // years 0000..9999 have no sign
    if (in_range && back != *i) fail("format/parse of an integer instant differs", s);
    if (!in_range && back) fail("out-of-range year parsed", s);
  }
  (void)c8y::common::parse_bool(f);
  if (const auto t = c8y::common::parse_iso8601_ms(f)) {
    // An offset can move 0000-01-01 / 9999-12-31 local times outside the years format writes
    // parseably; everything else must come back as the same instant.
    const std::string s = c8y::common::format_iso8601_ms(*t);
    if (s.size() == 24 && c8y::common::parse_iso8601_ms(s) != *t)
      fail("date does not round-trip", f);
    constexpr int64_t kSlack = 18 * 3'600'000 + 1'000;  // max offset + leap second
    if (*t > 253402300799999 + kSlack || *t < -62167219200000 - kSlack) {
      fail("parsed date far outside 0000..9999", f);
    }
  }
  (void)c8y::common::is_valid_utf8(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)c8y::common::is_valid_utf8(input);

  std::vector<std::vector<std::string>> good;
  CsvReader reader(input);
  CsvRecord rec;
  size_t expected_line = 0;
  std::string line;
  CsvRecord again;
  while (reader.next(rec)) {
    if (rec.line != ++expected_line) fail("record numbers are not consecutive", input);
    for (const auto& f : rec.fields) check_values(f);
    if (rec.malformed) {
      if (rec.error.empty()) fail("malformed record without error text", input);
      continue;
    }
    if (!rec.error.empty()) fail("well-formed record with error text", rec.error);

    line.clear();
    for (size_t i = 0; i < rec.fields.size(); ++i) {
      if (i > 0) line.push_back(',');
      c8y::smartrest::append_csv_field(line, rec.fields[i]);
    }
    if (rec.fields.size() == 1 && rec.fields[0].empty()) line = "\"\"";  // as append_csv_record
    CsvReader back(line);
    if (!back.next(again)) fail("re-encoded record reads as nothing", line);
    if (again.malformed) fail("re-encoded record is malformed", line);
    if (again.fields != rec.fields) fail("re-encoded record reads back differently", line);
    if (back.next(again)) fail("re-encoded record reads as several", line);
    good.push_back(rec.fields);
  }

  // The same through append_csv_record, as one multi-line payload.
  std::string payload;
  for (const auto& fields : good) {
    c8y::smartrest::append_csv_record(payload, fields);
    payload += '\n';
  }
  CsvReader whole(payload);
  size_t n = 0;
  while (whole.next(again)) {
    if (n >= good.size() || again.malformed || again.fields != good[n]) {
      fail("re-encoded payload reads back differently", payload);
    }
    ++n;
  }
  if (n != good.size()) fail("re-encoded payload lost records", payload);
  return 0;
}

// Field helpers shared by the static-template decoders (static, inventory, alarm and event
// templates): one reading of "absent", "trailing empty", "too many" and "a time or now".
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "plugin/common/values.h"
#include "plugin/smartrest/csv.h"
#include "plugin/smartrest/static_templates.h"

namespace c8y::smartrest::fields {

// Field i of the record, or "" when absent (trailing optional parameters may be omitted).
inline std::string_view field(const CsvRecord& rec, size_t i) {
  return i < rec.fields.size() ? std::string_view(rec.fields[i]) : std::string_view();
}

// An error in the arguments of a line (s/e code 45).
inline TemplateError args(std::string text) {
  return {45, std::move(text)};
}

// Number of fields once trailing empty ones are dropped ("306,t,," equals "306,t"); at least 1.
inline size_t used_fields(const CsvRecord& rec) {
  size_t n = rec.fields.size();
  while (n > 1 && rec.fields[n - 1].empty()) --n;
  return std::max<size_t>(n, 1);
}

// More than `max` arguments after the template id.
inline std::optional<TemplateError> too_many(const CsvRecord& rec, size_t max) {
  const size_t n = used_fields(rec);
  if (n > max + 1) return args("too many arguments: " + std::to_string(n - 1));
  return std::nullopt;
}

// An optional time field: empty means now.
inline std::optional<TemplateError> time_field(const CsvRecord& rec, size_t i, int64_t now_ms,
                                               int64_t& out) {
  auto v = field(rec, i);
  if (v.empty()) {
    out = now_ms;
    return std::nullopt;
  }
  auto t = common::parse_iso8601_ms(v);
  if (!t) return args("value is not a date: " + common::echo_value(v));
  out = *t;
  return std::nullopt;
}

}  // namespace c8y::smartrest::fields

#include "plugin/smartrest/static_templates.h"

#include <cmath>

#include "plugin/common/values.h"

namespace c8y::smartrest {
namespace {

// Field i of the record, or "" when absent (trailing optional parameters may be omitted).
std::string_view field(const CsvRecord& rec, size_t i) {
  return i < rec.fields.size() ? std::string_view(rec.fields[i]) : std::string_view();
}

TemplateError args(std::string text) {
  return {45, std::move(text)};
}

// An optional time field: empty means now.
std::optional<TemplateError> time_field(const CsvRecord& rec, size_t i, int64_t now_ms,
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

std::optional<TemplateError> number_field(std::string_view v, std::string_view what, double& out) {
  if (v.empty()) return args("missing " + std::string(what));
  auto n = common::parse_number(v);
  if (!n) return args("value is not a number: " + common::echo_value(v));
  out = *n;
  return std::nullopt;
}

// Names used as JSON keys of a measurement: non-empty, valid UTF-8, no '.', '$' or spaces at the
// ends, at most 127 bytes (the stored form's limit).
std::optional<TemplateError> name_field(std::string_view v, std::string_view what) {
  if (v.empty()) return args("missing " + std::string(what));
  if (v.size() > 127) return args(std::string(what) + " longer than 127 bytes");
  if (!common::is_valid_utf8(v)) return args(std::string(what) + " is not valid UTF-8");
  if (v.find_first_of(".$") != std::string_view::npos)
    return args(std::string(what) + " must not contain '.' or '$': " + common::echo_value(v));
  return std::nullopt;
}

// Values have no limit below the message cap; `max` is for names the stored form bounds.
std::optional<TemplateError> text_field(std::string_view v, std::string_view what,
                                        size_t max = SIZE_MAX) {
  if (v.size() > max) return args(std::string(what) + " too long");
  if (!common::is_valid_utf8(v)) return args(std::string(what) + " is not valid UTF-8");
  return std::nullopt;
}

std::optional<TemplateError> too_many(const CsvRecord& rec, size_t max) {
  size_t n = rec.fields.size();
  while (n > 1 && rec.fields[n - 1].empty()) --n;  // "100,," equals "100"
  if (n > max + 1) return args("too many arguments: " + std::to_string(n - 1));
  return std::nullopt;
}

bool inventory_static(int id) {
  static const int kIds[] = {101, 102, 104, 105, 107, 110, 111, 112, 113, 114, 115, 116, 117,
                             118, 119, 120, 121, 122, 123, 125, 140, 141, 142, 143, 150};
  for (int k : kIds)
    if (k == id) return true;
  return false;
}

}  // namespace

std::string supported_static_templates() {
  std::string out = "100";
  for (int id = 101; id <= 150; ++id)
    if (inventory_static(id)) out += "," + std::to_string(id);
  out +=
      ",200,201,210,211,212,301,302,303,304,305,306,307,400,401,402,407,408,500,501,502,503,504,"
      "505,"
      "506,507,600,602";
  return out;
}

TemplateKind template_kind(std::string_view msg_id) {
  auto id = common::parse_integer(msg_id);
  if (!id || msg_id.size() > 3 || msg_id[0] == '+' || msg_id[0] == '-')
    return TemplateKind::kUnknown;
  if (inventory_static(static_cast<int>(*id))) return TemplateKind::kInventory;
  switch (*id) {
    case 100:
      return TemplateKind::kCreateDevice;
    case 301:
    case 302:
    case 303:
    case 304:
    case 305:
    case 306:
    case 307:
      return TemplateKind::kAlarm;
    case 400:
    case 401:
    case 402:
    case 407:
    case 408:
      return TemplateKind::kEvent;
    case 600:
    case 602:
      return TemplateKind::kCapability;
    case 500:
    case 501:
    case 502:
    case 503:
    case 504:
    case 505:
    case 506:
    case 507:
      return TemplateKind::kOperation;
    case 200:
    case 201:
    case 210:
    case 211:
    case 212:
      return TemplateKind::kMeasurement;
    default:
      return TemplateKind::kUnknown;
  }
}

std::optional<TemplateError> decode_create_device(const CsvRecord& rec, CreateDevice& out) {
  if (auto e = too_many(rec, 2)) return e;
  if (auto e = text_field(field(rec, 1), "name")) return e;
  if (auto e = text_field(field(rec, 2), "type")) return e;
  out.name = std::string(field(rec, 1));
  out.type = std::string(field(rec, 2));
  return std::nullopt;
}

std::optional<TemplateError> decode_measurement(const CsvRecord& rec, int64_t now_ms,
                                                common::Measurement& m) {
  m.clear();
  const std::string_view id = field(rec, 0);
  auto one = [&](const char* type, const char* series, const char* unit,
                 std::string_view what) -> std::optional<TemplateError> {
    // 211,<value>,<time> / 212,<value>,<time>
    if (auto e = too_many(rec, 2)) return e;
    double v;
    if (auto e = number_field(field(rec, 1), what, v)) return e;
    if (auto e = time_field(rec, 2, now_ms, m.time_ms)) return e;
    m.type.assign(type);
    auto& s = m.add();
    s.fragment.assign(type);
    s.series.assign(series);
    s.value = v;
    s.unit.assign(unit);
    return std::nullopt;
  };
  if (id == "211") return one("c8y_TemperatureMeasurement", "T", "C", "temperature");
  if (id == "212") return one("c8y_Battery", "level", "%", "battery level");
  if (id == "210") {
    // 210,<rssi>,<ber>,<time>: at least one of rssi and ber.
    if (auto e = too_many(rec, 3)) return e;
    if (field(rec, 1).empty() && field(rec, 2).empty()) return args("missing rssi and ber");
    m.type.assign("c8y_SignalStrength");
    static const char* kSeries[] = {"rssi", "ber"};
    static const char* kUnits[] = {"dBm", "%"};
    for (size_t i = 0; i < 2; ++i) {
      if (field(rec, i + 1).empty()) continue;
      double v;
      if (auto e = number_field(field(rec, i + 1), kSeries[i], v)) return e;
      auto& s = m.add();
      s.fragment.assign("c8y_SignalStrength");
      s.series.assign(kSeries[i]);
      s.value = v;
      s.unit.assign(kUnits[i]);
    }
    return time_field(rec, 3, now_ms, m.time_ms);
  }
  if (id == "200") {
    // 200,<fragment>,<series>,<value>,<unit>,<time>
    if (auto e = too_many(rec, 5)) return e;
    if (auto e = name_field(field(rec, 1), "fragment")) return e;
    if (auto e = name_field(field(rec, 2), "series")) return e;
    double v;
    if (auto e = number_field(field(rec, 3), "value", v)) return e;
    if (auto e = text_field(field(rec, 4), "unit", 127)) return e;
    if (auto e = time_field(rec, 5, now_ms, m.time_ms)) return e;
    m.type.assign(field(rec, 1));
    auto& s = m.add();
    s.fragment.assign(field(rec, 1));
    s.series.assign(field(rec, 2));
    s.value = v;
    s.unit.assign(field(rec, 4));
    return std::nullopt;
  }
  if (id == "201") {
    // 201,<type>,<time>,(<fragment>,<series>,<value>,<unit>)... ; the last unit may be omitted.
    size_t n = rec.fields.size();
    while (n > 1 && rec.fields[n - 1].empty()) --n;
    if (auto e = name_field(field(rec, 1), "type")) return e;
    if (auto e = time_field(rec, 2, now_ms, m.time_ms)) return e;
    if (n < 6) return args("at least one fragment, series and value required");
    if (n > 3 + 4 * 255) return args("too many series");
    m.type.assign(field(rec, 1));
    for (size_t i = 3; i < n; i += 4) {
      if (i + 2 >= n) return args("incomplete series group: fragment, series and value required");
      if (auto e = name_field(field(rec, i), "fragment")) return e;
      if (auto e = name_field(field(rec, i + 1), "series")) return e;
      double v;
      if (auto e = number_field(field(rec, i + 2), "value", v)) return e;
      if (auto e = text_field(field(rec, i + 3), "unit", 127)) return e;
      auto& s = m.add();
      s.fragment.assign(field(rec, i));
      s.series.assign(field(rec, i + 1));
      s.value = v;
      s.unit.assign(field(rec, i + 3));
    }
    return std::nullopt;
  }
  return TemplateError{40, "No static template for this message id"};
}

}  // namespace c8y::smartrest

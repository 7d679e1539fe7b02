#include "plugin/smartrest/static_templates.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "plugin/common/values.h"
#include "plugin/smartrest/fields.h"

namespace c8y::smartrest {
namespace {

using fields::args;
using fields::field;
using fields::time_field;
using fields::too_many;

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

}  // namespace

namespace {

using K = TemplateKind;
// The registry of static upstream templates, in id order. Everything that asks "which templates"
// reads it: the 603 list, template_kind and the is_*_template checks of the decoders. Adding a
// template is a row here, its case in the decoder of its kind and, for a new kind, its handler
// (app: PluginCore::handle_static).
constexpr StaticTemplate kTemplates[] = {
    {100, K::kCreateDevice}, {101, K::kInventory},   {102, K::kInventory},   {104, K::kInventory},
    {105, K::kInventory},    {107, K::kInventory},   {110, K::kInventory},   {111, K::kInventory},
    {112, K::kInventory},    {113, K::kInventory},   {114, K::kInventory},   {115, K::kInventory},
    {116, K::kInventory},    {117, K::kInventory},   {118, K::kInventory},   {119, K::kInventory},
    {120, K::kInventory},    {121, K::kInventory},   {122, K::kInventory},   {123, K::kInventory},
    {125, K::kInventory},    {140, K::kInventory},   {141, K::kInventory},   {142, K::kInventory},
    {143, K::kInventory},    {150, K::kInventory},   {200, K::kMeasurement}, {201, K::kMeasurement},
    {210, K::kMeasurement},  {211, K::kMeasurement}, {212, K::kMeasurement}, {301, K::kAlarm},
    {302, K::kAlarm},        {303, K::kAlarm},       {304, K::kAlarm},       {305, K::kAlarm},
    {306, K::kAlarm},        {307, K::kAlarm},       {400, K::kEvent},       {401, K::kEvent},
    {402, K::kEvent},        {407, K::kEvent},       {408, K::kEvent},       {500, K::kOperation},
    {501, K::kOperation},    {502, K::kOperation},   {503, K::kOperation},   {504, K::kOperation},
    {505, K::kOperation},    {506, K::kOperation},   {507, K::kOperation},   {600, K::kCapability},
    {602, K::kCapability},
};
static_assert(std::is_sorted(std::begin(kTemplates), std::end(kTemplates),
                             [](auto& a, auto& b) { return a.id < b.id; }));

}  // namespace

std::span<const StaticTemplate> static_templates() {
  return kTemplates;
}

std::string supported_static_templates() {
  std::string out;
  for (auto& t : kTemplates) {
    if (!out.empty()) out += ',';
    out += std::to_string(t.id);
  }
  return out;
}

TemplateKind template_kind(std::string_view msg_id) {
  // Exactly three digits, no sign, no leading zero: the spelling of every template id.
  if (msg_id.size() != 3 || msg_id[0] < '1' || msg_id[0] > '9') return TemplateKind::kUnknown;
  int id = 0;
  for (char c : msg_id) {
    if (c < '0' || c > '9') return TemplateKind::kUnknown;
    id = id * 10 + (c - '0');
  }
  auto it = std::lower_bound(std::begin(kTemplates), std::end(kTemplates), id,
                             [](const StaticTemplate& t, int v) { return t.id < v; });
  return it != std::end(kTemplates) && it->id == id ? it->kind : TemplateKind::kUnknown;
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

#include "plugin/smartrest/alarm_event_templates.h"

#include <algorithm>
#include <array>
#include <span>

#include "plugin/common/values.h"
#include "plugin/smartrest/fields.h"

namespace c8y::smartrest {
namespace {

using fields::args;
using fields::field;
using fields::time_field;
using fields::too_many;
using fields::used_fields;

using nlohmann::json;

constexpr size_t kAeTypeBytes = 127;
constexpr size_t kAeNameBytes = 127;
// Types are storage keys and names are JSON keys; the depth of a parameter path bounds the
// nesting of what it builds. Texts, values and the number of parameters have no limit below the
// message cap.
constexpr size_t kAePathSegments = 32;

// Alarm and event types: JSON values and storage keys.
std::optional<TemplateError> type_field(std::string_view v, std::string_view what) {
  if (v.empty()) return args("missing " + std::string(what));
  if (v.size() > kAeTypeBytes) return args(std::string(what) + " longer than 127 bytes");
  if (!common::is_valid_utf8(v)) return args(std::string(what) + " is not valid UTF-8");
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f)
      return args(std::string(what) + " must not contain control characters");
  return std::nullopt;
}

// Names used as JSON keys: non-empty, valid UTF-8, no '.' or '$', at most 127 bytes.
std::optional<TemplateError> name_field(std::string_view v, std::string_view what) {
  if (v.empty()) return args("missing " + std::string(what));
  if (v.size() > kAeNameBytes) return args(std::string(what) + " longer than 127 bytes");
  if (!common::is_valid_utf8(v)) return args(std::string(what) + " is not valid UTF-8");
  if (v.find_first_of(".$") != std::string_view::npos)
    return args(std::string(what) + " must not contain '.' or '$': " + common::echo_value(v));
  return std::nullopt;
}

std::optional<TemplateError> text_field(std::string_view v, std::string_view what) {
  if (!common::is_valid_utf8(v)) return args(std::string(what) + " is not valid UTF-8");
  return std::nullopt;
}

bool contains(std::span<const std::string_view> list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// Standard properties of an alarm / event / managed object that templates must not touch.
constexpr std::string_view kAlarmStandard[] = {
    "id",           "self",        "type",   "text",  "time",
    "source",       "severity",    "status", "count", "firstOccurrenceTime",
    "creationTime", "lastUpdated", "history"};
constexpr std::string_view kEventStandard[] = {"id",   "self",   "type",         "text",
                                               "time", "source", "creationTime", "lastUpdated"};
constexpr std::string_view kParameterReserved[] = {
    "id",          "self",           "type",          "text",         "time",
    "source",      "creationTime",   "lastUpdated",   "owner",        "childDevices",
    "childAssets", "childAdditions", "deviceParents", "assetParents", "additionParents"};

// Fields [first, used) as fragment names; at least one; duplicates dropped.
std::optional<TemplateError> fragment_list(const CsvRecord& rec, size_t first,
                                           std::span<const std::string_view> standard,
                                           std::vector<std::string>& out) {
  out.clear();
  const size_t n = used_fields(rec);
  if (n <= first) return args("missing fragment name: at least one is required");
  for (size_t i = first; i < n; ++i) {
    auto v = field(rec, i);
    if (auto e = name_field(v, "fragment name")) return e;
    if (contains(standard, v))
      return args("cannot remove the standard property " + common::echo_value(v));
    if (std::find(out.begin(), out.end(), v) == out.end()) out.emplace_back(v);
  }
  return std::nullopt;
}

std::optional<std::string> normalise_severity(std::string_view v) {
  std::string up(v);
  for (char& c : up)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (auto s : {kSeverityCritical, kSeverityMajor, kSeverityMinor, kSeverityWarning})
    if (up == s) return up;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// 401 / 402

// An optional number: sets position[key] unless `v` is empty.
std::optional<TemplateError> opt_number(std::string_view v, const char* key, json& position) {
  if (v.empty()) return std::nullopt;
  auto n = common::parse_number(v);
  if (!n) return args(std::string(key) + " is not a number: " + common::echo_value(v));
  position[key] = *n;
  return std::nullopt;
}

std::optional<TemplateError> decode_location(const CsvRecord& rec, int64_t now_ms,
                                             EventCommand& out) {
  // 401,<lat>,<lng>,<alt>,<accuracy>,<time>
  if (auto e = too_many(rec, 5)) return e;
  json position = json::object();
  if (auto e = opt_number(field(rec, 1), "lat", position)) return e;
  if (auto e = opt_number(field(rec, 2), "lng", position)) return e;
  if (auto e = opt_number(field(rec, 3), "alt", position)) return e;
  if (auto v = field(rec, 4); !v.empty()) {
    auto a = common::parse_integer(v);
    if (!a) return args("accuracy is not an integer: " + common::echo_value(v));
    position["accuracy"] = *a;
  }
  if (auto e = time_field(rec, 5, now_ms, out.time_ms)) return e;
  out.op = EventCommand::Op::kCreate;
  out.type.assign(kLocationUpdateType);
  out.text.assign(kLocationUpdateText);
  out.fragments = {{"c8y_Position", position}};
  if (field(rec, 0) == "402") {
    out.update_device = true;
    out.device_fragments = {{"c8y_Position", std::move(position)}};
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// 408

std::optional<ParameterValueType> parameter_type(std::string_view v) {
  std::string up(v);
  for (char& c : up)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (up == "STRING" || up == "S") return ParameterValueType::kString;
  if (up == "NUMBER" || up == "N") return ParameterValueType::kNumber;
  if (up == "BOOLEAN" || up == "B") return ParameterValueType::kBoolean;
  return std::nullopt;
}

std::optional<TemplateError> split_path(std::string_view path, std::vector<std::string>& out) {
  out.clear();
  if (path.empty()) return args("missing parameter path");
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    auto seg = path.substr(start, dot == std::string_view::npos ? path.npos : dot - start);
    if (seg.empty()) return args("empty segment in parameter path: " + common::echo_value(path));
    if (seg.size() > kAeNameBytes)
      return args("parameter path segment longer than 127 bytes: " + common::echo_value(path));
    if (!common::is_valid_utf8(seg)) return args("parameter path is not valid UTF-8");
    if (seg.find('$') != std::string_view::npos)
      return args("parameter path must not contain '$': " + common::echo_value(path));
    out.emplace_back(seg);
    if (out.size() > kAePathSegments)
      return args("parameter path deeper than 32 levels: " + common::echo_value(path));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (contains(kParameterReserved, out.front()))
    return args("parameter path must not start with the standard property " + out.front());
  return std::nullopt;
}

std::optional<TemplateError> parameter_value(std::string_view v, ParameterValueType t, json& out) {
  if (v.empty()) {
    out = nullptr;
    return std::nullopt;
  }
  switch (t) {
    case ParameterValueType::kString:
      if (auto e = text_field(v, "parameter value")) return e;
      out = std::string(v);
      return std::nullopt;
    case ParameterValueType::kNumber: {
      if (auto i = common::parse_integer(v)) {
        out = *i;
        return std::nullopt;
      }
      auto n = common::parse_number(v);
      if (!n) return args("value is not a number: " + common::echo_value(v));
      out = *n;
      return std::nullopt;
    }
    case ParameterValueType::kBoolean: {
      auto b = common::parse_bool(v);
      if (!b) return args("value is not a boolean: " + common::echo_value(v));
      out = *b;
      return std::nullopt;
    }
  }
  return args("unknown parameter type");
}

// Places `value` at `segments` inside `tree` (an object). Error if the path was given before or
// one of the paths is a prefix of the other.
std::optional<TemplateError> place_new(json& tree, const ParameterValue& p) {
  json* node = &tree;
  for (size_t i = 0; i + 1 < p.segments.size(); ++i) {
    auto it = node->find(p.segments[i]);
    if (it == node->end()) {
      node = &(*node)[p.segments[i]];
      *node = json::object();
    } else if (it->is_object()) {
      node = &*it;
    } else {
      return args("parameter paths conflict: " + common::echo_value(p.path));
    }
  }
  const std::string& last = p.segments.back();
  if (auto it = node->find(last); it != node->end()) {
    return args(it->is_object() ? "parameter paths conflict: " + common::echo_value(p.path)
                                : "parameter path given twice: " + common::echo_value(p.path));
  }
  (*node)[last] = p.value;
  return std::nullopt;
}

std::string default_parameter_text(const std::vector<ParameterValue>& params) {
  std::vector<std::string_view> roots;
  for (const auto& p : params)
    if (std::find(roots.begin(), roots.end(), p.segments.front()) == roots.end())
      roots.push_back(p.segments.front());
  std::string text = roots.size() == 1 ? "Parameter " : "Parameters ";
  for (size_t i = 0; i < roots.size(); ++i) {
    if (i > 0) text += ", ";
    text += '\'';
    text += roots[i];
    text += '\'';
  }
  text += roots.size() == 1 ? " was updated" : " were updated";
  return text;
}

std::optional<TemplateError> decode_parameter_update(const CsvRecord& rec, int64_t now_ms,
                                                     EventCommand& out) {
  // 408,<text>,<time>,<changeDetect>,(<path>,<type>,<value>)...
  const size_t n = used_fields(rec);
  if (auto e = text_field(field(rec, 1), "text")) return e;
  if (auto e = time_field(rec, 2, now_ms, out.time_ms)) return e;
  if (auto v = field(rec, 3); !v.empty()) {
    auto b = common::parse_bool(v);
    if (!b) return args("changeDetect is not a boolean: " + common::echo_value(v));
    out.change_detect = *b;
  }
  if (n <= 4) return args("at least one parameter (path, type, value) is required");
  json tree = json::object();
  for (size_t i = 4; i < n; i += 3) {
    ParameterValue p;
    p.path.assign(field(rec, i));
    if (auto e = split_path(p.path, p.segments)) return e;
    auto tv = field(rec, i + 1);
    if (tv.empty()) return args("missing parameter type for " + common::echo_value(p.path));
    auto t = parameter_type(tv);
    if (!t) return args("unknown parameter type: " + common::echo_value(tv));
    p.type = *t;
    if (auto e = parameter_value(field(rec, i + 2), p.type, p.value)) return e;
    if (auto e = place_new(tree, p)) return e;
    out.parameters.push_back(std::move(p));
  }
  out.op = EventCommand::Op::kCreate;
  out.type.assign(kParameterUpdateType);
  out.text =
      field(rec, 1).empty() ? default_parameter_text(out.parameters) : std::string(field(rec, 1));
  out.fragments = std::move(tree);
  out.mirror_parameters = true;
  return std::nullopt;
}

// The value at `segments` in `j`, or nullptr when a member is missing or not an object.
const json* lookup(const json& j, const std::vector<std::string>& segments) {
  const json* node = &j;
  for (const auto& s : segments) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(s);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

bool differs(const json& device, const ParameterValue& p) {
  const json* cur = lookup(device, p.segments);
  const bool cur_empty = cur == nullptr || cur->is_null();
  if (p.value.is_null()) return !cur_empty;
  return cur_empty || *cur != p.value;
}

// Places `p` into the fragment `frag` (the value of segment 0) with merge semantics: a null value
// removes the member if it exists (and creates nothing), any other value creates the path.
void place_merge(json& frag, const ParameterValue& p) {
  if (p.value.is_null()) {
    json* node = &frag;
    for (size_t i = 1; i + 1 < p.segments.size(); ++i) {
      if (!node->is_object()) return;
      auto it = node->find(p.segments[i]);
      if (it == node->end()) return;
      node = &*it;
    }
    if (node->is_object()) node->erase(p.segments.back());
    return;
  }
  json* node = &frag;
  for (size_t i = 1; i + 1 < p.segments.size(); ++i) {
    if (!node->is_object()) *node = json::object();
    node = &(*node)[p.segments[i]];
  }
  if (!node->is_object()) *node = json::object();
  (*node)[p.segments.back()] = p.value;
}

}  // namespace

bool is_alarm_template(std::string_view id) {
  return template_kind(id) == TemplateKind::kAlarm;
}

bool is_event_template(std::string_view id) {
  return template_kind(id) == TemplateKind::kEvent;
}

std::optional<TemplateError> decode_alarm(const CsvRecord& rec, int64_t now_ms, AlarmCommand& out) {
  const std::string_view id = field(rec, 0);
  if (!is_alarm_template(id)) return TemplateError{40, "No static template for this message id"};
  out = AlarmCommand{};
  if (auto e = type_field(field(rec, 1), "alarm type")) return e;
  out.type.assign(field(rec, 1));
  switch (id[2]) {
    case '1':
    case '2':
    case '3':
    case '4': {
      // 30x,<type>,<text>,<time>
      static constexpr std::array<std::string_view, 4> kSeverities = {
          kSeverityCritical, kSeverityMajor, kSeverityMinor, kSeverityWarning};
      if (auto e = too_many(rec, 3)) return e;
      auto text = field(rec, 2);
      if (auto e = text_field(text, "text")) return e;
      if (auto e = time_field(rec, 3, now_ms, out.time_ms)) return e;
      out.op = AlarmCommand::Op::kRaise;
      out.severity.assign(kSeverities[id[2] - '1']);
      out.text = text.empty() ? "Alarm of type " + out.type + " raised" : std::string(text);
      return std::nullopt;
    }
    case '5': {
      // 305,<type>,<severity>
      if (auto e = too_many(rec, 2)) return e;
      auto v = field(rec, 2);
      if (v.empty()) return args("missing severity");
      auto s = normalise_severity(v);
      if (!s) return args("unknown severity: " + common::echo_value(v));
      out.op = AlarmCommand::Op::kSetSeverity;
      out.severity = std::move(*s);
      return std::nullopt;
    }
    case '6':
      // 306,<type>
      if (auto e = too_many(rec, 1)) return e;
      out.op = AlarmCommand::Op::kClear;
      return std::nullopt;
    default:
      // 307,<type>,<fragment>...
      out.op = AlarmCommand::Op::kRemoveFragments;
      return fragment_list(rec, 2, kAlarmStandard, out.fragments);
  }
}

std::optional<TemplateError> decode_event(const CsvRecord& rec, int64_t now_ms, EventCommand& out) {
  const std::string_view id = field(rec, 0);
  if (!is_event_template(id)) return TemplateError{40, "No static template for this message id"};
  out = EventCommand{};
  out.template_id.assign(id);
  if (id == "400") {
    // 400,<type>,<text>,<time>
    if (auto e = too_many(rec, 3)) return e;
    if (auto e = type_field(field(rec, 1), "event type")) return e;
    auto text = field(rec, 2);
    if (text.empty()) return args("missing text");
    if (auto e = text_field(text, "text")) return e;
    if (auto e = time_field(rec, 3, now_ms, out.time_ms)) return e;
    out.op = EventCommand::Op::kCreate;
    out.type.assign(field(rec, 1));
    out.text.assign(text);
    return std::nullopt;
  }
  if (id == "401" || id == "402") return decode_location(rec, now_ms, out);
  if (id == "407") {
    // 407,<type>,<fragment>...
    if (auto e = type_field(field(rec, 1), "event type")) return e;
    out.op = EventCommand::Op::kRemoveFragments;
    out.type.assign(field(rec, 1));
    return fragment_list(rec, 2, kEventStandard, out.remove);
  }
  return decode_parameter_update(rec, now_ms, out);
}

ParameterUpdateOutcome apply_parameter_update(const json& device, const EventCommand& cmd) {
  ParameterUpdateOutcome r;
  if (!cmd.mirror_parameters) {
    r.create_event = true;
    return r;
  }
  static const json kEmpty = json::object();
  const json& dev = device.is_object() ? device : kEmpty;
  // Roots under which something changed, in order of appearance.
  std::vector<std::string_view> roots;
  for (const auto& p : cmd.parameters) {
    if (!differs(dev, p)) continue;
    r.changed = true;
    if (std::find(roots.begin(), roots.end(), p.segments.front()) == roots.end())
      roots.push_back(p.segments.front());
  }
  r.create_event = !cmd.change_detect || r.changed;
  for (auto root : roots) {
    const std::string key(root);
    json frag;
    if (auto it = dev.find(key); it != dev.end()) frag = *it;
    for (const auto& p : cmd.parameters) {
      if (p.segments.front() != root) continue;
      if (p.segments.size() == 1)
        frag = p.value;  // a one-segment path is the only parameter of its root (no conflicts)
      else
        place_merge(frag, p);
    }
    r.device_fragments[key] = std::move(frag);
  }
  return r;
}

}  // namespace c8y::smartrest

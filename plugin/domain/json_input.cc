#include "plugin/domain/json_input.h"

#include "plugin/smartrest/values.h"

namespace c8y::domain {

using nlohmann::json;

namespace {

// Kept here rather than calling alarms.h so this file stays free of storage (fuzz target).
bool known_severity(std::string_view s) {
  return s == "CRITICAL" || s == "MAJOR" || s == "MINOR" || s == "WARNING";
}

// A series leaf: a number "value", beside it at most a string "unit".
bool is_series(const json& v) {
  if (!v.is_object()) return false;
  auto value = v.find("value");
  if (value == v.end() || !value->is_number()) return false;
  for (auto& [k, x] : v.items())
    if (k != "value" && !(k == "unit" && x.is_string())) return false;
  return true;
}

}  // namespace

bool json_string(const json& body, const char* key, bool mandatory, std::string* out,
                 std::string* error, size_t max) {
  auto it = body.find(key);
  if (it == body.end()) {
    if (mandatory) *error = std::string(key) + " is mandatory";
    return !mandatory;
  }
  if (!it->is_string() || it->get_ref<const std::string&>().size() > max ||
      (mandatory && it->get_ref<const std::string&>().empty())) {
    *error = std::string(key) + " must be a non-empty string";
    if (max != SIZE_MAX) *error += " of at most " + std::to_string(max) + " bytes";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool json_time(const json& body, int64_t* out_ms, std::string* error) {
  std::string t;
  if (!json_string(body, "time", true, &t, error, 64)) return false;
  auto ms = smartrest::parse_iso8601_ms(t);
  if (!ms) {
    *error = "time is not an ISO 8601 date: " + t;
    return false;
  }
  *out_ms = *ms;
  return true;
}

bool event_input(const json& body, EventInput* out, std::string* error) {
  return json_string(body, "type", true, &out->type, error, 127) &&
         json_string(body, "text", true, &out->text, error) &&
         json_time(body, &out->time_ms, error);
}

bool alarm_input(const json& body, AlarmInput* out, std::string* error) {
  std::string status = "ACTIVE";
  if (!json_string(body, "type", true, &out->type, error, 127) ||
      !json_string(body, "text", true, &out->text, error) ||
      !json_string(body, "severity", true, &out->severity, error, 16) ||
      !json_string(body, "status", false, &status, error, 16) ||
      !json_time(body, &out->time_ms, error))
    return false;
  if (!known_severity(out->severity)) {
    *error = "severity must be CRITICAL, MAJOR, MINOR or WARNING";
    return false;
  }
  if (status != "ACTIVE") {
    *error = "a new alarm must be ACTIVE";
    return false;
  }
  return true;
}

bool measurement_input(const json& body, Measurement* m, std::string* error,
                       const int64_t* time_ms) {
  m->clear();
  auto type = body.find("type");
  std::optional<int64_t> t;
  if (time_ms) {
    t = *time_ms;
  } else if (auto time = body.find("time"); time != body.end() && time->is_string()) {
    t = smartrest::parse_iso8601_ms(time->get_ref<const std::string&>());
  }
  if (type == body.end() || !type->is_string() || type->get_ref<const std::string&>().empty() ||
      !t) {
    *error = "type (a string) and time (an ISO 8601 date) are mandatory";
    return false;
  }
  if (type->get_ref<const std::string&>().size() > kMaxSeriesNameBytes) {
    *error = "type longer than " + std::to_string(kMaxSeriesNameBytes) + " bytes";
    return false;
  }
  m->time_ms = *t;
  m->type = type->get<std::string>();
  // Series are the {"value": <number>, "unit"?: <string>} leaves one level below a fragment;
  // everything else is a custom fragment, stored as it is (as Cumulocity does).
  json custom = json::object();
  for (auto& [frag, fragment] : body.items()) {
    if (frag == "source" || frag == "time" || frag == "type" || frag == "id" || frag == "self" ||
        frag == "externalSource")
      continue;
    if (!fragment.is_object()) {
      custom[frag] = fragment;
      continue;
    }
    json rest = json::object();
    for (auto& [name, v] : fragment.items()) {
      if (!is_series(v)) {
        rest[name] = v;
        continue;
      }
      auto unit = v.find("unit");
      if (frag.size() > kMaxSeriesNameBytes || name.size() > kMaxSeriesNameBytes ||
          (unit != v.end() && unit->get_ref<const std::string&>().size() > kMaxSeriesNameBytes)) {
        *error = "fragment, series and unit of a series are at most " +
                 std::to_string(kMaxSeriesNameBytes) + " bytes: " + smartrest::echo_value(frag) +
                 "." + smartrest::echo_value(name);
        return false;
      }
      auto& s = m->add();
      s.fragment = frag;
      s.series = name;
      s.value = v["value"].get<double>();
      s.unit = unit != v.end() ? unit->get<std::string>() : "";
    }
    if (!rest.empty() || fragment.empty()) custom[frag] = std::move(rest);
  }
  if (!custom.empty()) m->custom = custom.dump();
  if (m->count == 0) {
    *error = "a measurement needs at least one series";
    return false;
  }
  return true;
}

}  // namespace c8y::domain

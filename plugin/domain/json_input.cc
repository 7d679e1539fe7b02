#include "plugin/domain/json_input.h"

#include <algorithm>

#include "plugin/common/values.h"

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

// The mandatory fields among `keys` (and source.id when the body must name its source) that the
// body does not have. False with *error naming all of them; true if none is missing.
bool all_present(const json& body, std::initializer_list<const char*> keys, SourceField source,
                 std::string* error) {
  std::vector<std::string> missing;
  if (source == SourceField::kMandatory) {
    auto src = body.find("source");
    if (src == body.end() || !src->is_object() || !src->contains("id") || (*src)["id"].is_null())
      missing.push_back("source.id");
  }
  for (const char* k : keys)
    if (!body.contains(k)) missing.push_back(k);
  if (missing.empty()) return true;
  *error = mandatory_message(std::move(missing));
  return false;
}

}  // namespace

std::string mandatory_message(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out + (names.size() == 1 ? " is mandatory" : " are mandatory");
}

bool json_bool(const json& body, const char* key, std::optional<bool>* out, std::string* error) {
  auto it = body.find(key);
  if (it == body.end()) return true;
  if (it->is_boolean()) {
    *out = it->get<bool>();
    return true;
  }
  if (it->is_string() && (*it == "true" || *it == "false")) {
    *out = *it == "true";
    return true;
  }
  *error = std::string(key) + " must be true or false";
  return false;
}

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
  auto ms = common::parse_iso8601_ms(t);
  if (!ms) {
    *error = "time is not an ISO 8601 date: " + t;
    return false;
  }
  *out_ms = *ms;
  return true;
}

bool event_input(const json& body, EventInput* out, std::string* error, SourceField source) {
  return all_present(body, {"type", "text", "time"}, source, error) &&
         json_string(body, "type", true, &out->type, error, 127) &&
         json_string(body, "text", true, &out->text, error) &&
         json_time(body, &out->time_ms, error);
}

bool alarm_input(const json& body, AlarmInput* out, std::string* error, SourceField source) {
  std::string status = "ACTIVE";
  if (!all_present(body, {"type", "text", "severity", "time"}, source, error) ||
      !json_string(body, "type", true, &out->type, error, 127) ||
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

bool measurement_input(const json& body, Measurement* m, std::string* error, const int64_t* time_ms,
                       SourceField source) {
  m->clear();
  const bool time_known = time_ms != nullptr;
  if (!(time_known ? all_present(body, {"type"}, source, error)
                   : all_present(body, {"type", "time"}, source, error)))
    return false;
  // The type is a name of the stored form (kMaxSeriesNameBytes).
  if (!json_string(body, "type", true, &m->type, error, kMaxSeriesNameBytes)) return false;
  if (time_known)
    m->time_ms = *time_ms;
  else if (!json_time(body, &m->time_ms, error))
    return false;
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
                 std::to_string(kMaxSeriesNameBytes) + " bytes: " + common::echo_value(frag) + "." +
                 common::echo_value(name);
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

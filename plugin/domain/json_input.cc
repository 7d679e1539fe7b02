#include "plugin/domain/json_input.h"

#include <algorithm>

#include "plugin/smartrest/values.h"

namespace c8y::domain {

using nlohmann::json;

namespace {

// Kept here rather than calling alarms.h so this file stays free of storage (fuzz target).
bool known_severity(std::string_view s) {
  return s == "CRITICAL" || s == "MAJOR" || s == "MINOR" || s == "WARNING";
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
    *error = std::string(key) + " must be a non-empty string of at most " + std::to_string(max) +
             " bytes";
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
  if (!json_string(body, "type", true, &m->type, error)) return false;
  if (time_known)
    m->time_ms = *time_ms;
  else if (!json_time(body, &m->time_ms, error))
    return false;
  for (auto& [frag, series] : body.items()) {
    if (frag == "source" || frag == "time" || frag == "type" || frag == "id" || frag == "self" ||
        frag == "externalSource")
      continue;
    if (!series.is_object()) continue;
    for (auto& [name, v] : series.items()) {
      if (!v.is_object() || !v.contains("value") || !v["value"].is_number()) {
        *error = frag + "." + name + ".value must be a number";
        return false;
      }
      auto& s = m->add();
      s.fragment = frag;
      s.series = name;
      s.value = v["value"].get<double>();
      s.unit = v.contains("unit") && v["unit"].is_string() ? v["unit"].get<std::string>() : "";
    }
  }
  if (m->count == 0) {
    *error = "a measurement needs at least one series";
    return false;
  }
  return true;
}

}  // namespace c8y::domain

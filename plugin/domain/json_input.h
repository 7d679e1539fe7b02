// Validation of Cumulocity-shaped JSON input shared by the REST API and JSON via MQTT:
// what a new event, alarm or measurement must carry, with the same error texts on both paths.
// Pure: no storage. Whether the source exists is the caller's business (REST: source.id, which
// the body must carry; MQTT: the device).
//
// A body that lacks mandatory fields is refused with one message naming all of them, in
// alphabetical order: "severity, text and time are mandatory" ("text is mandatory" for one).
// Only when none is missing does a wrong type or value of a field give its own message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "plugin/domain/measurement.h"

namespace c8y::domain {

// `key` as a string of at most `max` bytes (non-empty when mandatory). False with *error set when
// it is missing but mandatory, or of the wrong type or size. Texts have no limit (the body's or
// message's cap bounds them); `max` is for types and names that become storage keys.
bool json_string(const nlohmann::json& body, const char* key, bool mandatory, std::string* out,
                 std::string* error, size_t max = SIZE_MAX);
// "time" as an ISO 8601 date (mandatory).
bool json_time(const nlohmann::json& body, int64_t* out_ms, std::string* error);
// `key` as a boolean. Cumulocity takes the strings "true" and "false" for a boolean of a request
// body too (its own example uploads a trusted certificate with "autoRegistrationEnabled":
// "true"), so they count as true and false; the caller stores a real boolean. Absent: true with
// *out untouched. Anything else (null, a number, "yes", "True"): false with *error set to
// "<key> must be true or false". The one reader of boolean body fields (REST and MQTT).
bool json_bool(const nlohmann::json& body, const char* key, std::optional<bool>* out,
               std::string* error);

// "a is mandatory", "a and b are mandatory", "a, b and c are mandatory" (names sorted).
std::string mandatory_message(std::vector<std::string> names);

// Whether the body names its source: the REST API's "source": {"id"} is mandatory (and counted
// among the missing fields); JSON via MQTT and custom templates take the device instead.
enum class SourceField { kNotInBody, kMandatory };

struct EventInput {
  std::string type, text;
  int64_t time_ms = 0;
};
// A new event: type, text, time mandatory.
bool event_input(const nlohmann::json& body, EventInput* out, std::string* error,
                 SourceField source = SourceField::kNotInBody);

struct AlarmInput {
  std::string type, text, severity;
  int64_t time_ms = 0;
};
// A new alarm: type, text, severity, time mandatory; status, if given, ACTIVE.
bool alarm_input(const nlohmann::json& body, AlarmInput* out, std::string* error,
                 SourceField source = SourceField::kNotInBody);

// type, time and at least one series `<fragment>: {<series>: {"value": <number>, "unit"}}`.
// Fills everything but m->source. `time_ms`: the time already known (a custom template's action
// carries it), so "time" is not parsed again (nor mandatory).
bool measurement_input(const nlohmann::json& body, Measurement* m, std::string* error,
                       const int64_t* time_ms = nullptr,
                       SourceField source = SourceField::kNotInBody);

}  // namespace c8y::domain

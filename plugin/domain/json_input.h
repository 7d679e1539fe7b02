// Validation of Cumulocity-shaped JSON input shared by the REST API and JSON via MQTT (spec §8):
// what a new event, alarm or measurement must carry, with the same error texts on both paths.
// Pure: no storage. The source is the caller's business (REST: source.id; MQTT: the device).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "plugin/domain/measurement.h"

namespace c8y::domain {

// `key` as a string of at most `max` bytes (non-empty when mandatory). False with *error set when
// it is missing but mandatory, or of the wrong type or size. Texts have no limit (the body's or
// message's cap bounds them); `max` is for types and names that become storage keys.
bool json_string(const nlohmann::json& body, const char* key, bool mandatory, std::string* out,
                 std::string* error, size_t max = SIZE_MAX);
// "time" as an ISO 8601 date (mandatory).
bool json_time(const nlohmann::json& body, int64_t* out_ms, std::string* error);

struct EventInput {
  std::string type, text;
  int64_t time_ms = 0;
};
bool event_input(const nlohmann::json& body, EventInput* out, std::string* error);

struct AlarmInput {
  std::string type, text, severity;
  int64_t time_ms = 0;
};
// A new alarm: type, text, severity, time mandatory; status, if given, ACTIVE.
bool alarm_input(const nlohmann::json& body, AlarmInput* out, std::string* error);

// type, time and at least one series `<fragment>: {<series>: {"value": <number>, "unit"}}`.
// Fills everything but m->source. `time_ms`: the time already known (a custom template's action
// carries it), so "time" is not parsed again.
bool measurement_input(const nlohmann::json& body, Measurement* m, std::string* error,
                       const int64_t* time_ms = nullptr);

}  // namespace c8y::domain

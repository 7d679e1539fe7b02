// SmartREST 2.0 static upstream templates for alarms (301-307) and events (400-408).
// Pure functions: no I/O, no clock (the caller passes "now"), no storage access. A decoder either
// fills its command and returns std::nullopt, or returns a TemplateError (code 45 for bad
// arguments: wrong count or a value of the wrong type; 40 if the record's id is not one of its
// templates). On error the command is left in an unspecified state and must not be applied.
//
// Argument rules shared by all templates here:
//  * Omitted trailing parameters and empty fields mean "not given"; trailing empty fields do not
//    count as arguments ("306,t,," equals "306,t").
//  * Times: ISO 8601 with zone (parse_iso8601_ms); empty means `now_ms`.
//  * Alarm and event types (used as JSON values and as storage keys): non-empty, valid UTF-8,
//    at most 127 bytes, no control characters (bytes 0x00-0x1F, 0x7F). '.' and '$' are allowed.
//  * Texts: valid UTF-8; no limit below the message cap (as in Cumulocity).
//  * Fragment names and JSON path segments (used as JSON keys): non-empty, valid UTF-8, at most
//    127 bytes, no '.' and no '$'.
//  * Numbers: parse_number (no NaN/Inf/overflow); integers: parse_integer; booleans: parse_bool
//    (true/false, case-insensitive).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/smartrest/csv.h"
#include "plugin/smartrest/static_templates.h"

namespace c8y::smartrest {

// True for "301".."307" exactly (no sign, no leading zeros, no spaces).
bool is_alarm_template(std::string_view msg_id);
// True for "400", "401", "402", "407", "408" exactly.
bool is_event_template(std::string_view msg_id);

// The alarm severities, as stored and rendered (upper case).
inline constexpr std::string_view kSeverityCritical = "CRITICAL";
inline constexpr std::string_view kSeverityMajor = "MAJOR";
inline constexpr std::string_view kSeverityMinor = "MINOR";
inline constexpr std::string_view kSeverityWarning = "WARNING";

// One decoded alarm template. Alarms are addressed by (source device, type), not by id: at most
// one ACTIVE alarm per type and source. kSetSeverity / kClear / kRemoveFragments act only on
// stored alarms (not on t/ ones, which are only notified).
struct AlarmCommand {
  enum class Op {
    // 301 CRITICAL, 302 MAJOR, 303 MINOR, 304 WARNING: raise an alarm of `type` with `severity`,
    // `text` and `time_ms`, status ACTIVE. If an ACTIVE alarm of that type exists for the source,
    // the platform de-duplicates it (count + 1) instead of creating a second one.
    kRaise,
    // 305: set the severity of the existing active alarm of `type` to `severity`.
    kSetSeverity,
    // 306: set the alarm of `type` to CLEARED.
    kClear,
    // 307: remove the top-level `fragments` from the alarm of `type`.
    kRemoveFragments,
  };
  Op op = Op::kRaise;
  // All ops: the alarm type (see the type rules above).
  std::string type;
  // kRaise, kSetSeverity: one of CRITICAL, MAJOR, MINOR, WARNING (always upper case; 305 accepts
  // any ASCII case and normalises). Empty for the other ops.
  std::string severity;
  // kRaise: the given text, or "Alarm of type <type> raised" when empty/omitted. Empty otherwise.
  std::string text;
  // kRaise: the alarm time (ms since the epoch, UTC); `now_ms` when omitted. 0 otherwise.
  int64_t time_ms = 0;
  // kRemoveFragments: at least one fragment name, in the order given, duplicates dropped. Names of
  // the alarm's standard properties (id, self, type, text, time, source, severity, status, count,
  // firstOccurrenceTime, creationTime, lastUpdated, history) are rejected. Empty otherwise.
  std::vector<std::string> fragments;
};

// 301..307. `now_ms` is the default time.
std::optional<TemplateError> decode_alarm(const CsvRecord& rec, int64_t now_ms, AlarmCommand& out);

// Type of one 408 value. The documented 408 example spells BOOLEAN; the 532 downstream template
// spells s/n/b. Both spellings are accepted, in any ASCII case. Nothing else (no DATE, no INTEGER).
enum class ParameterValueType {
  kString,   // "STRING" or "s"
  kNumber,   // "NUMBER" or "n"
  kBoolean,  // "BOOLEAN" or "b"
};

// One (path, type, value) group of template 408.
struct ParameterValue {
  // As given, e.g. "c8y_RelayStatus.left": 1..32 segments separated by '.',
  // each segment non-empty, valid UTF-8, at most 127 bytes, without '$'.
  std::string path;
  std::vector<std::string> segments;  // path split at '.', e.g. {"c8y_RelayStatus", "left"}
  ParameterValueType type = ParameterValueType::kString;
  // kString: the text; kNumber: an integer if the text is a decimal integer that fits int64,
  // else a double; kBoolean: true/false. An empty value field is JSON null whatever the type
  // (the documented default), meaning "no value" (see apply_parameter_update).
  nlohmann::json value;
};

// The event type of 408.
inline constexpr std::string_view kParameterUpdateType = "c8y_ParameterUpdate";
// The event type and text of 401/402.
inline constexpr std::string_view kLocationUpdateType = "c8y_LocationUpdate";
inline constexpr std::string_view kLocationUpdateText = "Location updated";

// One decoded event template.
struct EventCommand {
  enum class Op {
    // 400, 401, 402, 408: create an event {type, text, time, <fragments...>} for the source.
    // 408: only if `change_detect` is false, or apply_parameter_update says something changed.
    kCreate,
    // 407: remove the top-level `remove` fragments from the latest event (highest time, then the
    // latest created) of `type` of the source. No such event: nothing to do.
    kRemoveFragments,
  };
  Op op = Op::kCreate;
  // The template id ("400", "401", ...), for logs and error lines.
  std::string template_id;
  // kCreate: the event type: as given (400), "c8y_LocationUpdate" (401/402),
  // "c8y_ParameterUpdate" (408). kRemoveFragments: the event type to look up (407).
  std::string type;
  // kCreate: the event text: as given (400, mandatory), "Location updated" (401/402), for 408
  // the given text or "Parameter '<root>' was updated" / "Parameters '<root1>', '<root2>' were
  // updated" (the distinct first path segments in order of appearance). Empty for 407.
  std::string text;
  // kCreate: the event time (ms since the epoch, UTC), `now_ms` when omitted. 0 for 407.
  int64_t time_ms = 0;
  // kCreate: a JSON object with the custom fragments to add to the event, next to type, text,
  // time and source: {} for 400; {"c8y_Position": {lat, lng, alt, accuracy}} for 401/402 (absent
  // members left out, so it may be {"c8y_Position": {}}); for 408 the parameter values placed at
  // their paths, nested objects created for dotted paths (null values kept as null).
  nlohmann::json fragments = nlohmann::json::object();
  // 402 only: also merge `device_fragments` (top-level fragments, same c8y_Position as the event)
  // into the source device's managed object (Inventory::merge).
  bool update_device = false;
  // 402: {"c8y_Position": {...}}; {} for every other template. (408 computes its device update
  // with apply_parameter_update, which needs the device's current state.)
  nlohmann::json device_fragments = nlohmann::json::object();
  // 408 only: true when the parameters are mirrored into the device (always for 408).
  bool mirror_parameters = false;
  // 408 only: the changeDetect argument (default false).
  bool change_detect = false;
  // 408 only: the (path, type, value) groups in the order given; at least one, no path given
  // twice, no path a prefix of another (both would need the same key as a value and an object).
  // First segments never name an event's or managed object's standard property (id, self, type,
  // text, time, source, creationTime, lastUpdated, owner, childDevices, childAssets,
  // childAdditions, deviceParents, assetParents, additionParents).
  std::vector<ParameterValue> parameters;
  // kRemoveFragments (407): at least one fragment name, in order, duplicates dropped; the event's
  // standard properties (id, self, type, text, time, source, creationTime, lastUpdated) are
  // rejected.
  std::vector<std::string> remove;
};

// 400, 401, 402, 407, 408. `now_ms` is the default time.
std::optional<TemplateError> decode_event(const CsvRecord& rec, int64_t now_ms, EventCommand& out);

// What a 408 means for a device whose managed object is currently `device`.
struct ParameterUpdateOutcome {
  // At least one parameter differs from the device's state. A value equals the state when the
  // device holds an equal JSON value at that path (numbers compare by value: 1 == 1.0). A null
  // value equals a path that is absent or null in the device (absent and null mean "no value").
  bool changed = false;
  // Create the event: !change_detect || changed.
  bool create_event = false;
  // Top-level fragments to pass to Inventory::merge (which replaces whole top-level fragments and
  // removes those set to null): for each first segment under which at least one parameter
  // changed, the device's current value of that fragment with every parameter of the command
  // placed at its path (intermediate members that are absent or not objects become objects; a
  // null value removes that member if it exists and creates nothing; a null value on a
  // one-segment path yields null, i.e. the fragment is removed). {} when nothing changed.
  nlohmann::json device_fragments = nlohmann::json::object();
};

// Pure: compares a decoded 408 (`cmd.parameters`, `cmd.change_detect`) with the device's current
// managed object (any JSON; a non-object counts as {}). For a command that is not a 408 the
// result is {changed=false, create_event=true, device_fragments={}}.
ParameterUpdateOutcome apply_parameter_update(const nlohmann::json& device,
                                              const EventCommand& cmd);

}  // namespace c8y::smartrest

// SmartREST 2.0 static upstream templates: decoding a CSV record into a domain command.
// Pure functions: no I/O, no clock (the caller passes "now").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "plugin/common/measurement.h"
#include "plugin/smartrest/csv.h"

namespace c8y::smartrest {

// An error line for s/e: "<code>,<message id>,<text>".
struct TemplateError {
  int code;  // 40 unknown template, 41 device exists, 42 malformed, 45 bad arguments, 50 internal
  std::string text;
};

enum class TemplateKind {
  kUnknown,       // not a static template id
  kCreateDevice,  // 100
  kInventory,     // 101-150 (inventory_templates.h)
  kMeasurement,   // 200, 201, 210, 211, 212
  kAlarm,         // 301-307 (alarm_event_templates.h)
  kEvent,         // 400, 401, 402, 407, 408 (alarm_event_templates.h)
  kCapability,    // 600, 602
  kOperation,     // 500-507
};

// One row of the registry of static upstream templates (static_templates.cc).
struct StaticTemplate {
  int id;
  TemplateKind kind;
};
// Every static upstream template this build handles, in id order.
std::span<const StaticTemplate> static_templates();

// The static upstream template ids this build handles, comma-separated (the 603 reply).
std::string supported_static_templates();

// The kind of the template whose id is `msg_id` (the record's first field): kUnknown unless it
// is spelled exactly as a registered id (three digits, no sign, no leading zero).
TemplateKind template_kind(std::string_view msg_id);

struct CreateDevice {
  std::string name;  // empty: default
  std::string type;  // empty: default
};

// 100,<name>,<type>
std::optional<TemplateError> decode_create_device(const CsvRecord& rec, CreateDevice& out);
// 200, 201, 210, 211, 212: fills type, time and series of `m` (source and id are the caller's).
std::optional<TemplateError> decode_measurement(const CsvRecord& rec, int64_t now_ms,
                                                common::Measurement& m);

}  // namespace c8y::smartrest

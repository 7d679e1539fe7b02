// SmartREST 2.0 custom template collections: parsing the
// `10`/`11` lines of one s/ut/<X-ID> publish into a Collection, applying a request template to a
// usage line of s/uc/<X-ID>, rendering the response templates for a JSON object, and converting
// a collection to and from its inventory representation.
//
// Pure: no I/O, no clock (the caller passes "now"), no storage; no exception leaves this API.
// Every JSONPath is compiled once, when the collection is parsed or read; applying a template
// and rendering responses never parse a path again.
//
// Errors are CustomTemplateError{code, id, text}, one s/e line "<code>,<id>,<text>" each
// (error_line()):
//   41  definition errors (id: the template's msgId, or the X-ID for collection-wide problems);
//   42  a definition line with broken CSV quoting (id: the X-ID);
//   40  a usage line whose msgId is not in the collection (id: that msgId);
//   45  usage errors: wrong argument count, a value not of its type (id: the msgId); and a
//       rendered response above the caller's byte limit (id: the X-ID).
// Texts quote device input at most 64 bytes long, with control bytes and invalid UTF-8 as '?'.
//
// ---------------------------------------------------------------------------------------------
// Definition lines, all in one publish:
//   10,<msgId>,<method>,<api>,<response>,<api-specific columns...>,<custom triples...>
//   11,<msgId>,<base>,<condition>,<pattern>[,<pattern>...]
//
// | method api        | api-specific columns                   | usage line values, in order  |
// |-------------------|----------------------------------------|------------------------------|
// | GET INVENTORY     | byId, externalIdType                   | reference (see below)        |
// | PUT INVENTORY     | byId, externalIdType, then customs     | reference, then customs      |
// | POST INVENTORY    | externalIdType, then customs           | externalId, externalIdType   |
// |                   |                                        | if not fixed, then customs   |
// | POST MEASUREMENT  | type, time, then customs               | empty columns, then customs  |
// | POST EVENT        | type, text, time, then customs         | empty columns, then customs  |
// | POST ALARM        | type, text, status, severity, time,    | empty columns, then customs  |
// |                   | then customs                           |                              |
// | PUT ALARM         | type, then customs                     | empty columns, then customs  |
// | PUT OPERATION     | fragment, then customs                 | empty columns, then customs  |
// Reference of GET/PUT INVENTORY: byId=true: <internalId>; byId=false with a fixed
// externalIdType: <externalId>; byId=false without: <externalIdType>,<externalId>; byId empty:
// nothing (the topic's own device).
// A custom triple is <jsonPath>,<TYPE>,<value>; a column left empty at creation (mandatory or
// custom, except FLAG) is a value the usage line must supply, in column order.
//
// Decisions (ambiguous or undocumented cases):
//  * Method, api, TYPE names, true/false and the SEVERITY / ALARMSTATUS / OPERATIONSTATUS values
//    are accepted in any ASCII case and stored upper case. The order is method,api (as in all doc
//    examples); "10,1,MEASUREMENT,POST" is refused with a message saying the two are swapped.
//  * Trailing empty columns of a definition line do not count: "10,101,POST,EVENT,,t,x,," equals
//    "10,101,POST,EVENT,,t,x". Missing api-specific columns are empty ones. A trailing triple may
//    be cut short: "...,status,ALARMSTATUS" has an empty value (doc example of PUT ALARM); a
//    path alone is a STRING with an empty value.
//  * PUT INVENTORY without the byId/externalIdType columns (the doc's network example
//    "10,100,PUT,INVENTORY,false,c8y_Network.c8y_LAN.name,STRING,,..."): when the byId column is
//    neither true, false nor empty, the template has no reference columns, targets the topic's
//    own device, and its custom triples start in that column. byId empty (GET or PUT) also means
//    the topic's own device; externalIdType must then be empty, as it must with byId=true.
//  * GET INVENTORY takes no custom triples (41).
//  * An empty mandatory column is supplied by the device, like a custom value (the docs: "this
//    also applies to mandatory fields"), including PUT ALARM's type and PUT OPERATION's fragment.
//  * msgIds are unique across request and response templates of the collection; 1..64 bytes,
//    valid UTF-8, no control characters. The X-ID: 1..128 bytes, valid UTF-8, no control
//    characters, '/', '+' or '#' (it is a topic level).
//  * Request custom paths: no wildcard, not the root, every key 1..127 bytes without '.' or '$'
//    (they become JSON keys of stored objects), first key not one of id, self, source,
//    creationTime, lastUpdated (the caller owns those). No two paths of one template (mandatory
//    columns included: POST MEASUREMENT "type"/"time", ...) may be equal, one a prefix of the
//    other, or need one node as both an object and an array: refused at creation, so applying a
//    template never meets a conflict.
//  * A fixed value must fit its type (41 "fixed value is not a NUMBER: abc"); FLAG takes no value.
//    A fixed DATE is stored as given and written normalised to UTC milliseconds.
//  * Response base and condition are optional; patterns must be non-empty. Each pattern is
//    base + pattern (a leading "$" of a pattern is relative to the base). The condition is
//    evaluated from the object's root, not from the base (doc examples 111/444).
//  * Limits: kMaxTemplates (request + response) per collection, kMaxCustomValues triples per
//    request template, kMaxPatterns patterns per response template. A payload with no template
//    line at all is refused (41) - an empty publish is the existence check, the caller's.
//  * A malformed CSV line (broken quoting) is error 42 and refuses the collection like a 41.
//  * Each definition line yields at most one error (the first problem found); the other lines
//    are still checked, so one publish reports all its bad lines. Past kMaxTemplates lines one
//    error is reported and the rest of the payload is not read.
//
// Usage lines (apply_request):
//  * Values are the record's fields after the msgId; they fill the template's open columns in
//    order. Trailing empty fields beyond the open columns are ignored; a value sent empty on
//    purpose counts ("999,x," supplies "x" and "").
//  * DATE columns may be left out: when a line has fewer values than open columns, the first
//    DATE columns are skipped and get the server time. This reconciles the doc's usages of
//    "10,999,POST,MEASUREMENT,,c8y_CustomMeasurement,,<path>,NUMBER,...": "999,,25" (time sent
//    empty) and "999,30.6" (time left out), and makes "101" valid for
//    "10,101,POST,EVENT,,c8y_CustomEvent,mytext,,". POST INVENTORY's externalId (and the
//    externalIdType after it) may be left out only at the end ("100" creates no external id).
//    Every other value is required, so "100" for the doc's measurement template with an empty
//    NUMBER custom value is 45 "wrong number of arguments: expected 1 to 2, got 0" (the doc
//    contradicts itself there).
//  * Count errors: 45 "wrong number of arguments: expected N, got M" ("expected N to K" when
//    some values may be left out).
//  * Values by type: STRING any valid UTF-8 (an empty custom STRING is ""; an empty type, text,
//    fragment, id or externalIdType is 45 "missing ..."); DATE parse_iso8601_ms, empty = now_ms,
//    written as "YYYY-MM-DDThh:mm:ss.mmmZ"; NUMBER a JSON integer if parse_integer accepts it,
//    else a double (parse_number: no NaN/Inf/overflow); INTEGER parse_integer; UNSIGNED
//    parse_integer >= 0; SEVERITY CRITICAL/MAJOR/MINOR/WARNING; ALARMSTATUS ACTIVE/ACKNOWLEDGED/
//    CLEARED; OPERATIONSTATUS PENDING/EXECUTING/SUCCESSFUL/FAILED; FLAG {} (never sent).
//    A wrong value is 45 "value is not a NUMBER: abc"; an empty non-STRING, non-DATE value is
//    45 "missing NUMBER value for <path>".
//  * Alarm and event types, PUT ALARM's type: 1..127 bytes, no control characters; texts have
//    no limit below the message cap; PUT OPERATION's fragment: 1..127 bytes without '.' or '$'; ids
//    and externalId types 1..128 bytes, no control characters. (The same rules as the static
//    templates.)
//
// Responses (render_responses):
//  * Every response template of the collection, in definition order, whose condition selects at
//    least one node (a null member counts as present) or that has no condition, yields one line
//    "<msgId>[,<device id>],<values...>". The device id is written when the caller passes one
//    (operations), not for request results (doc example 888).
//  * A pattern without wildcard yields exactly one value (empty when it selects nothing). A
//    pattern with [*] (in the base or the pattern) yields one value per selected node,
//    consecutively; elements that lack the rest of the path are not selected (JSONPath
//    semantics: "list[*].name" over [{"name": "a"}, {}] is just "a"). A [*] pattern that selects
//    nothing yields one empty value, so that the values after it keep their position.
//  * A line whose patterns all stay unresolved is still sent: the doc's example
//    "333,myMqttTestDevice,,," shows it, and "patterns that did not resolve will be returned as
//    empty string". Only the condition suppresses a line.
//  * Values: strings as is; true/false; integers in decimal; a double that is integral and within
//    +-2^53 without ".0" (as the static downstream templates), others in shortest round-trip
//    form; null empty; objects and arrays as compact JSON (invalid UTF-8 replaced by U+FFFD).
//    Fields are written with append_csv_field (quoted when needed, quotes as \").
//
// Inventory representation (to_managed_object / from_managed_object), the shape the Cumulocity
// UI and its exports use:
//   {"type": "c8y_SmartRest2Template", "name": <X-ID>, "__externalId": <X-ID>, "c8y_Global": {},
//    "com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate": {
//      "requestTemplates": [{"msgId", "method", "api", "response": bool,
//                            "mandatoryValues": [{"path", "type", "value"}...],
//                            "customValues": [{"path", "type", "value"}...],
//                            "byId": bool (GET/PUT INVENTORY with a reference only),
//                            "externalIdType": string (INVENTORY, only when fixed)}...],
//      "responseTemplates": [{"msgId", "base", "condition", "pattern": [string...]}...]}}
// plus an external id {type c8y_SmartRest2DeviceIdentifier, externalId <X-ID>} that the caller
// stores. mandatoryValues use the paths of the Cumulocity UI: POST MEASUREMENT $.type STRING,
// $.time DATE; POST EVENT $.type, $.text STRING, $.time DATE; POST ALARM $.type, $.text STRING,
// $.status ALARMSTATUS, $.severity SEVERITY, $.time DATE; PUT ALARM $.type STRING; PUT OPERATION
// $.type STRING (the UI's name for the fragment); none for INVENTORY (externalIdType is its own
// member). Request templates are written in msgId order, response templates in definition order.
// from_managed_object rebuilds each template as its definition line and runs the CSV parser's
// validation on it, so it accepts exactly what parse_collection accepts; msgId may be a string
// or an integer, value a string or null, base/condition/externalIdType a string or null;
// "name" members and other fragments are ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/smartrest/csv.h"
#include "plugin/smartrest/json_path.h"

namespace c8y::smartrest {

inline constexpr size_t kMaxTemplates = 1000;    // request + response templates
inline constexpr size_t kMaxCustomValues = 100;  // custom triples per request template
inline constexpr size_t kMaxPatterns = 100;      // patterns per response template
inline constexpr size_t kMaxMsgIdBytes = 64;
inline constexpr size_t kMaxXidBytes = 128;

inline constexpr std::string_view kTemplateCollectionType = "c8y_SmartRest2Template";
inline constexpr std::string_view kTemplateCollectionIdType = "c8y_SmartRest2DeviceIdentifier";
inline constexpr std::string_view kTemplateCollectionFragment =
    "com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate";

// One error line for s/e: "<code>,<id>,<text>".
struct CustomTemplateError {
  int code = 41;
  std::string id;  // the msgId, or the X-ID
  std::string text;

  bool operator==(const CustomTemplateError&) const = default;
};

// The s/e line of `e` (CSV-encoded, no line end).
std::string error_line(const CustomTemplateError& e);

enum class Method : unsigned char { kGet, kPost, kPut };
enum class Api : unsigned char { kInventory, kAlarm, kEvent, kMeasurement, kOperation };
enum class ValueType : unsigned char {
  kString,
  kDate,
  kNumber,
  kInteger,
  kUnsigned,
  kFlag,
  kSeverity,
  kAlarmStatus,
  kOperationStatus,
};

std::string_view method_name(Method m);         // "GET", "POST", "PUT"
std::string_view api_name(Api a);               // "INVENTORY", "ALARM", ...
std::string_view value_type_name(ValueType t);  // "STRING", "DATE", ...

// One mandatory column or custom triple of a request template.
struct TemplateValue {
  // What the value is, which decides its checks and where it goes.
  enum class Role : unsigned char {
    kCustom,    // a custom triple: placed at `path` in the body
    kType,      // POST MEASUREMENT/EVENT/ALARM "type" (body), PUT ALARM type (RequestAction)
    kText,      // POST EVENT/ALARM "text"
    kStatus,    // POST ALARM "status" (ALARMSTATUS)
    kSeverity,  // POST ALARM "severity" (SEVERITY)
    kTime,      // POST MEASUREMENT/EVENT/ALARM "time" (DATE)
    kFragment,  // PUT OPERATION fragment (RequestAction)
  };
  Role role = Role::kCustom;
  // As given (custom) or the UI path of the mandatory column ("$.type", ...).
  std::string path;
  ValueType type = ValueType::kString;
  // The fixed value as given; empty: the usage line supplies it (always empty for FLAG).
  std::string value;

  // Derived by the parser (do not edit): `path` compiled; the fixed value as JSON (null if
  // supplied; {} for FLAG); for a fixed DATE its instant.
  JsonPath compiled;
  nlohmann::json fixed;
  int64_t fixed_ms = 0;

  bool is_fixed() const { return type == ValueType::kFlag || !value.empty(); }
  bool operator==(const TemplateValue&) const = default;
};

// How GET / PUT INVENTORY name the managed object.
enum class Reference : unsigned char {
  kOwnDevice,   // the device of the topic (byId empty, or PUT without reference columns)
  kInternalId,  // byId=true
  kExternalId,  // byId=false
};

struct RequestTemplate {
  std::string msg_id;
  Method method = Method::kPost;
  Api api = Api::kMeasurement;
  bool response = false;  // resolved: an empty column is true for GET, false otherwise
  // GET/PUT INVENTORY only (kOwnDevice otherwise).
  Reference reference = Reference::kOwnDevice;
  // INVENTORY: the fixed externalIdType (GET/PUT with kExternalId, POST); empty: supplied.
  std::string external_id_type;
  // The api's mandatory columns in column order (see the table above); empty for INVENTORY.
  std::vector<TemplateValue> mandatory;
  std::vector<TemplateValue> custom;

  // Derived by the parser (do not edit).
  struct Slot {
    enum class Kind : unsigned char {
      kInternalId,
      kExternalIdType,
      kExternalId,
      kMandatory,  // mandatory[index]
      kCustom,     // custom[index]
    };
    Kind kind = Kind::kCustom;
    size_t index = 0;
    bool operator==(const Slot&) const = default;
  };
  std::vector<Slot> slots;   // the usage line's values, in order
  size_t date_slots = 0;     // slots of type DATE (may be skipped)
  size_t min_values = 0;     // the fewest values a usage line may send
  nlohmann::json base_body;  // the body with every fixed value already placed

  bool operator==(const RequestTemplate&) const = default;
};

struct ResponseTemplate {
  std::string msg_id;
  std::string base;                   // as given; empty: none
  std::string condition;              // as given; empty: none
  std::vector<std::string> patterns;  // as given, at least one

  // Derived by the parser (do not edit): the condition compiled, and base + pattern compiled
  // for each pattern.
  std::optional<JsonPath> condition_path;
  std::vector<JsonPath> paths;

  bool operator==(const ResponseTemplate&) const = default;
};

struct Collection {
  std::string xid;
  std::map<std::string, RequestTemplate, std::less<>> requests;  // by msgId
  std::vector<ResponseTemplate> responses;                       // in definition order

  bool operator==(const Collection&) const = default;
};

// Parses the body of one s/ut/<xid> publish. Returns the collection, or nullopt if there was any
// error; then `errors` (if not null; cleared first) holds the first `max_errors` errors in line
// order and `error_count` (if not null) the number of all errors found. On success `errors` is
// empty. Cost: linear in the payload; every path is compiled here.
std::optional<Collection> parse_collection(std::string_view xid, std::string_view payload,
                                           size_t max_errors,
                                           std::vector<CustomTemplateError>* errors,
                                           size_t* error_count = nullptr);

// What a usage line asks for; the caller executes it against its stores.
struct RequestAction {
  std::string msg_id;
  Method method = Method::kPost;
  Api api = Api::kMeasurement;
  // The object to create (POST) or the fragments to merge (PUT), Cumulocity-shaped:
  // POST MEASUREMENT {"type", "time", <customs>}; POST EVENT {"type", "text", "time", ...};
  // POST ALARM {"type", "text", "status", "severity", "time", ...}; POST/PUT INVENTORY, PUT ALARM,
  // PUT OPERATION {<customs>}; GET INVENTORY {}. Times are "YYYY-MM-DDThh:mm:ss.mmmZ".
  nlohmann::json body = nlohmann::json::object();
  // POST MEASUREMENT/EVENT/ALARM: the "time" of the body, in ms since the epoch. 0 otherwise.
  int64_t time_ms = 0;
  // GET/PUT INVENTORY: the target. kInternalId: `id`; kExternalId: `external_id_type` and
  // `external_id`; kOwnDevice: the topic's device.
  Reference reference = Reference::kOwnDevice;
  std::string id;
  // GET/PUT INVENTORY kExternalId: the target's external id. POST INVENTORY: the external id to
  // register for the new object; `external_id` empty means none.
  std::string external_id_type;
  std::string external_id;
  std::string alarm_type;  // PUT ALARM: the ACTIVE (else ACKNOWLEDGED) alarm of this type
  std::string fragment;    // PUT OPERATION: the EXECUTING (else PENDING) operation with it
  // Render the response templates for the result (the object created, updated or read).
  bool response = false;
};

// Applies `t` to the usage line `rec` (fields[0] is the msgId; the caller has checked that it is
// t.msg_id). `now_ms` is the server time for empty DATEs. `out` is reset first; on error it is
// left partially filled and must not be executed. Cost: one copy of t.base_body plus the
// supplied values; no path is parsed.
std::optional<CustomTemplateError> apply_request(const RequestTemplate& t, const CsvRecord& rec,
                                                 int64_t now_ms, RequestAction& out);
// The same after looking the msgId up in `c`: 40 "No template for this message id" if absent.
std::optional<CustomTemplateError> apply_request(const Collection& c, const CsvRecord& rec,
                                                 int64_t now_ms, RequestAction& out);

// Renders the response templates of `c` for `obj` (an operation, or the result of a request
// with response=true) into `lines` (cleared first; may be null; no line ends). `device_id`: the
// external id written after the msgId (operations), nullopt for request results. If the lines
// joined with
// "\n" would exceed `max_bytes`, returns 45 "response too large: more than <max> bytes" (id: the
// X-ID) and leaves `lines` empty: output is never truncated. Rendering stops as soon as the limit
// is passed, so the cost is bounded by `max_bytes` plus the walk over `obj`.
std::optional<CustomTemplateError> render_responses(const Collection& c, const nlohmann::json& obj,
                                                    std::optional<std::string_view> device_id,
                                                    size_t max_bytes,
                                                    std::vector<std::string>* lines);

// The managed object of `c` (see above), without id.
nlohmann::json to_managed_object(const Collection& c);

// Reads a managed object as stored by to_managed_object (or the Cumulocity UI) back into a
// collection named `xid` (its c8y_SmartRest2DeviceIdentifier external id; the object's "name" is
// not used). Refuses with 41 errors, like parse_collection, whatever does not make a valid
// collection: wrong "type", a missing or non-object template fragment, lists that are not
// arrays, members of the wrong JSON type, unknown mandatory paths, and every definition error.
std::optional<Collection> from_managed_object(const nlohmann::json& mo, std::string_view xid,
                                              size_t max_errors,
                                              std::vector<CustomTemplateError>* errors,
                                              size_t* error_count = nullptr);

}  // namespace c8y::smartrest

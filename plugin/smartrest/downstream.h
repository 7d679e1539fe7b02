// SmartREST 2.0 static downstream templates 510-532: rendering an operation as the
// lines a device subscribed to s/ds receives. Pure: no I/O, no clock, no allocation beyond the
// result. Fields are written with append_csv_field (quoted when needed, quotes as \").
//
// Every line is `<template id>,<target>,<parameters...>` where <target> is the external id of the
// device or child that must handle the operation. Lines have no line end; render_lines joins them.
//
// Selection: a template is chosen by the presence of its fragment in the operation; an operation
// may yield several lines (one per matching template), returned in ascending template id.
//
// | Id  | Fragment (JSON type)                    | Parameters after the target              |
// |-----|-----------------------------------------|------------------------------------------|
// | 510 | c8y_Restart (object)                    | -                                        |
// | 511 | c8y_Command (object)                    | text                                     |
// | 513 | c8y_Configuration (object)              | config                                   |
// | 515 | c8y_Firmware (object), not a patch      | name, version, url                       |
// | 516 | c8y_SoftwareList (array of objects)     | (name, version, url)...                  |
// | 517 | c8y_MeasurementRequestOperation (obj.)  | requestName                              |
// | 518 | c8y_Relay (object)                      | relayState                               |
// | 519 | c8y_RelayArray (array of scalars)       | state...                                 |
// | 520 | c8y_UploadConfigFile (object), untyped  | -                                        |
// | 521 | c8y_DownloadConfigFile (object), untyped| url                                      |
// | 522 | c8y_LogfileRequest (object)             | logFile, dateFrom, dateTo, searchText,   |
// |     |                                         | maximumLines                             |
// | 523 | c8y_CommunicationMode (object)          | mode                                     |
// | 524 | c8y_DownloadConfigFile (object), typed  | url, type                                |
// | 525 | c8y_Firmware (object), a patch          | name, version, url, dependency           |
// | 526 | c8y_UploadConfigFile (object), typed    | type                                     |
// | 527 | c8y_DeviceProfile (object)              | $FW[,name,version,url,isPatch,dependency]|
// |     |                                         | ,$SW(,name,version,url,action)...        |
// |     |                                         | ,$CONF(,url,type)...                     |
// | 528 | c8y_SoftwareUpdate (array of objects),  | (name, version, url, action)...          |
// |     | no item has a softwareType              |                                          |
// | 529 | c8y_SoftwareUpdate, some item has one   | (name, version, softwareType, url,       |
// |     |                                         | action)...                               |
// | 530 | c8y_RemoteAccessConnect (object)        | hostname, port, connectionKey            |
// | 531 | c8y_DeviceProfile, some software item   | like 527, software groups are (name,     |
// |     | has a softwareType (sent besides 527)   | version, softwareType, url, action)      |
// | 532 | c8y_ParameterUpdate (object)            | (path, type code, value)...              |
//
// Values:
//  * A JSON string is written as is (quoted when needed); true/false as "true"/"false";
//    an integer in decimal; a floating-point number that is integral and within +-2^53 without
//    ".0" ("22.0" -> "22", "-0.0" -> "0"), any other one in nlohmann::json's shortest round-trip
//    form ("1.5", "1e+300").
//  * A missing or null value is an empty field. Fixed-arity templates always write all their
//    fields (e.g. "517,<target>," for an empty c8y_MeasurementRequestOperation).
//  * Malformed input never throws: if a fragment, a list item or a value has the wrong JSON type
//    (an object or array where a scalar belongs, a non-object fragment where an object belongs,
//    a non-array list), that template yields no line; the other templates of the operation are
//    still rendered. An `op` that is not a JSON object yields no lines.
//
// Decisions (sources: Cumulocity-IoT/c8y-docs content/smartrest/mqtt-static-templates.md and
// content/device-integration/fragment-library-bundle/{firmware,software,device-profile,
// device-parameter,relay}.md; the platform's Python agent Cumulocity-IoT/
// cumulocity-devicemanagement-agent; c8y-docs PR #3716 for 532):
//  * 515 vs 525: a patch is an isPatch of true (boolean, or the string "true" in any case). When
//    isPatch is absent or null, a non-empty dependency makes it a patch. An explicit false is a
//    full image even with a dependency. isPatch of another JSON type is malformed.
//  * 520/521 vs 526/524: "typed" means a `type` that renders non-empty; "" or null is untyped.
//  * 528 vs 529: exclusive. 529 when at least one item has a non-empty softwareType (items
//    without one get an empty type field), else 528. The platform's own agent handles 528 and
//    529 as two independent requests (each sends 501), so sending both would run it twice.
//  * 527/531: 527 always (software groups without type); 531 in addition when at least one
//    software item has a non-empty softwareType (docs: "template 531 will also be triggered
//    alongside with template 527"). The three markers are always written. A missing firmware
//    writes "$FW" with no fields after it (a reader splits at the markers, as it must for the
//    variable-length $SW and $CONF groups); a present firmware writes name, version, url,
//    isPatch ("true"/"false", "false" when absent, as in the docs example) and dependency (falling
//    back to `patchDependency`, the name the device-profile UI model uses).
//  * 517: the request name is read from `requestName` (the UI creates `{}`: "517,<target>,").
//  * 532: the operation carries the marker `c8y_ParameterUpdate: {}`, one marker
//    `c8y_ParameterUpdate_<X>` per parameter set and the values in the top-level fragment <X>.
//    For each marker (in key order), <X> is flattened depth-first in key order into
//    (path, code, value) with path "<X>.<key>.<key>...", code "s" string, "n" number,
//    "b" boolean and "" for null (value then empty), as in the docs example
//    "532,someSerial,MyParameter,b,true,DeviceMaintainer.name,s,John Smithsky,...,Problems,,".
//    A marker whose fragment is absent, and an empty object, contribute nothing; an array
//    anywhere is malformed; more than kMaxParameterUpdateParameters triples is malformed (100:
//    the limit PR #3716 documents, as quoted by a device project's notes; the excerpt of the PR
//    seen here was cut before the number. Truncating would make the device apply a partial
//    update silently).
//  * Order of keys: nlohmann::json keeps object keys sorted, so 532 triples and marker sets
//    come in byte order of their keys; devices must not depend on the order.
//  * The operation's id, status and other fragments are ignored: which operations to render
//    (the PENDING ones) and the message size cap are the caller's business.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace c8y::smartrest {

// Most (path, type, value) triples in one 532 line.
inline constexpr size_t kMaxParameterUpdateParameters = 100;

// Renders an operation (Cumulocity JSON: {"id": "...", "deviceId": "...", "status": "...",
// <fragments>...}) as the static downstream lines 510-532 that match its fragments, for the
// device whose external id is `target` (the 2nd field of every line). Returns no lines if no
// static template matches. Lines have no trailing newline.
std::vector<std::string> render_operation(const nlohmann::json& op, std::string_view target);

// The lines joined with "\n" (no trailing newline; "" for no lines).
std::string render_lines(const std::vector<std::string>& lines);

}  // namespace c8y::smartrest

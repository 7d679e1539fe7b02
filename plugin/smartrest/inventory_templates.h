// SmartREST 2.0 static inventory templates (101-150): decoding a CSV record into an
// inventory command that the caller applies to the managed object of the topic's device (the
// "target": the connecting device on s/us, the child on s/us/<childId>).
//
// Pure functions: no I/O, no clock (the caller passes "now"), no access to the inventory. Every
// argument check happens here: a wrong argument count, a value of the wrong type
// or an over-long / non-UTF-8 text yields TemplateError{45, <text naming the problem>}; a record
// whose id is not an inventory template yields TemplateError{40, ...}.
//
// Limits (bytes, after CSV unquoting). Values (names, types, texts, urls, versions, the
// configuration of 113, list lengths) have none below the message cap, as in Cumulocity. What is
// limited protects the broker:
//   kMaxIdBytes        128    external ids (101 childId, 102 serviceExternalId): they are topic
//                             levels of s/us/<id> and storage keys, so no '/', '+', '#' nor
//                             control characters
//   kMaxKeyBytes       127    fragment names used as JSON keys (107, the key of 120), and the
//                             elements of the name lists 114, 118, 119, 143, 150 (operation,
//                             log and configuration types name fragments and are matched as such)
//   kMaxSoftwareItems  20000  the software list a device builds up with 141 appends (each
//                             append rewrites the managed object: this bounds its size)
// Fragment names used as JSON keys must also be valid UTF-8 and hold no '.' or '$'.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/smartrest/csv.h"
#include "plugin/smartrest/static_templates.h"  // TemplateError

namespace c8y::smartrest {

inline constexpr size_t kMaxIdBytes = 128;
inline constexpr size_t kMaxKeyBytes = 127;
inline constexpr size_t kMaxSoftwareItems = 20000;

// One entry of the advanced software list (140, 141, 142). Stored in the managed object as
// {"name", "version", "softwareType", "url"}; only the name is required, and an empty version,
// type or url is stored as an empty string (thin-edge.io sends "140,a,,debian,,...").
struct SoftwareItem {
  std::string name;     // never empty
  std::string version;  // may be empty
  std::string type;     // "softwareType" (always empty for 142)
  std::string url;      // (always empty for 142)

  bool operator==(const SoftwareItem&) const = default;
};

struct InventoryCommand {
  enum class Op {
    // 110-116, 118-120, 122, 143, 150. Merge `fragments` into the target's managed object:
    // every top-level key replaces the fragment of that name; a null value removes the fragment
    // (143/150 with an empty list). This is exactly domain::Inventory::merge.
    kMerge,
    // 117. Like kMerge, but a fragment is only written if the target does not have it yet (a
    // value set earlier, e.g. through the UI, is never overwritten). `fragments` may be an empty
    // object (117 without interval): nothing to do.
    kMergeIfAbsent,
    // 121. `fragments` is {"c8y_Profile": {"profileExecuted": <bool>[, "profileId": "<id>"]}}.
    // If `profile_from_operation` is set (no profile id given), the caller should look up the
    // target's oldest EXECUTING operation that has a c8y_DeviceProfile fragment and add its id
    // as "profileId" and its top-level "profileName" (when present) as "profileName" to
    // fragments["c8y_Profile"] before merging; without such an operation it merges as is.
    kSetProfile,
    // 107. Remove the fragments listed in `names` from the target (absent ones are ignored).
    // The names are valid keys and never one of the object's structural properties (id, self,
    // owner, creationTime, lastUpdated, childDevices, childAssets, childAdditions,
    // deviceParents, assetParents, additionParents).
    kRemoveFragments,
    // 101. Create a child device of the target unless an object with external id
    // {c8y_Serial, external_id} exists already (then nothing happens; the existing object is not
    // changed): managed object {name, type, c8y_IsDevice: {} only if is_device}, external id
    // c8y_Serial = external_id exactly as given (s/us/<external_id> is its topic), added to the
    // target's childDevices. `name` and `type` are filled with the defaults when the device sent
    // none.
    kCreateChild,
    // 102. Create a service (a child addition of the target) unless an object with external id
    // {c8y_Serial, external_id} exists; if it exists, merge {name, serviceType, status} into it.
    // `fragments` holds the new object's body: {"type": "c8y_Service", "name": name,
    // "serviceType": type, "status": status}. Fields: external_id, name, type (the service
    // type), status.
    kCreateService,
    // 104 (sent on s/us/<serviceExternalId>). Set the target service's status: `status`, and
    // `fragments` = {"status": status} ready to merge. The caller may reject a target whose type
    // is not c8y_Service.
    kServiceStatus,
    // 105. Reply on s/ds with "106,<child external id>,..." (the target's child devices).
    kListChildren,
    // 123. Reply on s/ds with "124,<internal id of the target>".
    kGetId,
    // 125. Heartbeat: update the target's availability (c8y_Availability.lastMessage); no other
    // change. (Any other upstream message counts as well; this one carries nothing else.)
    kHeartbeat,
    // 140, 141, 142: the advanced software list, fragment "c8y_SoftwareList" (an array). Apply
    // with apply_software() to the target's current c8y_SoftwareList (absent or not an array:
    // start from []) and merge the result back as {"c8y_SoftwareList": <list>}.
    kSoftwareReplace,  // 140: replace the whole list by `software`
    kSoftwareAppend,   // 141: add `software` (an entry with the same name and version is updated)
    kSoftwareRemove,   // 142: remove the entries matching name and version of `software`
  };

  Op op = Op::kMerge;
  // kMerge, kMergeIfAbsent, kSetProfile, kServiceStatus: top-level fragments to merge (an
  // object; null value = remove). kCreateService: the service object's body. Otherwise an empty
  // object.
  nlohmann::json fragments = nlohmann::json::object();
  // kRemoveFragments: the fragment names, in the order given (at least one).
  std::vector<std::string> names;
  // kCreateChild, kCreateService: the c8y_Serial external id of the new object.
  std::string external_id;
  // kCreateChild: device name (default "MQTT Device <external_id>"). kCreateService: the name.
  std::string name;
  // kCreateChild: device type (default "c8y_MQTTChildDevice"). kCreateService: serviceType.
  std::string type;
  // kCreateService, kServiceStatus: the service status.
  std::string status;
  // kCreateChild: add the c8y_IsDevice marker (false only if the 4th argument was "false").
  bool is_device = true;
  // kSetProfile: no profile id given; see kSetProfile.
  bool profile_from_operation = false;
  // kSoftwareReplace, kSoftwareAppend, kSoftwareRemove: the items, in the order given.
  std::vector<SoftwareItem> software;
};

// True for the ids decode_inventory handles: "101", "102", "104", "105", "107", "110" ... "123",
// "125", "140" ... "143", "150" (exact spelling, no sign or leading zero).
bool is_inventory_template(std::string_view msg_id);

// Decodes one record (fields[0] is the template id) into `out`, which is reset first (so a
// command object can be reused). `now_ms` is the server time used for defaulted dates (120).
// On error `out` is left reset or partially filled and must not be applied.
std::optional<TemplateError> decode_inventory(const CsvRecord& rec, int64_t now_ms,
                                              InventoryCommand& out);

// The JSON form of a software list entry: {"name", "version"[, "softwareType"][, "url"]}.
nlohmann::json software_item_json(const SoftwareItem& item);

// Applies a kSoftwareReplace / kSoftwareAppend / kSoftwareRemove command to `list`, the target's
// current c8y_SoftwareList (replaced by [] first if it is not an array):
//  * replace: the list becomes the command's items;
//  * append (and replace, for repeated items): an item whose name and version equal those of an
//    entry already in the list replaces that entry in place; other items are added at the end;
//  * remove: every entry whose "name" and "version" equal those of one of the items is removed
//    (unknown items are ignored); the list may become [].
// Returns TemplateError{45, ...} and leaves `list` unchanged if the result would have more than
// kMaxSoftwareItems entries. Other ops: no change, no error.
std::optional<TemplateError> apply_software(nlohmann::json& list, const InventoryCommand& cmd);

}  // namespace c8y::smartrest

#include "plugin/smartrest/inventory_templates.h"

#include <limits>
#include <utility>

#include "plugin/common/values.h"
#include "plugin/smartrest/fields.h"

namespace c8y::smartrest {
namespace {

using nlohmann::json;
using Op = InventoryCommand::Op;
using Error = std::optional<TemplateError>;
using fields::args;
using fields::field;
using fields::used_fields;

Error too_many(const CsvRecord& rec, size_t max) {
  size_t n = used_fields(rec);
  if (n > max + 1)
    return args("too many arguments: " + std::to_string(n - 1) + ", at most " +
                std::to_string(max));
  return std::nullopt;
}

// A text, valid UTF-8 (may be empty). Values have no limit of their own: the message cap bounds
// them. `max` is for names that become JSON keys or topic levels.
Error text_field(std::string_view v, std::string_view what, size_t max = SIZE_MAX) {
  if (v.size() > max)
    return args(std::string(what) + " longer than " + std::to_string(max) + " bytes");
  if (!common::is_valid_utf8(v)) return args(std::string(what) + " is not valid UTF-8");
  return std::nullopt;
}

// A mandatory text.
Error required_text(std::string_view v, std::string_view what, size_t max = SIZE_MAX) {
  if (v.empty()) return args("missing " + std::string(what));
  return text_field(v, what, max);
}

// Names used as JSON keys: non-empty, valid UTF-8, at most 127 bytes, no '.' or '$'.
Error key_field(std::string_view v, std::string_view what) {
  if (v.empty()) return args("missing " + std::string(what));
  if (auto e = text_field(v, what, kMaxKeyBytes)) return e;
  if (v.find_first_of(".$") != std::string_view::npos)
    return args(std::string(what) + " must not contain '.' or '$': " + common::echo_value(v));
  return std::nullopt;
}

// External ids that are topic levels (s/us/<id>): 1..128 bytes, valid UTF-8, no '/', '+', '#'
// and no control characters.
Error external_id_field(std::string_view v, std::string_view what) {
  if (auto e = required_text(v, what, kMaxIdBytes)) return e;
  for (unsigned char c : v) {
    if (c == '/' || c == '+' || c == '#')
      return args(std::string(what) +
                  " must not contain '/', '+' or '#': " + common::echo_value(v));
    if (c < 0x20 || c == 0x7f)
      return args(std::string(what) + " must not contain control characters");
  }
  return std::nullopt;
}

// Properties that hold the object's structure; 107 must not remove them.
bool is_structural(std::string_view name) {
  static const char* kNames[] = {"id",           "self",           "owner",
                                 "creationTime", "lastUpdated",    "childDevices",
                                 "childAssets",  "childAdditions", "deviceParents",
                                 "assetParents", "additionParents"};
  for (const char* n : kNames)
    if (name == n) return true;
  return false;
}

// The arguments of a list template (fields 1..): empty elements are skipped; each element is
// checked as a text of at most kMaxKeyBytes bytes.
Error name_list(const CsvRecord& rec, std::string_view what, json& out) {
  out = json::array();
  const size_t n = used_fields(rec);
  for (size_t i = 1; i < n; ++i) {
    std::string_view v = rec.fields[i];
    if (v.empty()) continue;
    if (auto e = text_field(v, what, kMaxKeyBytes)) return e;
    out.push_back(std::string(v));
  }
  return std::nullopt;
}

// Optional string fields 1..keys.size() into an object; empty ones are left out.
Error optional_strings(const CsvRecord& rec, std::initializer_list<const char*> keys, json& out) {
  if (auto e = too_many(rec, keys.size())) return e;
  out = json::object();
  size_t i = 1;
  for (const char* k : keys) {
    std::string_view v = field(rec, i++);
    if (auto e = text_field(v, k)) return e;
    if (!v.empty()) out[k] = std::string(v);
  }
  return std::nullopt;
}

Error decode_child(const CsvRecord& rec, InventoryCommand& out) {
  // 101,<childId>,<name>,<type>,<deviceMarker>
  if (auto e = too_many(rec, 4)) return e;
  std::string_view id = field(rec, 1), name = field(rec, 2), type = field(rec, 3);
  if (auto e = external_id_field(id, "child id")) return e;
  if (auto e = text_field(name, "name")) return e;
  if (auto e = text_field(type, "type")) return e;
  out.op = Op::kCreateChild;
  out.external_id = std::string(id);
  out.name = name.empty() ? "MQTT Device " + out.external_id : std::string(name);
  out.type = type.empty() ? std::string("c8y_MQTTChildDevice") : std::string(type);
  // Spec: the marker is left out only for exactly "false"; any other value means true.
  out.is_device = field(rec, 4) != "false";
  return std::nullopt;
}

Error decode_service(const CsvRecord& rec, InventoryCommand& out) {
  // 102,<serviceExternalId>,<serviceType>,<serviceName>,<status>
  if (auto e = too_many(rec, 4)) return e;
  std::string_view id = field(rec, 1), type = field(rec, 2), name = field(rec, 3),
                   status = field(rec, 4);
  if (auto e = external_id_field(id, "service external id")) return e;
  if (auto e = required_text(type, "service type")) return e;
  if (auto e = required_text(name, "service name")) return e;
  if (auto e = required_text(status, "service status")) return e;
  out.op = Op::kCreateService;
  out.external_id = std::string(id);
  out.type = std::string(type);
  out.name = std::string(name);
  out.status = std::string(status);
  out.fragments = {{"type", "c8y_Service"},
                   {"name", out.name},
                   {"serviceType", out.type},
                   {"status", out.status}};
  return std::nullopt;
}

Error decode_position(const CsvRecord& rec, json& pos) {
  // 112,<lat>,<lng>,<alt>,<accuracy>
  if (auto e = too_many(rec, 4)) return e;
  pos = json::object();
  static const char* kKeys[] = {"lat", "lng", "alt"};
  static const char* kWhat[] = {"latitude", "longitude", "altitude"};
  for (size_t i = 0; i < 3; ++i) {
    std::string_view v = field(rec, i + 1);
    if (v.empty()) continue;
    auto n = common::parse_number(v);
    if (!n) return args(std::string(kWhat[i]) + " is not a number: " + common::echo_value(v));
    pos[kKeys[i]] = *n;
  }
  std::string_view acc = field(rec, 4);
  if (!acc.empty()) {
    auto n = common::parse_integer(acc);
    if (!n) return args("accuracy is not an integer: " + common::echo_value(acc));
    pos["accuracy"] = *n;
  }
  return std::nullopt;
}

Error decode_software_list(const CsvRecord& rec, json& list) {
  // 116,(<name>,<version>,<url>)... : every part optional; all-empty triples are skipped.
  list = json::array();
  const size_t n = used_fields(rec);
  for (size_t i = 1; i < n; i += 3) {
    std::string_view name = field(rec, i), version = field(rec, i + 1), url = field(rec, i + 2);
    if (auto e = text_field(name, "software name")) return e;
    if (auto e = text_field(version, "software version")) return e;
    if (auto e = text_field(url, "software url")) return e;
    if (name.empty() && version.empty() && url.empty()) continue;
    json item = json::object();
    if (!name.empty()) item["name"] = std::string(name);
    if (!version.empty()) item["version"] = std::string(version);
    if (!url.empty()) item["url"] = std::string(url);
    list.push_back(std::move(item));
  }
  return std::nullopt;
}

Error decode_availability(const CsvRecord& rec, json& fragments) {
  // 117,<interval minutes>
  if (auto e = too_many(rec, 1)) return e;
  std::string_view v = field(rec, 1);
  if (v.empty()) return std::nullopt;  // nothing to set
  auto n = common::parse_integer(v);
  if (!n) return args("required interval is not an integer: " + common::echo_value(v));
  if (*n < std::numeric_limits<int32_t>::min() || *n > std::numeric_limits<int32_t>::max())
    return args("required interval out of range: " + common::echo_value(v));
  fragments = {{"c8y_RequiredAvailability", {{"responseInterval", *n}}}};
  return std::nullopt;
}

Error decode_configuration_file(const CsvRecord& rec, int64_t now_ms, json& fragments) {
  // 120,<configType>,<url>,<fileName>,<time>
  if (auto e = too_many(rec, 4)) return e;
  std::string_view type = field(rec, 1), url = field(rec, 2), file = field(rec, 3),
                   time = field(rec, 4);
  if (type.empty()) return args("missing configuration type");
  const std::string key = "c8y_Configuration_" + std::string(type);
  if (auto e = key_field(key, "fragment name c8y_Configuration_<configuration type>")) return e;
  if (auto e = required_text(url, "configuration url")) return e;
  if (auto e = text_field(file, "file name")) return e;
  int64_t t = now_ms;
  if (!time.empty()) {
    auto parsed = common::parse_iso8601_ms(time);
    if (!parsed) return args("time is not a date: " + common::echo_value(time));
    t = *parsed;
  }
  fragments = {{key,
                {{"name", file.empty() ? std::string(type) : std::string(file)},
                 {"time", common::format_iso8601_ms(t)},
                 {"type", std::string(type)},
                 {"url", std::string(url)}}}};
  return std::nullopt;
}

Error decode_profile(const CsvRecord& rec, InventoryCommand& out) {
  // 121,<profileExecuted>,<profileId>
  if (auto e = too_many(rec, 2)) return e;
  std::string_view executed = field(rec, 1), id = field(rec, 2);
  if (executed.empty()) return args("missing profile executed (true or false)");
  auto b = common::parse_bool(executed);
  if (!b) return args("profile executed is not true or false: " + common::echo_value(executed));
  if (auto e = text_field(id, "profile id")) return e;
  out.op = Op::kSetProfile;
  json profile = {{"profileExecuted", *b}};
  if (id.empty())
    out.profile_from_operation = true;
  else
    profile["profileId"] = std::string(id);
  out.fragments = {{"c8y_Profile", std::move(profile)}};
  return std::nullopt;
}

Error decode_agent(const CsvRecord& rec, json& fragments) {
  // 122,<name>,<version>,<url>,<maintainer>
  if (auto e = too_many(rec, 4)) return e;
  std::string_view name = field(rec, 1), version = field(rec, 2), url = field(rec, 3),
                   maintainer = field(rec, 4);
  if (auto e = required_text(name, "agent name")) return e;
  if (auto e = required_text(version, "agent version")) return e;
  if (auto e = text_field(url, "agent url")) return e;
  if (auto e = required_text(maintainer, "agent maintainer")) return e;
  json agent = {{"name", std::string(name)}, {"version", std::string(version)}};
  if (!url.empty()) agent["url"] = std::string(url);
  agent["maintainer"] = std::string(maintainer);
  fragments = {{"c8y_Agent", std::move(agent)}};
  return std::nullopt;
}

// 140/141: (<name>,<version>,<type>,<url>)... ; 142: (<name>,<version>)...
Error decode_software_items(const CsvRecord& rec, size_t group, std::vector<SoftwareItem>& out) {
  const size_t n = used_fields(rec);
  if (n < 2) return args("missing software name");
  for (size_t i = 1; i < n; i += group) {
    const size_t k = out.size() + 1;
    std::string_view name = field(rec, i), version = field(rec, i + 1);
    if (name.empty()) return args("missing name of software item " + std::to_string(k));
    if (auto e = text_field(name, "software name")) return e;
    if (auto e = text_field(version, "software version")) return e;
    SoftwareItem item{std::string(name), std::string(version), {}, {}};
    if (group == 4) {
      std::string_view type = field(rec, i + 2), url = field(rec, i + 3);
      if (auto e = text_field(type, "software type")) return e;
      if (auto e = text_field(url, "software url")) return e;
      item.type = std::string(type);
      item.url = std::string(url);
    }
    out.push_back(std::move(item));
  }
  return std::nullopt;
}

Error decode_remove_fragments(const CsvRecord& rec, std::vector<std::string>& names) {
  // 107,<fragment>... : empty elements are skipped, at least one name.
  const size_t n = used_fields(rec);
  for (size_t i = 1; i < n; ++i) {
    std::string_view v = rec.fields[i];
    if (v.empty()) continue;
    if (auto e = key_field(v, "fragment name")) return e;
    if (is_structural(v)) return args("fragment " + common::echo_value(v) + " cannot be removed");
    names.emplace_back(v);
  }
  if (names.empty()) return args("missing fragment name");
  return std::nullopt;
}

// 143/150: a list whose emptiness removes the fragment.
Error decode_removable_list(const CsvRecord& rec, const char* fragment, std::string_view what,
                            json& fragments) {
  json list;
  if (auto e = name_list(rec, what, list)) return e;
  fragments = {{fragment, list.empty() ? json(nullptr) : std::move(list)}};
  return std::nullopt;
}

// Entries are the same software when name and version are equal; an entry without a version
// (stored by an older release) has the empty version.
bool same_item(const json& entry, const SoftwareItem& item) {
  if (!entry.is_object()) return false;
  auto n = entry.find("name");
  if (n == entry.end() || !n->is_string() || n->get_ref<const std::string&>() != item.name)
    return false;
  auto v = entry.find("version");
  if (v == entry.end()) return item.version.empty();
  return v->is_string() && v->get_ref<const std::string&>() == item.version;
}

}  // namespace

bool is_inventory_template(std::string_view msg_id) {
  return template_kind(msg_id) == TemplateKind::kInventory;
}

std::optional<TemplateError> decode_inventory(const CsvRecord& rec, int64_t now_ms,
                                              InventoryCommand& out) {
  out = InventoryCommand{};
  const std::string_view id = field(rec, 0);
  if (!is_inventory_template(id))
    return TemplateError{40, "No static template for this message id"};
  json& f = out.fragments;
  const int n = (id[0] - '0') * 100 + (id[1] - '0') * 10 + (id[2] - '0');
  switch (n) {
    case 101:
      return decode_child(rec, out);
    case 102:
      return decode_service(rec, out);
    case 104: {
      if (auto e = too_many(rec, 1)) return e;
      std::string_view status = field(rec, 1);
      if (auto e = required_text(status, "service status")) return e;
      out.op = Op::kServiceStatus;
      out.status = std::string(status);
      f = {{"status", out.status}};
      return std::nullopt;
    }
    case 105:
    case 123:
    case 125:
      if (auto e = too_many(rec, 0)) return e;
      out.op = n == 105 ? Op::kListChildren : n == 123 ? Op::kGetId : Op::kHeartbeat;
      return std::nullopt;
    case 107:
      out.op = Op::kRemoveFragments;
      return decode_remove_fragments(rec, out.names);
    case 110: {
      json hw;
      if (auto e = optional_strings(rec, {"serialNumber", "model", "revision"}, hw)) return e;
      f = {{"c8y_Hardware", std::move(hw)}};
      return std::nullopt;
    }
    case 111: {
      json mobile;
      if (auto e = optional_strings(rec, {"imei", "iccid", "imsi", "mcc", "mnc", "lac", "cellId"},
                                    mobile))
        return e;
      f = {{"c8y_Mobile", std::move(mobile)}};
      return std::nullopt;
    }
    case 112: {
      json pos;
      if (auto e = decode_position(rec, pos)) return e;
      f = {{"c8y_Position", std::move(pos)}};
      return std::nullopt;
    }
    case 113: {
      json config;
      if (auto e = optional_strings(rec, {"config"}, config)) return e;
      f = {{"c8y_Configuration", std::move(config)}};
      return std::nullopt;
    }
    case 114:
    case 118:
    case 119: {
      const char* fragment = n == 114   ? "c8y_SupportedOperations"
                             : n == 118 ? "c8y_SupportedLogs"
                                        : "c8y_SupportedConfigurations";
      const char* what = n == 114 ? "operation name" : n == 118 ? "log type" : "configuration type";
      json list;
      if (auto e = name_list(rec, what, list)) return e;
      f = {{fragment, std::move(list)}};
      return std::nullopt;
    }
    case 115: {
      // 115,<name>,<version>,<url>
      if (auto e = too_many(rec, 3)) return e;
      json fw = json::object();
      static const char* kKeys[] = {"name", "version", "url"};
      for (size_t i = 0; i < 3; ++i) {
        std::string_view v = field(rec, i + 1);
        if (auto e = text_field(v, std::string("firmware ") + kKeys[i])) return e;
        if (!v.empty()) fw[kKeys[i]] = std::string(v);
      }
      f = {{"c8y_Firmware", std::move(fw)}};
      return std::nullopt;
    }
    case 116: {
      json list;
      if (auto e = decode_software_list(rec, list)) return e;
      f = {{"c8y_SoftwareList", std::move(list)}};
      return std::nullopt;
    }
    case 117:
      out.op = Op::kMergeIfAbsent;
      return decode_availability(rec, f);
    case 120:
      return decode_configuration_file(rec, now_ms, f);
    case 121:
      return decode_profile(rec, out);
    case 122:
      return decode_agent(rec, f);
    case 140:
    case 141:
      out.op = n == 140 ? Op::kSoftwareReplace : Op::kSoftwareAppend;
      return decode_software_items(rec, 4, out.software);
    case 142:
      out.op = Op::kSoftwareRemove;
      return decode_software_items(rec, 2, out.software);
    case 143:
      return decode_removable_list(rec, "c8y_SupportedSoftwareTypes", "software type", f);
    case 150:
      return decode_removable_list(rec, "c8y_RemoteAccessSupportedProtocols", "protocol", f);
  }
  return TemplateError{40, "No static template for this message id"};
}

nlohmann::json software_item_json(const SoftwareItem& item) {
  return {{"name", item.name},
          {"version", item.version},
          {"softwareType", item.type},
          {"url", item.url}};
}

std::optional<TemplateError> apply_software(nlohmann::json& list, const InventoryCommand& cmd) {
  if (cmd.op != Op::kSoftwareReplace && cmd.op != Op::kSoftwareAppend &&
      cmd.op != Op::kSoftwareRemove)
    return std::nullopt;
  json result = cmd.op == Op::kSoftwareReplace || !list.is_array() ? json::array() : list;
  if (cmd.op == Op::kSoftwareRemove) {
    json kept = json::array();
    for (auto& entry : result) {
      bool removed = false;
      for (const auto& item : cmd.software)
        if (same_item(entry, item)) {
          removed = true;
          break;
        }
      if (!removed) kept.push_back(std::move(entry));
    }
    list = std::move(kept);
    return std::nullopt;
  }
  for (const auto& item : cmd.software) {
    bool updated = false;
    for (auto& entry : result)
      if (same_item(entry, item)) {
        entry = software_item_json(item);
        updated = true;
        break;
      }
    if (updated) continue;
    if (result.size() >= kMaxSoftwareItems)
      return args("software list would have more than " + std::to_string(kMaxSoftwareItems) +
                  " items");
    result.push_back(software_item_json(item));
  }
  list = std::move(result);
  return std::nullopt;
}

}  // namespace c8y::smartrest

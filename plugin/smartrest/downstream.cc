#include "plugin/smartrest/downstream.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin/smartrest/csv.h"

namespace c8y::smartrest {
namespace {

using nlohmann::json;
using Fields = std::vector<std::string>;

// 2^53: every integer of smaller magnitude is exactly representable as a double.
constexpr double kMaxExactInteger = 9007199254740992.0;

std::string format_double(double d) {
  if (!std::isfinite(d)) return "";  // cannot be in JSON; nlohmann would dump "null"
  if (std::trunc(d) == d && std::fabs(d) < kMaxExactInteger) {
    return std::to_string(static_cast<int64_t>(d));  // "22.0" -> "22", "-0.0" -> "0"
  }
  return json(d).dump();
}

// The text of a scalar value; "" for absent or null; nullopt for an object, array or binary.
std::optional<std::string> scalar_text(const json* v) {
  if (v == nullptr) return std::string();
  switch (v->type()) {
    case json::value_t::null:
      return std::string();
    case json::value_t::string:
      return v->get_ref<const std::string&>();
    case json::value_t::boolean:
      return std::string(v->get<bool>() ? "true" : "false");
    case json::value_t::number_integer:
      return std::to_string(v->get<int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(v->get<uint64_t>());
    case json::value_t::number_float:
      return format_double(v->get<double>());
    default:
      return std::nullopt;
  }
}

const json* member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// Appends the scalar members `keys` of `obj` to `out`; false if one is not a scalar.
bool append_members(const json& obj, std::initializer_list<std::string_view> keys, Fields& out) {
  for (std::string_view key : keys) {
    auto text = scalar_text(member(obj, key));
    if (!text) return false;
    out.push_back(std::move(*text));
  }
  return true;
}

// The text of member `key` if it is a scalar ("" when absent/null); nullopt if it is not.
std::optional<std::string> member_text(const json& obj, std::string_view key) {
  return scalar_text(member(obj, key));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

// isPatch as a tri-state: nullopt when absent/null; false when malformed (see `ok`).
std::optional<bool> read_is_patch(const json& fw, bool& ok) {
  const json* v = member(fw, "isPatch");
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string()) return iequals(v->get_ref<const std::string&>(), "true");
  ok = false;
  return false;
}

// The firmware dependency: `dependency`, else `patchDependency`.
std::optional<std::string> read_dependency(const json& fw) {
  const json* v = member(fw, "dependency");
  if (v == nullptr || v->is_null()) v = member(fw, "patchDependency");
  return scalar_text(v);
}

// A line under construction: template id and target, then the parameters.
struct Line {
  int id;
  Fields fields;
};

class Renderer {
 public:
  Renderer(const json& op, std::string_view target) : op_(op), target_(target) {}

  std::vector<std::string> run() {
    if (!op_.is_object()) return {};
    restart();
    command();
    configuration();
    firmware();
    software_list();
    measurement_request();
    relay();
    relay_array();
    upload_config();
    download_config();
    logfile_request();
    communication_mode();
    device_profile();
    software_update();
    remote_access();
    parameter_update();
    std::stable_sort(lines_.begin(), lines_.end(),
                     [](const Line& a, const Line& b) { return a.id < b.id; });
    std::vector<std::string> out;
    out.reserve(lines_.size());
    for (const Line& l : lines_) {
      std::string s;
      append_csv_record(s, std::span<const std::string>(l.fields));
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  const json* fragment(std::string_view name) const { return member(op_, name); }

  Fields start(int id) const { return Fields{std::to_string(id), std::string(target_)}; }

  void emit(int id, Fields&& f) { lines_.push_back(Line{id, std::move(f)}); }

  // Templates whose fragment is an object with fixed scalar members.
  void simple(std::string_view name, int id, std::initializer_list<std::string_view> keys) {
    const json* frag = fragment(name);
    if (frag == nullptr || !frag->is_object()) return;
    Fields f = start(id);
    if (append_members(*frag, keys, f)) emit(id, std::move(f));
  }

  void restart() { simple("c8y_Restart", 510, {}); }
  void command() { simple("c8y_Command", 511, {"text"}); }
  void configuration() { simple("c8y_Configuration", 513, {"config"}); }
  void measurement_request() { simple("c8y_MeasurementRequestOperation", 517, {"requestName"}); }
  void relay() { simple("c8y_Relay", 518, {"relayState"}); }
  void logfile_request() {
    simple("c8y_LogfileRequest", 522,
           {"logFile", "dateFrom", "dateTo", "searchText", "maximumLines"});
  }
  void communication_mode() { simple("c8y_CommunicationMode", 523, {"mode"}); }
  void remote_access() {
    simple("c8y_RemoteAccessConnect", 530, {"hostname", "port", "connectionKey"});
  }

  // 515 full image / 525 patch.
  void firmware() {
    const json* fw = fragment("c8y_Firmware");
    if (fw == nullptr || !fw->is_object()) return;
    bool ok = true;
    const std::optional<bool> is_patch = read_is_patch(*fw, ok);
    auto dependency = read_dependency(*fw);
    if (!ok || !dependency) return;
    const bool patch = is_patch ? *is_patch : !dependency->empty();
    const int id = patch ? 525 : 515;
    Fields f = start(id);
    if (!append_members(*fw, {"name", "version", "url"}, f)) return;
    if (patch) f.push_back(std::move(*dependency));
    emit(id, std::move(f));
  }

  // 516: (name, version, url) per item.
  void software_list() {
    const json* list = fragment("c8y_SoftwareList");
    if (list == nullptr || !list->is_array()) return;
    Fields f = start(516);
    for (const json& item : *list) {
      if (!item.is_object() || !append_members(item, {"name", "version", "url"}, f)) return;
    }
    emit(516, std::move(f));
  }

  // 519: one state per array element.
  void relay_array() {
    const json* list = fragment("c8y_RelayArray");
    if (list == nullptr || !list->is_array()) return;
    Fields f = start(519);
    for (const json& item : *list) {
      auto text = scalar_text(&item);
      if (!text) return;
      f.push_back(std::move(*text));
    }
    emit(519, std::move(f));
  }

  // 520 untyped / 526 typed.
  void upload_config() {
    const json* frag = fragment("c8y_UploadConfigFile");
    if (frag == nullptr || !frag->is_object()) return;
    auto type = member_text(*frag, "type");
    if (!type) return;
    if (type->empty()) {
      emit(520, start(520));
    } else {
      Fields f = start(526);
      f.push_back(std::move(*type));
      emit(526, std::move(f));
    }
  }

  // 521 untyped (url) / 524 typed (url, type).
  void download_config() {
    const json* frag = fragment("c8y_DownloadConfigFile");
    if (frag == nullptr || !frag->is_object()) return;
    auto type = member_text(*frag, "type");
    auto url = member_text(*frag, "url");
    if (!type || !url) return;
    const int id = type->empty() ? 521 : 524;
    Fields f = start(id);
    f.push_back(std::move(*url));
    if (id == 524) f.push_back(std::move(*type));
    emit(id, std::move(f));
  }

  // True if some item of `items` has a softwareType that renders non-empty; nullopt if one is
  // not a scalar (malformed).
  static std::optional<bool> any_software_type(const json& items) {
    bool any = false;
    for (const json& item : items) {
      auto type = member_text(item, "softwareType");
      if (!type) return std::nullopt;
      any = any || !type->empty();
    }
    return any;
  }

  // Appends (name, version[, softwareType], url, action) for each item; false if malformed.
  static bool append_software(const json& items, bool with_type, Fields& f) {
    for (const json& item : items) {
      if (!item.is_object()) return false;
      const bool ok =
          with_type ? append_members(item, {"name", "version", "softwareType", "url", "action"}, f)
                    : append_members(item, {"name", "version", "url", "action"}, f);
      if (!ok) return false;
    }
    return true;
  }

  // 527 and, when some software item has a type, 531.
  void device_profile() {
    const json* profile = fragment("c8y_DeviceProfile");
    if (profile == nullptr || !profile->is_object()) return;
    const json* fw = member(*profile, "firmware");
    const json* sw = member(*profile, "software");
    const json* conf = member(*profile, "configuration");
    if (fw != nullptr && !fw->is_null() && !fw->is_object()) return;
    if (sw != nullptr && !sw->is_null() && !sw->is_array()) return;
    if (conf != nullptr && !conf->is_null() && !conf->is_array()) return;
    if (fw != nullptr && fw->is_null()) fw = nullptr;
    static const json kEmpty = json::array();
    const json& software = sw == nullptr || sw->is_null() ? kEmpty : *sw;
    const json& configuration = conf == nullptr || conf->is_null() ? kEmpty : *conf;

    // $FW group, shared by 527 and 531.
    Fields firmware{"$FW"};
    if (fw != nullptr) {
      if (!append_members(*fw, {"name", "version", "url"}, firmware)) return;
      bool ok = true;
      const std::optional<bool> is_patch = read_is_patch(*fw, ok);
      auto dependency = read_dependency(*fw);
      if (!ok || !dependency) return;
      firmware.push_back(is_patch.value_or(false) ? "true" : "false");
      firmware.push_back(std::move(*dependency));
    }
    // $CONF group, shared too.
    Fields config{"$CONF"};
    for (const json& item : configuration) {
      if (!item.is_object() || !append_members(item, {"url", "type"}, config)) return;
    }

    const std::optional<bool> has_types = any_software_type(software);
    if (!has_types) return;
    for (const bool typed : {false, true}) {
      if (typed && !*has_types) break;
      const int id = typed ? 531 : 527;
      Fields f = start(id);
      f.insert(f.end(), firmware.begin(), firmware.end());
      f.push_back("$SW");
      if (!append_software(software, typed, f)) return;
      f.insert(f.end(), config.begin(), config.end());
      emit(id, std::move(f));
    }
  }

  // 528 without types / 529 with types.
  void software_update() {
    const json* list = fragment("c8y_SoftwareUpdate");
    if (list == nullptr || !list->is_array()) return;
    for (const json& item : *list) {
      if (!item.is_object()) return;
    }
    const std::optional<bool> typed = any_software_type(*list);
    if (!typed) return;
    const int id = *typed ? 529 : 528;
    Fields f = start(id);
    if (!append_software(*list, *typed, f)) return;
    emit(id, std::move(f));
  }

  // Flattens `v` under `path` into (path, code, value) triples; false if malformed.
  static bool flatten(const json& v, const std::string& path, Fields& f, size_t& count) {
    std::string code;
    switch (v.type()) {
      case json::value_t::object:
        for (const auto& [key, child] : v.items()) {
          if (!flatten(child, path + "." + key, f, count)) return false;
        }
        return true;
      case json::value_t::null:
        break;
      case json::value_t::string:
        code = "s";
        break;
      case json::value_t::boolean:
        code = "b";
        break;
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
      case json::value_t::number_float:
        code = "n";
        break;
      default:  // array, binary
        return false;
    }
    if (++count > kMaxParameterUpdateParameters) return false;
    f.push_back(path);
    f.push_back(std::move(code));
    f.push_back(*scalar_text(&v));
    return true;
  }

  // 532: the parameter sets named by the c8y_ParameterUpdate_<X> markers.
  void parameter_update() {
    const json* marker = fragment("c8y_ParameterUpdate");
    if (marker == nullptr || !marker->is_object()) return;
    static constexpr std::string_view kPrefix = "c8y_ParameterUpdate_";
    Fields f = start(532);
    size_t count = 0;
    for (const auto& [key, value] : op_.items()) {
      (void)value;
      if (key.size() <= kPrefix.size() || key.compare(0, kPrefix.size(), kPrefix) != 0) continue;
      const std::string set = key.substr(kPrefix.size());
      const json* values = member(op_, set);
      if (values == nullptr) continue;
      if (!flatten(*values, set, f, count)) return;
    }
    emit(532, std::move(f));
  }

  const json& op_;
  std::string_view target_;
  std::vector<Line> lines_;
};

}  // namespace

std::vector<std::string> render_operation(const nlohmann::json& op, std::string_view target) {
  return Renderer(op, target).run();
}

std::string render_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out.push_back('\n');
    out += lines[i];
  }
  return out;
}

}  // namespace c8y::smartrest

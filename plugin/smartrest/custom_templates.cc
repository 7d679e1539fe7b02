#include "plugin/smartrest/custom_templates.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <span>
#include <utility>

#include "plugin/common/values.h"

namespace c8y::smartrest {
namespace {

using nlohmann::json;
using Role = TemplateValue::Role;
using Slot = RequestTemplate::Slot;

constexpr size_t kTypeBytes = 127;  // alarm / event types, fragment names, JSON keys
constexpr size_t kIdBytes = 128;    // internal ids, external ids and their types

// 2^53: every integer of smaller magnitude is exactly representable as a double.
constexpr double kMaxExactInteger = 9007199254740992.0;

std::string upper(std::string_view v) {
  std::string up(v);
  for (char& c : up)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return up;
}

bool has_control(std::string_view v) {
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

std::string_view field(std::span<const std::string> f, size_t i) {
  return i < f.size() ? std::string_view(f[i]) : std::string_view();
}

// Number of fields once trailing empty ones are dropped.
size_t used_fields(std::span<const std::string> f) {
  size_t n = f.size();
  while (n > 0 && f[n - 1].empty()) --n;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Names

constexpr std::array<std::string_view, 3> kMethodNames = {"GET", "POST", "PUT"};
constexpr std::array<std::string_view, 5> kApiNames = {"INVENTORY", "ALARM", "EVENT", "MEASUREMENT",
                                                       "OPERATION"};
constexpr std::array<std::string_view, 9> kTypeNames = {
    "STRING", "DATE",     "NUMBER",      "INTEGER",        "UNSIGNED",
    "FLAG",   "SEVERITY", "ALARMSTATUS", "OPERATIONSTATUS"};
constexpr std::array<std::string_view, 4> kSeverities = {"CRITICAL", "MAJOR", "MINOR", "WARNING"};
constexpr std::array<std::string_view, 3> kAlarmStatuses = {"ACTIVE", "ACKNOWLEDGED", "CLEARED"};
constexpr std::array<std::string_view, 4> kOperationStatuses = {"PENDING", "EXECUTING",
                                                                "SUCCESSFUL", "FAILED"};

template <size_t N>
std::optional<size_t> lookup(const std::array<std::string_view, N>& names, std::string_view v) {
  const std::string up = upper(v);
  for (size_t i = 0; i < N; ++i)
    if (names[i] == up) return i;
  return std::nullopt;
}

std::optional<Method> parse_method(std::string_view v) {
  auto i = lookup(kMethodNames, v);
  if (!i) return std::nullopt;
  return static_cast<Method>(*i);
}

std::optional<Api> parse_api(std::string_view v) {
  auto i = lookup(kApiNames, v);
  if (!i) return std::nullopt;
  return static_cast<Api>(*i);
}

std::optional<ValueType> parse_value_type(std::string_view v) {
  if (v.empty()) return ValueType::kString;
  auto i = lookup(kTypeNames, v);
  if (!i) return std::nullopt;
  return static_cast<ValueType>(*i);
}

bool supported(Method m, Api a) {
  switch (a) {
    case Api::kInventory:
      return true;
    case Api::kAlarm:
      return m != Method::kGet;
    case Api::kEvent:
    case Api::kMeasurement:
      return m == Method::kPost;
    case Api::kOperation:
      return m == Method::kPut;
  }
  return false;
}

// The mandatory columns of each method/api (paths as the Cumulocity UI stores them).
struct MandatorySpec {
  std::string_view path;
  ValueType type;
  Role role;
};
constexpr MandatorySpec kMeasurementColumns[] = {{"$.type", ValueType::kString, Role::kType},
                                                 {"$.time", ValueType::kDate, Role::kTime}};
constexpr MandatorySpec kEventColumns[] = {{"$.type", ValueType::kString, Role::kType},
                                           {"$.text", ValueType::kString, Role::kText},
                                           {"$.time", ValueType::kDate, Role::kTime}};
constexpr MandatorySpec kAlarmColumns[] = {{"$.type", ValueType::kString, Role::kType},
                                           {"$.text", ValueType::kString, Role::kText},
                                           {"$.status", ValueType::kAlarmStatus, Role::kStatus},
                                           {"$.severity", ValueType::kSeverity, Role::kSeverity},
                                           {"$.time", ValueType::kDate, Role::kTime}};
constexpr MandatorySpec kPutAlarmColumns[] = {{"$.type", ValueType::kString, Role::kType}};
constexpr MandatorySpec kPutOperationColumns[] = {{"$.type", ValueType::kString, Role::kFragment}};

std::span<const MandatorySpec> mandatory_specs(Method m, Api a) {
  if (m == Method::kPost && a == Api::kMeasurement) return kMeasurementColumns;
  if (m == Method::kPost && a == Api::kEvent) return kEventColumns;
  if (m == Method::kPost && a == Api::kAlarm) return kAlarmColumns;
  if (m == Method::kPut && a == Api::kAlarm) return kPutAlarmColumns;
  if (m == Method::kPut && a == Api::kOperation) return kPutOperationColumns;
  return {};
}

// Mandatory values go into the body only for POST (PUT ALARM's type and PUT OPERATION's fragment
// select the object to update).
bool mandatory_in_body(const RequestTemplate& t) {
  return t.method == Method::kPost;
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::kType:
      return "type";
    case Role::kText:
      return "text";
    case Role::kFragment:
      return "fragment";
    default:
      return "value";
  }
}

// ---------------------------------------------------------------------------------------------
// Values

std::string format_double(double d) {
  if (!std::isfinite(d)) return "";
  if (std::trunc(d) == d && std::fabs(d) < kMaxExactInteger) {
    return std::to_string(static_cast<int64_t>(d));  // "22.0" -> "22", "-0.0" -> "0"
  }
  return json(d).dump();
}

// Checks of the string roles; nullopt when `v` is fine.
std::optional<std::string> check_role_text(Role role, std::string_view v) {
  const std::string_view what = role_name(role);
  if (v.empty()) return "missing " + std::string(what);
  if (!common::is_valid_utf8(v)) return std::string(what) + " is not valid UTF-8";
  switch (role) {
    case Role::kType:
      if (v.size() > kTypeBytes) return "type longer than 127 bytes";
      if (has_control(v)) return "type must not contain control characters";
      break;
    case Role::kFragment:
      if (v.size() > kTypeBytes) return "fragment longer than 127 bytes";
      if (has_control(v) || v.find_first_of(".$") != std::string_view::npos)
        return "fragment must not contain '.', '$' or control characters: " + common::echo_value(v);
      break;
    default:
      break;
  }
  return std::nullopt;
}

// Internal ids, external ids and external id types.
std::optional<std::string> check_id(std::string_view v, std::string_view what) {
  if (v.empty()) return "missing " + std::string(what);
  if (v.size() > kIdBytes) return std::string(what) + " longer than 128 bytes";
  if (!common::is_valid_utf8(v)) return std::string(what) + " is not valid UTF-8";
  if (has_control(v)) return std::string(what) + " must not contain control characters";
  return std::nullopt;
}

// Converts the text `v` of `tv` into its JSON value. An empty DATE is `now_ms`. `ms` receives a
// DATE's instant. Returns an error text (without code) on failure.
std::optional<std::string> convert(const TemplateValue& tv, std::string_view v, int64_t now_ms,
                                   json& out, int64_t& ms) {
  if (tv.role == Role::kType || tv.role == Role::kText || tv.role == Role::kFragment) {
    if (auto e = check_role_text(tv.role, v)) return e;
    out = std::string(v);
    return std::nullopt;
  }
  const std::string_view type_name = value_type_name(tv.type);
  if (tv.type == ValueType::kFlag) {
    out = json::object();
    return std::nullopt;
  }
  if (tv.type == ValueType::kString) {
    if (!common::is_valid_utf8(v)) return "value is not valid UTF-8";
    out = std::string(v);
    return std::nullopt;
  }
  if (tv.type == ValueType::kDate) {
    if (v.empty()) {
      ms = now_ms;
    } else {
      auto t = common::parse_iso8601_ms(v);
      if (!t) return "value is not a DATE: " + common::echo_value(v);
      ms = *t;
    }
    out = common::format_iso8601_ms(ms);
    return std::nullopt;
  }
  if (v.empty()) return "missing " + std::string(type_name) + " value for " + tv.path;
  // The SmartREST 1.0 text "value is not a <type>: <value>", article and all.
  const auto not_a = [&] {
    return "value is not a " + std::string(type_name) + ": " + common::echo_value(v);
  };
  switch (tv.type) {
    case ValueType::kNumber: {
      if (auto i = common::parse_integer(v)) {
        out = *i;
        return std::nullopt;
      }
      auto d = common::parse_number(v);
      if (!d) return not_a();
      out = *d;
      return std::nullopt;
    }
    case ValueType::kInteger: {
      auto i = common::parse_integer(v);
      if (!i) return not_a();
      out = *i;
      return std::nullopt;
    }
    case ValueType::kUnsigned: {
      auto i = common::parse_integer(v);
      if (!i || *i < 0) return not_a();
      out = *i;
      return std::nullopt;
    }
    case ValueType::kSeverity: {
      auto i = lookup(kSeverities, v);
      if (!i) return not_a();
      out = std::string(kSeverities[*i]);
      return std::nullopt;
    }
    case ValueType::kAlarmStatus: {
      auto i = lookup(kAlarmStatuses, v);
      if (!i) return not_a();
      out = std::string(kAlarmStatuses[*i]);
      return std::nullopt;
    }
    case ValueType::kOperationStatus: {
      auto i = lookup(kOperationStatuses, v);
      if (!i) return not_a();
      out = std::string(kOperationStatuses[*i]);
      return std::nullopt;
    }
    default:
      break;
  }
  return "unsupported value type";
}

// ---------------------------------------------------------------------------------------------
// Definition lines

constexpr std::string_view kReservedKeys[] = {"id", "self", "source", "creationTime",
                                              "lastUpdated"};

// A request custom path: compiled, no wildcard, keys usable as JSON keys of stored objects.
std::optional<std::string> compile_request_path(std::string_view text, JsonPath& out) {
  std::string err;
  auto p = JsonPath::compile(text, &err);
  if (!p) return "invalid JsonPath " + common::echo_value(text) + ": " + err;
  if (p->has_wildcard())
    return "list JsonPath not allowed in a request template: " + common::echo_value(text);
  if (p->is_root()) return "a request template cannot set the root: " + common::echo_value(text);
  const auto& segs = p->segments();
  if (segs.front().kind != JsonPath::Segment::Kind::kKey)
    return "a request path must start with a key: " + common::echo_value(text);
  if (std::find(std::begin(kReservedKeys), std::end(kReservedKeys), segs.front().key) !=
      std::end(kReservedKeys))
    return "a request template cannot set " + segs.front().key;
  for (const auto& s : segs) {
    if (s.kind == JsonPath::Segment::Kind::kIndex) {
      if (s.index > kMaxJsonPathSetIndex) return "index above 1000 in " + common::echo_value(text);
      continue;
    }
    if (s.key.size() > kTypeBytes)
      return "key longer than 127 bytes in " + common::echo_value(text);
    if (s.key.find_first_of(".$") != std::string::npos)
      return "keys must not contain '.' or '$': " + common::echo_value(text);
  }
  out = std::move(*p);
  return std::nullopt;
}

// True if values at `a` and `b` cannot both be placed: one is a prefix of the other (or they
// are equal), or one node would have to be both an object and an array.
bool conflicts(const JsonPath& a, const JsonPath& b) {
  const auto& x = a.segments();
  const auto& y = b.segments();
  const size_t n = std::min(x.size(), y.size());
  for (size_t i = 0; i < n; ++i) {
    if (x[i].kind != y[i].kind) return true;
    if (x[i] != y[i]) return false;
  }
  return true;
}

// Fills `tv.compiled`, `tv.fixed`, `tv.fixed_ms` for a custom triple or mandatory column.
std::optional<std::string> prepare_value(TemplateValue& tv) {
  if (tv.role == Role::kCustom) {
    if (tv.path.empty()) return "empty custom value path";
    if (auto e = compile_request_path(tv.path, tv.compiled)) return e;
  } else {
    auto p = JsonPath::compile(tv.path, nullptr);
    if (!p) return "internal error: bad mandatory path";
    tv.compiled = std::move(*p);
  }
  tv.fixed = nullptr;
  tv.fixed_ms = 0;
  if (tv.type == ValueType::kFlag) {
    if (!tv.value.empty()) return "FLAG takes no value: " + common::echo_value(tv.path);
    tv.fixed = json::object();
    return std::nullopt;
  }
  if (tv.value.empty()) return std::nullopt;
  if (auto e = convert(tv, tv.value, 0, tv.fixed, tv.fixed_ms)) return "fixed " + *e;
  return std::nullopt;
}

bool slot_is_date(const RequestTemplate& t, const Slot& s) {
  if (s.kind == Slot::Kind::kMandatory) return t.mandatory[s.index].type == ValueType::kDate;
  if (s.kind == Slot::Kind::kCustom) return t.custom[s.index].type == ValueType::kDate;
  return false;
}

// Parses the fields of one `10` line (trailing empty fields already dropped: f.size() is the
// number of used fields) into `t`. Returns the error text.
std::optional<std::string> parse_request(std::span<const std::string> f, RequestTemplate& t) {
  const size_t n = f.size();
  t = RequestTemplate{};
  t.msg_id.assign(field(f, 1));
  const std::string_view ms = field(f, 2), as = field(f, 3);
  auto method = parse_method(ms);
  auto api = parse_api(as);
  if (!method && !api && parse_api(ms) && parse_method(as))
    return "method and api are swapped: use 10,<msgId>,<method>,<api>";
  if (!method) return ms.empty() ? "missing method" : "unknown method: " + common::echo_value(ms);
  if (!api) return as.empty() ? "missing api" : "unknown api: " + common::echo_value(as);
  if (!supported(*method, *api))
    return "unsupported request template: " + std::string(method_name(*method)) + " " +
           std::string(api_name(*api));
  t.method = *method;
  t.api = *api;
  const std::string_view rs = field(f, 4);
  if (rs.empty()) {
    t.response = t.method == Method::kGet;
  } else {
    auto b = common::parse_bool(rs);
    if (!b) return "response is not true or false: " + common::echo_value(rs);
    t.response = *b;
  }

  size_t col = 5;
  if (t.api == Api::kInventory && t.method != Method::kPost) {
    const std::string_view by_id = field(f, 5);
    const std::string_view type = field(f, 6);
    auto b = common::parse_bool(by_id);
    if (b) {
      t.reference = *b ? Reference::kInternalId : Reference::kExternalId;
      if (*b && !type.empty()) return "externalIdType is only allowed with byId false";
      col = 7;
    } else if (by_id.empty()) {
      t.reference = Reference::kOwnDevice;
      if (!type.empty()) return "externalIdType is only allowed with byId false";
      col = 7;
    } else if (t.method == Method::kGet) {
      return "byId is not true or false: " + common::echo_value(by_id);
    } else {
      // PUT without reference columns (the network example): the own device, customs from 5.
      t.reference = Reference::kOwnDevice;
      col = 5;
    }
    if (t.reference == Reference::kExternalId && !type.empty()) {
      if (auto e = check_id(type, "externalIdType")) return e;
      t.external_id_type.assign(type);
    }
    if (t.method == Method::kGet && n > col) return "GET INVENTORY takes no custom values";
  } else if (t.api == Api::kInventory) {
    const std::string_view type = field(f, 5);
    if (!type.empty()) {
      if (auto e = check_id(type, "externalIdType")) return e;
      t.external_id_type.assign(type);
    }
    col = 6;
  } else {
    for (const auto& spec : mandatory_specs(t.method, t.api)) {
      TemplateValue tv;
      tv.role = spec.role;
      tv.path.assign(spec.path);
      tv.type = spec.type;
      tv.value.assign(field(f, col));
      if (auto e = prepare_value(tv)) return e;
      t.mandatory.push_back(std::move(tv));
      ++col;
    }
  }

  if (n > col) {
    const size_t triples = (n - col + 2) / 3;
    if (triples > kMaxCustomValues)
      return "more than " + std::to_string(kMaxCustomValues) + " custom values";
    for (size_t i = col; i < n; i += 3) {
      TemplateValue tv;
      tv.path.assign(field(f, i));
      const std::string_view ts = field(f, i + 1);
      auto type = parse_value_type(ts);
      if (!type) return "bad value type: " + common::echo_value(ts);
      tv.type = *type;
      tv.value.assign(field(f, i + 2));
      if (auto e = prepare_value(tv)) return e;
      t.custom.push_back(std::move(tv));
    }
  }

  // Paths that end up in the same object must not collide.
  std::vector<const TemplateValue*> placed;
  if (mandatory_in_body(t))
    for (const auto& tv : t.mandatory) placed.push_back(&tv);
  for (const auto& tv : t.custom) {
    for (const TemplateValue* other : placed)
      if (conflicts(tv.compiled, other->compiled))
        return "custom path " + common::echo_value(tv.path) + " conflicts with " +
               common::echo_value(other->path);
    placed.push_back(&tv);
  }

  // The usage line's values, and the body with the fixed values.
  switch (t.reference) {
    case Reference::kInternalId:
      t.slots.push_back({Slot::Kind::kInternalId, 0});
      break;
    case Reference::kExternalId:
      if (t.external_id_type.empty()) t.slots.push_back({Slot::Kind::kExternalIdType, 0});
      t.slots.push_back({Slot::Kind::kExternalId, 0});
      break;
    case Reference::kOwnDevice:
      break;
  }
  const bool post_inventory = t.method == Method::kPost && t.api == Api::kInventory;
  if (post_inventory) {
    t.slots.push_back({Slot::Kind::kExternalId, 0});
    if (t.external_id_type.empty()) t.slots.push_back({Slot::Kind::kExternalIdType, 0});
  }
  for (size_t i = 0; i < t.mandatory.size(); ++i)
    if (!t.mandatory[i].is_fixed()) t.slots.push_back({Slot::Kind::kMandatory, i});
  for (size_t i = 0; i < t.custom.size(); ++i)
    if (!t.custom[i].is_fixed()) t.slots.push_back({Slot::Kind::kCustom, i});
  // DATE slots may be skipped anywhere; POST INVENTORY's external id slots only at the end.
  t.date_slots = 0;
  size_t trailing = 0;  // POST INVENTORY external id slots after the last other non-DATE slot
  for (const Slot& s : t.slots) {
    if (slot_is_date(t, s)) {
      ++t.date_slots;
    } else if (post_inventory &&
               (s.kind == Slot::Kind::kExternalId || s.kind == Slot::Kind::kExternalIdType)) {
      ++trailing;
    } else {
      trailing = 0;
    }
  }
  t.min_values = t.slots.size() - t.date_slots - trailing;
  t.base_body = json::object();
  std::string err;
  if (mandatory_in_body(t)) {
    for (const auto& tv : t.mandatory)
      if (tv.is_fixed() && !tv.compiled.set(t.base_body, tv.fixed, &err))
        return "internal error: " + err;
  }
  for (const auto& tv : t.custom)
    if (tv.is_fixed() && !tv.compiled.set(t.base_body, tv.fixed, &err))
      return "custom path " + common::echo_value(tv.path) + ": " + err;
  return std::nullopt;
}

// Parses the fields of one `11` line (trailing empty fields dropped) into `r`.
std::optional<std::string> parse_response(std::span<const std::string> f, ResponseTemplate& r) {
  const size_t n = f.size();
  r = ResponseTemplate{};
  r.msg_id.assign(field(f, 1));
  r.base.assign(field(f, 2));
  r.condition.assign(field(f, 3));
  if (n < 5) return "a response template needs at least one pattern";
  if (n - 4 > kMaxPatterns) return "more than " + std::to_string(kMaxPatterns) + " patterns";
  std::string err;
  JsonPath base;
  if (!r.base.empty()) {
    auto p = JsonPath::compile(r.base, &err);
    if (!p) return "invalid JsonPath in base " + common::echo_value(r.base) + ": " + err;
    base = std::move(*p);
  }
  if (!r.condition.empty()) {
    r.condition_path = JsonPath::compile(r.condition, &err);
    if (!r.condition_path)
      return "invalid JsonPath in condition " + common::echo_value(r.condition) + ": " + err;
  }
  for (size_t i = 4; i < n; ++i) {
    const std::string& text = f[i];
    if (text.empty()) return "pattern " + std::to_string(i - 3) + " is empty";
    auto p = JsonPath::compile(text, &err);
    if (!p) return "invalid JsonPath in pattern " + common::echo_value(text) + ": " + err;
    r.patterns.push_back(text);
    r.paths.push_back(JsonPath::join(base, *p));
  }
  return std::nullopt;
}

std::optional<std::string> check_xid(std::string_view xid) {
  if (xid.empty()) return "empty X-ID";
  if (xid.size() > kMaxXidBytes) return "X-ID longer than 128 bytes";
  if (!common::is_valid_utf8(xid)) return "X-ID is not valid UTF-8";
  if (has_control(xid) || xid.find_first_of("/+#") != std::string_view::npos)
    return "X-ID must not contain '/', '+', '#' or control characters";
  return std::nullopt;
}

std::optional<std::string> check_msg_id(std::string_view id) {
  if (id.empty()) return "empty message ID";
  if (id.size() > kMaxMsgIdBytes) return "message ID longer than 64 bytes";
  if (!common::is_valid_utf8(id)) return "message ID is not valid UTF-8";
  if (has_control(id)) return "message ID must not contain control characters";
  return std::nullopt;
}

// Collects errors up to a limit and counts all of them.
class Errors {
 public:
  Errors(size_t max, std::vector<CustomTemplateError>* out) : max_(max), out_(out) {
    if (out_ != nullptr) out_->clear();
  }
  void add(int code, std::string_view id, std::string text) {
    if (out_ != nullptr && count_ < max_) out_->push_back({code, std::string(id), std::move(text)});
    ++count_;
  }
  size_t count() const { return count_; }

 private:
  size_t max_;
  std::vector<CustomTemplateError>* out_;
  size_t count_ = 0;
};

// Builds a collection from definition lines, one at a time.
class Builder {
 public:
  Builder(std::string_view xid, Errors& errors) : errors_(errors) { c_.xid.assign(xid); }

  // `f`: the fields of one definition line. `where` prefixes the error texts (may be empty).
  void line(std::span<const std::string> f, std::string_view where) {
    if (full_) return;
    if (++lines_ > kMaxTemplates) {
      errors_.add(41, c_.xid, "more than " + std::to_string(kMaxTemplates) + " templates");
      full_ = true;
      return;
    }
    f = f.first(used_fields(f));
    const std::string_view kind = field(f, 0);
    if (kind != "10" && kind != "11") {
      errors_.add(41, c_.xid,
                  std::string(where) + "invalid message ID for template creation: " +
                      common::echo_value(kind) + " (only 10 and 11 lines)");
      return;
    }
    const std::string_view msg_id = field(f, 1);
    if (auto e = check_msg_id(msg_id)) {
      errors_.add(41, msg_id.empty() ? std::string_view(c_.xid) : msg_id, std::string(where) + *e);
      return;
    }
    const std::string id(msg_id);
    if (!seen_.insert(id).second) {
      errors_.add(41, id, std::string(where) + "duplicate message ID");
      return;
    }
    if (kind == "10") {
      RequestTemplate t;
      if (auto e = parse_request(f, t)) {
        errors_.add(41, id, std::string(where) + *e);
        return;
      }
      c_.requests.emplace(id, std::move(t));
    } else {
      ResponseTemplate r;
      if (auto e = parse_response(f, r)) {
        errors_.add(41, id, std::string(where) + *e);
        return;
      }
      c_.responses.push_back(std::move(r));
    }
  }

  size_t lines() const { return lines_; }
  Collection take() { return std::move(c_); }

 private:
  Errors& errors_;
  Collection c_;
  std::set<std::string, std::less<>> seen_;
  size_t lines_ = 0;
  bool full_ = false;
};

// ---------------------------------------------------------------------------------------------
// Rendering

// Appends the CSV field of one selected value (nullptr: unresolved).
void append_value(std::string& line, const json* v) {
  if (v == nullptr) return;
  switch (v->type()) {
    case json::value_t::string:
      append_csv_field(line, v->get_ref<const std::string&>());
      return;
    case json::value_t::boolean:
      line += v->get<bool>() ? "true" : "false";
      return;
    case json::value_t::number_integer:
      line += std::to_string(v->get<int64_t>());
      return;
    case json::value_t::number_unsigned:
      line += std::to_string(v->get<uint64_t>());
      return;
    case json::value_t::number_float:
      line += format_double(v->get<double>());
      return;
    case json::value_t::object:
    case json::value_t::array:
      append_csv_field(line, v->dump(-1, ' ', false, json::error_handler_t::replace));
      return;
    default:
      return;  // null, binary, discarded
  }
}

// ---------------------------------------------------------------------------------------------
// Managed object

const json* member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// A member that must be a string, or absent / null ("").
bool optional_string(const json& obj, std::string_view key, std::string& out) {
  const json* v = member(obj, key);
  out.clear();
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_string()) return false;
  out = v->get_ref<const std::string&>();
  return true;
}

// msgId: a string or an integer.
bool msg_id_of(const json& t, std::string& out) {
  const json* v = member(t, "msgId");
  if (v == nullptr) return false;
  if (v->is_string()) {
    out = v->get_ref<const std::string&>();
    return true;
  }
  if (v->is_number_integer()) {
    out = v->is_number_unsigned() ? std::to_string(v->get<uint64_t>())
                                  : std::to_string(v->get<int64_t>());
    return true;
  }
  return false;
}

// {"path", "type", "value"} -> three fields. Returns the error text.
std::optional<std::string> value_fields(const json& v, std::vector<std::string>& f,
                                        std::string* path_out = nullptr,
                                        std::string* type_out = nullptr) {
  if (!v.is_object()) return "a value is not an object";
  std::string path, type, value;
  if (!optional_string(v, "path", path) || path.empty()) return "a value has no path";
  if (!optional_string(v, "type", type))
    return "the type of " + common::echo_value(path) + " is not a string";
  if (!optional_string(v, "value", value))
    return "the value of " + common::echo_value(path) + " is not a string";
  if (path_out != nullptr) *path_out = path;
  if (type_out != nullptr) *type_out = type;
  f.push_back(std::move(path));
  f.push_back(std::move(type));
  f.push_back(std::move(value));
  return std::nullopt;
}

// One request template object -> the fields of its `10` line.
std::optional<std::string> request_fields(const json& t, std::vector<std::string>& f) {
  if (!t.is_object()) return "a request template is not an object";
  std::string method_s, api_s;
  if (!optional_string(t, "method", method_s)) return "method is not a string";
  if (!optional_string(t, "api", api_s)) return "api is not a string";
  f.push_back("10");
  f.emplace_back();  // msgId, filled by the caller
  f.push_back(method_s);
  f.push_back(api_s);
  const json* resp = member(t, "response");
  if (resp == nullptr || resp->is_null()) {
    f.emplace_back();
  } else if (resp->is_boolean()) {
    f.emplace_back(resp->get<bool>() ? "true" : "false");
  } else {
    return "response is not a boolean";
  }
  auto method = parse_method(method_s);
  auto api = parse_api(api_s);
  if (!method || !api || !supported(*method, *api))
    return std::nullopt;  // the line parser names the problem
  std::string type;
  if (!optional_string(t, "externalIdType", type)) return "externalIdType is not a string";
  if (*api == Api::kInventory && *method != Method::kPost) {
    const json* by_id = member(t, "byId");
    if (by_id == nullptr || by_id->is_null()) {
      f.emplace_back();
    } else if (by_id->is_boolean()) {
      f.emplace_back(by_id->get<bool>() ? "true" : "false");
    } else {
      return "byId is not a boolean";
    }
    f.push_back(type);
  } else if (*api == Api::kInventory) {
    f.push_back(type);
  }
  const auto specs = mandatory_specs(*method, *api);
  const json* mv = member(t, "mandatoryValues");
  if (specs.empty()) {
    if (mv != nullptr && !mv->is_null() && !(mv->is_array() && mv->empty()))
      return "mandatoryValues must be empty for " + std::string(method_name(*method)) + " " +
             std::string(api_name(*api));
  } else {
    if (mv == nullptr || !mv->is_array()) return "mandatoryValues is not an array";
    if (mv->size() != specs.size())
      return "mandatoryValues must hold " + std::to_string(specs.size()) + " values";
    for (size_t i = 0; i < specs.size(); ++i) {
      std::vector<std::string> three;
      std::string path, vtype;
      if (auto e = value_fields((*mv)[i], three, &path, &vtype)) return "mandatoryValues: " + *e;
      auto p = JsonPath::compile(path, nullptr);
      auto want = JsonPath::compile(specs[i].path, nullptr);
      if (!p || !want || !(*p == *want))
        return "mandatoryValues[" + std::to_string(i) + "] must have path " +
               std::string(specs[i].path);
      if (!vtype.empty() && parse_value_type(vtype) != specs[i].type)
        return "mandatoryValues[" + std::to_string(i) + "] must have type " +
               std::string(value_type_name(specs[i].type));
      f.push_back(std::move(three[2]));
    }
  }
  const json* cv = member(t, "customValues");
  if (cv != nullptr && !cv->is_null()) {
    if (!cv->is_array()) return "customValues is not an array";
    if (cv->size() > kMaxCustomValues)
      return "more than " + std::to_string(kMaxCustomValues) + " custom values";
    for (const auto& v : *cv)
      if (auto e = value_fields(v, f)) return "customValues: " + *e;
  }
  return std::nullopt;
}

// One response template object -> the fields of its `11` line.
std::optional<std::string> response_fields(const json& t, std::vector<std::string>& f) {
  if (!t.is_object()) return "a response template is not an object";
  std::string base, condition;
  if (!optional_string(t, "base", base)) return "base is not a string";
  if (!optional_string(t, "condition", condition)) return "condition is not a string";
  f.push_back("11");
  f.emplace_back();  // msgId, filled by the caller
  f.push_back(std::move(base));
  f.push_back(std::move(condition));
  const json* pattern = member(t, "pattern");
  if (pattern == nullptr || !pattern->is_array()) return "pattern is not an array";
  if (pattern->empty()) return "a response template needs at least one pattern";
  if (pattern->size() > kMaxPatterns)
    return "more than " + std::to_string(kMaxPatterns) + " patterns";
  for (const auto& p : *pattern) {
    if (!p.is_string() || p.get_ref<const std::string&>().empty())
      return "a pattern is not a non-empty string";
    f.push_back(p.get<std::string>());
  }
  return std::nullopt;
}

json value_json(const TemplateValue& tv) {
  return {{"path", tv.path}, {"type", value_type_name(tv.type)}, {"value", tv.value}};
}

}  // namespace

std::string error_line(const CustomTemplateError& e) {
  return csv_line({std::to_string(e.code), e.id, e.text});
}

std::string_view method_name(Method m) {
  return kMethodNames[static_cast<size_t>(m)];
}

std::string_view api_name(Api a) {
  return kApiNames[static_cast<size_t>(a)];
}

std::string_view value_type_name(ValueType t) {
  return kTypeNames[static_cast<size_t>(t)];
}

std::optional<Collection> parse_collection(std::string_view xid, std::string_view payload,
                                           size_t max_errors,
                                           std::vector<CustomTemplateError>* errors,
                                           size_t* error_count) {
  Errors errs(max_errors, errors);
  if (auto e = check_xid(xid)) {
    errs.add(41, common::echo_value(xid), *e);
  } else {
    Builder b(xid, errs);
    CsvReader reader(payload);
    CsvRecord rec;
    while (reader.next(rec)) {
      if (rec.malformed) {
        errs.add(42, xid, "malformed line " + std::to_string(rec.line) + ": " + rec.error);
        continue;
      }
      b.line(rec.fields, "");
    }
    if (b.lines() == 0) errs.add(41, xid, "no template definitions");
    if (errs.count() == 0) {
      if (error_count != nullptr) *error_count = 0;
      return b.take();
    }
  }
  if (error_count != nullptr) *error_count = errs.count();
  return std::nullopt;
}

std::optional<CustomTemplateError> apply_request(const RequestTemplate& t, const CsvRecord& rec,
                                                 int64_t now_ms, RequestAction& out) {
  out = RequestAction{};
  out.msg_id = t.msg_id;
  out.method = t.method;
  out.api = t.api;
  out.response = t.response;
  out.reference = t.reference;
  const auto args = [&t](std::string text) {
    return CustomTemplateError{45, t.msg_id, std::move(text)};
  };
  const size_t sent = rec.fields.empty() ? 0 : rec.fields.size() - 1;
  size_t used = sent;
  while (used > 0 && rec.fields[used].empty()) --used;
  const size_t k = std::min(sent, t.slots.size());  // values taken
  if (used > t.slots.size() || k < t.min_values) {
    std::string expected = std::to_string(t.min_values);
    if (t.min_values != t.slots.size()) expected += " to " + std::to_string(t.slots.size());
    return args("wrong number of arguments: expected " + expected + ", got " +
                std::to_string(used > t.slots.size() ? used : k));
  }
  // Values missing: the first DATE slots are skipped, then the trailing external id slots of
  // POST INVENTORY stay empty (k >= min_values guarantees that this covers them all).
  size_t skip = std::min(t.slots.size() - k, t.date_slots);
  size_t next = 1;  // the next field to take
  out.body = t.base_body;
  if (t.api == Api::kInventory) out.external_id_type = t.external_id_type;
  for (const auto& tv : t.mandatory) {
    if (!tv.is_fixed()) continue;
    if (tv.role == Role::kTime) out.time_ms = tv.fixed_ms;
    if (tv.role == Role::kType && !mandatory_in_body(t)) out.alarm_type = tv.value;
    if (tv.role == Role::kFragment) out.fragment = tv.value;
  }
  const bool post_inventory = t.method == Method::kPost && t.api == Api::kInventory;
  json value;
  std::string err;
  for (size_t i = 0; i < t.slots.size(); ++i) {
    const Slot& s = t.slots[i];
    std::string_view v;
    if (skip > 0 && slot_is_date(t, s)) {
      --skip;
    } else if (next <= k) {
      v = rec.fields[next++];
    }
    switch (s.kind) {
      case Slot::Kind::kInternalId:
        if (auto e = check_id(v, "id")) return args(*e);
        out.id.assign(v);
        break;
      case Slot::Kind::kExternalIdType:
        if (!(post_inventory && v.empty()))
          if (auto e = check_id(v, "externalIdType")) return args(*e);
        out.external_id_type.assign(v);
        break;
      case Slot::Kind::kExternalId:
        if (!(post_inventory && v.empty()))
          if (auto e = check_id(v, "externalId")) return args(*e);
        out.external_id.assign(v);
        break;
      case Slot::Kind::kMandatory:
      case Slot::Kind::kCustom: {
        const bool mandatory = s.kind == Slot::Kind::kMandatory;
        const TemplateValue& tv = mandatory ? t.mandatory[s.index] : t.custom[s.index];
        int64_t ms = 0;
        if (auto e = convert(tv, v, now_ms, value, ms)) return args(*e);
        if (tv.role == Role::kTime) out.time_ms = ms;
        if (mandatory && !mandatory_in_body(t)) {
          if (tv.role == Role::kType) out.alarm_type.assign(v);
          if (tv.role == Role::kFragment) out.fragment.assign(v);
          break;
        }
        if (!tv.compiled.set(out.body, value, &err))
          return CustomTemplateError{50, t.msg_id, "internal error: " + err};
        break;
      }
    }
  }
  if (post_inventory) {
    if (out.external_id.empty()) {
      out.external_id_type.clear();
    } else if (out.external_id_type.empty()) {
      return args("missing externalIdType");
    }
  }
  return std::nullopt;
}

std::optional<CustomTemplateError> apply_request(const Collection& c, const CsvRecord& rec,
                                                 int64_t now_ms, RequestAction& out) {
  const std::string_view id = rec.fields.empty() ? std::string_view() : rec.fields[0];
  const auto it = c.requests.find(id);
  if (it == c.requests.end())
    return CustomTemplateError{40, common::echo_value(id), "No template for this message id"};
  return apply_request(it->second, rec, now_ms, out);
}

std::optional<CustomTemplateError> render_responses(const Collection& c, const json& obj,
                                                    std::optional<std::string_view> device_id,
                                                    size_t max_bytes,
                                                    std::vector<std::string>* lines) {
  std::vector<std::string> local;
  std::vector<std::string>& out = lines != nullptr ? *lines : local;
  out.clear();
  size_t total = 0;  // bytes of the lines so far, with their separators
  const auto too_large = [&](const std::string& line) {
    return total + (out.empty() ? 0 : 1) + line.size() > max_bytes;
  };
  const auto fail = [&] {
    out.clear();
    return CustomTemplateError{
        45, c.xid, "response too large: more than " + std::to_string(max_bytes) + " bytes"};
  };
  std::vector<const json*> nodes;
  for (const auto& r : c.responses) {
    if (r.condition_path && !r.condition_path->matches(obj)) continue;
    std::string line;
    append_csv_field(line, r.msg_id);
    if (device_id) {
      line += ',';
      append_csv_field(line, *device_id);
    }
    for (const auto& path : r.paths) {
      if (!path.has_wildcard()) {
        line += ',';
        append_value(line, path.find(obj));
      } else {
        nodes.clear();
        path.select_into(obj, nodes);
        if (nodes.empty()) line += ',';
        for (const json* n : nodes) {
          line += ',';
          append_value(line, n);
          if (too_large(line)) return fail();
        }
      }
      if (too_large(line)) return fail();
    }
    total += (out.empty() ? 0 : 1) + line.size();
    out.push_back(std::move(line));
  }
  return std::nullopt;
}

json to_managed_object(const Collection& c) {
  json requests = json::array();
  for (const auto& [id, t] : c.requests) {
    json r = json::object();
    r["msgId"] = t.msg_id;
    r["method"] = method_name(t.method);
    r["api"] = api_name(t.api);
    r["response"] = t.response;
    json mandatory = json::array();
    for (const auto& tv : t.mandatory) mandatory.push_back(value_json(tv));
    r["mandatoryValues"] = std::move(mandatory);
    json custom = json::array();
    for (const auto& tv : t.custom) custom.push_back(value_json(tv));
    r["customValues"] = std::move(custom);
    if (t.api == Api::kInventory) {
      if (t.method != Method::kPost && t.reference != Reference::kOwnDevice)
        r["byId"] = t.reference == Reference::kInternalId;
      if (!t.external_id_type.empty()) r["externalIdType"] = t.external_id_type;
    }
    requests.push_back(std::move(r));
  }
  json responses = json::array();
  for (const auto& t : c.responses) {
    json r = json::object();
    r["msgId"] = t.msg_id;
    r["base"] = t.base;
    r["condition"] = t.condition;
    r["pattern"] = t.patterns;
    responses.push_back(std::move(r));
  }
  json mo = json::object();
  mo["type"] = kTemplateCollectionType;
  mo["name"] = c.xid;
  mo["__externalId"] = c.xid;
  mo["c8y_Global"] = json::object();
  mo[std::string(kTemplateCollectionFragment)] = {{"requestTemplates", std::move(requests)},
                                                  {"responseTemplates", std::move(responses)}};
  return mo;
}

std::optional<Collection> from_managed_object(const json& mo, std::string_view xid,
                                              size_t max_errors,
                                              std::vector<CustomTemplateError>* errors,
                                              size_t* error_count) {
  Errors errs(max_errors, errors);
  const auto done = [&]() -> std::optional<Collection> {
    if (error_count != nullptr) *error_count = errs.count();
    return std::nullopt;
  };
  if (auto e = check_xid(xid)) {
    errs.add(41, common::echo_value(xid), *e);
    return done();
  }
  const json* type = member(mo, "type");
  if (!mo.is_object() || type == nullptr || !type->is_string() ||
      type->get_ref<const std::string&>() != kTemplateCollectionType) {
    errs.add(41, xid,
             "not a template collection (type " + std::string(kTemplateCollectionType) + ")");
    return done();
  }
  const json* frag = member(mo, kTemplateCollectionFragment);
  if (frag == nullptr || !frag->is_object()) {
    errs.add(41, xid, "missing " + std::string(kTemplateCollectionFragment));
    return done();
  }
  Builder b(xid, errs);
  std::vector<std::string> f;
  const auto list = [&](std::string_view key, bool request) {
    const json* l = member(*frag, key);
    if (l == nullptr || l->is_null()) return;
    if (!l->is_array()) {
      errs.add(41, xid, std::string(key) + " is not an array");
      return;
    }
    for (size_t i = 0; i < l->size(); ++i) {
      const json& t = (*l)[i];
      const std::string where = std::string(key) + "[" + std::to_string(i) + "]: ";
      std::string msg_id;
      if (!msg_id_of(t, msg_id)) {
        errs.add(41, xid, where + "msgId is not a string");
        continue;
      }
      f.clear();
      auto e = request ? request_fields(t, f) : response_fields(t, f);
      if (e) {
        errs.add(41, msg_id.empty() ? std::string(xid) : msg_id, where + *e);
        continue;
      }
      f[1] = msg_id;
      // A definition line drops trailing empty fields; an empty trailing custom path must
      // still be refused, which value_fields did above.
      b.line(f, where);
    }
  };
  list("requestTemplates", true);
  list("responseTemplates", false);
  if (b.lines() == 0 && errs.count() == 0) errs.add(41, xid, "no template definitions");
  if (errs.count() != 0) return done();
  if (error_count != nullptr) *error_count = 0;
  return b.take();
}

}  // namespace c8y::smartrest

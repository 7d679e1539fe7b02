// SmartREST 2.0 custom templates on the broker. The pure work (parsing,
// JSONPath, applying, rendering) is plugin/smartrest/custom_templates.h; here:
//  * s/ut/<X-ID>: an empty publish answers 20,<X-ID>,<id> or 41,<X-ID> on s/dt; the template
//    lines of one publish create the collection (stored as a managed object of type
//    c8y_SmartRest2Template with the external id c8y_SmartRest2DeviceIdentifier = X-ID, the
//    representation the REST API can create as well), answered 20,<X-ID>,<id> on s/dt; definition
//    errors are 41 lines on s/e and create nothing.
//  * s/uc/<X-ID>[/<child>] and s/ud[/<child>] (the client id's default X-ID): each line applies
//    a request template to the topic's device and executes the action; with response=true the
//    response templates render the result on s/dc/<X-ID> (s/dd for s/ud).
//  * Operations for a device are rendered with the response templates of the collections it
//    listens to (send_operation): s/dc/<X-ID> subscriptions and s/dd with the default X-ID.
// Collections are parsed and their paths compiled once, then cached per tenant; a REST change of
// a collection object empties the tenant's cache.
#include "plugin/app/custom_template_handler.h"

#include <nlohmann/json.hpp>

#include "plugin/common/values.h"
#include "plugin/domain/alarms.h"
#include "plugin/domain/events.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/json_input.h"
#include "plugin/domain/operations.h"
#include "plugin/smartrest/csv.h"

namespace c8y::app {

using nlohmann::json;
namespace sr = smartrest;

namespace {

common::MessageKind message_kind(sr::Api api) {
  switch (api) {
    case sr::Api::kInventory:
      return common::MessageKind::kInventory;
    case sr::Api::kAlarm:
      return common::MessageKind::kAlarm;
    case sr::Api::kEvent:
      return common::MessageKind::kEvent;
    case sr::Api::kMeasurement:
      return common::MessageKind::kMeasurement;
    case sr::Api::kOperation:
      return common::MessageKind::kOperation;
  }
  return common::MessageKind::kOther;
}

// Room left for the topic and header of a response publish inside the message cap.
constexpr size_t kResponseHeaderRoom = 256;

std::string cache_key(const std::string& tenant, std::string_view xid) {
  std::string k = tenant;
  k.push_back('\0');
  k.append(xid);
  return k;
}

}  // namespace

// The fast plan of `t`, if it is a plain measurement template (see FastMeasurement).
std::optional<CustomTemplateHandler::FastMeasurement> CustomTemplateHandler::plan_of(
    const sr::RequestTemplate& t) {
  using Slot = sr::RequestTemplate::Slot;
  using Role = sr::TemplateValue::Role;
  if (t.method != sr::Method::kPost || t.api != sr::Api::kMeasurement || t.response) return {};
  if (t.mandatory.size() != 2 || t.mandatory[0].role != Role::kType || !t.mandatory[0].is_fixed() ||
      t.mandatory[1].role != Role::kTime || t.mandatory[1].is_fixed() || t.date_slots != 1)
    return {};
  FastMeasurement plan;
  plan.type = t.mandatory[0].value;
  std::vector<size_t> numbers;  // custom indexes of the value series, in custom order
  std::map<std::pair<std::string, std::string>, std::string> units;
  for (size_t i = 0; i < t.custom.size(); ++i) {
    const auto& v = t.custom[i];
    const auto& seg = v.compiled.segments();
    if (seg.size() != 3) return {};
    for (auto& sg : seg)
      if (sg.kind != sr::JsonPath::Segment::Kind::kKey) return {};
    if (v.type == sr::ValueType::kNumber && !v.is_fixed() && seg[2].key == "value") {
      numbers.push_back(i);
    } else if (v.type == sr::ValueType::kString && v.is_fixed() && seg[2].key == "unit") {
      units[{seg[0].key, seg[1].key}] = v.value;
    } else {
      return {};
    }
  }
  // The usage line is exactly: time (may be left out), then the numbers in order.
  if (t.slots.size() != numbers.size() + 1 || t.slots[0].kind != Slot::Kind::kMandatory ||
      t.slots[0].index != 1)
    return {};
  for (size_t i = 0; i < numbers.size(); ++i)
    if (t.slots[i + 1].kind != Slot::Kind::kCustom || t.slots[i + 1].index != numbers[i]) return {};
  for (size_t i : numbers) {
    const auto& seg = t.custom[i].compiled.segments();
    auto unit = units.find({seg[0].key, seg[1].key});
    plan.series.push_back({seg[0].key, seg[1].key, unit == units.end() ? "" : unit->second});
    if (unit != units.end()) units.erase(unit);
  }
  if (!units.empty()) return {};  // a unit without its value: the general path places it
  return plan;
}

std::shared_ptr<const CustomTemplateHandler::CachedCollection> CustomTemplateHandler::collection(
    Session& s, std::string_view xid, uint64_t* mo_id) {
  const std::string key = cache_key(s.tenant, xid);
  if (auto it = collections_.find(key); it != collections_.end()) {
    if (mo_id) *mo_id = it->second.second;
    return it->second.first;
  }
  domain::Inventory inv(store_, *s.space);
  auto id = inv.find_external(sr::kTemplateCollectionIdType, xid);
  if (!id) return nullptr;
  auto mo = inv.get(*id);
  if (!mo) return nullptr;
  std::vector<sr::CustomTemplateError> errors;
  auto c = sr::from_managed_object(*mo, xid, 1, &errors);
  if (!c) {
    log_(LogLevel::kWarning,
         "c8y: template collection " + std::string(xid) + " of tenant " + s.tenant +
             " is unusable: " + (errors.empty() ? std::string("?") : errors[0].text));
    return nullptr;
  }
  auto cached = std::make_shared<CachedCollection>();
  cached->c = std::move(*c);
  for (auto& [id_, t] : cached->c.requests)
    if (auto plan = plan_of(t)) cached->fast.emplace(id_, std::move(*plan));
  std::shared_ptr<const CachedCollection> shared = std::move(cached);
  if (collections_.size() > 10000) collections_.clear();  // bounded; entries reload on demand
  collections_[key] = std::make_pair(shared, *id);
  if (mo_id) *mo_id = *id;
  return shared;
}

void CustomTemplateHandler::forget(const std::string& tenant) {
  const std::string prefix = tenant + '\0';
  std::erase_if(collections_, [&](auto& e) { return e.first.starts_with(prefix); });
}

void CustomTemplateHandler::define(Session& s, std::string_view xid, std::string_view payload) {
  uint64_t id = 0;
  auto existing = collection(s, xid, &id);
  if (payload.empty()) {  // the existence check
    replies_.reply(s, "s/dt",
                   existing ? "20," + std::string(xid) + "," + domain::format_id(id)
                            : "41," + std::string(xid));
    return;
  }
  if (existing) {
    replies_.error_line(s, 41, xid, "Cannot create templates for existing collection");
    return;
  }
  std::vector<sr::CustomTemplateError> errors;
  size_t count = 0;
  auto c = sr::parse_collection(xid, payload, DeviceReplies::kMaxErrorsPerPublish, &errors, &count);
  if (!c) {
    for (auto& e : errors) replies_.error_line(s, e.code, e.id, e.text);
    if (count > errors.size())
      replies_.error_line(
          s, 41, xid, std::to_string(count - errors.size()) + " more errors in this collection");
    return;
  }
  domain::Inventory inv(store_, *s.space);
  json mo;
  auto st = inv.create(sr::to_managed_object(*c), s.user, &mo);
  auto mid = st.ok() ? domain::parse_id(mo.value("id", "")) : std::nullopt;
  if (mid) st = inv.add_external_id(*mid, sr::kTemplateCollectionIdType, xid);
  if (!st.ok() || !mid) {
    replies_.error_line(s, 50, xid, "Internal error: the collection could not be stored");
    log_(LogLevel::kError,
         "c8y: cannot store template collection " + std::string(xid) + ": " + st.message);
    return;
  }
  collections_.erase(cache_key(s.tenant, xid));
  (void)collection(s, xid);  // cached with its fast plans
  replies_.reply(s, "s/dt", "20," + std::string(xid) + "," + domain::format_id(*mid));
}

// Executes one request action for `target`; the result object (for response templates) or an
// error line. A storage failure is returned in `st`.
std::optional<json> CustomTemplateHandler::run_request(Session& s, const policy::TopicRoute& route,
                                                       const sr::RequestAction& a, uint64_t target,
                                                       storage::StoreStatus* st,
                                                       sr::CustomTemplateError* err) {
  const policy::Mode mode = route.mode;
  const bool store_data = mode == policy::Mode::kPersistent || mode == policy::Mode::kQuiescent;
  auto fail = [&](int code, const std::string& text) -> std::optional<json> {
    *err = {code, a.msg_id, text};
    return std::nullopt;
  };
  domain::Inventory inv(store_, *s.space);
  std::string why;
  // GET / PUT INVENTORY: the object the line names, within the device's hierarchy.
  auto referenced = [&]() -> std::optional<uint64_t> {
    std::optional<uint64_t> id;
    switch (a.reference) {
      case sr::Reference::kOwnDevice:
        return target;
      case sr::Reference::kInternalId:
        id = domain::parse_id(a.id);
        break;
      case sr::Reference::kExternalId:
        id = inv.find_external(a.external_id_type, a.external_id);
        break;
    }
    if (!id || !devices_.in_hierarchy(s, *id)) return std::nullopt;
    return id;
  };
  switch (a.api) {
    case sr::Api::kMeasurement: {
      if (!domain::measurement_input(a.body, &measurement_, &why, &a.time_ms)) return fail(45, why);
      // The JSON only when someone reads it (a stream subscriber or a response template).
      json j;
      *st = writer_.write(s, mode, target, measurement_, a.response ? &j : nullptr);
      if (!st->ok()) return std::nullopt;
      return j;
    }
    case sr::Api::kEvent: {
      domain::EventInput in;
      if (!domain::event_input(a.body, &in, &why)) return fail(45, why);
      domain::Events events(store_, *s.space);
      json e;
      if (store_data) {
        *st = events.create(target, in.time_ms, in.type, in.text, a.body, &e);
        if (!st->ok()) return std::nullopt;
      } else {
        e = domain::Events::make(0, target, in.time_ms, in.type, in.text, a.body);
      }
      streams_.publish(s.tenant, mode, "events", target, "CREATE", e);
      return e;
    }
    case sr::Api::kAlarm: {
      domain::Alarms alarms(store_, *s.space);
      alarms.actor = s.user;
      domain::AlarmChange r;
      if (a.method == sr::Method::kPost) {
        domain::AlarmInput in;
        if (!domain::alarm_input(a.body, &in, &why)) return fail(45, why);
        if (mode == policy::Mode::kTransient) {
          json doc =
              domain::Alarms::make(0, target, in.time_ms, in.type, in.severity, in.text, a.body);
          streams_.publish(s.tenant, mode, "alarms", target, "CREATE", doc);
          return doc;
        }
        r = alarms.raise(target, in.time_ms, in.type, in.severity, in.text, a.body);
      } else {
        r = alarms.update_open(target, a.alarm_type, a.body);
        if (r.status.not_found()) return fail(45, "No active alarm of type " + a.alarm_type);
        // As on the REST API: a refused change (an unknown status, reopening) is the device's.
        if (r.status.invalid()) return fail(45, r.status.message);
      }
      *st = r.status;
      if (!st->ok()) return std::nullopt;
      streams_.publish(s.tenant, policy::Mode::kPersistent, "alarms", target,
                       r.created ? "CREATE" : "UPDATE", r.alarm);
      return r.alarm;
    }
    case sr::Api::kOperation: {  // PUT: the EXECUTING, else PENDING, operation with the fragment
      domain::Operations ops(store_, *s.space);
      ops.actor = s.user;
      std::optional<json> op;
      for (auto status : {domain::OpStatus::kExecuting, domain::OpStatus::kPending}) {
        for (auto& o : ops.with_status(target, status, 100))
          if (o.contains(a.fragment)) {
            op = o;
            break;
          }
        if (op) break;
      }
      auto id = op ? domain::parse_id(op->value("id", "")) : std::nullopt;
      if (!id) return fail(45, "No pending or executing operation with " + a.fragment);
      auto r = ops.update(*id, a.body);
      if (r.status.invalid()) return fail(45, r.status.message);
      *st = r.status;
      if (!st->ok()) return std::nullopt;
      streams_.publish(s.tenant, policy::Mode::kPersistent, "operations", target, "UPDATE",
                       r.operation);
      return r.operation;
    }
    case sr::Api::kInventory: {
      if (a.method == sr::Method::kPost) {
        const std::string& xid_type =
            a.external_id_type.empty() ? std::string(domain::kSerialType) : a.external_id_type;
        auto taken = [&] {
          return fail(45, "External id " + common::echo_value(a.external_id) + " of type " +
                              common::echo_value(xid_type) + " belongs to another object");
        };
        // Checked first so that a refused POST creates nothing.
        if (!a.external_id.empty() && inv.find_external(xid_type, a.external_id)) return taken();
        json mo;
        *st = inv.create(a.body, s.user, &mo);
        if (!st->ok()) return std::nullopt;
        auto id = domain::parse_id(mo.value("id", ""));
        if (id && !a.external_id.empty()) {
          auto x = inv.add_external_id(*id, xid_type, a.external_id);
          if (!x.ok()) {
            // Taken meanwhile (a REST call), or a storage failure: the new object goes again.
            *st = inv.remove(*id);
            if (st->ok() && x.conflict()) return taken();
            if (st->ok()) *st = x;
            return std::nullopt;
          }
        }
        if (id) devices_.device_created(s, *id);
        return inv.get(id.value_or(0)).value_or(mo);
      }
      auto id = referenced();
      if (!id) return fail(45, "Managed object not found (or not below this device)");
      if (a.method == sr::Method::kPut) {
        *st = inv.merge(*id, a.body);
        if (!st->ok()) return std::nullopt;
        devices_.inventory_changed(s, *id);
      }
      auto mo = inv.get(*id);
      if (!mo) return fail(45, "Managed object not found");
      return mo;
    }
  }
  return std::nullopt;
}

void CustomTemplateHandler::use(Session& s, const policy::TopicRoute& route,
                                std::string_view payload, MessageDecision* decision) {
  const bool by_default = route.channel == policy::Channel::kDefault;
  const std::string xid = by_default ? s.default_xid : std::string(route.xid);
  if (xid.empty()) {
    replies_.error_line(s, 41, "", "No default template collection: connect as d:<serial>:<X-ID>");
    return;
  }
  auto cached = collection(s, xid);
  if (!cached) {
    replies_.error_line(s, 41, xid, "Template collection not found");
    return;
  }
  const sr::Collection* c = &cached->c;
  const std::string response_topic = by_default ? "s/dd" : "s/dc/" + xid;
  const size_t max_bytes = max_response_bytes();
  sr::CsvReader reader(payload);
  size_t errors = 0;
  auto fail = [&](int code, std::string_view id, std::string_view text) {
    if (++errors <= DeviceReplies::kMaxErrorsPerPublish) replies_.error_line(s, code, id, text);
  };
  const int64_t now = now_ms();
  storage::StoreStatus st;
  uint64_t noted = 0;
  sr::RequestAction action;
  std::vector<std::string> lines;
  while (reader.next(record_)) {
    const std::string_view id =
        record_.fields.empty() ? std::string_view() : std::string_view(record_.fields[0]);
    if (record_.malformed) {
      fail(42, id, "Malformed line " + std::to_string(record_.line) + ": " + record_.error);
      continue;
    }
    std::string target_error;
    const uint64_t target = devices_.target(s, route.child, &st, &target_error);
    if (!st.ok()) break;
    if (!target) {
      fail(45, id, target_error);
      continue;
    }
    if (target != noted) {
      availability_.note_data(s, target, now);
      noted = target;
    }
    // The hot path: a plain measurement template straight into a measurement.
    if (auto f = cached->fast.find(id); f != cached->fast.end()) {
      const auto& t = c->requests.find(id)->second;
      if (fast_measurement(f->second, t, record_, now)) {
        if (s.space) s.space->metrics.receive(common::MessageKind::kMeasurement);
        st = writer_.write(s, route.mode, target, measurement_);
        if (!st.ok()) break;
        continue;
      }
    }
    if (auto e = sr::apply_request(*c, record_, now, action)) {
      fail(e->code, e->id, e->text);
      continue;
    }
    if (s.space) s.space->metrics.receive(message_kind(action.api));
    sr::CustomTemplateError err;
    auto result = run_request(s, route, action, target, &st, &err);
    if (!st.ok()) break;
    if (!result) {
      fail(err.code, err.id, err.text);
      continue;
    }
    if (!action.response) continue;
    if (auto e = sr::render_responses(*c, *result, std::nullopt, max_bytes, &lines)) {
      fail(e->code, e->id, e->text);
      continue;
    }
    replies_.reply_lines(s, response_topic, lines);
  }
  replies_.finish_lines(s, st, errors, decision);
}

size_t CustomTemplateHandler::max_response_bytes() const {
  return options_.message_size_limit > kResponseHeaderRoom
             ? options_.message_size_limit - kResponseHeaderRoom
             : 0;
}

bool CustomTemplateHandler::fast_measurement(const FastMeasurement& plan,
                                             const sr::RequestTemplate& t, const sr::CsvRecord& rec,
                                             int64_t now_ms) {
  // The same reading of the line as apply_request (custom_templates.h): trailing empty fields
  // beyond the open columns do not count, and the time may be left out.
  const auto& f = rec.fields;
  const size_t sent = f.empty() ? 0 : f.size() - 1;
  size_t used = sent;
  while (used > 0 && f[used].empty()) --used;
  const size_t slots = t.slots.size();
  const size_t k = std::min(sent, slots);
  if (used > slots || k + 1 < slots) return false;
  const bool time_sent = k == slots;
  size_t next = 1;
  int64_t time = now_ms;
  if (time_sent) {
    const std::string& tv = f[next++];
    if (!tv.empty()) {
      auto ms = common::parse_iso8601_ms(tv);
      if (!ms) return false;
      time = *ms;
    }
  }
  measurement_.clear();
  measurement_.type = plan.type;
  measurement_.time_ms = time;
  for (const auto& p : plan.series) {
    const std::string& v = f[next++];
    auto number = v.empty() ? std::nullopt : common::parse_number(v);
    if (!number) return false;
    auto& ser = measurement_.add();
    ser.fragment = p.fragment;
    ser.series = p.series;
    ser.value = *number;
    ser.unit = p.unit;
  }
  return true;
}

// Operations through response templates: for every collection the device listens to.
void CustomTemplateHandler::send_operation(Session& s, const json& op, const std::string& serial) {
  const size_t max_bytes = max_response_bytes();
  std::vector<std::string> lines;
  auto send = [&](const std::string& xid, const std::string& topic) {
    auto cached = collection(s, xid);
    if (!cached || cached->c.responses.empty()) return;
    if (sr::render_responses(cached->c, op, serial, max_bytes, &lines))
      return;  // too large: not sent
    replies_.reply_lines(s, topic, lines);
  };
  for (auto& [filter, qos] : s.subscriptions) {
    if (!filter.starts_with("s/dc/")) continue;
    const std::string xid = filter.substr(5);
    if (xid.empty() || xid.find_first_of("+#/") != std::string::npos) continue;
    send(xid, filter);
  }
  if (!s.default_xid.empty() && DeviceReplies::subscribed(s, "s/dd")) send(s.default_xid, "s/dd");
}

}  // namespace c8y::app

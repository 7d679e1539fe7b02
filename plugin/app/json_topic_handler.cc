// JSON via MQTT: `[t/|q/|c/]<api>/<resource>/<action>[/<id>]` with the REST API's
// JSON. The source is always the connected device, or the child named in `externalSource`
// ({"externalId", "type": "c8y_Serial"}); a rejected message is answered on `error` with
// {"error", "message", "messageId"}, where messageId is the number of the message among the
// connection's publishes on JSON topics (1 for the first; Mosquitto 2.0 does not show plugins
// the MQTT packet id).
//
// Endpoints:
//   event/events                 create, createBulk, update/<id>, delete/<id>
//   alarm/alarms                 create, createBulk, update/<id>
//   measurement/measurements     create, createBulk, delete/<id> (a measurement of the device or
//                                a device below it, among the newest kMaxDeleteSearch)
//   inventory/managedObjects     create (needs externalSource: a new child device),
//                                update (own device), update/<id> (an id or a c8y_Serial below
//                                the device)
//   inventory/managedObjects/<id>/childDevices/create   {"managedObject": {"id"}}
// Processing modes as for SmartREST: t/ notifies events, alarms and measurements without
// storing them; q/ and c/ act on events and measurements; everything else is persistent.
#include "plugin/app/json_topic_handler.h"

#include <nlohmann/json.hpp>

#include "plugin/domain/alarms.h"
#include "plugin/domain/events.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/json_input.h"

namespace c8y::app {

using nlohmann::json;

namespace {

constexpr int kMaxJsonDepth = 32;
constexpr size_t kMaxBulkItems = 500;
constexpr size_t kMaxErrorsPerMessage = 10;
// Measurements have no id index: a delete searches the device's (and its children's) newest
// measurements, at most this many in all (a few milliseconds of the broker thread, so a device
// cannot make one delete stall everyone else's messages for long).
constexpr size_t kMaxDeleteSearch = 10'000;
constexpr size_t kMaxDeleteDevices = 1000;

std::optional<json> parse_object(std::string_view payload, std::string* error) {
  bool too_deep = false;
  json j = json::parse(
      payload,
      [&](int depth, json::parse_event_t, json&) {
        if (depth > kMaxJsonDepth) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep) {
    *error = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return std::nullopt;
  }
  if (j.is_discarded() || !j.is_object()) {
    *error = "The payload is not a JSON object";
    return std::nullopt;
  }
  return j;
}

// Keys a device may not set on a managed object.
bool protected_key(const std::string& k) {
  return k == "id" || k == "self" || k == "owner" || k == "creationTime" || k == "lastUpdated" ||
         k == "childDevices" || k == "deviceParents" || k == "childAdditions" ||
         k == "additionParents" || k == "externalSource";
}

}  // namespace

namespace {
common::MessageKind message_kind(std::string_view api) {
  if (api == "measurement") return common::MessageKind::kMeasurement;
  if (api == "event") return common::MessageKind::kEvent;
  if (api == "alarm") return common::MessageKind::kAlarm;
  if (api == "inventory") return common::MessageKind::kInventory;
  return common::MessageKind::kOther;
}
}  // namespace

void JsonTopicHandler::handle(Session& s, const policy::TopicRoute& route, std::string_view payload,
                              MessageDecision* decision) {
  ++s.json_messages;
  if (s.role != policy::Role::kDevice) return;
  const std::string api(route.json_api), resource(route.json_resource);
  const std::string action(route.json_action), id_text(route.json_id);
  const std::string endpoint = api + "/" + resource;
  const policy::Mode mode = route.mode;
  const bool store_data = mode == policy::Mode::kPersistent || mode == policy::Mode::kQuiescent;
  auto unsupported = [&] {
    replies_.json_error(
        s, "general/notSupported",
        "Not supported: " + endpoint + "/" + action + (id_text.empty() ? "" : "/<id>"));
  };
  const bool needs_id = action == "update" || action == "delete";
  const bool has_id = !id_text.empty();
  if (action != "create" && action != "createBulk" && !needs_id) return unsupported();
  if (has_id && !needs_id) return unsupported();
  // inventory/managedObjects/update without an id means the device itself (thin-edge.io).
  if (needs_id && !has_id && !(endpoint == "inventory/managedObjects" && action == "update"))
    return replies_.json_error(
        s, "general/badRequest",
        action + " needs the object id: " + endpoint + "/" + action + "/<id>");

  std::optional<json> body;
  std::string why;
  if (action == "delete") {
    if (!payload.empty())
      return replies_.json_error(s, "general/badRequest", "delete takes no payload");
  } else {
    body = parse_object(payload, &why);
    if (!body) return replies_.json_error(s, "general/badRequest", why);
  }
  // Counted per item: a createBulk counts what it carries (below).
  const common::MessageKind kind = message_kind(route.json_api);
  if (action != "createBulk" && s.space) s.space->metrics.receive(kind);

  // The target: the device, or its child named in externalSource (implicitly created as a
  // first-level child, as for s/us/<child>).
  storage::StoreStatus st;
  auto target_of = [&](const json& item, std::string* error) -> uint64_t {
    auto ext = item.find("externalSource");
    if (ext == item.end()) return devices_.own_device(s, "", "", &st);
    if (!ext->is_object() || !ext->contains("externalId") || !(*ext)["externalId"].is_string() ||
        (ext->contains("type") && (*ext)["type"] != domain::kSerialType)) {
      *error = "externalSource must be {\"externalId\": \"<serial>\", \"type\": \"c8y_Serial\"}";
      return 0;
    }
    const std::string serial = (*ext)["externalId"].get<std::string>();
    if (serial == s.serial) return devices_.own_device(s, "", "", &st);
    return devices_.child_device(s, serial, &st, error);
  };
  auto refuse_on_storage = [&] {
    if (st.ok()) return false;
    replies_.log(LogLevel::kError, "c8y: storage failure for " + s.client_id + ": " + st.message);
    *decision = MessageDecision::kRefuse;
    return true;
  };

  // ---- create / createBulk of events, alarms, measurements -----------------------------------
  if ((action == "create" || action == "createBulk") && endpoint != "inventory/managedObjects" &&
      endpoint != "inventory/childDevices") {
    const char* collection = endpoint == "event/events"               ? "events"
                             : endpoint == "alarm/alarms"             ? "alarms"
                             : endpoint == "measurement/measurements" ? "measurements"
                                                                      : nullptr;
    if (!collection) return unsupported();
    std::vector<const json*> items;
    if (action == "create") {
      items.push_back(&*body);
    } else {
      auto list = body->find(collection);
      if (list == body->end() || !list->is_array())
        return replies_.json_error(s, "general/badRequest",
                                   std::string("createBulk needs {\"") + collection + "\": [...]}");
      if (list->size() > kMaxBulkItems)
        return replies_.json_error(
            s, "general/badRequest",
            "at most " + std::to_string(kMaxBulkItems) + " items per createBulk");
      for (auto& it : *list) items.push_back(&it);
      if (s.space) s.space->metrics.received[static_cast<size_t>(kind)].add(items.size());
    }
    size_t errors = 0;
    auto item_error = [&](const std::string& domain_kind, const std::string& text) {
      if (++errors <= kMaxErrorsPerMessage) replies_.json_error(s, domain_kind, text);
    };
    uint64_t noted = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      const json& item = *items[i];
      const std::string where = items.size() > 1 ? " (item " + std::to_string(i + 1) + ")" : "";
      if (!item.is_object()) {
        item_error("general/badRequest", "not a JSON object" + where);
        continue;
      }
      std::string target_error;
      const uint64_t target = target_of(item, &target_error);
      if (refuse_on_storage()) return;
      if (!target) {
        item_error("security/Forbidden", target_error + where);
        continue;
      }
      if (target != noted) {
        availability_.note_data(s, target, now_ms());
        noted = target;
      }
      json fragments = item;
      fragments.erase("externalSource");
      fragments.erase("source");
      if (endpoint == "event/events") {
        domain::EventInput in;
        if (!domain::event_input(fragments, &in, &why)) {
          item_error("event/validationError", why + where);
          continue;
        }
        domain::Events events(store_, *s.space);
        json e;
        if (store_data) {
          st = events.create(target, in.time_ms, in.type, in.text, fragments,
                             streams_.wanted(s.tenant) ? &e : nullptr);
          if (refuse_on_storage()) return;
        } else if (streams_.wanted(s.tenant)) {
          e = domain::Events::make(0, target, in.time_ms, in.type, in.text, fragments);
        }
        streams_.publish(s.tenant, mode, "events", target, "CREATE", e);
      } else if (endpoint == "alarm/alarms") {
        domain::AlarmInput in;
        if (!domain::alarm_input(fragments, &in, &why)) {
          item_error("alarm/validationError", why + where);
          continue;
        }
        if (mode == policy::Mode::kTransient) {
          if (streams_.wanted(s.tenant))
            streams_.publish(s.tenant, mode, "alarms", target, "CREATE",
                             domain::Alarms::make(0, target, in.time_ms, in.type, in.severity,
                                                  in.text, fragments));
          continue;
        }
        domain::Alarms alarms(store_, *s.space);
        alarms.actor = s.user;
        alarms.return_docs = streams_.wanted(s.tenant);
        auto r = alarms.raise(target, in.time_ms, in.type, in.severity, in.text, fragments);
        st = r.status;
        if (refuse_on_storage()) return;
        streams_.publish(s.tenant, policy::Mode::kPersistent, "alarms", target,
                         r.created ? "CREATE" : "UPDATE", r.alarm);
      } else {
        if (!domain::measurement_input(fragments, &measurement_, &why)) {
          item_error("measurement/validationError", why + where);
          continue;
        }
        st = writer_.write(s, mode, target, measurement_);
        if (refuse_on_storage()) return;
      }
    }
    if (errors > kMaxErrorsPerMessage)
      replies_.json_error(s, "general/badRequest",
                          std::to_string(errors - kMaxErrorsPerMessage) + " more items rejected");
    return;
  }

  // ---- update / delete of one event or alarm ---------------------------------------------------
  if (endpoint == "measurement/measurements" && action == "delete") {
    auto id = domain::parse_id(id_text);
    const uint64_t root = devices_.own_device(s, "", "", &st);
    if (refuse_on_storage()) return;
    if (!id || !root)
      return replies_.json_error(s, "measurement/notFound",
                                 "measurement " + id_text + " not found");
    domain::Inventory inv(store_, *s.space);
    std::vector<uint64_t> devices{root};  // the device and the devices below it, breadth first
    for (size_t i = 0; i < devices.size() && devices.size() < kMaxDeleteDevices; ++i)
      if (auto mo = inv.get(devices[i]))
        if (auto refs = mo->find("childDevices"); refs != mo->end() && refs->is_object())
          for (auto& r : refs->value("references", json::array()))
            if (r.is_object() && r.contains("managedObject") && r["managedObject"].is_object())
              if (auto c = domain::parse_id(r["managedObject"].value("id", "")))
                devices.push_back(*c);
    domain::Measurements ms(store_, *s.space);
    size_t budget = kMaxDeleteSearch;
    for (uint64_t dev : devices) {
      st = ms.remove(dev, *id, &budget);
      if (st.ok()) {
        streams_.publish(s.tenant, policy::Mode::kPersistent, "measurements", dev, "DELETE",
                         json{{"id", id_text}});
        return;
      }
      if (!st.not_found()) {
        if (refuse_on_storage()) return;
      }
      st = {};
      if (budget == 0) break;
    }
    return replies_.json_error(
        s, "measurement/notFound",
        "measurement " + id_text + " not found" +
            (budget == 0 ? " among the newest " + std::to_string(kMaxDeleteSearch) +
                               " measurements of this device"
                         : ""));
  }

  if (endpoint == "event/events" || endpoint == "alarm/alarms") {
    if (endpoint == "alarm/alarms" && action == "delete") return unsupported();
    auto id = domain::parse_id(id_text);
    const bool event = endpoint == "event/events";
    const std::string kind = event ? "event" : "alarm";
    std::optional<json> doc;
    if (id)
      doc = event ? domain::Events(store_, *s.space).get(*id)
                  : domain::Alarms(store_, *s.space).get(*id);
    // Another device's object looks absent, as on the REST API for another tenant.
    auto source = doc ? domain::parse_id((*doc)["source"].value("id", "")) : std::nullopt;
    if (!doc || !source || !devices_.in_hierarchy(s, *source))
      return replies_.json_error(s, kind + "/notFound", kind + " " + id_text + " not found");
    if (event) {
      domain::Events events(store_, *s.space);
      if (action == "delete") {
        st = events.remove(*id);
        if (refuse_on_storage()) return;
        streams_.publish(s.tenant, policy::Mode::kPersistent, "events", *source, "DELETE",
                         json{{"id", id_text}});
        return;
      }
      if (body->contains("text") && !(*body)["text"].is_string())
        return replies_.json_error(s, "event/validationError", "text must be a string");
      json e;
      st = events.update(*id, *body, &e);
      if (refuse_on_storage()) return;
      streams_.publish(s.tenant, policy::Mode::kPersistent, "events", *source, "UPDATE", e);
      return;
    }
    domain::Alarms alarms(store_, *s.space);
    alarms.actor = s.user;
    auto r = alarms.update(*id, *body);
    if (r.status.not_found())
      return replies_.json_error(s, "alarm/notFound", "alarm " + id_text + " not found");
    if (r.status.invalid())  // as on the REST API: a refused change (reopening a cleared alarm)
      return replies_.json_error(s, "alarm/validationError", r.status.message);
    st = r.status;
    if (refuse_on_storage()) return;
    streams_.publish(s.tenant, policy::Mode::kPersistent, "alarms", *source, "UPDATE", r.alarm);
    return;
  }

  // ---- inventory ------------------------------------------------------------------------------
  domain::Inventory inv(store_, *s.space);
  if (endpoint == "inventory/managedObjects" && action == "update") {
    uint64_t target = 0;
    if (!has_id) {
      target = devices_.own_device(s, "", "", &st);
    } else {
      auto id = domain::parse_id(id_text);
      if (id && inv.get(*id))
        target = *id;
      else if (auto ext = inv.find_external(domain::kSerialType, id_text))
        target = *ext;
      if (target && !devices_.in_hierarchy(s, target)) target = 0;
    }
    if (refuse_on_storage()) return;
    if (!target)
      return replies_.json_error(s, "inventory/notFound",
                                 "managed object " + id_text + " not found");
    json changes = json::object();
    for (auto& [k, v] : body->items())
      if (!protected_key(k)) changes[k] = v;
    st = inv.merge(target, changes);
    if (refuse_on_storage()) return;
    devices_.inventory_changed(s, target);
    return;
  }
  if (endpoint == "inventory/managedObjects" && action == "create") {
    if (!body->contains("externalSource"))
      return replies_.json_error(s, "inventory/validationError",
                                 "create needs externalSource naming the new child device");
    std::string target_error;
    const uint64_t target = target_of(*body, &target_error);
    if (refuse_on_storage()) return;
    if (!target) return replies_.json_error(s, "security/Forbidden", target_error);
    json changes = json::object();
    for (auto& [k, v] : body->items())
      if (!protected_key(k)) changes[k] = v;
    st = inv.merge(target, changes);
    if (refuse_on_storage()) return;
    devices_.inventory_changed(s, target);
    return;
  }
  if (endpoint == "inventory/childDevices" && action == "create" && !has_id) {
    auto parent = domain::parse_id(route.json_parent_id);
    std::optional<uint64_t> child;
    if (auto m = body->find("managedObject");
        m != body->end() && m->is_object() && m->contains("id") && (*m)["id"].is_string())
      child = domain::parse_id((*m)["id"].get<std::string>());
    if (!parent || !devices_.in_hierarchy(s, *parent))
      return replies_.json_error(
          s, "inventory/notFound",
          "managed object " + std::string(route.json_parent_id) + " not found");
    auto cmo = child ? inv.get(*child) : std::nullopt;
    // Only an object this device's user owns can become its child.
    if (!cmo || cmo->value("owner", "") != s.user)
      return replies_.json_error(s, "inventory/notFound",
                                 "managedObject.id names no object of yours");
    st = inv.add_child(*parent, *child);
    if (refuse_on_storage()) return;
    devices_.inventory_changed(s, *parent);
    return;
  }
  unsupported();
}

}  // namespace c8y::app

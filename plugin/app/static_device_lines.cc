// Static templates other than 100 and measurements: inventory (101-150), alarms (301-307),
// events (400-408) and platform capabilities (600, 602). Each handler applies one decoded line
// for the target device of the topic and reports either a storage failure (the message is
// refused, so the device resends it) or an s/e line for the device.
#include <nlohmann/json.hpp>

#include "plugin/app/static_template_handler.h"
#include "plugin/common/values.h"
#include "plugin/domain/alarms.h"
#include "plugin/domain/events.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/operations.h"
#include "plugin/policy/streams.h"
#include "plugin/smartrest/alarm_event_templates.h"
#include "plugin/smartrest/csv.h"
#include "plugin/smartrest/inventory_templates.h"
#include "storage/keys.h"

namespace c8y::app {

using nlohmann::json;

namespace {
constexpr std::string_view kPlatformVersion = "mosquitto-c8y-0.1";
}  // namespace

StaticTemplateHandler::LineOutcome StaticTemplateHandler::inventory(Session& s, uint64_t target,
                                                                    int64_t now) {
  LineOutcome out;
  smartrest::InventoryCommand cmd;
  if (auto e = smartrest::decode_inventory(record_, now, cmd)) {
    out.error = *e;
    return out;
  }
  domain::Inventory inv(store_, *s.space);
  using Op = smartrest::InventoryCommand::Op;
  switch (cmd.op) {
    case Op::kSetProfile:
      if (cmd.profile_from_operation) {
        // 121 without a profile id: the oldest EXECUTING device-profile operation names it.
        domain::Operations ops(store_, *s.space);
        for (auto& op : ops.with_status(target, domain::OpStatus::kExecuting, 100)) {
          if (!op.contains("c8y_DeviceProfile")) continue;
          auto& p = cmd.fragments["c8y_Profile"];
          if (auto id = op.find("profileId");
              id != op.end() && (id->is_string() || id->is_number()))
            p["profileId"] = id->is_string() ? id->get<std::string>() : id->dump();
          if (auto name = op.find("profileName"); name != op.end() && name->is_string())
            p["profileName"] = *name;
          break;
        }
      }
      out.status = inv.merge(target, cmd.fragments);
      break;
    case Op::kMerge:
    case Op::kServiceStatus:
      out.status = inv.merge(target, cmd.fragments);
      break;
    case Op::kMergeIfAbsent:  // 117 never overwrites an interval set before (by the UI, say)
      out.status = inv.update(target, [&](json& mo) {
        bool changed = false;
        for (auto& [k, v] : cmd.fragments.items())
          if (!mo.contains(k)) {
            mo[k] = v;
            changed = true;
          }
        return changed;
      });
      if (out.status.ok())
        if (auto mo = inv.get(target)) availability_.interval_changed(s.space, target, *mo);
      break;
    case Op::kRemoveFragments: {
      json removal = json::object();
      for (auto& n : cmd.names) removal[n] = nullptr;
      out.status = inv.merge(target, removal);
      break;
    }
    case Op::kCreateChild:
    case Op::kCreateService: {
      domain::DeviceSpec spec;
      spec.serial = cmd.external_id;
      spec.name = cmd.name;
      spec.type = cmd.op == Op::kCreateChild ? cmd.type : "c8y_Service";
      spec.parent = target;
      spec.device_marker = cmd.op == Op::kCreateChild && cmd.is_device;
      spec.agent_marker = false;
      spec.addition = cmd.op == Op::kCreateService;  // services are child additions
      spec.owner = s.user;
      if (auto existing = inv.find_external(domain::kSerialType, cmd.external_id)) {
        if (cmd.op == Op::kCreateService) {
          // A service that exists: its name, type and status are refreshed (thin-edge resends
          // 102 to report health).
          out.status = inv.merge(*existing, cmd.fragments);
          if (out.status.ok()) devices_.inventory_changed(s, *existing);
        }
        return out;
      }
      auto r = inv.ensure_device(spec);
      out.status = r.status;
      if (!r.status.ok()) return out;
      if (cmd.op == Op::kCreateService) out.status = inv.merge(r.id, cmd.fragments);
      if (out.status.ok()) devices_.device_created(s, r.id);
      break;
    }
    case Op::kListChildren: {
      std::string line = "106";
      if (auto mo = inv.get(target)) {
        for (auto& ref : (*mo)["childDevices"]["references"]) {
          auto cid = domain::parse_id(ref["managedObject"].value("id", ""));
          if (!cid) continue;
          for (auto& [type, value] : inv.external_ids_of(*cid))
            if (type == domain::kSerialType) {
              line.push_back(',');
              smartrest::append_csv_field(line, value);
            }
        }
      }
      replies_.reply(s, "s/ds", line);
      return out;
    }
    case Op::kGetId:
      replies_.reply(s, "s/ds", "124," + domain::format_id(target));
      return out;
    case Op::kHeartbeat:  // availability_.note_data() already counted it (lastMessage,
                          // availability)
      return out;
    case Op::kSoftwareReplace:
    case Op::kSoftwareAppend:
    case Op::kSoftwareRemove:
      out.status = inv.update(target, [&](json& mo) {
        json list = mo.contains("c8y_SoftwareList") ? mo["c8y_SoftwareList"] : json::array();
        if (auto e = smartrest::apply_software(list, cmd)) {
          out.error = *e;
          return false;
        }
        mo["c8y_SoftwareList"] = std::move(list);
        return true;
      });
      if (out.error) return out;
      break;
  }
  if (out.status.ok()) devices_.inventory_changed(s, target);
  return out;
}

StaticTemplateHandler::LineOutcome StaticTemplateHandler::alarm(Session& s,
                                                                const policy::TopicRoute& route,
                                                                uint64_t target, int64_t now) {
  LineOutcome out;
  smartrest::AlarmCommand cmd;
  if (auto e = smartrest::decode_alarm(record_, now, cmd)) {
    out.error = *e;
    return out;
  }
  using Op = smartrest::AlarmCommand::Op;
  // t/ raises an alarm that is only notified; q/ and c/ act as persistent for alarms; and
  // 305-307 act only on stored alarms.
  if (route.mode == policy::Mode::kTransient && cmd.op == Op::kRaise) {
    if (streams_.wanted(s.tenant))
      streams_.publish(s.tenant, route.mode, "alarms", target, "CREATE",
                       domain::Alarms::make(0, target, cmd.time_ms, cmd.type, cmd.severity,
                                            cmd.text, json::object()));
    return out;
  }
  domain::Alarms alarms(store_, *s.space);
  alarms.actor = s.user;
  alarms.return_docs = streams_.wanted(s.tenant);
  domain::AlarmChange r;
  switch (cmd.op) {
    case Op::kRaise:
      r = alarms.raise(target, cmd.time_ms, cmd.type, cmd.severity, cmd.text, json::object());
      break;
    case Op::kSetSeverity:
      r = alarms.set_severity(target, cmd.type, cmd.severity);
      break;
    case Op::kClear:
      r = alarms.clear(target, cmd.type);
      break;
    case Op::kRemoveFragments:
      r = alarms.remove_fragments(target, cmd.type, cmd.fragments);
      break;
  }
  if (r.status.not_found()) {
    out.error = smartrest::TemplateError{45, "No active alarm of type " + cmd.type};
    return out;
  }
  if (!r.status.ok()) {  // a storage failure: the message is refused (no PUBACK)
    out.status = r.status;
    return out;
  }
  const policy::Mode mode =
      route.mode == policy::Mode::kTransient ? policy::Mode::kTransient : policy::Mode::kPersistent;
  streams_.publish(s.tenant, mode, "alarms", target, r.created ? "CREATE" : "UPDATE", r.alarm);
  return out;
}

StaticTemplateHandler::LineOutcome StaticTemplateHandler::event(Session& s,
                                                                const policy::TopicRoute& route,
                                                                uint64_t target, int64_t now) {
  LineOutcome out;
  smartrest::EventCommand cmd;
  if (auto e = smartrest::decode_event(record_, now, cmd)) {
    out.error = *e;
    return out;
  }
  domain::Events events(store_, *s.space);
  domain::Inventory inv(store_, *s.space);
  if (cmd.op == smartrest::EventCommand::Op::kRemoveFragments) {  // 407: stored events only
    json e;
    auto st = events.remove_fragments_of_latest(target, cmd.type, cmd.remove, &e);
    if (st.not_found()) {
      out.error = smartrest::TemplateError{45, "No event of type " + cmd.type};
      return out;
    }
    out.status = st;
    if (st.ok())
      streams_.publish(s.tenant, policy::Mode::kPersistent, "events", target, "UPDATE", e);
    return out;
  }
  json device_fragments = cmd.device_fragments;
  bool create = true;
  if (cmd.mirror_parameters) {  // 408: change detection against the device, mirrored into it
    auto mo = inv.get(target);
    auto outcome = smartrest::apply_parameter_update(mo ? *mo : json::object(), cmd);
    create = outcome.create_event;
    device_fragments = std::move(outcome.device_fragments);
  }
  // Device updates (402 position, 408 parameters) are inventory changes: persistent in any mode.
  if ((cmd.update_device || cmd.mirror_parameters) && !device_fragments.empty()) {
    out.status = inv.merge(target, device_fragments);
    if (!out.status.ok()) return out;
    devices_.inventory_changed(s, target);
  }
  if (!create) return out;
  const bool store =
      route.mode == policy::Mode::kPersistent || route.mode == policy::Mode::kQuiescent;
  json e;
  if (store) {
    out.status = events.create(target, cmd.time_ms, cmd.type, cmd.text, cmd.fragments,
                               streams_.wanted(s.tenant) ? &e : nullptr);
    if (!out.status.ok()) return out;
  } else if (streams_.wanted(s.tenant)) {
    e = domain::Events::make(0, target, cmd.time_ms, cmd.type, cmd.text, cmd.fragments);
  }
  streams_.publish(s.tenant, route.mode, "events", target, "CREATE", e);
  return out;
}

StaticTemplateHandler::LineOutcome StaticTemplateHandler::capability(Session& s,
                                                                     std::string_view id) {
  if (id == "600") {
    std::string line = "601,";
    smartrest::append_csv_field(line, kPlatformVersion);
    replies_.reply(s, "s/ds", line);
  } else {
    // 603: the static templates this build answers.
    replies_.reply(s, "s/ds", "603," + smartrest::supported_static_templates());
  }
  return {};
}

}  // namespace c8y::app

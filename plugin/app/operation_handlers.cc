// Operations on the broker thread: delivery to the agent's subscribed operation topics (s/ds,
// JSON, response templates) and the status templates 500-507 (the state table of
// domain/operation_state.h).
#include <nlohmann/json.hpp>

#include "plugin/app/plugin_core.h"
#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/operations.h"
#include "plugin/policy/topic_match.h"
#include "plugin/smartrest/downstream.h"

namespace c8y::app {

using nlohmann::json;

namespace {

constexpr int kMaxHierarchyDepth = 8;
constexpr size_t kMaxPendingPerDevice = 100;

std::string serial_of(domain::Inventory& inv, uint64_t id) {
  for (auto& [type, value] : inv.external_ids_of(id))
    if (type == domain::kSerialType) return value;
  return {};
}

std::optional<uint64_t> parent_of(const json& mo) {
  auto& refs = mo["deviceParents"]["references"];
  if (!refs.is_array() || refs.empty()) return std::nullopt;
  return domain::parse_id(refs[0]["managedObject"].value("id", ""));
}

// The agent that receives the operations of `device`: itself if it is an agent, else the
// nearest agent above it.
std::optional<uint64_t> agent_of(domain::Inventory& inv, uint64_t device) {
  uint64_t cur = device;
  for (int depth = 0; depth < kMaxHierarchyDepth; ++depth) {
    auto mo = inv.get(cur);
    if (!mo) return std::nullopt;
    if (mo->contains("com_cumulocity_model_Agent")) return cur;
    auto parent = parent_of(*mo);
    if (!parent) return std::nullopt;
    cur = *parent;
  }
  return std::nullopt;
}

}  // namespace

bool PluginCore::subscribed(const Session& s, std::string_view topic) const {
  for (auto& [f, q] : s.subscriptions)
    if (policy::topic_matches(f, topic)) return true;
  return false;
}

void PluginCore::send_operation(Session& s, const json& op, unsigned channels) {
  domain::Inventory inv(*store_, *s.space);
  auto device = domain::parse_id(op.value("deviceId", ""));
  if (!device) return;
  const std::string serial = *device == s.device_id ? s.serial : serial_of(inv, *device);
  if (channels & kOpsSmartRest) {
    for (auto& line : smartrest::render_operation(op, serial)) {
      if (line.size() > options_.message_size_limit) continue;  // never above the cap
      reply(s, "s/ds", line);
    }
  }
  if (channels & kOpsTemplates) send_operation_templates(s, op, serial);
  // The operation as JSON, naming its target device by external id (externalSource).
  if (channels & kOpsJson) {
    for (const char* topic : {"devicecontrol/notifications", "notification/operations"}) {
      if (!subscribed(s, topic)) continue;
      json j = op;
      j["externalSource"] = {{"externalId", serial}, {"type", domain::kSerialType}};
      std::string text = j.dump();
      if (text.size() <= options_.message_size_limit) reply(s, topic, text);
    }
  }
}

void PluginCore::deliver_operation(const std::string& tenant, const std::string& op_id) {
  auto* space = spaces_->get(tenant);
  auto id = domain::parse_id(op_id);
  if (!space || !id) return;
  domain::Operations ops(*store_, *space);
  auto op = ops.get(*id);
  if (!op || op->value("status", "") != "PENDING") return;
  domain::Inventory inv(*store_, *space);
  auto device = domain::parse_id(op->value("deviceId", ""));
  auto agent = device ? agent_of(inv, *device) : std::nullopt;
  if (!agent) return;
  for (auto& [conn, sp] : sessions_) {
    Session& s = *sp;
    if (s.space != space || s.role != policy::Role::kDevice || s.device_id != *agent) continue;
    // A channel the device subscribed to since the last tick gets every PENDING operation, this
    // one included, later in this tick (send_pending): sending it here too would deliver it twice.
    unsigned queued = 0;
    for (auto& [c, channels] : pending_deliveries_)
      if (c == conn) queued |= channels;
    if (const unsigned channels = kOpsAll & ~queued) send_operation(s, *op, channels);
  }
}

void PluginCore::send_pending(Session& s, unsigned channels) {
  if (s.role != policy::Role::kDevice || !s.space) return;
  domain::Inventory inv(*store_, *s.space);
  if (!s.device_id) {
    auto existing = inv.find_external(domain::kSerialType, s.serial);
    if (!existing) return;  // no device yet: nothing can be pending for it
    s.device_id = *existing;
  }
  domain::Operations ops(*store_, *s.space);
  // The device and the devices below it that have no agent of their own, breadth first.
  std::vector<uint64_t> devices{s.device_id};
  for (size_t i = 0; i < devices.size() && devices.size() < 1000; ++i) {
    auto mo = inv.get(devices[i]);
    if (!mo) continue;
    for (auto& ref : (*mo)["childDevices"]["references"]) {
      auto child = domain::parse_id(ref["managedObject"].value("id", ""));
      if (!child) continue;
      auto cmo = inv.get(*child);
      if (cmo && !cmo->contains("com_cumulocity_model_Agent")) devices.push_back(*child);
    }
  }
  for (uint64_t d : devices)
    for (auto& op : ops.with_status(d, domain::OpStatus::kPending, kMaxPendingPerDevice))
      send_operation(s, op, channels);
}

// What a successful operation changes on the device object: c8y_RelayArray (the 503/506
// parameters, field 2 on), c8y_CommunicationMode (the operation's mode) and, for
// c8y_DownloadConfigFile, c8y_ConfigurationDump (its id; the time from field 2, else now).
storage::StoreStatus PluginCore::device_results(Session& s, uint64_t device, const json& op) {
  json fragments = json::object();
  if (op.contains("c8y_RelayArray")) {
    json states = json::array();
    for (size_t i = 2; i < record_.fields.size(); ++i) states.push_back(record_.fields[i]);
    if (!states.empty()) fragments["c8y_RelayArray"] = std::move(states);
  }
  if (auto m = op.find("c8y_CommunicationMode");
      m != op.end() && m->is_object() && m->contains("mode"))
    fragments["c8y_CommunicationMode"] = {{"mode", (*m)["mode"]}};
  if (auto d = op.find("c8y_DownloadConfigFile"); d != op.end() && d->is_object()) {
    json dump = json::object();
    if (auto id = d->find("c8y_ConfigurationDump");
        id != d->end() && id->is_object() && id->contains("id"))
      dump["id"] = (*id)["id"];
    std::string when = record_.fields.size() > 2 ? record_.fields[2] : std::string();
    auto t = when.empty() ? std::nullopt : common::parse_iso8601_ms(when);
    dump["time"] = common::format_iso8601_ms(t ? *t : now_ms());
    fragments["c8y_ConfigurationDump"] = std::move(dump);
  }
  if (fragments.empty()) return {};
  domain::Inventory inv(*store_, *s.space);
  auto st = inv.merge(device, fragments);
  if (st.ok()) inventory_changed(s, device);
  return st.not_found() ? storage::StoreStatus{} : st;
}

PluginCore::LineOutcome PluginCore::handle_operation(Session& s, uint64_t target) {
  LineOutcome out;
  const auto& f = record_.fields;
  auto field = [&](size_t i) -> std::string { return i < f.size() ? f[i] : std::string(); };
  const std::string id = field(0);
  if (id == "500") {
    send_pending(s);
    return out;
  }
  auto t = domain::parse_status_template(id);
  if (!t) {
    out.error = smartrest::TemplateError{40, "No static template for this message id"};
    return out;
  }
  std::string fragment;
  uint64_t op_id = 0;
  json extra = json::object();
  const bool by_id = *t == domain::StatusTemplate::k504 || *t == domain::StatusTemplate::k505 ||
                     *t == domain::StatusTemplate::k506;
  if (by_id) {
    auto parsed = domain::parse_id(field(1));
    if (!parsed) {
      out.error = smartrest::TemplateError{
          45, "missing or invalid operation id: " + common::echo_value(field(1))};
      return out;
    }
    op_id = *parsed;
  } else {
    fragment = field(1);
    if (fragment.empty() && *t != domain::StatusTemplate::k507) {
      out.error = smartrest::TemplateError{45, "missing operation fragment"};
      return out;
    }
    if (fragment.size() > 127 || !common::is_valid_utf8(fragment)) {
      out.error = smartrest::TemplateError{45, "invalid operation fragment"};
      return out;
    }
  }
  // A failure reason or a result (c8y_Command output) has no limit below the message cap.
  const std::string reason = field(2);
  if (!common::is_valid_utf8(reason)) {
    out.error = smartrest::TemplateError{45, "parameter is not valid UTF-8"};
    return out;
  }
  switch (*t) {
    case domain::StatusTemplate::k502:
    case domain::StatusTemplate::k505:
    case domain::StatusTemplate::k507:
      if (!reason.empty()) extra["failureReason"] = reason;
      break;
    case domain::StatusTemplate::k503:
    case domain::StatusTemplate::k506: {
      // A result parameter of c8y_Command (.result) and c8y_LogfileRequest (.file) is kept in
      // the operation; the device updates of a successful operation are device_results'.
      std::string frag = fragment;
      if (by_id) {
        domain::Operations ops(*store_, *s.space);
        if (auto op = ops.get(op_id))
          for (const char* known : {"c8y_Command", "c8y_LogfileRequest"})
            if (op->contains(known)) frag = known;
      }
      if (!reason.empty()) {
        if (frag == "c8y_Command") extra["c8y_Command"] = {{"result", reason}};
        if (frag == "c8y_LogfileRequest") extra["c8y_LogfileRequest"] = {{"file", reason}};
      }
      break;
    }
    default:
      break;
  }
  domain::Operations ops(*store_, *s.space);
  ops.actor = s.user;
  for (auto& r : ops.apply(*t, target, fragment, op_id, extra)) {
    if (r.status.not_found()) {
      out.error = smartrest::TemplateError{
          45, by_id ? "No operation " + common::echo_value(field(1)) + " for this device"
                    : "No " + std::string(domain::to_string(*domain::selects(*t))) + " operation" +
                          (fragment.empty() ? "" : " with " + fragment)};
      continue;
    }
    if (!r.error.empty()) {
      out.error = smartrest::TemplateError{domain::kTransitionErrorCode, r.error};
      continue;
    }
    if (!r.status.ok()) {
      out.status = r.status;
      return out;
    }
    streams_.publish(s.tenant, policy::Mode::kPersistent, "operations", target, "UPDATE",
                     r.operation);
    if (r.operation.value("status", "") == "SUCCESSFUL") {
      out.status = device_results(s, target, r.operation);
      if (!out.status.ok()) return out;
    }
  }
  return out;
}

}  // namespace c8y::app

#include "plugin/app/operation_delivery.h"

#include <nlohmann/json.hpp>
#include <unordered_map>

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

unsigned OperationDelivery::channel_of(std::string_view filter) {
  if (filter == "s/ds") return kSmartRest;
  if (filter == "devicecontrol/notifications" || filter == "notification/operations") return kJson;
  if (filter == "s/dd" || filter.starts_with("s/dc/")) return kTemplates;
  return 0;
}

void OperationDelivery::subscribed(const Session& s, std::string_view filter) {
  if (s.role != policy::Role::kDevice) return;
  if (const unsigned channel = channel_of(filter)) pending_.emplace_back(s.conn, channel);
}

void OperationDelivery::flush() {
  if (pending_.empty()) return;
  auto pending = std::move(pending_);
  pending_.clear();
  // One delivery per connection with the channels it subscribed to since the last tick.
  std::unordered_map<ConnId, unsigned> conns;
  for (auto& [c, ch] : pending) conns[c] |= ch;
  for (auto& [c, channels] : conns)
    if (Session* s = sessions_.find(c)) send_pending(*s, channels);
}

void OperationDelivery::send(Session& s, const json& op, unsigned channels) {
  domain::Inventory inv(store_, *s.space);
  auto device = domain::parse_id(op.value("deviceId", ""));
  if (!device) return;
  const std::string serial = *device == s.device_id ? s.serial : serial_of(inv, *device);
  if (channels & kSmartRest) {
    for (auto& line : smartrest::render_operation(op, serial)) {
      if (line.size() > options_.message_size_limit) continue;  // never above the cap
      replies_.reply(s, "s/ds", line);
    }
  }
  if (channels & kTemplates) templates_.send_operation(s, op, serial);
  // The operation as JSON, naming its target device by external id (externalSource).
  if (channels & kJson) {
    for (const char* topic : {"devicecontrol/notifications", "notification/operations"}) {
      if (!DeviceReplies::subscribed(s, topic)) continue;
      json j = op;
      j["externalSource"] = {{"externalId", serial}, {"type", domain::kSerialType}};
      std::string text = j.dump();
      if (text.size() <= options_.message_size_limit) replies_.reply(s, topic, text);
    }
  }
}

void OperationDelivery::deliver(const std::string& tenant, const std::string& op_id) {
  auto* space = spaces_.get(tenant);
  auto id = domain::parse_id(op_id);
  if (!space || !id) return;
  domain::Operations ops(store_, *space);
  auto op = ops.get(*id);
  if (!op || op->value("status", "") != "PENDING") return;
  domain::Inventory inv(store_, *space);
  auto device = domain::parse_id(op->value("deviceId", ""));
  auto agent = device ? agent_of(inv, *device) : std::nullopt;
  if (!agent) return;
  sessions_.for_each([&](Session& s) {
    if (s.space != space || s.role != policy::Role::kDevice || s.device_id != *agent) return;
    // A channel the device subscribed to since the last tick gets every PENDING operation, this
    // one included, later in this tick (send_pending): sending it here too would deliver it twice.
    unsigned queued = 0;
    for (auto& [c, channels] : pending_)
      if (c == s.conn) queued |= channels;
    if (const unsigned channels = kAll & ~queued) send(s, *op, channels);
  });
}

void OperationDelivery::send_pending(Session& s, unsigned channels) {
  if (s.role != policy::Role::kDevice || !s.space) return;
  domain::Inventory inv(store_, *s.space);
  if (!s.device_id) {
    auto existing = inv.find_external(domain::kSerialType, s.serial);
    if (!existing) return;  // no device yet: nothing can be pending for it
    s.device_id = *existing;
  }
  domain::Operations ops(store_, *s.space);
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
      send(s, op, channels);
}

}  // namespace c8y::app

#include "plugin/app/devices.h"

#include <algorithm>

#include "plugin/domain/inventory.h"

namespace c8y::app {

namespace {
// How far in_hierarchy walks up from an object before giving up.
constexpr int kMaxHierarchyDepth = 16;
// The child devices a session remembers (it looks up the others each time).
constexpr size_t kMaxCachedChildren = 1024;
}  // namespace

// A device created implicitly (100, first data, first-level child) is a CREATE on the
// tenant's inventory streams like one created over REST or by 101.
void DeviceResolver::notify(Session& s, uint64_t id, std::string_view action) {
  if (!streams_.wanted(s.tenant)) return;
  domain::Inventory inv(store_, *s.space);
  if (auto mo = inv.get(id))
    streams_.publish(s.tenant, policy::Mode::kPersistent, "inventory", id, action, *mo);
}

bool DeviceResolver::find_own_device(Session& s) {
  domain::Inventory inv(store_, *s.space);
  auto id = inv.find_external(domain::kSerialType, s.serial);
  if (!id) return false;
  s.device_id = *id;
  presence_.set(s.space, *id, true);
  return true;
}

uint64_t DeviceResolver::own_device(Session& s, const std::string& name, const std::string& type,
                                    storage::StoreStatus* st) {
  if (s.device_id) return s.device_id;
  domain::Inventory inv(store_, *s.space);
  domain::DeviceSpec spec;
  spec.serial = s.serial;
  spec.name = name;
  spec.type = type;
  spec.owner = s.user;
  auto r = inv.ensure_device(spec);
  *st = r.status;
  if (!r.status.ok()) return 0;
  s.device_id = r.id;
  presence_.set(s.space, r.id, true);
  if (r.created) device_created(s, r.id);
  return r.id;
}

uint64_t DeviceResolver::child_device(Session& s, std::string_view child, storage::StoreStatus* st,
                                      std::string* error) {
  if (s.has_extra())
    if (auto it = s.extra().children.find(std::string(child)); it != s.extra().children.end())
      return it->second;
  uint64_t root = own_device(s, "", "", st);
  if (!root) return 0;
  domain::Inventory inv(store_, *s.space);
  uint64_t id = 0;
  if (auto existing = inv.find_external(domain::kSerialType, child)) {
    // The child must be below the publishing device (not the device itself).
    if (*existing == root || !in_hierarchy(s, *existing)) {
      *error = "Device " + std::string(child) + " is not a child of this device";
      return 0;
    }
    id = *existing;
  } else {
    domain::DeviceSpec spec;
    spec.serial = std::string(child);
    spec.type = "c8y_MQTTChildDevice";
    spec.parent = root;
    spec.agent_marker = false;
    spec.owner = s.user;
    auto r = inv.ensure_device(spec);
    *st = r.status;
    if (!r.status.ok()) return 0;
    id = r.id;
    if (r.created) device_created(s, id);
  }
  if (auto& children = s.extra_mut().children; children.size() < kMaxCachedChildren)
    children.emplace(std::string(child), id);
  return id;
}

bool DeviceResolver::in_hierarchy(Session& s, uint64_t id) {
  storage::StoreStatus st;
  const uint64_t root = own_device(s, "", "", &st);
  if (!root) return false;
  domain::Inventory inv(store_, *s.space);
  uint64_t cur = id;
  for (int depth = 0; depth < kMaxHierarchyDepth; ++depth) {
    if (cur == root) return true;
    auto mo = inv.get(cur);
    if (!mo) return false;
    auto parent = inv.parent_of(*mo);
    if (!parent) return false;
    cur = *parent;
  }
  return false;
}

void DeviceResolver::forget(Session& s, uint64_t id) {
  if (s.device_id == id) s.device_id = 0;
  if (s.has_extra()) std::erase_if(s.extra_mut().children, [&](auto& c) { return c.second == id; });
}

}  // namespace c8y::app

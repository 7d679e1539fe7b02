#include "plugin/app/presence.h"

#include <vector>

#include "plugin/domain/inventory.h"

namespace c8y::app {

void PresenceTracker::set(domain::TenantSpace* space, uint64_t device, bool connected) {
  Key k{space, device};
  const int n = (online_[k] += connected ? 1 : -1);
  if (n <= 0) online_.erase(k);
  // Only the first connection and the last disconnection of a device change what is shown.
  if ((connected && n == 1) || (!connected && n <= 0)) dirty_[k] = connected;
}

void PresenceTracker::flush() {
  for (auto& [k, connected] : dirty_) {
    domain::Inventory inv(store_, *k.space);
    // A failure leaves the status as it was; the next change of the device writes it again.
    if (auto st = inv.set_connection(k.device, connected); !st.ok() && !st.not_found())
      log_(LogLevel::kWarning, "c8y: connection status of device " + domain::format_id(k.device) +
                                   " not written: " + st.message);
  }
  dirty_.clear();
}

void PresenceTracker::flush_if_due(std::chrono::steady_clock::time_point now) {
  if (dirty_.empty() || now - last_flush_ <= std::chrono::seconds(1)) return;
  last_flush_ = now;
  flush();
}

size_t PresenceTracker::mark_all_disconnected(domain::TenantSpaces& spaces) {
  size_t n = 0;
  for (auto* space : spaces.all()) {
    std::vector<uint64_t> ids;
    if (auto st = domain::Inventory(store_, *space).connected_devices(&ids); !st.ok())
      log_(LogLevel::kWarning,
           "c8y: connected devices of tenant " + space->id + " not read: " + st.message);
    for (auto id : ids) dirty_[{space, id}] = false;
    n += ids.size();
  }
  flush();
  return n;
}

}  // namespace c8y::app

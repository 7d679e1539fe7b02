// Presence: c8y_Connection.status of devices. One job: count the live connections of each
// device, and write CONNECTED at the first and DISCONNECTED after the last, batched (flush). At
// start, devices left CONNECTED by a previous run (Mosquitto reports no disconnects at shutdown)
// are shown DISCONNECTED. Broker thread only. Depends on: domain (inventory), a log function.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "plugin/app/broker_port.h"
#include "plugin/domain/tenant_space.h"
#include "storage/store.h"

namespace c8y::app {

class PresenceTracker {
 public:
  PresenceTracker(storage::Store& store, Log log) : store_(store), log_(std::move(log)) {}

  // A connection of `device` opened (connected) or closed.
  void set(domain::TenantSpace* space, uint64_t device, bool connected);
  // Writes every pending change now.
  void flush();
  // flush() at most once a second (called on every tick).
  void flush_if_due(std::chrono::steady_clock::time_point now);
  // Start: every device shown CONNECTED in any tenant is written DISCONNECTED. Returns how many.
  size_t mark_all_disconnected(domain::TenantSpaces& spaces);
  bool pending() const { return !dirty_.empty(); }

 private:
  struct Key {
    domain::TenantSpace* space;
    uint64_t device;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<const void*>()(k.space) ^ std::hash<uint64_t>()(k.device);
    }
  };
  storage::Store& store_;
  Log log_;
  std::unordered_map<Key, int, KeyHash> online_;  // live connections per device
  std::unordered_map<Key, bool, KeyHash> dirty_;  // status to write
  std::chrono::steady_clock::time_point last_flush_{};
};

}  // namespace c8y::app

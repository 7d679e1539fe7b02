// Devices: which managed object a device's publish is for. One job: resolve the connecting
// device (created on demand with the defaults of 100) and the child devices named in topics
// (created below it on first use, or checked to be below it), cache them in the session, and
// publish the inventory changes this causes on the tenant's streams. Broker thread only.
// Depends on: domain (inventory), the PresenceTracker (a device found is connected), the
// StreamPublisher.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plugin/app/presence.h"
#include "plugin/app/session.h"
#include "plugin/app/stream_publisher.h"
#include "storage/store.h"

namespace c8y::app {

class DeviceResolver {
 public:
  DeviceResolver(storage::Store& store, PresenceTracker& presence, StreamPublisher& streams)
      : store_(store), presence_(presence), streams_(streams) {}

  // The device the session publishes for; created on demand (name and type when given, else the
  // defaults of 100). 0 with `st` set on a storage failure.
  uint64_t own_device(Session& s, const std::string& name, const std::string& type,
                      storage::StoreStatus* st);
  // A child device named in a topic: created below the session's device on first use. 0 with
  // `st` set (storage failure) or `error` set (a device that exists but is not below this one).
  uint64_t child_device(Session& s, std::string_view child, storage::StoreStatus* st,
                        std::string* error);
  // The device a topic names: the child `child`, or the session's device when it is empty.
  uint64_t target(Session& s, std::string_view child, storage::StoreStatus* st,
                  std::string* error) {
    return child.empty() ? own_device(s, "", "", st) : child_device(s, child, st, error);
  }
  // The session's device or one below it (any depth), by walking parents from `id`.
  bool in_hierarchy(Session& s, uint64_t id);
  // Finds an existing device object of the session's serial (at connect, and by 100): cached and
  // marked connected. False if there is none.
  bool find_own_device(Session& s);
  // Forgets `id` in the session's caches (the object was deleted).
  static void forget(Session& s, uint64_t id);
  // The object `id` changed or was created: an UPDATE or CREATE on the tenant's inventory
  // streams (nothing is read when nobody listens).
  void inventory_changed(Session& s, uint64_t id) { notify(s, id, "UPDATE"); }
  void device_created(Session& s, uint64_t id) { notify(s, id, "CREATE"); }

 private:
  void notify(Session& s, uint64_t id, std::string_view action);
  storage::Store& store_;
  PresenceTracker& presence_;
  StreamPublisher& streams_;
};

}  // namespace c8y::app

// Device availability on the broker: lastMessage and c8y_Availability of devices that send
// data, and c8y_UnavailabilityAlarm for devices with c8y_RequiredAvailability that went quiet
// for longer than their interval (cleared by their next data). One job; the deadline bookkeeping
// is the pure AvailabilityMonitor (availability.h). Broker thread only. Depends on: domain
// (inventory, alarms), the DeviceResolver (inventory stream updates), the StreamPublisher, a log
// function.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "plugin/app/availability.h"
#include "plugin/app/devices.h"
#include "plugin/app/session.h"
#include "plugin/app/stream_publisher.h"
#include "plugin/domain/tenant_space.h"
#include "storage/store.h"

namespace c8y::app {

class DeviceAvailability {
 public:
  DeviceAvailability(storage::Store& store, DeviceResolver& devices, StreamPublisher& streams,
                     Log log)
      : store_(store), devices_(devices), streams_(streams), log_(std::move(log)) {}

  // Data from `device` of the session at `now` (any data counts): lastMessage, and the
  // unavailability alarm cleared. Noted at most once per 100 ms per session and device.
  void note_data(Session& s, uint64_t device, int64_t now);
  // A REST change of a managed object: its interval is read again (or it is forgotten).
  void object_changed(domain::TenantSpace* space, uint64_t id, bool deleted);
  // 117 changed the device's required interval (`mo`: the object now).
  void interval_changed(domain::TenantSpace* space, uint64_t id, const nlohmann::json& mo);
  // Startup: every device of every tenant that asks for monitoring is watched, so a device that
  // never comes back after a restart still gets its alarm. Returns how many.
  size_t watch_monitored_devices(domain::TenantSpaces& spaces);
  // Raises the alarm of every device overdue at `now` (called on ticks).
  void check(int64_t now);

 private:
  void watch(domain::TenantSpace* space, uint64_t id, const nlohmann::json& mo, int64_t now);
  storage::Store& store_;
  DeviceResolver& devices_;
  StreamPublisher& streams_;
  Log log_;
  AvailabilityMonitor monitor_;
};

}  // namespace c8y::app

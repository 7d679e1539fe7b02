#include "plugin/app/device_availability.h"

#include "plugin/common/values.h"
#include "plugin/domain/alarms.h"
#include "plugin/domain/inventory.h"

namespace c8y::app {

using nlohmann::json;

namespace {

constexpr const char* kUnavailabilityAlarm = "c8y_UnavailabilityAlarm";
// The audit records' user for the unavailability alarm: the monitor raises and clears it, not
// the device (the platform's own availability service does this there).
constexpr const char* kAvailabilityActor = "device-availability";

// c8y_RequiredAvailability.responseInterval (minutes) in milliseconds; nullopt when absent or
// not positive (not monitored).
std::optional<int64_t> required_interval_ms(const json& mo) {
  auto it = mo.find("c8y_RequiredAvailability");
  if (it == mo.end() || !it->is_object()) return std::nullopt;
  auto v = it->find("responseInterval");
  if (v == it->end() || !v->is_number() || v->get<double>() <= 0) return std::nullopt;
  return static_cast<int64_t>(v->get<double>() * 60'000);
}

}  // namespace

void DeviceAvailability::note_data(Session& s, uint64_t device, int64_t now) {
  // A device that publishes many messages a second is noted once per 100 ms: the deadlines and
  // lastMessage are far coarser than that, and the hot path skips the lookups.
  if (device == s.noted_device && now - s.noted_ms < 100 && now >= s.noted_ms) return;
  s.noted_device = device;
  s.noted_ms = now;
  const AvailabilityMonitor::Key key{s.space, device};
  std::optional<int64_t> interval;
  domain::Inventory inv(store_, *s.space);
  if (!monitor_.knows(key)) {
    auto mo = inv.get(device);
    interval = mo ? required_interval_ms(*mo) : std::nullopt;
  }
  auto r = monitor_.on_data(key, now, interval);
  if (r.was_unavailable) {
    domain::Alarms alarms(store_, *s.space);
    alarms.actor = kAvailabilityActor;
    auto c = alarms.clear(device, kUnavailabilityAlarm);
    if (c.status.ok())
      streams_.publish(s.tenant, policy::Mode::kPersistent, "alarms", device, "UPDATE", c.alarm);
  }
  if (r.write_last_message || r.was_unavailable) {
    if (inv.merge(device,
                  {{"c8y_Availability",
                    {{"status", "AVAILABLE"}, {"lastMessage", common::format_iso8601_ms(now)}}}})
            .ok())
      devices_.inventory_changed(s, device);
  }
}

void DeviceAvailability::object_changed(domain::TenantSpace* space, uint64_t id, bool deleted) {
  const AvailabilityMonitor::Key key{space, id};
  if (deleted) {
    monitor_.forget(key);
    return;
  }
  domain::Inventory inv(store_, *space);
  auto mo = inv.get(id);
  if (!mo) return;
  if (monitor_.knows(key))
    monitor_.set_interval(key, required_interval_ms(*mo));
  else
    watch(space, id, *mo, now_ms());
}

void DeviceAvailability::interval_changed(domain::TenantSpace* space, uint64_t id, const json& mo) {
  monitor_.set_interval({space, id}, required_interval_ms(mo));
}

// A device with c8y_RequiredAvailability that has not sent data since this process started.
// Its deadline counts from `now`: the broker's own downtime is not held against the device.
void DeviceAvailability::watch(domain::TenantSpace* space, uint64_t id, const json& mo,
                               int64_t now) {
  auto interval = required_interval_ms(mo);
  if (!interval) return;
  const auto& av = mo.contains("c8y_Availability") ? mo["c8y_Availability"] : json();
  const bool unavailable = av.is_object() && av.value("status", "") == "UNAVAILABLE";
  monitor_.watch({space, id}, now, *interval, unavailable);
}

// Startup: every device of every tenant that asks for availability monitoring is watched, so a
// device that never comes back after a restart still gets its c8y_UnavailabilityAlarm. One
// pass over the managed objects; only those whose JSON names the fragment are parsed.
size_t DeviceAvailability::watch_monitored_devices(domain::TenantSpaces& spaces) {
  size_t n = 0;
  const int64_t now = now_ms();
  for (auto* space : spaces.all()) {
    domain::Inventory inv(store_, *space);
    auto st = inv.for_each_containing("c8y_RequiredAvailability", [&](uint64_t id, const json& mo) {
      if (!required_interval_ms(mo)) return true;
      watch(space, id, mo, now);
      ++n;
      return true;
    });
    if (!st.ok())
      log_(LogLevel::kWarning,
           "c8y: monitored devices of tenant " + space->id + " not all read: " + st.message);
  }
  return n;
}

void DeviceAvailability::check(int64_t now) {
  for (auto& key : monitor_.due(now)) {
    auto* space = static_cast<domain::TenantSpace*>(const_cast<void*>(key.space));
    domain::Alarms alarms(store_, *space);
    alarms.actor = kAvailabilityActor;
    auto r = alarms.raise(key.device, now, kUnavailabilityAlarm, "MAJOR",
                          "No data received from the device within the required interval.",
                          json::object());
    if (r.status.ok())
      streams_.publish(space->id, policy::Mode::kPersistent, "alarms", key.device,
                       r.created ? "CREATE" : "UPDATE", r.alarm);
    else if (!r.status.not_found())  // a device deleted meanwhile has nothing to show
      log_(LogLevel::kWarning, "c8y: cannot raise the unavailability alarm of device " +
                                   domain::format_id(key.device) + ": " + r.status.message);
    domain::Inventory inv(store_, *space);
    auto st = inv.merge(key.device, {{"c8y_Availability", {{"status", "UNAVAILABLE"}}}});
    if (!st.ok() && !st.not_found())
      log_(LogLevel::kWarning, "c8y: cannot mark device " + domain::format_id(key.device) +
                                   " unavailable: " + st.message);
  }
}

}  // namespace c8y::app

// Device availability: the last time each device sent data, and which devices went
// quiet for longer than their required interval (117 / c8y_RequiredAvailability).
//
// A deadline queue: a min-heap of (deadline, device). Data from a device only moves the
// device's deadline in a hash map (no heap work per message); when a heap entry falls due, the
// map says whether the device was heard from since (then the entry is pushed again with the
// new deadline: one heap operation per interval per device) or is really overdue. So the cost of
// a check grows with the devices that are due, not with all devices.
// Pure logic (no storage, no clock): the caller passes the time. Broker thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <unordered_map>
#include <vector>

namespace c8y::app {

class AvailabilityMonitor {
 public:
  // A device: the caller's key (for example tenant space and managed-object id, hashed).
  struct Key {
    const void* space = nullptr;
    uint64_t device = 0;
    bool operator==(const Key&) const = default;
  };

  struct DataResult {
    bool was_unavailable = false;     // the device had been reported overdue: clear its alarm
    bool write_last_message = false;  // time to persist lastMessage (throttled)
  };

  // The device sent data at `now_ms`. `interval_ms`: its required interval (nullopt or <= 0:
  // not monitored). Throttles lastMessage writes to one per `write_every_ms` per device.
  DataResult on_data(const Key& k, int64_t now_ms, std::optional<int64_t> interval_ms);
  // Starts watching a device not heard from since this process started (a startup scan, or a
  // REST update of a device that sent nothing yet): its deadline counts from `now_ms`.
  // `unavailable`: it was reported overdue before (its alarm is active; not reported again).
  void watch(const Key& k, int64_t now_ms, int64_t interval_ms, bool unavailable);
  // Changes a device's interval (117 or a REST update); the deadline counts from its last data.
  void set_interval(const Key& k, std::optional<int64_t> interval_ms);
  bool knows(const Key& k) const { return devices_.count(k) > 0; }
  // Devices overdue at `now_ms` that were not reported before; each is reported once until it
  // sends data again.
  std::vector<Key> due(int64_t now_ms);
  size_t heap_size() const { return heap_.size(); }
  void forget(const Key& k) { devices_.erase(k); }

  int64_t write_every_ms = 60'000;

 private:
  struct Hash {
    size_t operator()(const Key& k) const {
      return std::hash<const void*>()(k.space) ^ (std::hash<uint64_t>()(k.device) * 31);
    }
  };
  struct State {
    int64_t last_data = 0;
    int64_t interval = 0;  // <= 0: not monitored
    int64_t last_written = INT64_MIN;
    int64_t queued_deadline = INT64_MAX;  // deadline of this device's live heap entry
    uint64_t entry = 0;                   // serial of that entry; older entries are stale
    bool unavailable = false;
  };
  struct Entry {
    int64_t deadline;
    Key key;
    uint64_t serial;
    bool operator>(const Entry& o) const { return deadline > o.deadline; }
  };
  uint64_t next_serial_ = 0;  // over all devices, so an entry never matches a later device state
  void schedule(const Key& k, State& s);
  std::unordered_map<Key, State, Hash> devices_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
};

}  // namespace c8y::app

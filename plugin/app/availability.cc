#include "plugin/app/availability.h"

namespace c8y::app {

namespace {

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

}  // namespace

void AvailabilityMonitor::schedule(const Key& k, State& s) {
  if (s.interval <= 0 || s.unavailable) return;
  const int64_t deadline = saturating_add(s.last_data, s.interval);
  // A live entry at or before this deadline re-checks the device when it falls due: nothing
  // to push. Only an earlier deadline (a shorter interval) needs a new entry; the old one is
  // then stale and skipped when popped.
  if (s.queued_deadline <= deadline) return;
  s.entry = ++next_serial_;
  s.queued_deadline = deadline;
  heap_.push({deadline, k, s.entry});
}

AvailabilityMonitor::DataResult AvailabilityMonitor::on_data(const Key& k, int64_t now_ms,
                                                             std::optional<int64_t> interval_ms) {
  DataResult r;
  State& s = devices_[k];
  s.last_data = now_ms;
  if (interval_ms) s.interval = *interval_ms;
  if (s.unavailable) {
    s.unavailable = false;
    r.was_unavailable = true;
  }
  if (s.last_written == INT64_MIN || now_ms - s.last_written >= write_every_ms ||
      r.was_unavailable) {
    s.last_written = now_ms;
    r.write_last_message = true;
  }
  schedule(k, s);
  return r;
}

void AvailabilityMonitor::watch(const Key& k, int64_t now_ms, int64_t interval_ms,
                                bool unavailable) {
  if (devices_.count(k)) return;  // already watched: its own data decides
  State& s = devices_[k];
  s.last_data = now_ms;
  s.interval = interval_ms;
  s.unavailable = unavailable;
  schedule(k, s);
}

void AvailabilityMonitor::set_interval(const Key& k, std::optional<int64_t> interval_ms) {
  auto it = devices_.find(k);
  if (it == devices_.end()) return;
  it->second.interval = interval_ms.value_or(0);
  schedule(k, it->second);
}

std::vector<AvailabilityMonitor::Key> AvailabilityMonitor::due(int64_t now_ms) {
  std::vector<Key> out;
  while (!heap_.empty() && heap_.top().deadline <= now_ms) {
    Entry e = heap_.top();
    heap_.pop();
    auto it = devices_.find(e.key);
    if (it == devices_.end() || it->second.entry != e.serial) continue;  // forgotten or stale
    State& s = it->second;
    s.queued_deadline = INT64_MAX;
    if (s.interval <= 0 || s.unavailable) continue;
    const int64_t deadline = saturating_add(s.last_data, s.interval);
    if (deadline > now_ms) {
      schedule(e.key, s);  // heard from since: wait for the new deadline
      continue;
    }
    s.unavailable = true;
    out.push_back(e.key);
  }
  return out;
}

}  // namespace c8y::app

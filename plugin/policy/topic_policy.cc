#include "plugin/policy/topic_policy.h"

#include "plugin/policy/topic_route.h"

namespace c8y::policy {
namespace {

constexpr size_t kMaxTenantLength = 32;

bool is_valid_tenant(std::string_view tenant) noexcept {
  if (tenant.empty() || tenant.size() > kMaxTenantLength) return false;
  for (const char ch : tenant) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) return false;
  }
  return true;
}

// Walks the levels of a topic or filter one at a time, without allocating.
class LevelCursor {
 public:
  explicit LevelCursor(std::string_view topic) : rest_(topic) {}

  // The next level, or false when there is none left.
  bool next(std::string_view& level) noexcept {
    if (done_) return false;
    const size_t slash = rest_.find('/');
    if (slash == std::string_view::npos) {
      level = rest_;
      done_ = true;
    } else {
      level = rest_.substr(0, slash);
      rest_.remove_prefix(slash + 1);
    }
    return true;
  }
  bool done() const noexcept { return done_; }

 private:
  std::string_view rest_;
  bool done_ = false;
};

// Filters a device may subscribe to: its downstream topics, all with the s prefix (there are no
// t/, q/ or c/ downstream topics).
bool is_device_filter(std::string_view filter) noexcept {
  if (filter == "s/ds" || filter == "s/dd" || filter == "s/dt" || filter == "s/e" ||
      filter == "s/dat" || filter == "error" || filter == "devicecontrol/notifications" ||
      filter == "notification/operations") {
    return true;
  }
  constexpr std::string_view kCustomDown = "s/dc/";
  if (!filter.starts_with(kCustomDown)) return false;
  const std::string_view xid = filter.substr(kCustomDown.size());
  return xid == "+" || xid == "#" || is_id_level(xid);
}

bool is_bootstrap_filter(std::string_view filter) noexcept {
  return filter == "s/dcr" || filter == "s/e";
}

bool is_stream_name(std::string_view level) noexcept {
  return level == "notifications" || level == "processing";
}

bool is_stream_api(std::string_view level) noexcept {
  return level == "inventory" || level == "measurements" || level == "events" ||
         level == "alarms" || level == "operations";
}

// tenants/<tenant>/<stream>/<api>/<device id>. With `wildcards`, any level after the
// tenant may be '+' and the last level may be '#', also as a sixth level.
bool is_stream_topic(std::string_view tenant, std::string_view topic, bool wildcards) noexcept {
  LevelCursor cursor(topic);
  std::string_view level;
  if (!cursor.next(level) || level != "tenants") return false;
  // Whole-level comparison: "t1" never matches the tenant "t10", and a wildcard never matches
  // a (validated, wildcard-free) tenant.
  if (!cursor.next(level) || level != tenant) return false;
  constexpr int kDeviceLevel = 4;
  int index = 2;
  for (; cursor.next(level); ++index) {
    if (wildcards && level == "#") return cursor.done();  // '#' must be the last level
    if (index > kDeviceLevel) return false;               // below the device id: only '#'
    if (wildcards && level == "+") continue;
    switch (index) {
      case 2:
        if (!is_stream_name(level)) return false;
        break;
      case 3:
        if (!is_stream_api(level)) return false;
        break;
      default:
        if (!is_id_level(level)) return false;
        break;
    }
  }
  return index == kDeviceLevel + 1;
}

bool device_allowed(Access access, std::string_view topic) noexcept {
  switch (access) {
    case Access::kWrite: {
      const auto route = route_upstream(topic);
      return route && route->channel != Channel::kBootstrap;
    }
    case Access::kSubscribe:
    case Access::kUnsubscribe:
      return is_device_filter(topic);
    case Access::kRead:
      return false;
  }
  return false;
}

bool bootstrap_allowed(Access access, std::string_view topic) noexcept {
  switch (access) {
    case Access::kWrite:
      return topic == "s/ucr";
    case Access::kSubscribe:
    case Access::kUnsubscribe:
      return is_bootstrap_filter(topic);
    case Access::kRead:
      return false;
  }
  return false;
}

bool admin_allowed(std::string_view tenant, Access access, std::string_view topic) noexcept {
  switch (access) {
    case Access::kWrite:
      return false;
    case Access::kSubscribe:
    case Access::kUnsubscribe:
      return is_stream_topic(tenant, topic, /*wildcards=*/true);
    case Access::kRead:
      return is_stream_topic(tenant, topic, /*wildcards=*/false);
  }
  return false;
}

}  // namespace

bool allowed(const Caller& caller, Access access, std::string_view topic) noexcept {
  if (!is_valid_tenant(caller.tenant)) return false;
  if (topic.empty() || topic.size() > kMaxTopicLength || topic[0] == '$') return false;
  if (topic.find('\0') != topic.npos) return false;
  switch (caller.role) {
    case Role::kDevice:
      return device_allowed(access, topic);
    case Role::kBootstrap:
      return bootstrap_allowed(access, topic);
    case Role::kAdmin:
      return admin_allowed(caller.tenant, access, topic);
  }
  return false;
}

}  // namespace c8y::policy

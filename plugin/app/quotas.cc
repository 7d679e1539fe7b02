#include "plugin/app/quotas.h"

#include <string>

#include "plugin/identity/limits.h"

namespace c8y::app {

void Quotas::refresh(std::chrono::steady_clock::time_point now, bool force) {
  const bool limits_due = force || now - last_limits_ >= std::chrono::seconds(1);
  const bool storage_due = force || now - last_storage_ >= std::chrono::seconds(5);
  if (!limits_due && !storage_due) return;
  if (limits_due) last_limits_ = now;
  if (storage_due) last_storage_ = now;
  for (domain::TenantSpace* space : spaces_.all()) {
    if (limits_due) {
      auto record = directory_.tenant(space->id);
      space->limits.set(record ? identity::effective_limits(record->options, options_.limits)
                               : options_.limits);
    }
    if (storage_due || limits_due) {
      const uint64_t limit = space->limits.stored_bytes();
      space->limits.set_over_storage(limit != 0 && store_.family_bytes(space->family) > limit);
    }
  }
}

bool Quotas::admit_device(domain::TenantSpace& space, bool already_live) const {
  const uint64_t limit = space.limits.devices();
  if (limit == 0 || already_live) return true;
  if (space.metrics.devices_connected.get() < static_cast<int64_t>(limit)) return true;
  space.metrics.limit_hit(common::LimitKind::kDevices);
  return false;
}

std::optional<common::LimitKind> Quotas::admit_message_at(Session& s,
                                                          const policy::TopicRoute& route,
                                                          int64_t now_ns) {
  domain::TenantSpace* space = s.space;
  if (!space || s.role != policy::Role::kDevice) return std::nullopt;
  std::optional<common::LimitKind> refused;
  const double burst_s = options_.limit_burst_s;
  const double device_rate = space->limits.device_rate();
  const double tenant_rate = space->limits.tenant_rate();
  if (space->limits.over_storage()) {
    refused = common::LimitKind::kStoredBytes;
  } else if (device_rate > 0 &&
             !s.extra_mut().message_bucket.take(device_rate, device_rate * burst_s, now_ns)) {
    refused = common::LimitKind::kDeviceRate;
  } else if (tenant_rate > 0 &&
             !space->message_bucket.take(tenant_rate, tenant_rate * burst_s, now_ns)) {
    refused = common::LimitKind::kTenantRate;
    if (device_rate > 0)
      s.extra_mut().message_bucket.give_back();  // the device's token was not used
  }
  if (refused) {
    space->metrics.limit_hit(*refused);
    report(s, route, *refused, now_ns);
  }
  return refused;
}

void Quotas::report(Session& s, const policy::TopicRoute& route, common::LimitKind kind,
                    int64_t now_ns) {
  SessionExtra& x = s.extra_mut();
  if (x.limit_noticed && now_ns - x.limit_notice_ns < 1'000'000'000) return;
  x.limit_noticed = true;
  x.limit_notice_ns = now_ns;
  std::string text;
  switch (kind) {
    case common::LimitKind::kDeviceRate:
      text = "Too many messages: this device may send " +
             common::format_rate(s.space->limits.device_rate()) + " messages per second";
      break;
    case common::LimitKind::kTenantRate:
      text = "Too many messages: the devices of tenant " + s.tenant + " may send " +
             common::format_rate(s.space->limits.tenant_rate()) + " messages per second together";
      break;
    case common::LimitKind::kStoredBytes:
      text = "Storage limit reached: tenant " + s.tenant + " stores more than " +
             std::to_string(s.space->limits.stored_bytes()) + " bytes";
      break;
    case common::LimitKind::kDevices:
    case common::LimitKind::kRestRate:
      return;
  }
  text += "; messages over the limit are not processed (this notice comes at most once a second)";
  if (route.channel == policy::Channel::kJson)
    replies_.json_error(s, "general/limitExceeded", text);
  else
    replies_.error_line(s, 50, "", text);
}

}  // namespace c8y::app

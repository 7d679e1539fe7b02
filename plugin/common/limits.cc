#include "plugin/common/limits.h"

#include <algorithm>
#include <cstdio>

namespace c8y::common {

const char* limit_name(LimitKind kind) noexcept {
  switch (kind) {
    case LimitKind::kDevices:
      return "devices";
    case LimitKind::kDeviceRate:
      return "device_messages_per_second";
    case LimitKind::kTenantRate:
      return "tenant_messages_per_second";
    case LimitKind::kStoredBytes:
      return "stored_bytes";
    case LimitKind::kRestRate:
      return "rest_requests_per_second";
  }
  return "other";
}

std::string format_rate(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", rate);
  return buf;
}

bool TokenBucket::take(double rate, double burst, int64_t now_ns) noexcept {
  burst = std::max(burst, 1.0);
  if (tokens_ < 0) {
    tokens_ = burst;
  } else if (now_ns > last_ns_) {
    tokens_ = std::min(burst, tokens_ + static_cast<double>(now_ns - last_ns_) * 1e-9 * rate);
  }
  last_ns_ = std::max(last_ns_, now_ns);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

double TokenBucket::wait_seconds(double rate) const noexcept {
  if (tokens_ < 0 || tokens_ >= 1) return 0;
  return rate > 0 ? (1 - tokens_) / rate : 0;
}

void TenantLimits::set(const Limits& l) noexcept {
  devices_.store(l.devices, std::memory_order_relaxed);
  device_rate_.store(l.device_messages_per_s, std::memory_order_relaxed);
  tenant_rate_.store(l.tenant_messages_per_s, std::memory_order_relaxed);
  rest_rate_.store(l.rest_requests_per_s, std::memory_order_relaxed);
  stored_bytes_.store(l.stored_bytes, std::memory_order_relaxed);
}

Limits TenantLimits::get() const noexcept {
  return {devices(), device_rate(), tenant_rate(), stored_bytes(), rest_rate()};
}

}  // namespace c8y::common

// Per-tenant limits: what they are, the token bucket that enforces the rates, and the limits of
// one tenant as every thread reads them.
//
// A limit of 0 means "no limit". The broker thread checks the message rates for every PUBLISH of
// a device, so reading a tenant's limits is a few relaxed loads (TenantLimits) and a bucket is two
// plain fields (TokenBucket, owned by one thread).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace c8y::common {

struct Limits {
  uint64_t devices = 0;              // devices connected at once
  double device_messages_per_s = 0;  // PUBLISH packets of one device connection
  double tenant_messages_per_s = 0;  // PUBLISH packets of all the tenant's devices together
  uint64_t stored_bytes = 0;         // the tenant's column family (SST files and memtables)
  double rest_requests_per_s = 0;    // REST requests of one user
  bool operator==(const Limits&) const = default;
};

// Which limit refused something (metrics label, error texts).
enum class LimitKind { kDevices, kDeviceRate, kTenantRate, kStoredBytes, kRestRate };
inline constexpr size_t kLimitKinds = 5;
const char* limit_name(LimitKind kind) noexcept;
// A rate for a message: "10", "0.5".
std::string format_rate(double rate);

// A token bucket: `rate` tokens per second, holding at most `burst` (at least 1). Starts full.
// One thread owns it (no synchronisation).
class TokenBucket {
 public:
  // Takes one token if there is one.
  bool take(double rate, double burst, int64_t now_ns) noexcept;
  // Returns the token of the last take() (a later check refused what it was taken for).
  void give_back() noexcept { tokens_ += 1; }
  // Seconds until the next token (0 if one is there), after a take() at `now_ns`.
  double wait_seconds(double rate) const noexcept;

 private:
  double tokens_ = -1;  // < 0: not used yet (full)
  int64_t last_ns_ = 0;
};

// One tenant's effective limits (its own over the node's defaults), written by whoever applies a
// change and read by every thread with relaxed loads; `over_storage` is set while the tenant's
// stored bytes exceed its limit.
class TenantLimits {
 public:
  void set(const Limits& l) noexcept;
  Limits get() const noexcept;
  uint64_t devices() const noexcept { return devices_.load(std::memory_order_relaxed); }
  double device_rate() const noexcept { return device_rate_.load(std::memory_order_relaxed); }
  double tenant_rate() const noexcept { return tenant_rate_.load(std::memory_order_relaxed); }
  double rest_rate() const noexcept { return rest_rate_.load(std::memory_order_relaxed); }
  uint64_t stored_bytes() const noexcept { return stored_bytes_.load(std::memory_order_relaxed); }
  bool over_storage() const noexcept { return over_storage_.load(std::memory_order_relaxed); }
  void set_over_storage(bool over) noexcept {
    over_storage_.store(over, std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> devices_{0};
  std::atomic<double> device_rate_{0};
  std::atomic<double> tenant_rate_{0};
  std::atomic<double> rest_rate_{0};
  std::atomic<uint64_t> stored_bytes_{0};
  std::atomic<bool> over_storage_{false};
};

}  // namespace c8y::common

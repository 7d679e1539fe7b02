// Metrics: counters and gauges the plugin keeps while it works, and their Prometheus text
// exposition (format 0.0.4), served at GET /metrics.
//
// Cost on the broker thread: what only the broker thread writes (messages, bytes, connections of
// one tenant) is an OwnedCounter, a relaxed load and store (a plain add on x86, no locked
// instruction). What several threads write (REST requests, operations changed from REST and
// MQTT) is a Counter (relaxed fetch_add). A scrape reads everything with relaxed loads from a
// REST thread: each value is exact, the set is not a snapshot (counters keep running while it
// is written), as with every Prometheus client.
//
// No C++ Prometheus client is packaged in Debian 12, and the text format is a few lines: it is
// written here (MetricsText).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "plugin/common/limits.h"

namespace c8y::common {

// Written by one thread only (see above); read by any.
class OwnedCounter {
 public:
  void add(uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Written by any thread.
class Counter {
 public:
  void add(uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void add(int64_t n) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  void set(int64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  int64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// A latency histogram with fixed upper bounds in seconds (Prometheus's cumulative buckets are
// computed when written). Any thread may observe.
class Histogram {
 public:
  static constexpr std::array<double, 11> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0};
  void observe(double seconds) noexcept;
  // Per bucket (not cumulative), the last one is +Inf.
  uint64_t bucket(size_t i) const noexcept { return buckets_[i].load(std::memory_order_relaxed); }
  uint64_t count() const noexcept;
  double sum_seconds() const noexcept {
    return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
};

// What a device sent, one per SmartREST line or JSON item.
enum class MessageKind { kMeasurement, kEvent, kAlarm, kInventory, kOperation, kOther };
inline constexpr size_t kMessageKinds = 6;
const char* kind_name(MessageKind kind) noexcept;

// Why a CONNECT was refused.
enum class RefusalReason {
  kBadCredentials,  // unknown user, wrong password, no password, malformed user name
  kUnknownTenant,
  kDisabled,
  kBackoff,  // too many recent failures of this user or address
  kCertificate,
  kClientId,  // invalid, too long, held by another identity, or not the device's
  kQuota,     // the tenant's limit of connected devices
  kOther,
  kElsewhere,  // cluster: the tenant is placed on another node
};
inline constexpr size_t kRefusalReasons = 9;
const char* reason_name(RefusalReason reason) noexcept;

// Per tenant, kept in its TenantSpace.
struct TenantMetrics {
  // Broker thread only.
  std::array<OwnedCounter, kMessageKinds> received;
  OwnedCounter received_bytes;
  OwnedCounter sent_bytes;
  OwnedCounter errors_sent;
  OwnedCounter connections_accepted;
  std::array<OwnedCounter, kRefusalReasons> connections_refused;
  Gauge devices_connected;
  // Any thread: an operation reached this status (PENDING when created).
  std::array<Counter, 4> operations;  // PENDING, EXECUTING, SUCCESSFUL, FAILED
  // Any thread: what a limit refused (CONNECTs, PUBLISHes, REST requests), by LimitKind.
  std::array<Counter, 5> limited;
  // Any thread: what retention passes removed, by kRetentionKinds.
  std::array<Counter, 4> retention_removed;
  void limit_hit(LimitKind kind) noexcept { limited[static_cast<size_t>(kind)].add(); }

  void receive(MessageKind kind) noexcept { received[static_cast<size_t>(kind)].add(); }
  void refuse(RefusalReason reason) noexcept {
    connections_refused[static_cast<size_t>(reason)].add();
  }
  // `status` is an operation status name; anything else is not counted.
  void operation_reached(std::string_view status) noexcept;
};
extern const std::array<const char*, 4> kOperationStatuses;
extern const std::array<const char*, 4> kRetentionKinds;  // measurement, event, alarm, operation

// Per node (one broker process).
struct NodeMetrics {
  // Broker thread only. Refusals that name no tenant of this node (the label would be whatever
  // a client sent, so they are not split by it).
  std::array<OwnedCounter, kRefusalReasons> refused_without_tenant;
  OwnedCounter bootstrap_polls;
  // REST threads: requests by status class (1xx..5xx) and their time from the whole request
  // read to the answer queued.
  std::array<Counter, 5> rest_requests;
  Histogram rest_duration;
};

// The Prometheus text format: one family at a time (HELP, TYPE), then its samples.
class MetricsText {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, double value);
  void sample(std::string_view name, Labels labels, uint64_t value);
  void sample(std::string_view name, Labels labels, int64_t value);
  void histogram(std::string_view name, Labels labels, const Histogram& h);
  // A family of one unlabelled sample.
  template <typename V>
  void single(std::string_view name, std::string_view type, std::string_view help, V value) {
    family(name, type, help);
    sample(name, {}, value);
  }
  std::string take() { return std::move(out_); }

 private:
  void head(std::string_view name, Labels labels, std::string_view extra_name = {},
            std::string_view extra_value = {});
  std::string out_;
};

// A label value as the text format wants it: backslash, double quote and newline escaped.
std::string escape_label(std::string_view value);

}  // namespace c8y::common

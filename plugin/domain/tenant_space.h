// The per-tenant domain context: the tenant's column family, its id allocator, and the lock that
// serialises read-modify-write changes of its objects (shared by MQTT and REST).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "plugin/common/limits.h"
#include "plugin/common/metrics.h"
#include "storage/store.h"

namespace c8y::domain {

// Ids are "<counter><node id as 3 digits>" so that ids of different nodes never collide. The
// counter is reserved in blocks; the block's end is persisted before any id of it is handed out,
// so ids are never reused after a crash (a crash only skips the rest of a block).
class IdAllocator {
 public:
  IdAllocator(storage::Store& store, const storage::Family* family, unsigned node_id);
  // Returns 0 when the high-water mark cannot be persisted.
  uint64_t next();

 private:
  static constexpr uint64_t kBlock = 4096;
  storage::Store& store_;
  const storage::Family* family_;
  unsigned node_id_;
  std::mutex mutex_;
  uint64_t next_ = 0;
  uint64_t limit_ = 0;
};

struct TenantSpace {
  TenantSpace(storage::Store& store, std::string tenant_id, const storage::Family* f,
              unsigned node_id)
      : id(std::move(tenant_id)), family(f), ids(store, f, node_id) {}
  const std::string id;
  const storage::Family* const family;
  IdAllocator ids;
  std::mutex objects_mutex;  // guards read-modify-write of managed objects and external ids
  // Open alarms by "k" key (domain/alarms.h), guarded by objects_mutex: a raise of an open alarm
  // reads nothing from storage.
  struct CachedAlarm {
    uint64_t id = 0;
    uint64_t group = 0;
    int64_t time_ms = 0;
    nlohmann::json doc;
  };
  std::unordered_map<std::string, CachedAlarm> open_alarms;
  // The measurement series already recorded under "v" keys since start (domain/measurement.h),
  // as 64-bit hashes of (source, fragment, series); guarded by series_mutex. Lets the ingest path
  // write a "v" key only when a device sends a series for the first time. Lost at restart (the
  // first measurement of each series then writes its key again, which changes nothing).
  std::mutex series_mutex;
  std::unordered_set<uint64_t> series_seen;
  // Measurement rollups (Measurements::series): bumped by every write that voids a cached hourly
  // rollup, so a query that scanned before it does not cache a stale one.
  std::mutex rollup_mutex;
  uint64_t rollup_generation = 0;  // guarded by rollup_mutex
  // What this tenant's devices and users did (GET /metrics).
  common::TenantMetrics metrics;
  // Its effective limits (app/quotas.h keeps them current) and the bucket of its devices'
  // messages together (broker thread only).
  common::TenantLimits limits;
  common::TokenBucket message_bucket;
};

// Registry of tenant spaces; thread-safe; spaces live until the registry is destroyed.
class TenantSpaces {
 public:
  TenantSpaces(storage::Store& store, unsigned node_id) : store_(store), node_id_(node_id) {}
  // nullptr when the tenant has no column family.
  TenantSpace* get(std::string_view tenant_id);
  // The space of every tenant that has a column family.
  std::vector<TenantSpace*> all();
  // Forgets a deleted tenant's space; the object stays alive (other threads may hold it).
  void remove(std::string_view tenant_id);

 private:
  storage::Store& store_;
  unsigned node_id_;
  std::shared_mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<TenantSpace>> spaces_;
  std::vector<std::unique_ptr<TenantSpace>> removed_;
};

}  // namespace c8y::domain

// The RocksDB engine: one `system` column family and one column family per tenant.
//
// Contract:
// - Thread-safe. Reads and immediate writes may come from any thread. The pending batch of the
//   `batched` durability mode is filled and flushed by the broker thread, and guarded by a mutex
//   so REST threads may add to it too.
// - Errors are values (`StoreStatus`), never exceptions.
// - A `Family*` stays valid until the tenant is dropped or the store closes.
//
// Durability:
// - kWal: every write() is a RocksDB write with the WAL on (no fsync). When write() returns the
//   data is in the operating system's page cache: a process crash (SIGKILL) loses nothing that
//   was acknowledged; a power loss may lose the last seconds.
// - kBatched: write() appends to one pending WriteBatch that flush_pending() writes (the broker
//   calls it once per event-loop iteration). A crash loses what was not flushed yet.
//   write(..., kNow) bypasses the pending batch (used where a read must see the write at once).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
class Cache;
class WriteBufferManager;
}  // namespace rocksdb

namespace c8y::storage {

enum class Durability { kWal, kBatched };

struct StoreOptions {
  std::string path;
  Durability durability = Durability::kWal;
  size_t block_cache_bytes = 64u << 20;     // shared by every column family
  size_t write_buffer_bytes = 256u << 20;   // memtable budget shared by every column family
  size_t family_write_buffer = 32u << 20;   // memtable size of one family
  size_t max_total_wal_bytes = 512u << 20;  // forces flushes of old families so the WAL stays small
  bool sync = false;                        // fsync every write (power-loss durability)
};

struct StoreStatus {
  enum Code { kOk, kNotFound, kError } code = kOk;
  std::string message;
  bool ok() const { return code == kOk; }
  bool not_found() const { return code == kNotFound; }
  static StoreStatus Ok() { return {}; }
  static StoreStatus Error(std::string m) { return {kError, std::move(m)}; }
};

// Opaque handle of a column family.
struct Family {
  std::string name;
  rocksdb::ColumnFamilyHandle* handle = nullptr;
};

class Batch {
 public:
  Batch();
  ~Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;
  void put(const Family* f, std::string_view key, std::string_view value);
  void del(const Family* f, std::string_view key);
  size_t count() const;
  void clear();
  rocksdb::WriteBatch& raw() { return *batch_; }

 private:
  std::unique_ptr<rocksdb::WriteBatch> batch_;
};

class Store {
 public:
  enum class When { kDurabilitySetting, kNow };

  // Opens (creating if missing) the database and every column family it holds.
  static std::unique_ptr<Store> open(const StoreOptions& options, std::string* error);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Durability durability() const { return options_.durability; }
  const Family* system() const { return system_; }

  // Tenants' families. create_tenant is idempotent; tenant() returns nullptr if missing.
  StoreStatus create_tenant(std::string_view tenant_id, const Family** out);
  const Family* tenant(std::string_view tenant_id) const;
  std::vector<std::string> tenant_ids() const;
  StoreStatus drop_tenant(std::string_view tenant_id);

  StoreStatus get(const Family* f, std::string_view key, std::string* value) const;
  StoreStatus put(const Family* f, std::string_view key, std::string_view value,
                  When when = When::kDurabilitySetting);
  StoreStatus write(Batch& batch, When when = When::kDurabilitySetting);
  // Writes the pending batch of the `batched` mode. No-op in kWal or when nothing is pending.
  StoreStatus flush_pending();

  // Visits keys that start with `prefix`, in key order from `from` (inclusive; empty = prefix
  // start) or, when reverse, backwards from `from` (inclusive; empty = prefix end). The visitor
  // returns false to stop.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  StoreStatus scan(const Family* f, std::string_view prefix, std::string_view from, bool reverse,
                   const Visitor& visit) const;

  // Memory and size figures for metrics and benchmarks.
  std::string stats() const;

 private:
  explicit Store(const StoreOptions& options);
  static std::string family_name(std::string_view tenant_id);
  rocksdb::ColumnFamilyHandle* handle_by_id(uint32_t id) const;

  StoreOptions options_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> wbm_;
  std::unique_ptr<rocksdb::DB> db_;
  Family* system_ = nullptr;
  mutable std::shared_mutex families_mutex_;
  std::unordered_map<std::string, std::unique_ptr<Family>> families_;  // by tenant id
  std::unordered_map<uint32_t, rocksdb::ColumnFamilyHandle*> by_id_;
  std::unique_ptr<Family> system_family_;
  std::unique_ptr<Family> default_family_;
  std::mutex pending_mutex_;
  std::unique_ptr<Batch> pending_;
};

}  // namespace c8y::storage

// The RocksDB engine: one `system` column family and one column family per tenant.
//
// Contract:
// - Thread-safe. Reads and writes may come from any thread.
// - Errors are values (`StoreStatus`), never exceptions.
// - A `Family*` stays valid until the tenant is dropped or the store closes.
//
// Two write paths:
// - put(..., kNow) and write(batch): a RocksDB write with its WAL on, done before the call returns.
//   Used for everything that is read back soon (inventory, identity, presence).
// - put(..., kDurabilitySetting): the ingest path of append-only data (measurements). The record
//   goes into the ingest log (ingest_log.h) and a writer thread moves it into RocksDB in large
//   batches, off the broker thread. settle() waits until every record appended so far is in
//   RocksDB; readers that must see their own writes (the REST API) call it first.
//   - kWal: the log is a memory-mapped file, <path>/c8y-ingest.log. When put() returns, the
//     record is in the operating system's page cache: a process crash (SIGKILL) loses nothing
//     that was acknowledged, and the next open() replays what RocksDB had not received. A power
//     loss may lose the last seconds (as with RocksDB's WAL without fsync).
//   - kBatched: the log is anonymous memory. A crash loses the records the writer thread had not
//     written yet (normally the last milliseconds); a clean close loses nothing.
//   - With `sync` on, put() always writes through (fsync per write).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plugin/common/status.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
class Cache;
class WriteBufferManager;
class Statistics;
class EventListener;
}  // namespace rocksdb

namespace c8y::storage {

class IngestLog;

enum class Durability { kWal, kBatched };

// Files RocksDB keeps open at most (SST files; the process's file-descriptor limit must leave room
// for them next to the broker's connections).
inline constexpr int kMaxOpenFiles = 512;

struct StoreOptions {
  std::string path;
  Durability durability = Durability::kWal;
  size_t block_cache_bytes = 64u << 20;     // shared by every column family
  size_t write_buffer_bytes = 256u << 20;   // memtable budget shared by every column family
  size_t family_write_buffer = 32u << 20;   // memtable size of one family
  size_t max_total_wal_bytes = 512u << 20;  // forces flushes of old families so the WAL stays small
  bool sync = false;                        // fsync every write (power-loss durability)
  size_t ingest_log_bytes = 64u << 20;      // ring between put(kDurabilitySetting) and RocksDB
};

// What GET /metrics reports of the storage (Store::metrics()).
struct StoreMetrics {
  uint64_t ingest_records = 0;  // appended to the ingest log, not yet in RocksDB
  uint64_t ingest_bytes = 0;    // ring space they take
  uint64_t ingest_capacity_bytes = 0;
  double writer_lag_seconds = 0;  // since the writer last had everything appended; 0 if idle
  uint64_t flushes = 0;           // memtable flushes finished since start
  uint64_t compactions = 0;       // compactions finished since start
  uint64_t stall_micros = 0;      // writes delayed or stopped by RocksDB's write controller
  uint64_t block_cache_hits = 0;
  uint64_t block_cache_misses = 0;
  // Memory: the memtables of every family (their arenas, flushing ones included), and the block
  // cache's usage (data, index and filter blocks, plus the memtables' reservations: the write
  // buffer manager charges memtable memory to the cache) and its capacity.
  uint64_t memtable_bytes = 0;
  uint64_t block_cache_bytes = 0;
  uint64_t block_cache_capacity_bytes = 0;
  // Per tenant: SST files plus memtables, bytes.
  std::vector<std::pair<std::string, uint64_t>> tenant_bytes;
};

// The one status type (plugin/common/status.h), under the name storage code has always used.
using StoreStatus = common::Status;

// Opaque handle of a column family.
struct Family {
  std::string name;
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  uint32_t id = 0;  // RocksDB's column family id, stable across restarts
};

class Batch {
 public:
  Batch();
  ~Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;
  void put(const Family* f, std::string_view key, std::string_view value);
  void del(const Family* f, std::string_view key);
  // Removes every key in [begin, end) (a RocksDB range tombstone). Only for Store::write with
  // kNow: the ingest log carries no ranges (write() refuses such a batch with kDurabilitySetting).
  void delete_range(const Family* f, std::string_view begin, std::string_view end);
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
  // Counters and sizes for GET /metrics; any thread.
  StoreMetrics metrics() const;
  // A family's SST files plus memtables, bytes (RocksDB's properties: no I/O); any thread.
  uint64_t family_bytes(const Family* f) const;
  // Settles the ingest log, then writes every family's memtable to SST files (backups, tests).
  StoreStatus flush_memtables();
  // An online backup into `dir` (which must not exist; its parent must): everything appended so
  // far is settled first, then RocksDB writes a checkpoint there (SST files hard-linked when on
  // the same file system, copied otherwise). The directory is a complete data directory: a
  // broker started on a copy of it has every record settled before the checkpoint. Any thread;
  // writes go on meanwhile. `bytes` (optional): the size of the files in `dir`.
  StoreStatus checkpoint(const std::string& dir, uint64_t* bytes = nullptr);
  // One tenant's family on its own (tenant backups; moving a tenant to another node): `dir`
  // (which must not exist; its parent must) gets the family's SST files and `family.meta`, the
  // metadata RocksDB needs to import them (comparator; per file its name, level, sequence
  // numbers, key range, size). Everything appended so far is settled and the family flushed
  // first; range tombstones (retention) are compacted away, since RocksDB 7.8 does not export
  // them. Only the family: the tenant's records in the system family are the caller's. Any
  // thread; the tenant's writes go on (what comes after the flush is not in the export).
  StoreStatus export_tenant(std::string_view tenant_id, const std::string& dir,
                            uint64_t* bytes = nullptr);
  // Makes the tenant's family from such an export (files copied; `dir` is left as it is). The
  // tenant must not have a family here (kConflict).
  StoreStatus import_tenant(std::string_view tenant_id, const std::string& dir);
  // Drops the tenant's family (all its data). Family pointers stay valid until the store closes.
  StoreStatus drop_tenant(std::string_view tenant_id);

  StoreStatus get(const Family* f, std::string_view key, std::string* value) const;
  StoreStatus put(const Family* f, std::string_view key, std::string_view value,
                  When when = When::kDurabilitySetting);
  // The puts of one logical change (a document and its index, a measurement and the voiding of
  // its rollup) through the ingest path under one lock, so no reader that settles sees one
  // without the others; written at once, as one RocksDB write, when there is no ingest log.
  using KeyValue = std::pair<std::string_view, std::string_view>;
  StoreStatus put_together(const Family* f, std::initializer_list<KeyValue> puts);
  // kNow (the default): written at once, as one atomic RocksDB write. kDurabilitySetting: every
  // op goes through the ingest log (like put), readable after settle().
  StoreStatus write(Batch& batch, When when = When::kNow);
  // Waits until everything put(kDurabilitySetting) so far is in RocksDB.
  StoreStatus settle(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The last error of the writer thread since the previous call ("" if none), for the log.
  std::string take_writer_error();
  // Records recovered from the ingest log at open (a crash had left them).
  size_t recovered_records() const { return recovered_; }

  // Visits keys that start with `prefix`, in key order from `from` (inclusive; empty = prefix
  // start) or, when reverse, backwards from `from` (inclusive; empty = prefix end). The visitor
  // returns false to stop.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  StoreStatus scan(const Family* f, std::string_view prefix, std::string_view from, bool reverse,
                   const Visitor& visit) const;
  // Visits the distinct `length`-byte beginnings of the keys that start with `prefix` (length >=
  // prefix.size()), in order, by seeking past each one: the groups of a source-major key range
  // ("m" <source> ...) without reading the keys inside them. One iterator for the whole walk. The
  // visitor returns false to stop.
  using GroupVisitor = std::function<bool(std::string_view group)>;
  StoreStatus groups(const Family* f, std::string_view prefix, size_t length,
                     const GroupVisitor& visit) const;
  // A manual compaction of the whole family (retention reclaims the space of what it removed):
  // memtables flushed, every level rewritten down to the bottommost one (kForceOptimized), range
  // tombstones and the keys they cover dropped. Blocks the calling thread (never the broker
  // thread) until done; other compactions and writes go on meanwhile.
  StoreStatus compact(const Family* f);

 private:
  explicit Store(const StoreOptions& options);
  static std::string family_name(std::string_view tenant_id);
  rocksdb::ColumnFamilyHandle* handle_by_id_locked(uint32_t id) const;
  StoreStatus write_now(const Family* f, std::string_view key, std::string_view value);
  StoreStatus append(const Family* f, std::string_view key, std::string_view value);
  StoreStatus append_all(
      const std::vector<std::tuple<uint32_t, std::string, std::string, uint32_t>>& ops);
  bool append_locked(std::unique_lock<std::mutex>& lock, uint32_t family, std::string_view key,
                     std::string_view value, uint32_t flags);
  void appended();
  bool open_ingest(std::string* error);
  void writer_loop();
  void wake_writer();
  void set_writer_error(std::string message);

  StoreOptions options_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> wbm_;
  std::unique_ptr<rocksdb::DB> db_;
  Family* system_ = nullptr;
  mutable std::shared_mutex families_mutex_;
  std::unordered_map<std::string, std::unique_ptr<Family>> families_;  // by tenant id
  std::unordered_map<uint32_t, rocksdb::ColumnFamilyHandle*> by_id_;
  std::vector<std::unique_ptr<Family>> dropped_;  // dropped tenants' families, kept until close
  std::unique_ptr<Family> system_family_;
  std::unique_ptr<Family> default_family_;
  size_t recovered_ = 0;

  // The ingest path (see the top of this file).
  std::unique_ptr<IngestLog> log_;
  // Metrics: the writer's last moment with nothing left behind (steady clock, ns); RocksDB's
  // statistics (tickers only) and a listener counting finished flushes and compactions.
  std::atomic<int64_t> caught_up_ns_{0};
  std::shared_ptr<rocksdb::Statistics> statistics_;
  std::shared_ptr<rocksdb::EventListener> events_;
  std::mutex append_mutex_;  // one producer at a time; space_cv_ waits on it
  std::condition_variable space_cv_;
  std::atomic<int> space_waiters_{0};
  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  std::atomic<bool> writer_idle_{false};
  std::atomic<bool> stopping_{false};  // set under wake_mutex_
  std::mutex applied_mutex_;
  std::condition_variable applied_cv_;
  std::atomic<int> applied_waiters_{0};
  std::mutex error_mutex_;
  std::string writer_error_;
  std::thread writer_;
};

}  // namespace c8y::storage

#include "storage/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "storage/ingest_log.h"

namespace c8y::storage {
namespace {

// Every write: a write that names a dropped family (a deleted or moved-away tenant, whose Family
// another thread still held) is ignored rather than failed. RocksDB fails the whole write group
// otherwise, so one stale write could fail other tenants' writes that were grouped with it.
rocksdb::WriteOptions write_options() {
  rocksdb::WriteOptions wo;
  wo.ignore_missing_column_families = true;
  return wo;
}

// Nice value of the storage writer thread (the broker's event loop stays at the process's).
constexpr int kBackgroundNice = 10;

constexpr std::string_view kTenantPrefix = "t_";
constexpr const char* kSystemFamily = "system";

StoreStatus from_rocks(const rocksdb::Status& s) {
  if (s.ok()) return {};
  if (s.IsNotFound()) return {StoreStatus::kNotFound, "not found"};
  return StoreStatus::Io(s.ToString());
}

rocksdb::Slice slice(std::string_view v) {
  return rocksdb::Slice(v.data(), v.size());
}

}  // namespace

Batch::Batch() : batch_(std::make_unique<rocksdb::WriteBatch>()) {}
Batch::~Batch() = default;
void Batch::put(const Family* f, std::string_view key, std::string_view value) {
  batch_->Put(f->handle, slice(key), slice(value));
}
void Batch::del(const Family* f, std::string_view key) {
  batch_->Delete(f->handle, slice(key));
}
void Batch::delete_range(const Family* f, std::string_view begin, std::string_view end) {
  batch_->DeleteRange(f->handle, slice(begin), slice(end));
}
size_t Batch::count() const {
  return batch_->Count();
}
void Batch::clear() {
  batch_->Clear();
}

Store::Store(const StoreOptions& options) : options_(options) {}

std::string Store::family_name(std::string_view tenant_id) {
  return std::string(kTenantPrefix) + std::string(tenant_id);
}

namespace {

// The memtable insert hint's prefix: the type byte and the 8-byte group of a data key, for keys
// longer than that only. A key of exactly 9 bytes is left out: an id-index key ("E" <id>) gains
// nothing from a hint, and the begin key of a range tombstone ("m" <source>, Batch::delete_range)
// must not have one. RocksDB 7.8 keeps one hint (a skiplist splice) per prefix for the memtable
// and uses it for the memtable's separate range-tombstone skiplist too (MemTable::Add), where a
// splice of the other list corrupts the insert (assertion `recompute_height <= max_height`).
class GroupPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "c8y.GroupPrefix9"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), 9);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > 9; }
};

// Options of every column family. Small memtables per family, charged to one shared budget, so
// that 1,000 tenants do not mean 1,000 x 64 MiB; one shared block cache.
rocksdb::ColumnFamilyOptions family_options(const StoreOptions& o,
                                            const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.family_write_buffer;
  cf.max_write_buffer_number = 3;
  // Flushes and early compactions stay uncompressed (cheap on a 2-core box shared with the
  // broker); older data is compressed.
  cf.compression_per_level = {rocksdb::kNoCompression,
                              rocksdb::kNoCompression,
                              rocksdb::kLZ4Compression,
                              rocksdb::kLZ4Compression,
                              rocksdb::kLZ4Compression,
                              rocksdb::kZSTD,
                              rocksdb::kZSTD};
  cf.level_compaction_dynamic_level_bytes = true;
  // Data keys start with a type byte and an 8-byte object id ("m" <source> ...; keys.h); within
  // one such prefix inserts arrive in key order (time), so a per-prefix insert hint turns most
  // skiplist inserts into O(1) appends. Needs allow_concurrent_memtable_write = false.
  cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<GroupPrefix>();
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.format_version = 5;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

// Counts finished flushes and compactions (RocksDB calls it from its background threads).
class CountingListener : public rocksdb::EventListener {
 public:
  void OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo&) override {
    flushes.fetch_add(1);
  }
  void OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo&) override {
    compactions.fetch_add(1);
  }
  std::atomic<uint64_t> flushes{0}, compactions{0};
};

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::unique_ptr<Store> Store::open(const StoreOptions& options, std::string* error) {
  std::unique_ptr<Store> store(new Store(options));
  store->cache_ = rocksdb::NewLRUCache(options.block_cache_bytes);
  store->wbm_ =
      std::make_shared<rocksdb::WriteBufferManager>(options.write_buffer_bytes, store->cache_);

  rocksdb::DBOptions db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  db.write_buffer_manager = store->wbm_;
  db.max_total_wal_size = options.max_total_wal_bytes;
  db.max_background_jobs = 2;
  // Flushes and compactions run at the lowest CPU priority for the same reason as the writer
  // thread (writer_loop): they must not preempt the broker's event loop.
  db.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW, rocksdb::CpuPriority::kLow);
  db.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::HIGH, rocksdb::CpuPriority::kLow);
  db.keep_log_file_num = 5;
  db.max_open_files = kMaxOpenFiles;
  db.avoid_unnecessary_blocking_io = true;
  db.enable_pipelined_write = false;
  // One writer (the broker thread) does almost all writes: skip the concurrent-memtable and
  // write-thread spinning machinery that only pays off with many writers.
  db.allow_concurrent_memtable_write = false;
  db.enable_write_thread_adaptive_yield = false;
  // For GET /metrics: counters only (stalls, block cache hits and misses), no timers or
  // histograms on the read and write paths.
  store->statistics_ = rocksdb::CreateDBStatistics();
  store->statistics_->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  db.statistics = store->statistics_;
  store->events_ = std::make_shared<CountingListener>();
  db.listeners.push_back(store->events_);

  const rocksdb::ColumnFamilyOptions cf = family_options(options, store->cache_);
  std::vector<std::string> names;
  auto st = rocksdb::DB::ListColumnFamilies(db, options.path, &names);
  if (!st.ok()) names = {rocksdb::kDefaultColumnFamilyName};
  bool has_system = false;
  for (auto& n : names) has_system |= n == kSystemFamily;
  if (!has_system) names.push_back(kSystemFamily);

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (auto& n : names) descriptors.emplace_back(n, cf);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  st = rocksdb::DB::Open(db, options.path, descriptors, &handles, &raw);
  if (!st.ok()) {
    if (error) *error = "cannot open RocksDB at " + options.path + ": " + st.ToString();
    return nullptr;
  }
  store->db_.reset(raw);
  for (size_t i = 0; i < names.size(); ++i) {
    auto fam = std::make_unique<Family>(Family{names[i], handles[i]});
    if (names[i] == kSystemFamily) {
      store->system_ = fam.get();
      store->system_family_ = std::move(fam);
    } else if (names[i].starts_with(kTenantPrefix)) {
      store->by_id_[handles[i]->GetID()] = handles[i];
      store->families_.emplace(names[i].substr(kTenantPrefix.size()), std::move(fam));
    } else {
      store->default_family_ = std::move(fam);
    }
  }
  for (auto* f : {store->system_, store->default_family_.get()})
    if (f) f->id = f->handle->GetID();
  for (auto& [tenant, f] : store->families_) f->id = f->handle->GetID();
  if (!options.sync && !store->open_ingest(error)) return nullptr;
  return store;
}

bool Store::open_ingest(std::string* error) {
  std::string log_error;
  const std::string path =
      options_.durability == Durability::kWal ? options_.path + "/c8y-ingest.log" : "";
  log_ = IngestLog::open(path, options_.ingest_log_bytes, &log_error);
  if (!log_) {
    if (error) *error = log_error;
    return false;
  }
  // Replay what a crash left in the log (idempotent puts), durably, before reusing the space.
  rocksdb::WriteBatch batch;
  size_t skipped = 0;
  recovered_ = log_->recover([&](const IngestLog::Record& r) {
    if (auto* h = handle_by_id_locked(r.family))
      r.flags& IngestLog::kDelete ? batch.Delete(h, slice(r.key))
                                  : batch.Put(h, slice(r.key), slice(r.value));
    else
      ++skipped;  // the tenant was dropped
  });
  if (batch.Count() > 0) {
    rocksdb::WriteOptions wo = write_options();
    wo.sync = true;
    if (auto st = db_->Write(wo, &batch); !st.ok()) {
      if (error) *error = "cannot replay the ingest log into RocksDB: " + st.ToString();
      return false;
    }
  }
  (void)skipped;
  if (!log_->restart(&log_error)) {
    if (error) *error = log_error;
    return false;
  }
  writer_ = std::thread([this] { writer_loop(); });
  return true;
}

Store::~Store() {
  if (!db_) return;
  if (writer_.joinable()) {
    {
      std::lock_guard lock(wake_mutex_);
      stopping_ = true;
    }
    wake_cv_.notify_all();
    writer_.join();  // it drains the log first
  }
  db_->FlushWAL(true);
  auto destroy = [this](std::unique_ptr<Family>& f) {
    if (f && f->handle) db_->DestroyColumnFamilyHandle(f->handle);
  };
  for (auto& [id, f] : families_) destroy(f);
  for (auto& f : dropped_) destroy(f);
  destroy(system_family_);
  destroy(default_family_);
  db_->Close();
  db_.reset();
}

StoreStatus Store::create_tenant(std::string_view tenant_id, const Family** out) {
  {
    std::shared_lock lock(families_mutex_);
    auto it = families_.find(std::string(tenant_id));
    if (it != families_.end()) {
      if (out) *out = it->second.get();
      return {};
    }
  }
  std::unique_lock lock(families_mutex_);
  auto it = families_.find(std::string(tenant_id));
  if (it == families_.end()) {
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    auto st =
        db_->CreateColumnFamily(family_options(options_, cache_), family_name(tenant_id), &handle);
    if (!st.ok()) return from_rocks(st);
    by_id_[handle->GetID()] = handle;
    it = families_
             .emplace(std::string(tenant_id), std::make_unique<Family>(Family{
                                                  family_name(tenant_id), handle, handle->GetID()}))
             .first;
  }
  if (out) *out = it->second.get();
  return {};
}

const Family* Store::tenant(std::string_view tenant_id) const {
  std::shared_lock lock(families_mutex_);
  auto it = families_.find(std::string(tenant_id));
  return it == families_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Store::tenant_ids() const {
  std::shared_lock lock(families_mutex_);
  std::vector<std::string> ids;
  for (auto& [id, f] : families_) ids.push_back(id);
  return ids;
}

StoreMetrics Store::metrics() const {
  StoreMetrics m;
  if (log_) {
    const uint64_t appended = log_->appended_seq(), released = log_->released_seq();
    m.ingest_records = appended > released ? appended - released : 0;
    m.ingest_bytes = log_->pending_bytes();
    m.ingest_capacity_bytes = log_->capacity();
    if (m.ingest_records > 0) {
      const int64_t since = steady_ns() - caught_up_ns_.load(std::memory_order_relaxed);
      m.writer_lag_seconds = since > 0 ? static_cast<double>(since) / 1e9 : 0;
    }
  }
  if (auto* l = static_cast<CountingListener*>(events_.get())) {
    m.flushes = l->flushes.load();
    m.compactions = l->compactions.load();
  }
  if (statistics_) {
    m.stall_micros = statistics_->getTickerCount(rocksdb::STALL_MICROS);
    m.block_cache_hits = statistics_->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
    m.block_cache_misses = statistics_->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
  }
  db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kSizeAllMemTables, &m.memtable_bytes);
  if (cache_) {
    m.block_cache_bytes = cache_->GetUsage();
    m.block_cache_capacity_bytes = cache_->GetCapacity();
  }
  std::shared_lock lock(families_mutex_);
  for (auto& [id, f] : families_) m.tenant_bytes.emplace_back(id, family_bytes(f.get()));
  return m;
}

uint64_t Store::family_bytes(const Family* f) const {
  uint64_t sst = 0, mem = 0;
  db_->GetIntProperty(f->handle, rocksdb::DB::Properties::kTotalSstFilesSize, &sst);
  db_->GetIntProperty(f->handle, rocksdb::DB::Properties::kSizeAllMemTables, &mem);
  return sst + mem;
}

StoreStatus Store::flush_memtables() {
  if (auto st = settle(); !st.ok()) return st;
  std::shared_lock lock(families_mutex_);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  for (auto& [id, f] : families_) handles.push_back(f->handle);
  if (system_family_) handles.push_back(system_family_->handle);
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return from_rocks(db_->Flush(fo, handles));
}

StoreStatus Store::checkpoint(const std::string& dir, uint64_t* bytes) {
  if (auto st = settle(); !st.ok()) return st;
  rocksdb::Checkpoint* raw = nullptr;
  if (auto st = rocksdb::Checkpoint::Create(db_.get(), &raw); !st.ok()) return from_rocks(st);
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  // log_size_for_flush 0: the memtables are flushed first, so the checkpoint holds SST files and
  // a short WAL.
  if (auto st = cp->CreateCheckpoint(dir, 0); !st.ok()) return from_rocks(st);
  if (bytes) {
    *bytes = 0;
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.is_regular_file(ec)) *bytes += e.file_size(ec);
  }
  return {};
}

namespace {

std::string to_hex(std::string_view in) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() * 2);
  for (unsigned char c : in) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool from_hex(std::string_view in, std::string* out) {
  if (in.size() % 2) return false;
  auto digit = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  out->clear();
  for (size_t i = 0; i < in.size(); i += 2) {
    const int hi = digit(in[i]), lo = digit(in[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

constexpr const char* kFamilyMeta = "family.meta";
constexpr const char* kFamilyMetaHead = "c8y-family-export 1";

}  // namespace

StoreStatus Store::export_tenant(std::string_view tenant_id, const std::string& dir,
                                 uint64_t* bytes) {
  const Family* f = tenant(tenant_id);
  if (!f) return {StoreStatus::kNotFound, "no such tenant"};
  if (auto st = settle(); !st.ok()) return st;
  rocksdb::FlushOptions fo;
  fo.wait = true;
  if (auto st = db_->Flush(fo, f->handle); !st.ok()) return from_rocks(st);
  rocksdb::TablePropertiesCollection tables;
  if (auto st = db_->GetPropertiesOfAllTables(f->handle, &tables); !st.ok()) return from_rocks(st);
  uint64_t range_deletions = 0;
  for (auto& [name, props] : tables) range_deletions += props->num_range_deletions;
  if (range_deletions > 0) {
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    co.exclusive_manual_compaction = false;
    if (auto st = db_->CompactRange(co, f->handle, nullptr, nullptr); !st.ok())
      return from_rocks(st);
  }
  rocksdb::Checkpoint* raw = nullptr;
  if (auto st = rocksdb::Checkpoint::Create(db_.get(), &raw); !st.ok()) return from_rocks(st);
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  rocksdb::ExportImportFilesMetaData* meta_raw = nullptr;
  if (auto st = cp->ExportColumnFamily(f->handle, dir, &meta_raw); !st.ok()) return from_rocks(st);
  std::unique_ptr<rocksdb::ExportImportFilesMetaData> meta(meta_raw);
  // One line per file: name level smallest_seqno largest_seqno size file_number smallest largest
  // (keys in hex). An empty family exports no files: the import then makes an empty family.
  std::string text =
      std::string(kFamilyMetaHead) + "\ncomparator " + meta->db_comparator_name + "\n";
  uint64_t total = 0;
  for (const auto& file : meta->files) {
    const std::string name =
        file.relative_filename.empty() ? file.name.substr(1) : file.relative_filename;
    text += "file " + name + " " + std::to_string(file.level) + " " +
            std::to_string(file.smallest_seqno) + " " + std::to_string(file.largest_seqno) + " " +
            std::to_string(file.size) + " " + std::to_string(file.file_number) + " " +
            to_hex(file.smallestkey) + " " + to_hex(file.largestkey) + "\n";
    total += file.size;
  }
  const std::string meta_path = dir + "/" + kFamilyMeta;
  {
    std::ofstream out(meta_path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return {StoreStatus::kIo, "cannot write " + meta_path};
  }
  if (bytes) *bytes = total + text.size();
  return {};
}

StoreStatus Store::import_tenant(std::string_view tenant_id, const std::string& dir) {
  if (tenant(tenant_id)) return {StoreStatus::kConflict, "the tenant has a family here already"};
  const std::string meta_path = dir + "/" + kFamilyMeta;
  std::ifstream in(meta_path, std::ios::binary);
  if (!in) return {StoreStatus::kNotFound, "no " + meta_path};
  rocksdb::ExportImportFilesMetaData meta;
  std::string line;
  if (!std::getline(in, line) || line != kFamilyMetaHead)
    return StoreStatus::Invalid(meta_path + " is not a family export");
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "comparator") {
      std::getline(words >> std::ws, meta.db_comparator_name);
    } else if (kind == "file") {
      rocksdb::LiveFileMetaData file;
      std::string name, smallest, largest;
      words >> name >> file.level >> file.smallest_seqno >> file.largest_seqno >> file.size >>
          file.file_number >> smallest >> largest;
      if (!words || name.empty() || name.find('/') != std::string::npos ||
          !from_hex(smallest, &file.smallestkey) || !from_hex(largest, &file.largestkey))
        return StoreStatus::Invalid(meta_path + ": bad line '" + line + "'");
      file.relative_filename = name;
      file.name = "/" + name;
      file.directory = file.db_path = dir;
      file.column_family_name = family_name(tenant_id);
      meta.files.push_back(std::move(file));
    } else if (!kind.empty()) {
      return StoreStatus::Invalid(meta_path + ": bad line '" + line + "'");
    }
  }
  if (meta.db_comparator_name.empty()) return StoreStatus::Invalid(meta_path + ": no comparator");
  if (meta.files.empty()) return create_tenant(tenant_id, nullptr);  // an empty family
  std::unique_lock lock(families_mutex_);
  if (families_.count(std::string(tenant_id)))
    return {StoreStatus::kConflict, "the tenant has a family here already"};
  rocksdb::ImportColumnFamilyOptions io;
  io.move_files = false;
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  auto st = db_->CreateColumnFamilyWithImport(family_options(options_, cache_),
                                              family_name(tenant_id), io, meta, &handle);
  if (!st.ok()) return from_rocks(st);
  by_id_[handle->GetID()] = handle;
  families_.emplace(std::string(tenant_id), std::make_unique<Family>(Family{
                                                family_name(tenant_id), handle, handle->GetID()}));
  return {};
}

StoreStatus Store::drop_tenant(std::string_view tenant_id) {
  // The writer thread may hold records of this family: they go first (or the drop waits).
  if (auto settled = settle(); !settled.ok()) return settled;
  std::unique_lock lock(families_mutex_);
  auto it = families_.find(std::string(tenant_id));
  if (it == families_.end()) return {StoreStatus::kNotFound, "no such tenant"};
  auto st = db_->DropColumnFamily(it->second->handle);
  if (!st.ok()) return from_rocks(st);
  by_id_.erase(it->second->handle->GetID());
  // Other threads may still hold this Family (a request in flight, a session not yet kicked):
  // the handle stays valid until the store closes (RocksDB frees the data when it is released).
  dropped_.push_back(std::move(it->second));
  families_.erase(it);
  return {};
}

StoreStatus Store::get(const Family* f, std::string_view key, std::string* value) const {
  return from_rocks(db_->Get(rocksdb::ReadOptions(), f->handle, slice(key), value));
}

StoreStatus Store::put(const Family* f, std::string_view key, std::string_view value, When when) {
  if (when == When::kDurabilitySetting && log_ && log_->fits(key.size(), value.size()))
    return append(f, key, value);
  return write_now(f, key, value);
}

StoreStatus Store::write_now(const Family* f, std::string_view key, std::string_view value) {
  rocksdb::WriteOptions wo = write_options();
  wo.sync = options_.sync;
  return from_rocks(db_->Put(wo, f->handle, slice(key), slice(value)));
}

bool Store::append_locked(std::unique_lock<std::mutex>& lock, uint32_t family, std::string_view key,
                          std::string_view value, uint32_t flags) {
  if (log_->try_append(family, key, value, flags)) return true;
  // The writer is behind by a whole ring: wait for room (back-pressure on the device).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  space_waiters_.fetch_add(1);
  bool ok = false;
  while (!(ok = log_->try_append(family, key, value, flags)) &&
         std::chrono::steady_clock::now() < deadline) {
    wake_writer();
    space_cv_.wait_for(lock, std::chrono::milliseconds(10));
  }
  space_waiters_.fetch_sub(1);
  return ok;
}

void Store::appended() {
  // The log's seq_cst publish of the record, then this seq_cst load, pair with the writer's
  // seq_cst store of writer_idle_ before it checks the log: no lost wake-up.
  if (writer_idle_.load(std::memory_order_seq_cst)) wake_writer();
}

StoreStatus Store::append(const Family* f, std::string_view key, std::string_view value) {
  {
    std::unique_lock lock(append_mutex_);
    if (!append_locked(lock, f->id, key, value, 0))
      return StoreStatus::Unavailable("the storage writer is behind: the ingest log is full");
  }
  appended();
  return {};
}

StoreStatus Store::put_together(const Family* f, std::initializer_list<KeyValue> puts) {
  bool fit = log_ != nullptr;
  for (auto& [k, v] : puts) fit = fit && log_->fits(k.size(), v.size());
  if (!fit) {
    Batch b;
    for (auto& [k, v] : puts) b.put(f, k, v);
    return write(b);
  }
  {
    std::unique_lock lock(append_mutex_);
    for (auto& [k, v] : puts)
      if (!append_locked(lock, f->id, k, v, 0))
        return StoreStatus::Unavailable("the storage writer is behind: the ingest log is full");
  }
  appended();
  return {};
}

StoreStatus Store::append_all(
    const std::vector<std::tuple<uint32_t, std::string, std::string, uint32_t>>& ops) {
  {
    std::unique_lock lock(append_mutex_);
    for (auto& [family, key, value, flags] : ops)
      if (!append_locked(lock, family, key, value, flags))
        return StoreStatus::Unavailable("the storage writer is behind: the ingest log is full");
  }
  appended();
  return {};
}

void Store::wake_writer() {
  std::lock_guard lock(wake_mutex_);
  wake_cv_.notify_one();
}

void Store::set_writer_error(std::string message) {
  std::lock_guard lock(error_mutex_);
  writer_error_ = std::move(message);
}

std::string Store::take_writer_error() {
  std::lock_guard lock(error_mutex_);
  return std::exchange(writer_error_, {});
}

void Store::writer_loop() {
  // The broker's event loop is the latency-critical thread; this one only has to keep up on
  // average (the ring absorbs bursts). Running it nicer keeps the scheduler from preempting the
  // event loop for it when both want the same core.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kBackgroundNice);
  constexpr size_t kBatchBytes = 4u << 20;
  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions wo = write_options();
  size_t n_since_idle = 0;
  auto last_work = std::chrono::steady_clock::now();
  caught_up_ns_.store(steady_ns(), std::memory_order_relaxed);
  for (;;) {
    size_t n = 0;
    const uint64_t target = log_->appended_seq();  // what this pass must reach to be caught up
    try {
      std::shared_lock families(families_mutex_);  // drop_tenant waits for this batch
      batch.Clear();
      n = log_->consume(kBatchBytes, [&](const IngestLog::Record& r) {
        if (auto* h = handle_by_id_locked(r.family))
          r.flags& IngestLog::kDelete ? batch.Delete(h, slice(r.key))
                                      : batch.Put(h, slice(r.key), slice(r.value));
      });
      if (n > 0) {
        // Retry until RocksDB takes it (a full disk, say): the records stay in the log meanwhile.
        for (;;) {
          auto st = db_->Write(wo, &batch);
          if (st.ok()) break;
          set_writer_error("storage writer: " + st.ToString() + " (retrying)");
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    } catch (const std::exception& e) {
      set_writer_error(std::string("storage writer: ") + e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (n > 0) {
      n_since_idle += n;
      last_work = std::chrono::steady_clock::now();
      log_->release();
      if (log_->released_seq() >= target)
        caught_up_ns_.store(steady_ns(), std::memory_order_relaxed);
      if (space_waiters_.load() > 0) {
        std::lock_guard lock(append_mutex_);
        space_cv_.notify_all();
      }
      if (applied_waiters_.load() > 0) {
        std::lock_guard lock(applied_mutex_);
        applied_cv_.notify_all();
      }
      continue;
    }
    caught_up_ns_.store(steady_ns(), std::memory_order_relaxed);
    // Nothing to do. Under a steady load, nap briefly instead of going idle: an idle writer must
    // be woken by the producer (a futex call on the broker thread per message), a napping one
    // just finds the next records when it looks again. The nap bounds the added latency.
    const auto now = std::chrono::steady_clock::now();
    if (n_since_idle > 0 && now - last_work < std::chrono::milliseconds(50) && !stopping_) {
      std::unique_lock lock(wake_mutex_);  // settle() cuts the nap short
      wake_cv_.wait_for(lock, std::chrono::microseconds(500));
      continue;
    }
    n_since_idle = 0;
    std::unique_lock lock(wake_mutex_);
    writer_idle_.store(true);
    if (log_->empty()) {
      if (stopping_) break;
      wake_cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
    writer_idle_.store(false);
  }
}

StoreStatus Store::write(Batch& batch, When when) {
  if (when == When::kDurabilitySetting && log_) {
    // Every op of the batch into the ingest log, under one lock: the writer thread applies
    // them in order; a crash replays them (all of them, or the whole log tail).
    struct Ops : rocksdb::WriteBatch::Handler {
      std::vector<std::tuple<uint32_t, std::string, std::string, uint32_t>> ops;
      rocksdb::Status PutCF(uint32_t id, const rocksdb::Slice& k,
                            const rocksdb::Slice& v) override {
        ops.emplace_back(id, k.ToString(), v.ToString(), 0);
        return {};
      }
      rocksdb::Status DeleteCF(uint32_t id, const rocksdb::Slice& k) override {
        ops.emplace_back(id, k.ToString(), std::string(), IngestLog::kDelete);
        return {};
      }
    } ops;
    if (auto st = batch.raw().Iterate(&ops); !st.ok()) return from_rocks(st);
    batch.clear();
    size_t bytes = 0;
    for (auto& [f, k, v, fl] : ops.ops) {
      if (!log_->fits(k.size(), v.size())) return StoreStatus::Io("record too large");
      bytes += k.size() + v.size() + IngestLog::kRecordHeader + 16;
    }
    if (bytes > log_->capacity() / 4) return StoreStatus::Io("batch too large");
    return append_all(ops.ops);
  }
  rocksdb::WriteOptions wo = write_options();
  wo.sync = options_.sync;
  auto st = db_->Write(wo, &batch.raw());
  batch.clear();
  return from_rocks(st);
}

StoreStatus Store::settle(std::chrono::milliseconds timeout) {
  if (!log_) return {};
  const uint64_t target = log_->appended_seq();
  if (log_->released_seq() >= target) return {};
  applied_waiters_.fetch_add(1);
  wake_writer();
  bool done;
  {
    std::unique_lock lock(applied_mutex_);
    done = applied_cv_.wait_for(lock, timeout, [&] { return log_->released_seq() >= target; });
  }
  applied_waiters_.fetch_sub(1);
  return done ? StoreStatus{}
              : StoreStatus::Unavailable("the storage writer did not catch up in time");
}

StoreStatus Store::scan(const Family* f, std::string_view prefix, std::string_view from,
                        bool reverse, const Visitor& visit) const {
  rocksdb::ReadOptions ro;
  std::string upper;  // first key after the prefix range
  upper.assign(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  rocksdb::Slice upper_slice;
  if (!upper.empty()) {
    upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
    upper_slice = slice(upper);
    ro.iterate_upper_bound = &upper_slice;
  }
  rocksdb::Slice lower_slice = slice(prefix);
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, f->handle));
  if (!reverse) {
    it->Seek(slice(from.empty() ? prefix : from));
  } else if (from.empty()) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(slice(from));
  }
  for (; it->Valid(); reverse ? it->Prev() : it->Next()) {
    auto k = it->key();
    if (!k.starts_with(slice(prefix))) break;
    if (!visit(std::string_view(k.data(), k.size()),
               std::string_view(it->value().data(), it->value().size())))
      break;
  }
  return from_rocks(it->status());
}

StoreStatus Store::groups(const Family* f, std::string_view prefix, size_t length,
                          const GroupVisitor& visit) const {
  if (length < prefix.size()) return StoreStatus::Invalid("group shorter than its prefix");
  rocksdb::ReadOptions ro;
  rocksdb::Slice lower_slice = slice(prefix);
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, f->handle));
  std::string next(prefix);
  it->Seek(slice(next));
  while (it->Valid()) {
    auto k = it->key();
    if (!k.starts_with(slice(prefix))) break;
    if (k.size() < length) {  // a shorter key inside the prefix: not a group
      it->Next();
      continue;
    }
    std::string_view group(k.data(), length);
    if (!visit(group)) break;
    // The first key after every key of this group: the group's bytes plus one, with carry.
    next.assign(group);
    while (!next.empty() && static_cast<unsigned char>(next.back()) == 0xff) next.pop_back();
    if (next.size() <= prefix.size()) break;  // the last possible group of the prefix
    next.back() = static_cast<char>(static_cast<unsigned char>(next.back()) + 1);
    it->Seek(slice(next));
  }
  return from_rocks(it->status());
}

StoreStatus Store::compact(const Family* f) {
  rocksdb::CompactRangeOptions co;
  co.exclusive_manual_compaction = false;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  co.allow_write_stall = false;
  return from_rocks(db_->CompactRange(co, f->handle, nullptr, nullptr));
}

rocksdb::ColumnFamilyHandle* Store::handle_by_id_locked(uint32_t id) const {
  if (system_ && system_->id == id) return system_->handle;
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

}  // namespace c8y::storage

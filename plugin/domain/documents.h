// Time-ordered JSON documents of one kind (events, alarms, operations) in a tenant's family.
//
// Keys (storage/keys.h):
//   <tag> <group:8 BE> <time:8 BE> <id:8 BE>  -> the document (Cumulocity JSON, without links)
//   <TAG> <id:8 BE>                            -> <group:8 BE> <time:8 BE> (where the id lives)
// `group` is what queries select first: the source device for events and alarms, the device
// for operations. Within a group documents are in time order, so "by device and date range" is
// one range scan, and "all devices" is a per-group scan merged in time order (groups are found
// with a seek past each group, never by reading every document).
//
// A document's JSON always holds "id", "time" (ISO 8601) and "source": {"id"} or "deviceId".
// Thread safety: like Store. Read-modify-write callers hold TenantSpace::objects_mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "plugin/domain/tenant_space.h"
#include "storage/store.h"

namespace c8y::domain {

struct DocRef {
  uint64_t id = 0;
  uint64_t group = 0;
  int64_t time_ms = 0;
};

struct DocQuery {
  uint64_t group = 0;             // 0 = every group
  int64_t date_from = INT64_MIN;  // inclusive
  int64_t date_to = INT64_MAX;    // exclusive
  bool revert = false;            // newest first
  size_t page_size = 5;
  size_t page = 1;
  // Optional filter on the document; documents it rejects do not count for paging.
  std::function<bool(const nlohmann::json&)> match;
  // At most this many documents are examined (a filter that no key serves is bounded).
  size_t max_examined = 200000;
  bool count_total = false;  // also count every match (withTotalPages): scans the whole range
};

struct DocPage {
  std::vector<nlohmann::json> docs;
  bool more = false;
  bool truncated = false;       // max_examined was reached before the page was complete
  std::optional<size_t> total;  // matches in all, when count_total was asked and not truncated
};

class Documents {
 public:
  // `ingest`: new documents of this kind take the store's ingest path (append()), so reads
  // first wait until the ingest log is in RocksDB (Store::settle). Kinds written only at once
  // (alarms, operations) never wait: their reads sit on the broker thread's hot path.
  Documents(storage::Store& store, TenantSpace& space, char tag, char index_tag,
            bool ingest = false)
      : store_(store), space_(space), tag_(tag), index_tag_(index_tag), ingest_(ingest) {}

  // Adds the puts of a new or moved document to `batch` (remove the old key first when the time
  // or group changes: see move()).
  void put(storage::Batch& batch, const DocRef& ref, const nlohmann::json& doc) const;
  void put_dumped(storage::Batch& batch, const DocRef& ref, std::string_view dumped) const;
  // Stores a new document through the store's ingest path (append-only data such as events:
  // the same durability as measurements, nothing written on the broker thread).
  storage::StoreStatus append(const DocRef& ref, const nlohmann::json& doc) const;
  storage::StoreStatus append_dumped(const DocRef& ref, std::string_view dumped) const;
  void remove(storage::Batch& batch, const DocRef& ref) const;
  // Where a document lives; nullopt if unknown.
  std::optional<DocRef> locate(uint64_t id) const;
  std::optional<nlohmann::json> get(uint64_t id, DocRef* ref = nullptr) const;
  // Visits the documents of one group in time order (reverse: newest first) until the visitor
  // returns false.
  storage::StoreStatus scan_group(
      uint64_t group, bool reverse,
      const std::function<bool(const DocRef&, const nlohmann::json&)>& visit) const;
  storage::StoreStatus query(const DocQuery& q, DocPage* out) const;

  std::string key(const DocRef& ref) const;
  std::string index_key(uint64_t id) const;

 private:
  storage::Store& store_;
  TenantSpace& space_;
  char tag_;
  char index_tag_;
  bool ingest_;
  storage::StoreStatus settle() const { return ingest_ ? store_.settle() : storage::StoreStatus{}; }
};

}  // namespace c8y::domain

// Events of one tenant: Cumulocity-shaped JSON documents grouped by source device.
//
// Keys (storage/keys.h): "e" <source> <time> <id> -> event JSON; "E" <id> -> where it lives.
// New events take the ingest path (like measurements: durable per the durability setting,
// nothing written on the broker thread). Changes (REST PUT, 407) are read-modify-write under
// TenantSpace::objects_mutex and written at once as one WriteBatch.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "plugin/domain/documents.h"

namespace c8y::domain {

struct EventQuery {
  uint64_t source = 0;
  std::string type;
  std::string fragment;  // fragmentType
  int64_t date_from = INT64_MIN;
  int64_t date_to = INT64_MAX;
  // Cumulocity lists events newest first (by time, then id); its revert=true asks for oldest
  // first. Both orders are one scan of the time-ordered keys (forward or backward).
  bool oldest_first = false;
  size_t page_size = 5;
  size_t page = 1;
  bool count_total = false;
};

class Events {
 public:
  Events(storage::Store& store, TenantSpace& space)
      : store_(store), space_(space), docs_(store, space, 'e', 'E', /*ingest=*/true) {}

  // The event document (id, source, time, creationTime, type, text, fragments), without storing.
  // `id` 0 leaves the id out (events of the transient and CEP modes are never stored).
  static nlohmann::json make(uint64_t id, uint64_t source, int64_t time_ms, const std::string& type,
                             const std::string& text, const nlohmann::json& fragments);
  // Creates and stores an event; returns its document in *out.
  storage::StoreStatus create(uint64_t source, int64_t time_ms, const std::string& type,
                              const std::string& text, const nlohmann::json& fragments,
                              nlohmann::json* out);
  std::optional<nlohmann::json> get(uint64_t id) const { return docs_.get(id); }
  // REST PUT: text and custom fragments change (null removes a fragment); id, source, type,
  // time and creationTime do not. Not found: kNotFound.
  storage::StoreStatus update(uint64_t id, const nlohmann::json& changes, nlohmann::json* out);
  storage::StoreStatus remove(uint64_t id);
  // 407: removes fragments from the latest event of `type` of `source`. kNotFound if none.
  storage::StoreStatus remove_fragments_of_latest(uint64_t source, const std::string& type,
                                                  const std::vector<std::string>& fragments,
                                                  nlohmann::json* out);
  storage::StoreStatus query(const EventQuery& q, DocPage* out) const;

 private:
  storage::StoreStatus rewrite(const DocRef& ref, nlohmann::json& doc);
  storage::Store& store_;
  TenantSpace& space_;
  Documents docs_;
};

// Keys of an event that are not custom fragments (REST PUT cannot change or remove them).
bool is_event_base_key(const std::string& key);

}  // namespace c8y::domain

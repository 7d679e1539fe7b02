// Alarms of one tenant: Cumulocity-shaped JSON documents grouped by source device, with
// de-duplication: at most one alarm per (source, type) is not CLEARED. Raising a type that has
// one raises its count and moves its time instead of creating another.
//
// Keys (storage/keys.h): "a" <source> <time> <id> -> alarm JSON; "A" <id> -> where it lives;
// "k" <source> <type> -> id of the open (ACTIVE or ACKNOWLEDGED) alarm of that type.
// Every change is read-modify-write under TenantSpace::objects_mutex and one WriteBatch
// (document, id index and open-alarm index together) through the store's ingest path (durable
// per the durability setting; readers settle first). Open alarms are cached in the TenantSpace,
// so raising an open alarm again reads nothing from storage. A new alarm and a status change add
// an audit record (domain/audit.h) to the change's WriteBatch; a repeated raise (count + 1) does
// not.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "plugin/domain/audit.h"
#include "plugin/domain/documents.h"

namespace c8y::domain {

bool is_alarm_severity(std::string_view s);  // CRITICAL, MAJOR, MINOR, WARNING
bool is_alarm_status(std::string_view s);    // ACTIVE, ACKNOWLEDGED, CLEARED

struct AlarmQuery {
  uint64_t source = 0;
  std::vector<std::string> status;    // any of; empty = all
  std::vector<std::string> severity;  // any of; empty = all
  std::vector<std::string> type;      // any of; empty = all
  std::optional<bool> resolved;       // true = CLEARED only, false = not CLEARED
  int64_t date_from = INT64_MIN;
  int64_t date_to = INT64_MAX;
  // Cumulocity lists alarms newest first (by time, then id); its revert=true asks for oldest
  // first. Both orders are one scan of the time-ordered keys (forward or backward).
  bool oldest_first = false;
  size_t page_size = 5;
  size_t page = 1;
  bool count_total = false;
};

struct AlarmChange {
  storage::StoreStatus status;
  nlohmann::json alarm;  // the alarm after the change
  bool created = false;  // a new alarm (otherwise an existing one changed)
};

class Alarms {
 public:
  Alarms(storage::Store& store, TenantSpace& space)
      : store_(store),
        space_(space),
        docs_(store, space, 'a', 'A', /*ingest=*/true),
        audit_(store, space) {}

  // Who makes the changes through this object: the audit records' "user" (the REST caller, or
  // the device's MQTT user name).
  std::string actor;

  // false: AlarmChange::alarm may stay empty where copying it costs (a repeated raise); set it
  // when nobody needs the document (no stream subscriber).
  bool return_docs = true;

  // The alarm document without storing it (transient mode); id 0 leaves the id out.
  static nlohmann::json make(uint64_t id, uint64_t source, int64_t time_ms, const std::string& type,
                             const std::string& severity, const std::string& text,
                             const nlohmann::json& fragments);
  // Raise: a new ACTIVE alarm, or the open alarm of this type with count + 1 and the new time.
  AlarmChange raise(uint64_t source, int64_t time_ms, const std::string& type,
                    const std::string& severity, const std::string& text,
                    const nlohmann::json& fragments);
  // 305: the open alarm of this type gets `severity`. kNotFound if none is open.
  AlarmChange set_severity(uint64_t source, const std::string& type, const std::string& severity);
  // 306: the open alarm of this type becomes CLEARED. kNotFound if none is open.
  AlarmChange clear(uint64_t source, const std::string& type);
  // 307: removes fragments from the open alarm of this type (or the latest one of the type).
  AlarmChange remove_fragments(uint64_t source, const std::string& type,
                               const std::vector<std::string>& fragments);
  // REST PUT: status, severity, text and custom fragments. A CLEARED alarm cannot be reopened
  // (kError with a message); an unknown status or severity is an error too.
  AlarmChange update(uint64_t id, const nlohmann::json& changes);
  // As update(), on the open (ACTIVE, else ACKNOWLEDGED) alarm of this type of `source`
  // (custom template PUT ALARM). kNotFound if none is open.
  AlarmChange update_open(uint64_t source, const std::string& type, const nlohmann::json& changes);
  std::optional<nlohmann::json> get(uint64_t id) const { return docs_.get(id); }
  storage::StoreStatus query(const AlarmQuery& q, DocPage* out) const;
  // Applies `changes` (as update()) to every alarm the query selects, at most `limit` of them
  // (the first `limit` in the query's order: the newest unless oldest_first); alarms the change
  // cannot apply to are skipped. `changed` receives the changed alarms.
  storage::StoreStatus update_all(const AlarmQuery& q, const nlohmann::json& changes, size_t limit,
                                  std::vector<nlohmann::json>* changed);

 private:
  std::string open_key(uint64_t source, const std::string& type) const;
  std::optional<std::pair<DocRef, nlohmann::json>> open_alarm(uint64_t source,
                                                              const std::string& type) const;
  AlarmChange apply(const DocRef& ref, nlohmann::json doc, const nlohmann::json& changes);
  void cache_open(const std::string& key, const DocRef& ref, const nlohmann::json& doc);
  void audit(storage::Batch& b, const nlohmann::json& alarm, const std::string& from);
  storage::Store& store_;
  TenantSpace& space_;
  Documents docs_;
  AuditLog audit_;
};

}  // namespace c8y::domain

// The audit log of one tenant (Cumulocity's /audit/auditRecords): who changed what, when.
//
// Recorded: operation creation and status changes, alarm creation and status changes (from the
// REST API and from devices), user, tenant and trusted-certificate changes. Never measurements,
// events or repeated raises of an open alarm: the device path writes a record only when a status
// changes.
//
// Keys (storage/keys.h), in the tenant's family:
//   "r" <0:8 BE> <time:8 BE> <id:8 BE>      -> record JSON (one time-ordered range: list all)
//   "R" <id:8 BE>                           -> <0:8 BE> <time:8 BE> (GET by id)
//   "s" <source:8 BE> <time:8 BE> <id:8 BE> -> the same JSON, for records with a source (the
//                                              history of one operation or alarm is one range)
// Records are small and rare next to measurements, so the copy costs less than a second lookup
// per hit. A record is added to the WriteBatch of the change it describes where the change is
// one batch in this tenant's family (operations, alarms); changes stored elsewhere (users,
// tenants, certificates live in the system family) are recorded right after, with record().
// Records go through the store's ingest path when their batch does, so reads settle first.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "plugin/domain/documents.h"

namespace c8y::domain {

struct AuditEntry {
  std::string type;      // "Operation", "Alarm", "User", "Tenant", "TrustedCertificates"
  std::string activity;  // "Operation created", "Alarm updated", ...
  std::string text;
  std::string user;     // who made the change (the REST caller, or the device's MQTT user)
  uint64_t source = 0;  // the changed object (operation or alarm id); 0 = none
  std::string severity = "information";
  nlohmann::json changes = nlohmann::json::array();  // audit_change() items
};

// One item of "changes": {attribute, type, previousValue, newValue, changeType: "REPLACED"}.
nlohmann::json audit_change(const std::string& attribute, const std::string& type,
                            const nlohmann::json& previous, const nlohmann::json& next);

struct AuditQuery {
  uint64_t source = 0;  // 0 = any
  std::string type;     // "" = any
  std::string user;     // "" = any
  int64_t date_from = INT64_MIN;
  int64_t date_to = INT64_MAX;
  bool revert = false;
  size_t page_size = 5;
  size_t page = 1;
  bool count_total = false;
};

class AuditLog {
 public:
  AuditLog(storage::Store& store, TenantSpace& space)
      : store_(store),
        space_(space),
        all_(store, space, 'r', 'R', /*ingest=*/true),
        by_source_(store, space, 's', 'S', /*ingest=*/true) {}

  // Adds the record's puts to `batch`; the caller writes it with its change. false (nothing
  // added) when no id can be allocated: the change itself should still go ahead.
  bool add(storage::Batch& batch, const AuditEntry& e, nlohmann::json* out = nullptr);
  // A record on its own, written at once.
  storage::StoreStatus record(const AuditEntry& e, nlohmann::json* out = nullptr);
  std::optional<nlohmann::json> get(uint64_t id) const { return all_.get(id); }
  storage::StoreStatus query(const AuditQuery& q, DocPage* out) const;

 private:
  storage::Store& store_;
  TenantSpace& space_;
  Documents all_;
  Documents by_source_;
};

}  // namespace c8y::domain

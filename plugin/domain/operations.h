// Operations of one tenant: Cumulocity-shaped JSON documents grouped by the device they are for.
//
// Keys (storage/keys.h): "o" <device> <creation time> <id> -> operation JSON; "O" <id> -> where.
// Status changes are read-modify-write under TenantSpace::objects_mutex, one WriteBatch each,
// and follow the state table of operation_state.h. Creation and every status change add an
// audit record (domain/audit.h) to that WriteBatch.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "plugin/domain/audit.h"
#include "plugin/domain/documents.h"
#include "plugin/domain/operation_state.h"

namespace c8y::domain {

struct OperationQuery {
  std::vector<uint64_t> devices;  // empty = every device; else any of these
  std::string status;
  std::string fragment;
  int64_t date_from = INT64_MIN;
  int64_t date_to = INT64_MAX;
  bool revert = false;
  size_t page_size = 5;
  size_t page = 1;
  bool count_total = false;
};

struct OperationChange {
  // kNotFound: no such operation; kInvalid: a refused change or transition, the reason in the
  // message (for an s/e line or a 422).
  storage::StoreStatus status;
  nlohmann::json operation;  // after the change
};

class Operations {
 public:
  Operations(storage::Store& store, TenantSpace& space)
      : store_(store), space_(space), docs_(store, space, 'o', 'O'), audit_(store, space) {}

  // Who makes the changes through this object: the audit records' "user" (the REST caller, or
  // the device's MQTT user name).
  std::string actor;

  // A new PENDING operation for `device` with the body's fragments (id, status, deviceId and
  // times are the store's).
  storage::StoreStatus create(uint64_t device, const nlohmann::json& body, int64_t now_ms,
                              nlohmann::json* out);
  std::optional<nlohmann::json> get(uint64_t id) const { return docs_.get(id); }
  // The operations of `device` in `status`, oldest first (at most `limit`).
  // A read failure gives a shorter list and sets `st` (when given).
  std::vector<nlohmann::json> with_status(uint64_t device, OpStatus status, size_t limit,
                                          storage::StoreStatus* st = nullptr) const;
  // Status template on the oldest operation of `device` in the template's selecting status that
  // has `fragment` (501-503), or on operation `id` (504-506, which must be `device`'s), or on all
  // EXECUTING ones (507, fragment optional). `extra`: fragments merged into the operation(s)
  // (failureReason, results). kNotFound when nothing matches.
  std::vector<OperationChange> apply(StatusTemplate t, uint64_t device, const std::string& fragment,
                                     uint64_t id, const nlohmann::json& extra);
  // REST PUT: status (per rest_transition_allowed) and other fragments.
  OperationChange update(uint64_t id, const nlohmann::json& changes);
  storage::StoreStatus query(const OperationQuery& q, DocPage* out) const;

 private:
  OperationChange set(const DocRef& ref, nlohmann::json doc, OpStatus to,
                      const nlohmann::json& extra);
  void audit(storage::Batch& b, const nlohmann::json& op, const char* activity,
             const std::string& from);
  storage::Store& store_;
  TenantSpace& space_;
  Documents docs_;
  AuditLog audit_;
};

}  // namespace c8y::domain

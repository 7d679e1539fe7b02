#include "plugin/domain/operations.h"

#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"

namespace c8y::domain {
namespace {

bool is_base_key(const std::string& k) {
  return k == "id" || k == "self" || k == "deviceId" || k == "status" || k == "creationTime" ||
         k == "lastUpdated" || k == "deviceName" || k == "bulkOperationId";
}

OpStatus status_of(const nlohmann::json& op) {
  return parse_op_status(op.value("status", "PENDING")).value_or(OpStatus::kPending);
}

}  // namespace

// The audit record of a creation or (with `from`, the old status) a status change, worded as the
// platform does but with the device id where it names the device: "Operation created:
// status='PENDING', description='Restart device', device id='42'" (description if there is one).
void Operations::audit(storage::Batch& b, const nlohmann::json& op, const char* activity,
                       const std::string& from) {
  AuditEntry e;
  e.type = "Operation";
  e.activity = activity;
  const std::string status = op.value("status", "");
  e.text = e.activity + ": status='" + status + "'";
  if (auto d = op.find("description"); d != op.end() && d->is_string())
    e.text += ", description='" + d->get<std::string>() + "'";
  e.text += ", device id='" + op.value("deviceId", "") + "'";
  e.user = actor;
  e.source = parse_id(op.value("id", "")).value_or(0);
  if (!from.empty())
    e.changes.push_back(
        audit_change("status", "com.cumulocity.model.operation.OperationStatus", from, status));
  audit_.add(b, e);
}

storage::StoreStatus Operations::create(uint64_t device, const nlohmann::json& body, int64_t now_ms,
                                        nlohmann::json* out) {
  const uint64_t id = space_.ids.next();
  if (!id) return storage::StoreStatus::Io("id allocation failed");
  nlohmann::json op = nlohmann::json::object();
  for (auto& [k, v] : body.items())
    if (!is_base_key(k) && !v.is_null()) op[k] = v;
  op["id"] = format_id(id);
  op["deviceId"] = format_id(device);
  op["status"] = "PENDING";
  op["creationTime"] = common::format_iso8601_ms(now_ms);
  op["lastUpdated"] = op["creationTime"];
  storage::Batch b;
  docs_.put(b, {id, device, now_ms}, op);
  audit(b, op, "Operation created", "");
  auto st = store_.write(b);
  if (st.ok()) space_.metrics.operation_reached("PENDING");
  if (st.ok() && out) *out = std::move(op);
  return st;
}

std::vector<nlohmann::json> Operations::with_status(uint64_t device, OpStatus status, size_t limit,
                                                    storage::StoreStatus* st) const {
  std::vector<nlohmann::json> out;
  auto scanned = docs_.scan_group(device, false, [&](const DocRef&, const nlohmann::json& j) {
    if (status_of(j) == status) out.push_back(j);
    return out.size() < limit;
  });
  if (st) *st = std::move(scanned);
  return out;
}

OperationChange Operations::set(const DocRef& ref, nlohmann::json doc, OpStatus to,
                                const nlohmann::json& extra) {
  OperationChange r;
  for (auto& [k, v] : extra.items()) {
    if (is_base_key(k)) continue;
    if (v.is_object() && doc.contains(k) && doc[k].is_object())
      doc[k].update(v);  // e.g. c8y_Command.result next to c8y_Command.text
    else
      doc[k] = v;
  }
  const std::string from = doc.value("status", "PENDING");
  doc["status"] = std::string(to_string(to));
  doc["lastUpdated"] = now_iso8601();
  storage::Batch b;
  docs_.put(b, ref, doc);
  if (from != to_string(to)) audit(b, doc, "Operation updated", from);
  r.status = store_.write(b);
  if (r.status.ok() && from != to_string(to)) space_.metrics.operation_reached(to_string(to));
  r.operation = std::move(doc);
  return r;
}

std::vector<OperationChange> Operations::apply(StatusTemplate t, uint64_t device,
                                               const std::string& fragment, uint64_t id,
                                               const nlohmann::json& extra) {
  std::lock_guard lock(space_.objects_mutex);
  std::vector<OperationChange> out;
  std::vector<std::pair<DocRef, nlohmann::json>> targets;
  if (auto sel = selects(t)) {
    auto scanned = docs_.scan_group(device, false, [&](const DocRef& r, const nlohmann::json& j) {
      if (status_of(j) != *sel) return true;
      if (!fragment.empty() && !j.contains(fragment)) return true;
      targets.emplace_back(r, j);
      return t == StatusTemplate::k507;  // 507 takes all, the others the oldest
    });
    if (!scanned.ok()) {
      OperationChange r;
      r.status = std::move(scanned);
      out.push_back(std::move(r));
      return out;
    }
  } else {
    DocRef ref;
    auto doc = docs_.get(id, &ref);
    if (doc && ref.group == device) targets.emplace_back(ref, std::move(*doc));
  }
  if (targets.empty()) {
    OperationChange r;
    r.status = {storage::StoreStatus::kNotFound, "no matching operation"};
    out.push_back(std::move(r));
    return out;
  }
  for (auto& [ref, doc] : targets) {
    auto tr = domain::apply(t, status_of(doc));
    if (!tr.to) {
      OperationChange r;
      r.status = storage::StoreStatus::Invalid(tr.error);
      r.operation = doc;
      out.push_back(std::move(r));
      continue;
    }
    out.push_back(set(ref, std::move(doc), *tr.to, extra));
  }
  return out;
}

OperationChange Operations::update(uint64_t id, const nlohmann::json& changes) {
  std::lock_guard lock(space_.objects_mutex);
  OperationChange r;
  if (!changes.is_object()) {
    r.status = storage::StoreStatus::Invalid("changes must be a JSON object");
    return r;
  }
  DocRef ref;
  auto doc = docs_.get(id, &ref);
  if (!doc) {
    r.status = {storage::StoreStatus::kNotFound, "operation not found"};
    return r;
  }
  OpStatus to = status_of(*doc);
  if (auto it = changes.find("status"); it != changes.end()) {
    auto parsed = it->is_string() ? parse_op_status(it->get<std::string>()) : std::nullopt;
    if (!parsed) {
      r.status =
          storage::StoreStatus::Invalid("status must be PENDING, EXECUTING, SUCCESSFUL or FAILED");
      return r;
    }
    if (!rest_transition_allowed(to, *parsed)) {
      r.status = storage::StoreStatus::Invalid("an operation in " + std::string(to_string(to)) +
                                               " cannot become " + std::string(to_string(*parsed)));
      return r;
    }
    to = *parsed;
  }
  return set(ref, std::move(*doc), to, changes);
}

storage::StoreStatus Operations::query(const OperationQuery& q, DocPage* out) const {
  DocQuery d;
  d.group = q.devices.size() == 1 ? q.devices[0] : 0;
  d.date_from = q.date_from;
  d.date_to = q.date_to;
  d.revert = q.revert;
  d.page_size = q.page_size;
  d.page = q.page;
  d.count_total = q.count_total;
  d.match = [&q](const nlohmann::json& j) {
    if (!q.status.empty() && j.value("status", "") != q.status) return false;
    if (!q.fragment.empty() && !j.contains(q.fragment)) return false;
    if (q.devices.size() > 1) {
      auto dev = parse_id(j.value("deviceId", ""));
      if (!dev) return false;
      bool any = false;
      for (auto d2 : q.devices) any |= d2 == *dev;
      if (!any) return false;
    }
    return true;
  };
  return docs_.query(d, out);
}

}  // namespace c8y::domain

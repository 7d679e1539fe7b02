#include "plugin/domain/audit.h"

#include <chrono>

#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"

namespace c8y::domain {

nlohmann::json audit_change(const std::string& attribute, const std::string& type,
                            const nlohmann::json& previous, const nlohmann::json& next) {
  return {{"attribute", attribute},
          {"type", type},
          {"previousValue", previous},
          {"newValue", next},
          {"changeType", "REPLACED"}};
}

bool AuditLog::add(storage::Batch& batch, const AuditEntry& e, nlohmann::json* out) {
  const uint64_t id = space_.ids.next();
  if (!id) return false;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string at = common::format_iso8601_ms(now);
  nlohmann::json r = {{"id", format_id(id)}, {"type", e.type},     {"activity", e.activity},
                      {"text", e.text},      {"user", e.user},     {"severity", e.severity},
                      {"time", at},          {"creationTime", at}, {"changes", e.changes}};
  if (e.source) r["source"] = {{"id", format_id(e.source)}};
  const std::string dumped = r.dump();
  all_.put_dumped(batch, {id, 0, now}, dumped);
  if (e.source) batch.put(space_.family, by_source_.key({id, e.source, now}), dumped);
  if (out) *out = std::move(r);
  return true;
}

storage::StoreStatus AuditLog::record(const AuditEntry& e, nlohmann::json* out) {
  storage::Batch b;
  if (!add(b, e, out)) return storage::StoreStatus::Io("id allocation failed");
  return store_.write(b);
}

storage::StoreStatus AuditLog::query(const AuditQuery& q, DocPage* out) const {
  DocQuery d;
  d.group = q.source;  // 0: the "r" range holds one group, 0, so "every group" is that range
  d.date_from = q.date_from;
  d.date_to = q.date_to;
  d.revert = q.revert;
  d.page_size = q.page_size;
  d.page = q.page;
  d.count_total = q.count_total;
  if (!q.type.empty() || !q.user.empty())
    d.match = [&q](const nlohmann::json& j) {
      return (q.type.empty() || j.value("type", "") == q.type) &&
             (q.user.empty() || j.value("user", "") == q.user);
    };
  return (q.source ? by_source_ : all_).query(d, out);
}

}  // namespace c8y::domain

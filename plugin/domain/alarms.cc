#include "plugin/domain/alarms.h"

#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"
#include "storage/keys.h"

namespace c8y::domain {
namespace {

bool is_base_key(const std::string& k) {
  return k == "id" || k == "self" || k == "source" || k == "type" || k == "time" ||
         k == "creationTime" || k == "lastUpdated" || k == "count" || k == "firstOccurrenceTime" ||
         k == "status" || k == "severity" || k == "text";
}

storage::StoreStatus not_found(std::string m) {
  return {storage::StoreStatus::kNotFound, std::move(m)};
}

}  // namespace

bool is_alarm_severity(std::string_view s) {
  return s == "CRITICAL" || s == "MAJOR" || s == "MINOR" || s == "WARNING";
}
bool is_alarm_status(std::string_view s) {
  return s == "ACTIVE" || s == "ACKNOWLEDGED" || s == "CLEARED";
}

std::string Alarms::open_key(uint64_t source, const std::string& type) const {
  std::string k = "k";
  storage::append_u64(k, source);
  k += type;
  return k;
}

nlohmann::json Alarms::make(uint64_t id, uint64_t source, int64_t time_ms, const std::string& type,
                            const std::string& severity, const std::string& text,
                            const nlohmann::json& fragments) {
  nlohmann::json a = nlohmann::json::object();
  if (id) a["id"] = format_id(id);
  a["source"] = {{"id", format_id(source)}};
  a["type"] = type;
  a["text"] = text;
  a["severity"] = severity;
  a["status"] = "ACTIVE";
  a["count"] = 1;
  a["time"] = common::format_iso8601_ms(time_ms);
  a["firstOccurrenceTime"] = a["time"];
  const std::string now = now_iso8601();
  a["creationTime"] = now;
  a["lastUpdated"] = now;
  if (fragments.is_object())
    for (auto& [k, v] : fragments.items())
      if (!is_base_key(k) && !v.is_null()) a[k] = v;
  return a;
}

// from "": the alarm was created; otherwise its status changed from `from`.
void Alarms::audit(storage::Batch& b, const nlohmann::json& alarm, const std::string& from) {
  AuditEntry e;
  e.type = "Alarm";
  e.activity = from.empty() ? "Alarm created" : "Alarm updated";
  const std::string status = alarm.value("status", "");
  e.text = e.activity + ": status='" + status + "', type='" + alarm.value("type", "") +
           "', severity='" + alarm.value("severity", "") + "', text='" + alarm.value("text", "") +
           "', device id='" + alarm.value("source", nlohmann::json::object()).value("id", "") + "'";
  e.user = actor;
  e.source = parse_id(alarm.value("id", "")).value_or(0);
  if (!from.empty())
    e.changes.push_back(
        audit_change("status", "com.cumulocity.model.event.CumulocityAlarmStatuses", from, status));
  audit_.add(b, e);
}

void Alarms::cache_open(const std::string& key, const DocRef& ref, const nlohmann::json& doc) {
  auto& cache = space_.open_alarms;
  if (cache.size() > 200000 && !cache.count(key)) cache.clear();  // bounded memory
  cache[key] = {ref.id, ref.group, ref.time_ms, doc};
}

std::optional<std::pair<DocRef, nlohmann::json>> Alarms::open_alarm(uint64_t source,
                                                                    const std::string& type) const {
  const std::string key = open_key(source, type);
  if (auto it = space_.open_alarms.find(key); it != space_.open_alarms.end())
    return std::make_pair(DocRef{it->second.id, it->second.group, it->second.time_ms},
                          it->second.doc);
  if (!store_.settle().ok()) return std::nullopt;
  std::string v;
  if (!store_.get(space_.family, key, &v).ok() || v.size() != 8) return std::nullopt;
  DocRef ref;
  auto doc = docs_.get(storage::read_u64(v, 0), &ref);
  if (!doc) return std::nullopt;
  const_cast<Alarms*>(this)->cache_open(key, ref, *doc);
  return std::make_pair(ref, std::move(*doc));
}

AlarmChange Alarms::raise(uint64_t source, int64_t time_ms, const std::string& type,
                          const std::string& severity, const std::string& text,
                          const nlohmann::json& fragments) {
  AlarmChange r;
  if (!is_alarm_severity(severity)) {
    r.status = storage::StoreStatus::Invalid("severity must be CRITICAL, MAJOR, MINOR or WARNING");
    return r;
  }
  std::lock_guard lock(space_.objects_mutex);
  storage::Batch b;
  const std::string key = open_key(source, type);
  auto it = space_.open_alarms.find(key);
  if (it == space_.open_alarms.end() && open_alarm(source, type))
    it = space_.open_alarms.find(key);  // loaded into the cache
  if (it != space_.open_alarms.end()) {
    // The open alarm of this type, changed in the cache in place: one JSON dump, no reads.
    auto& c = it->second;
    c.doc["count"] = c.doc.value("count", 1) + 1;
    c.doc["time"] = common::format_iso8601_ms(time_ms);
    c.doc["lastUpdated"] = now_iso8601();
    const DocRef old{c.id, c.group, c.time_ms}, moved{c.id, source, time_ms};
    if (old.time_ms != time_ms) b.del(space_.family, docs_.key(old));  // the key holds the time
    docs_.put(b, moved, c.doc);
    r.status = store_.write(b, storage::Store::When::kDurabilitySetting);
    if (!r.status.ok()) {
      space_.open_alarms.erase(it);  // storage decides again next time
      return r;
    }
    c.time_ms = time_ms;
    if (return_docs) r.alarm = c.doc;
    return r;
  }
  const uint64_t id = space_.ids.next();
  if (!id) {
    r.status = storage::StoreStatus::Io("id allocation failed");
    return r;
  }
  r.alarm = make(id, source, time_ms, type, severity, text, fragments);
  docs_.put(b, {id, source, time_ms}, r.alarm);
  audit(b, r.alarm, "");
  std::string idv;
  storage::append_u64(idv, id);
  b.put(space_.family, open_key(source, type), idv);
  r.status = store_.write(b, storage::Store::When::kDurabilitySetting);
  if (r.status.ok()) cache_open(open_key(source, type), {id, source, time_ms}, r.alarm);
  r.created = true;
  return r;
}

AlarmChange Alarms::apply(const DocRef& ref, nlohmann::json doc, const nlohmann::json& changes) {
  AlarmChange r;
  const std::string old_status = doc.value("status", "ACTIVE");
  std::string status = old_status;
  if (auto it = changes.find("status"); it != changes.end()) {
    if (!it->is_string() || !is_alarm_status(it->get<std::string>())) {
      r.status = storage::StoreStatus::Invalid("status must be ACTIVE, ACKNOWLEDGED or CLEARED");
      return r;
    }
    status = it->get<std::string>();
    if (old_status == "CLEARED" && status != "CLEARED") {
      r.status =
          storage::StoreStatus::Invalid("a CLEARED alarm cannot be reopened; raise a new one");
      return r;
    }
  }
  if (auto it = changes.find("severity"); it != changes.end()) {
    if (!it->is_string() || !is_alarm_severity(it->get<std::string>())) {
      r.status =
          storage::StoreStatus::Invalid("severity must be CRITICAL, MAJOR, MINOR or WARNING");
      return r;
    }
    doc["severity"] = *it;
  }
  if (auto it = changes.find("text"); it != changes.end()) {
    if (!it->is_string()) {
      r.status = storage::StoreStatus::Invalid("text must be a string");
      return r;
    }
    doc["text"] = *it;
  }
  for (auto& [k, v] : changes.items()) {
    if (is_base_key(k)) continue;
    if (v.is_null())
      doc.erase(k);
    else
      doc[k] = v;
  }
  doc["status"] = status;
  doc["lastUpdated"] = now_iso8601();
  storage::Batch b;
  docs_.put(b, ref, doc);
  const std::string ok = open_key(ref.group, doc.value("type", ""));
  // Is this alarm the open one of its type? (The cache knows; otherwise the index.)
  bool is_open = false;
  if (auto it = space_.open_alarms.find(ok); it != space_.open_alarms.end()) {
    is_open = it->second.id == ref.id;
  } else if (old_status != "CLEARED") {
    std::string v;
    is_open = store_.settle().ok() && store_.get(space_.family, ok, &v).ok() && v.size() == 8 &&
              storage::read_u64(v, 0) == ref.id;
  }
  const bool clearing = status == "CLEARED" && old_status != "CLEARED";
  if (clearing && is_open) b.del(space_.family, ok);
  if (status != old_status) audit(b, doc, old_status);
  r.status = store_.write(b, storage::Store::When::kDurabilitySetting);
  if (r.status.ok() && is_open) {
    if (clearing)
      space_.open_alarms.erase(ok);
    else
      cache_open(ok, ref, doc);
  }
  r.alarm = std::move(doc);
  return r;
}

AlarmChange Alarms::set_severity(uint64_t source, const std::string& type,
                                 const std::string& severity) {
  std::lock_guard lock(space_.objects_mutex);
  auto open = open_alarm(source, type);
  if (!open) return {not_found("no open alarm of type " + type), {}, false};
  return apply(open->first, std::move(open->second), {{"severity", severity}});
}

AlarmChange Alarms::clear(uint64_t source, const std::string& type) {
  std::lock_guard lock(space_.objects_mutex);
  auto open = open_alarm(source, type);
  if (!open) return {not_found("no open alarm of type " + type), {}, false};
  return apply(open->first, std::move(open->second), {{"status", "CLEARED"}});
}

AlarmChange Alarms::remove_fragments(uint64_t source, const std::string& type,
                                     const std::vector<std::string>& fragments) {
  std::lock_guard lock(space_.objects_mutex);
  auto open = open_alarm(source, type);
  if (!open) {
    // No open one: the latest alarm of the type.
    size_t examined = 0;
    auto st = docs_.scan_group(source, true, [&](const DocRef& r, const nlohmann::json& j) {
      if (j.value("type", "") == type) {
        open.emplace(r, j);
        return false;
      }
      return ++examined < 10000;
    });
    if (!st.ok()) return {st, {}, false};
  }
  if (!open) return {not_found("no alarm of type " + type), {}, false};
  nlohmann::json changes = nlohmann::json::object();
  for (auto& f : fragments)
    if (!is_base_key(f)) changes[f] = nullptr;
  return apply(open->first, std::move(open->second), changes);
}

AlarmChange Alarms::update(uint64_t id, const nlohmann::json& changes) {
  if (!changes.is_object())
    return {storage::StoreStatus::Invalid("changes must be a JSON object"), {}, false};
  std::lock_guard lock(space_.objects_mutex);
  DocRef ref;
  auto doc = docs_.get(id, &ref);
  if (!doc) return {not_found("alarm not found"), {}, false};
  return apply(ref, std::move(*doc), changes);
}

AlarmChange Alarms::update_open(uint64_t source, const std::string& type,
                                const nlohmann::json& changes) {
  if (!changes.is_object())
    return {storage::StoreStatus::Invalid("changes must be a JSON object"), {}, false};
  std::lock_guard lock(space_.objects_mutex);
  auto open = open_alarm(source, type);
  if (!open) return {not_found("no open alarm of type " + type), {}, false};
  return apply(open->first, std::move(open->second), changes);
}

namespace {

bool any_of(const std::vector<std::string>& list, const nlohmann::json& j, const char* key) {
  if (list.empty()) return true;
  const std::string v = j.value(key, "");
  for (auto& x : list)
    if (x == v) return true;
  return false;
}

DocQuery doc_query(const AlarmQuery& q) {
  DocQuery d;
  d.group = q.source;
  d.date_from = q.date_from;
  d.date_to = q.date_to;
  d.revert = !q.oldest_first;  // DocQuery::revert is newest first
  d.page_size = q.page_size;
  d.page = q.page;
  d.count_total = q.count_total;
  d.match = [q](const nlohmann::json& j) {
    if (!any_of(q.status, j, "status") || !any_of(q.severity, j, "severity") ||
        !any_of(q.type, j, "type"))
      return false;
    if (q.resolved && (j.value("status", "") == "CLEARED") != *q.resolved) return false;
    return true;
  };
  return d;
}

}  // namespace

storage::StoreStatus Alarms::query(const AlarmQuery& q, DocPage* out) const {
  return docs_.query(doc_query(q), out);
}

storage::StoreStatus Alarms::update_all(const AlarmQuery& q, const nlohmann::json& changes,
                                        size_t limit, std::vector<nlohmann::json>* changed) {
  if (!changes.is_object()) return storage::StoreStatus::Invalid("changes must be a JSON object");
  if (auto it = changes.find("status");
      it != changes.end() && (!it->is_string() || !is_alarm_status(it->get<std::string>())))
    return storage::StoreStatus::Invalid("status must be ACTIVE, ACKNOWLEDGED or CLEARED");
  if (auto it = changes.find("severity");
      it != changes.end() && (!it->is_string() || !is_alarm_severity(it->get<std::string>())))
    return storage::StoreStatus::Invalid("severity must be CRITICAL, MAJOR, MINOR or WARNING");
  if (auto it = changes.find("text"); it != changes.end() && !it->is_string())
    return storage::StoreStatus::Invalid("text must be a string");
  if (limit == 0) return {};
  AlarmQuery all = q;
  all.page = 1;
  all.page_size = limit;
  DocPage page;
  if (auto st = query(all, &page); !st.ok()) return st;
  for (auto& doc : page.docs) {
    auto id = parse_id(doc.value("id", ""));
    if (!id) continue;
    // An alarm the change does not apply to (a CLEARED one asked to reopen, say) is skipped;
    // the others still change.
    auto r = update(*id, changes);
    if (r.status.ok() && changed) changed->push_back(std::move(r.alarm));
  }
  return {};
}

}  // namespace c8y::domain

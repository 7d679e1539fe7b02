#include "plugin/domain/events.h"

#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"

namespace c8y::domain {

namespace {

// A JSON string literal (the text is valid UTF-8: checked by the templates and the REST API).
void append_json_string(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (ch < 0x20) {
          out += "\\u00";
          out.push_back(kHex[ch >> 4]);
          out.push_back(kHex[ch & 15]);
        } else {
          out.push_back(static_cast<char>(ch));
        }
    }
  }
  out.push_back('"');
}

}  // namespace

bool is_event_base_key(const std::string& k) {
  return k == "id" || k == "self" || k == "source" || k == "type" || k == "time" ||
         k == "creationTime" || k == "lastUpdated";
}

nlohmann::json Events::make(uint64_t id, uint64_t source, int64_t time_ms, const std::string& type,
                            const std::string& text, const nlohmann::json& fragments) {
  nlohmann::json e = nlohmann::json::object();
  if (id) e["id"] = format_id(id);
  e["source"] = {{"id", format_id(source)}};
  e["type"] = type;
  e["text"] = text;
  e["time"] = common::format_iso8601_ms(time_ms);
  const std::string now = now_iso8601();
  e["creationTime"] = now;
  e["lastUpdated"] = now;
  if (fragments.is_object())
    for (auto& [k, v] : fragments.items())
      if (!is_event_base_key(k) && k != "text" && !v.is_null()) e[k] = v;
  return e;
}

storage::StoreStatus Events::create(uint64_t source, int64_t time_ms, const std::string& type,
                                    const std::string& text, const nlohmann::json& fragments,
                                    nlohmann::json* out) {
  const uint64_t id = space_.ids.next();
  if (!id) return storage::StoreStatus::Io("id allocation failed");
  const bool plain = !fragments.is_object() || fragments.empty();
  if (plain && !out) {
    // The common case (400 from a device, nobody listening): the stored JSON is written
    // directly, without building a document object first.
    thread_local std::string doc;
    const std::string now = now_iso8601();
    doc.clear();
    doc += "{\"creationTime\":\"";
    doc += now;
    doc += "\",\"id\":\"";
    doc += format_id(id);
    doc += "\",\"lastUpdated\":\"";
    doc += now;
    doc += "\",\"source\":{\"id\":\"";
    doc += format_id(source);
    doc += "\"},\"text\":";
    append_json_string(doc, text);
    doc += ",\"time\":\"";
    doc += common::format_iso8601_ms(time_ms);
    doc += "\",\"type\":";
    append_json_string(doc, type);
    doc += '}';
    return docs_.append_dumped({id, source, time_ms}, doc);
  }
  nlohmann::json e = make(id, source, time_ms, type, text, fragments);
  auto st = docs_.append({id, source, time_ms}, e);
  if (st.ok() && out) *out = std::move(e);
  return st;
}

storage::StoreStatus Events::rewrite(const DocRef& ref, nlohmann::json& doc) {
  doc["lastUpdated"] = now_iso8601();
  storage::Batch b;
  docs_.put(b, ref, doc);
  return store_.write(b);
}

storage::StoreStatus Events::update(uint64_t id, const nlohmann::json& changes,
                                    nlohmann::json* out) {
  if (!changes.is_object()) return storage::StoreStatus::Invalid("changes must be a JSON object");
  if (auto t = changes.find("text"); t != changes.end() && !t->is_string())
    return storage::StoreStatus::Invalid("text must be a string");
  std::lock_guard lock(space_.objects_mutex);
  DocRef ref;
  auto doc = docs_.get(id, &ref);
  if (!doc) return {storage::StoreStatus::kNotFound, "event not found"};
  for (auto& [k, v] : changes.items()) {
    if (is_event_base_key(k)) continue;
    if (v.is_null())
      doc->erase(k);
    else
      (*doc)[k] = v;
  }
  auto st = rewrite(ref, *doc);
  if (st.ok() && out) *out = std::move(*doc);
  return st;
}

storage::StoreStatus Events::remove(uint64_t id) {
  std::lock_guard lock(space_.objects_mutex);
  auto ref = docs_.locate(id);
  if (!ref) return {storage::StoreStatus::kNotFound, "event not found"};
  storage::Batch b;
  docs_.remove(b, *ref);
  return store_.write(b);
}

storage::StoreStatus Events::remove_fragments_of_latest(uint64_t source, const std::string& type,
                                                        const std::vector<std::string>& fragments,
                                                        nlohmann::json* out) {
  std::lock_guard lock(space_.objects_mutex);
  std::optional<std::pair<DocRef, nlohmann::json>> found;
  size_t examined = 0;
  auto st = docs_.scan_group(source, /*reverse=*/true, [&](const DocRef& r, const auto& j) {
    if (j.value("type", "") == type) {
      found.emplace(r, j);
      return false;
    }
    return ++examined < 10000;  // bounded: the latest event of a type is normally recent
  });
  if (!st.ok()) return st;
  if (!found) return {storage::StoreStatus::kNotFound, "no event of type " + type};
  for (auto& f : fragments)
    if (!is_event_base_key(f) && f != "text") found->second.erase(f);
  st = rewrite(found->first, found->second);
  if (st.ok() && out) *out = std::move(found->second);
  return st;
}

storage::StoreStatus Events::query(const EventQuery& q, DocPage* out) const {
  DocQuery d;
  d.group = q.source;
  d.date_from = q.date_from;
  d.date_to = q.date_to;
  d.revert = !q.oldest_first;  // DocQuery::revert is newest first
  d.page_size = q.page_size;
  d.page = q.page;
  d.count_total = q.count_total;
  if (!q.type.empty() || !q.fragment.empty())
    d.match = [&q](const nlohmann::json& j) {
      if (!q.type.empty() && j.value("type", "") != q.type) return false;
      if (!q.fragment.empty() && !j.contains(q.fragment)) return false;
      return true;
    };
  return docs_.query(d, out);
}

}  // namespace c8y::domain

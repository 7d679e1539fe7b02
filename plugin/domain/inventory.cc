#include "plugin/domain/inventory.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>

#include "plugin/common/values.h"
#include "storage/keys.h"

namespace c8y::domain {

using nlohmann::json;

std::string now_iso8601() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return common::format_iso8601_ms(ms);
}

std::string format_id(uint64_t id) {
  return std::to_string(id);
}

std::optional<uint64_t> parse_id(std::string_view s) {
  uint64_t v = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0) return std::nullopt;
  return v;
}

std::optional<json> Inventory::get(uint64_t id) const {
  std::string v;
  if (!store_.get(space_.family, storage::key::managed_object(id), &v).ok()) return std::nullopt;
  auto j = json::parse(v, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<uint64_t> Inventory::find_external(std::string_view type,
                                                 std::string_view value) const {
  std::string v;
  if (!store_.get(space_.family, storage::key::external_id(type, value), &v).ok() || v.size() != 8)
    return std::nullopt;
  return storage::read_u64(v, 0);
}

EnsureResult Inventory::ensure_device(const DeviceSpec& spec) {
  EnsureResult r;
  std::lock_guard lock(space_.objects_mutex);
  if (auto id = find_external(kSerialType, spec.serial)) {
    r.id = *id;
    return r;
  }
  uint64_t id = space_.ids.next();
  if (id == 0) {
    r.status = storage::StoreStatus::Io("id allocation failed");
    return r;
  }
  const std::string now = now_iso8601();
  json mo = {{"id", format_id(id)},
             {"name", spec.name.empty() ? "MQTT Device " + spec.serial : spec.name},
             {"type", spec.type.empty() ? "c8y_MQTTDevice" : spec.type},
             {"owner", spec.owner},
             {"creationTime", now},
             {"lastUpdated", now},
             {"childDevices", {{"references", json::array()}}},
             {"deviceParents", {{"references", json::array()}}},
             {"childAssets", {{"references", json::array()}}},
             {"assetParents", {{"references", json::array()}}}};
  if (spec.device_marker) mo["c8y_IsDevice"] = json::object();
  if (spec.agent_marker) mo["com_cumulocity_model_Agent"] = json::object();
  storage::Batch batch;
  std::string id_bytes;
  storage::append_u64(id_bytes, id);
  if (spec.parent) {
    auto parent = get(spec.parent);
    if (!parent) {
      r.status = storage::StoreStatus::Io("parent device not found");
      return r;
    }
    const Relation rel = spec.addition ? Relation::kAddition : Relation::kDevice;
    mo[parents_list(rel)]["references"].push_back(
        {{"managedObject", {{"id", format_id(spec.parent)}, {"name", (*parent)["name"]}}}});
    (*parent)[children_list(rel)]["references"].push_back(
        {{"managedObject", {{"id", format_id(id)}, {"name", mo["name"]}}}});
    (*parent)["lastUpdated"] = now;
    batch.put(space_.family, storage::key::managed_object(spec.parent), parent->dump());
  }
  batch.put(space_.family, storage::key::managed_object(id), mo.dump());
  batch.put(space_.family, storage::key::external_id(kSerialType, spec.serial), id_bytes);
  // Reverse index so that an object's external ids can be listed: "x" <id> <type> \0 <value>.
  std::string rev = "x";
  storage::append_u64(rev, id);
  rev.append(kSerialType).push_back('\0');
  rev.append(spec.serial);
  batch.put(space_.family, rev, "");
  r.status = store_.write(batch);
  if (r.status.ok()) {
    r.id = id;
    r.created = true;
  }
  return r;
}

storage::StoreStatus Inventory::merge(uint64_t id, const json& fragments) {
  return update(id, [&](json& mo) {
    for (auto& [k, v] : fragments.items()) {
      if (k == "id" || k == "self" || k == "creationTime" || k == "owner") continue;
      if (v.is_null())
        mo.erase(k);
      else
        mo[k] = v;
    }
    return true;
  });
}

storage::StoreStatus Inventory::update(uint64_t id, const std::function<bool(json& mo)>& change) {
  std::lock_guard lock(space_.objects_mutex);
  auto mo = get(id);
  if (!mo) return {storage::StoreStatus::kNotFound, "managed object not found"};
  if (!change(*mo)) return {};
  (*mo)["lastUpdated"] = now_iso8601();
  return store_.put(space_.family, storage::key::managed_object(id), mo->dump(),
                    storage::Store::When::kNow);
}

std::vector<std::pair<std::string, std::string>> Inventory::external_ids_of(
    uint64_t id, storage::StoreStatus* st) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::string prefix = "x";
  storage::append_u64(prefix, id);
  auto scanned =
      store_.scan(space_.family, prefix, "", false, [&](std::string_view k, std::string_view) {
        auto rest = k.substr(prefix.size());
        auto nul = rest.find('\0');
        if (nul != std::string_view::npos)
          out.emplace_back(std::string(rest.substr(0, nul)), std::string(rest.substr(nul + 1)));
        return true;
      });
  if (st) *st = std::move(scanned);
  return out;
}

storage::StoreStatus Inventory::list(const std::string& type, const std::string& fragment,
                                     const std::string& owner, size_t page_size, size_t page,
                                     Page* out, const InventoryQuery* query) const {
  size_t skip = (page - 1) * page_size;
  auto wanted = [&](const json& j) {
    if (!j.is_object()) return false;
    if (!type.empty() && j.value("type", "") != type) return false;
    if (!fragment.empty() && !j.contains(fragment)) return false;
    if (!owner.empty() && j.value("owner", "") != owner) return false;
    return !query || query->matches(j);
  };
  if (!query || query->order().empty()) {
    return store_.scan(space_.family, storage::key::managed_object_prefix(), "", false,
                       [&](std::string_view, std::string_view v) {
                         auto j = json::parse(v, nullptr, false);
                         if (!wanted(j)) return true;
                         ++out->total;
                         if (skip > 0) {
                           --skip;
                           return true;
                         }
                         if (out->objects.size() == page_size) {
                           out->more = true;
                           return out->count_total;
                         }
                         out->objects.push_back(std::move(j));
                         return true;
                       });
  }
  // $orderby: every match is visited; the first page * page_size + 1 in order are kept in a
  // max-heap (the last of them on top), ties broken by scan (id) order.
  struct Hit {
    InventoryQuery::SortKey key;
    size_t seq;
    json mo;
  };
  auto before = [&](const Hit& a, const Hit& b) {
    if (query->before(a.key, b.key)) return true;
    if (query->before(b.key, a.key)) return false;
    return a.seq < b.seq;
  };
  const size_t keep = skip + page_size + 1;
  std::vector<Hit> heap;
  size_t seq = 0;
  auto st = store_.scan(space_.family, storage::key::managed_object_prefix(), "", false,
                        [&](std::string_view, std::string_view v) {
                          auto j = json::parse(v, nullptr, false);
                          if (!wanted(j)) return true;
                          ++out->total;
                          Hit h{query->sort_key(j), seq++, std::move(j)};
                          if (heap.size() == keep) {
                            if (!before(h, heap.front())) return true;
                            std::pop_heap(heap.begin(), heap.end(), before);
                            heap.pop_back();
                          }
                          heap.push_back(std::move(h));
                          std::push_heap(heap.begin(), heap.end(), before);
                          return true;
                        });
  if (!st.ok()) return st;
  std::sort_heap(heap.begin(), heap.end(), before);
  out->more = heap.size() > skip + page_size;
  for (size_t i = skip; i < heap.size() && i < skip + page_size; ++i)
    out->objects.push_back(std::move(heap[i].mo));
  return {};
}

bool Inventory::is_relation_list(std::string_view fragment) {
  for (Relation r : kRelations)
    if (fragment == children_list(r) || fragment == parents_list(r)) return true;
  return false;
}

namespace {

std::string reverse_external(uint64_t id, std::string_view type, std::string_view value) {
  std::string rev = "x";
  storage::append_u64(rev, id);
  rev.append(type).push_back('\0');
  rev.append(value);
  return rev;
}

void drop_reference(json& mo, const char* list, uint64_t id) {
  auto& refs = mo[list]["references"];
  if (!refs.is_array()) return;
  const std::string ids = format_id(id);
  json kept = json::array();
  for (auto& r : refs)
    if (r["managedObject"].value("id", "") != ids) kept.push_back(r);
  refs = std::move(kept);
}

}  // namespace

storage::StoreStatus Inventory::create(const json& body, const std::string& owner, json* out) {
  const uint64_t id = space_.ids.next();
  if (!id) return storage::StoreStatus::Io("id allocation failed");
  const std::string now = now_iso8601();
  json mo = json::object();
  for (auto& [k, v] : body.items())
    if (k != "id" && k != "self" && k != "owner" && k != "creationTime" && k != "lastUpdated" &&
        !is_relation_list(k) && !v.is_null())
      mo[k] = v;
  mo["id"] = format_id(id);
  mo["owner"] = owner;
  mo["creationTime"] = now;
  mo["lastUpdated"] = now;
  mo["childDevices"] = {{"references", json::array()}};
  mo["deviceParents"] = {{"references", json::array()}};
  mo["childAssets"] = {{"references", json::array()}};
  mo["assetParents"] = {{"references", json::array()}};
  auto st = store_.put(space_.family, storage::key::managed_object(id), mo.dump(),
                       storage::Store::When::kNow);
  if (st.ok() && out) *out = std::move(mo);
  return st;
}

storage::StoreStatus Inventory::remove(uint64_t id) {
  std::lock_guard lock(space_.objects_mutex);
  auto mo = get(id);
  if (!mo) return {storage::StoreStatus::kNotFound, "managed object not found"};
  storage::Batch b;
  // Every object this one references (as parent or child, in any relation) forgets it. One
  // object may be met several times (a child device that is also an asset): the changes are
  // made on one copy, written once.
  std::map<uint64_t, json> others;
  for (Relation rel : kRelations) {
    for (auto [list, other] : {std::pair{parents_list(rel), children_list(rel)},
                               std::pair{children_list(rel), parents_list(rel)}}) {
      auto& refs = (*mo)[list]["references"];
      if (!refs.is_array()) continue;
      for (auto& r : refs) {
        if (!r.is_object() || !r["managedObject"].is_object()) continue;
        auto oid = parse_id(r["managedObject"].value("id", ""));
        if (!oid || *oid == id) continue;
        auto it = others.find(*oid);
        if (it == others.end()) {
          auto o = get(*oid);
          if (!o) continue;
          it = others.emplace(*oid, std::move(*o)).first;
        }
        drop_reference(it->second, other, id);
        it->second["lastUpdated"] = now_iso8601();
      }
    }
  }
  for (auto& [oid, o] : others) b.put(space_.family, storage::key::managed_object(oid), o.dump());
  for (auto& [type, value] : external_ids_of(id)) {
    b.del(space_.family, storage::key::external_id(type, value));
    b.del(space_.family, reverse_external(id, type, value));
  }
  b.del(space_.family, storage::key::managed_object(id));
  b.del(space_.family, storage::key::presence(id));
  return store_.write(b);
}

std::optional<uint64_t> Inventory::parent_of(const json& mo) const {
  for (const char* list : {"deviceParents", "additionParents"}) {
    auto l = mo.find(list);
    if (l == mo.end() || !l->is_object()) continue;
    auto refs = l->find("references");
    if (refs == l->end() || !refs->is_array() || refs->empty()) continue;
    const json& first = (*refs)[0];
    if (!first.is_object() || !first.contains("managedObject") ||
        !first["managedObject"].is_object())
      continue;
    if (auto id = parse_id(first["managedObject"].value("id", ""))) return id;
  }
  return std::nullopt;
}

storage::StoreStatus Inventory::add_child(uint64_t parent, uint64_t child, Relation relation,
                                          uint64_t* missing) {
  std::lock_guard lock(space_.objects_mutex);
  auto p = get(parent);
  auto c = get(child);
  if (!p || !c) {
    if (missing) *missing = p ? child : parent;
    return {storage::StoreStatus::kNotFound, "managed object not found"};
  }
  if (parent == child) return storage::StoreStatus::Invalid("an object cannot be its own child");
  const std::string cid = format_id(child), pid = format_id(parent);
  auto& children = (*p)[children_list(relation)]["references"];
  if (!children.is_array()) children = json::array();
  for (auto& r : children)
    if (r["managedObject"].value("id", "") == cid) return {};
  const std::string now = now_iso8601();
  children.push_back({{"managedObject", {{"id", cid}, {"name", c->value("name", "")}}}});
  auto& parents = (*c)[parents_list(relation)]["references"];
  if (!parents.is_array()) parents = json::array();
  parents.push_back({{"managedObject", {{"id", pid}, {"name", p->value("name", "")}}}});
  (*p)["lastUpdated"] = now;
  (*c)["lastUpdated"] = now;
  storage::Batch b;
  b.put(space_.family, storage::key::managed_object(parent), p->dump());
  b.put(space_.family, storage::key::managed_object(child), c->dump());
  return store_.write(b);
}

storage::StoreStatus Inventory::remove_child(uint64_t parent, uint64_t child, Relation relation,
                                             uint64_t* missing) {
  std::lock_guard lock(space_.objects_mutex);
  auto p = get(parent);
  auto c = p ? get(child) : std::nullopt;
  const std::string cid = format_id(child);
  bool referenced = false;
  if (c) {
    const json& refs = (*p)[children_list(relation)]["references"];
    if (refs.is_array())
      for (const auto& r : refs)
        if (r.is_object() && r.contains("managedObject") && r["managedObject"].is_object() &&
            r["managedObject"].value("id", "") == cid)
          referenced = true;
  }
  if (!p || !c || !referenced) {
    if (missing) *missing = p ? child : parent;
    return {storage::StoreStatus::kNotFound, "managed object not found"};
  }
  drop_reference(*p, children_list(relation), child);
  drop_reference(*c, parents_list(relation), parent);
  const std::string now = now_iso8601();
  (*p)["lastUpdated"] = now;
  (*c)["lastUpdated"] = now;
  storage::Batch b;
  b.put(space_.family, storage::key::managed_object(parent), p->dump());
  b.put(space_.family, storage::key::managed_object(child), c->dump());
  return store_.write(b);
}

storage::StoreStatus Inventory::add_external_id(uint64_t id, std::string_view type,
                                                std::string_view value) {
  std::lock_guard lock(space_.objects_mutex);
  if (!get(id)) return {storage::StoreStatus::kNotFound, "managed object not found"};
  if (auto existing = find_external(type, value)) {
    if (*existing == id) return {};
    return {storage::StoreStatus::kConflict, "external id belongs to another object"};
  }
  std::string id_bytes;
  storage::append_u64(id_bytes, id);
  storage::Batch b;
  b.put(space_.family, storage::key::external_id(type, value), id_bytes);
  b.put(space_.family, reverse_external(id, type, value), "");
  return store_.write(b);
}

storage::StoreStatus Inventory::set_connection(uint64_t id, bool connected) {
  nlohmann::json f = {{"c8y_Connection", {{"status", connected ? "CONNECTED" : "DISCONNECTED"}}}};
  if (auto st = merge(id, f); !st.ok()) return st;
  if (connected)
    return store_.put(space_.family, storage::key::presence(id), "", storage::Store::When::kNow);
  storage::Batch b;
  b.del(space_.family, storage::key::presence(id));
  return store_.write(b);
}

storage::StoreStatus Inventory::connected_devices(std::vector<uint64_t>* out) const {
  return store_.scan(space_.family, storage::key::presence_prefix(), "", false,
                     [&](std::string_view k, std::string_view) {
                       if (k.size() == 9) out->push_back(storage::read_u64(k, 1));
                       return true;
                     });
}

storage::StoreStatus Inventory::for_each_containing(
    std::string_view text,
    const std::function<bool(uint64_t id, const nlohmann::json& mo)>& fn) const {
  return store_.scan(space_.family, storage::key::managed_object_prefix(), "", false,
                     [&](std::string_view k, std::string_view v) {
                       if (k.size() != 9 || v.find(text) == std::string_view::npos) return true;
                       auto mo = nlohmann::json::parse(v, nullptr, false);
                       if (!mo.is_object()) return true;
                       return fn(storage::read_u64(k, 1), mo);
                     });
}

}  // namespace c8y::domain

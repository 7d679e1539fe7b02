#include "plugin/domain/documents.h"

#include <algorithm>

#include "storage/keys.h"

namespace c8y::domain {

std::string Documents::key(const DocRef& ref) const {
  std::string k(1, tag_);
  storage::append_u64(k, ref.group);
  storage::append_u64(k, storage::time_key(ref.time_ms));
  storage::append_u64(k, ref.id);
  return k;
}

std::string Documents::index_key(uint64_t id) const {
  std::string k(1, index_tag_);
  storage::append_u64(k, id);
  return k;
}

void Documents::put(storage::Batch& batch, const DocRef& ref, const nlohmann::json& doc) const {
  put_dumped(batch, ref, doc.dump());
}

void Documents::put_dumped(storage::Batch& batch, const DocRef& ref,
                           std::string_view dumped) const {
  std::string where;
  storage::append_u64(where, ref.group);
  storage::append_u64(where, storage::time_key(ref.time_ms));
  batch.put(space_.family, key(ref), dumped);
  batch.put(space_.family, index_key(ref.id), where);
}

storage::StoreStatus Documents::append(const DocRef& ref, const nlohmann::json& doc) const {
  return append_dumped(ref, doc.dump());
}

storage::StoreStatus Documents::append_dumped(const DocRef& ref, std::string_view dumped) const {
  std::string where;
  storage::append_u64(where, ref.group);
  storage::append_u64(where, storage::time_key(ref.time_ms));
  // The index first: a reader that finds the document can always locate it by id too.
  return store_.put_together(space_.family, {{index_key(ref.id), where}, {key(ref), dumped}});
}

void Documents::remove(storage::Batch& batch, const DocRef& ref) const {
  batch.del(space_.family, key(ref));
  batch.del(space_.family, index_key(ref.id));
}

std::optional<DocRef> Documents::locate(uint64_t id) const {
  if (!settle().ok()) return std::nullopt;
  std::string where;
  if (!store_.get(space_.family, index_key(id), &where).ok() || where.size() != 16)
    return std::nullopt;
  return DocRef{id, storage::read_u64(where, 0),
                storage::time_from_key(storage::read_u64(where, 8))};
}

std::optional<nlohmann::json> Documents::get(uint64_t id, DocRef* ref) const {
  auto r = locate(id);
  if (!r) return std::nullopt;
  std::string v;
  if (!store_.get(space_.family, key(*r), &v).ok()) return std::nullopt;
  auto j = nlohmann::json::parse(v, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  if (ref) *ref = *r;
  return j;
}

storage::StoreStatus Documents::scan_group(
    uint64_t group, bool reverse,
    const std::function<bool(const DocRef&, const nlohmann::json&)>& visit) const {
  if (auto st = settle(); !st.ok()) return st;
  std::string prefix(1, tag_);
  storage::append_u64(prefix, group);
  return store_.scan(space_.family, prefix, "", reverse, [&](auto k, auto v) {
    if (k.size() != 25) return true;
    DocRef ref{storage::read_u64(k, 17), group, storage::time_from_key(storage::read_u64(k, 9))};
    auto j = nlohmann::json::parse(v, nullptr, false);
    if (j.is_discarded()) return true;
    return visit(ref, j);
  });
}

namespace {

struct Hit {
  int64_t time;
  uint64_t id;
  nlohmann::json doc;
};

}  // namespace

storage::StoreStatus Documents::query(const DocQuery& q, DocPage* out) const {
  *out = DocPage{};
  if (q.page == 0 || q.page_size == 0)
    return storage::StoreStatus::Invalid("page and page size start at 1");
  if (auto st = settle(); !st.ok()) return st;
  if (q.date_from >= q.date_to) {  // an empty range (and no seek before the first time key)
    if (q.count_total) out->total = 0;
    return {};
  }
  const size_t want = q.page * q.page_size + 1;
  std::vector<Hit> hits;
  size_t examined = 0, matched = 0;
  auto scan_one = [&](uint64_t group) -> storage::StoreStatus {
    std::string prefix(1, tag_);
    storage::append_u64(prefix, group);
    std::string from = prefix;
    if (!q.revert) {
      if (q.date_from != INT64_MIN) storage::append_u64(from, storage::time_key(q.date_from));
    } else if (q.date_to != INT64_MAX) {
      storage::append_u64(from, storage::time_key(q.date_to) - 1);
      storage::append_u64(from, UINT64_MAX);
    } else {
      from.clear();
    }
    size_t taken = 0;
    return store_.scan(space_.family, prefix, from, q.revert, [&](auto k, auto v) {
      if (k.size() != 25) return true;
      int64_t t = storage::time_from_key(storage::read_u64(k, 9));
      if (t < q.date_from) return q.revert ? false : true;
      if (t >= q.date_to) return q.revert ? true : false;
      if (++examined > q.max_examined) {
        out->truncated = true;
        return false;
      }
      auto j = nlohmann::json::parse(v, nullptr, false);
      if (j.is_discarded() || (q.match && !q.match(j))) return true;
      ++matched;
      if (taken < want) {
        hits.push_back({t, storage::read_u64(k, 17), std::move(j)});
        ++taken;
      }
      return taken < want || q.count_total;
    });
  };
  if (q.group) {
    if (auto st = scan_one(q.group); !st.ok()) return st;
  } else {
    const std::string tag(1, tag_);
    std::string from = tag;
    for (;;) {
      uint64_t found = 0;
      bool any = false;
      auto st = store_.scan(space_.family, tag, from, false, [&](auto k, auto) {
        if (k.size() >= 9) {
          found = storage::read_u64(k, 1);
          any = true;
        }
        return false;
      });
      if (!st.ok()) return st;
      if (!any) break;
      if (auto s2 = scan_one(found); !s2.ok()) return s2;
      if (found == UINT64_MAX || out->truncated) break;
      from = tag;
      storage::append_u64(from, found + 1);
    }
  }
  std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
    if (a.time != b.time) return q.revert ? a.time > b.time : a.time < b.time;
    return q.revert ? a.id > b.id : a.id < b.id;
  });
  const size_t begin = (q.page - 1) * q.page_size;
  out->more = hits.size() > begin + q.page_size;
  if (q.count_total && !out->truncated) out->total = matched;
  for (size_t i = begin; i < hits.size() && i < begin + q.page_size; ++i)
    out->docs.push_back(std::move(hits[i].doc));
  return {};
}

}  // namespace c8y::domain

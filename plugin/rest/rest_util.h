// Helpers shared by the REST route files (internal to plugin/rest).
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/common/values.h"
#include "plugin/domain/documents.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/measurement.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/rest/http.h"

namespace c8y::rest {

using nlohmann::json;

inline constexpr size_t kMaxPageSize = 2000;

// The tenant whose admin manages the other tenants (and sees their users and certificates).
inline constexpr std::string_view kManagementTenant = "management";

// Now on the wall clock, in milliseconds since the epoch.
inline int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An error answered as Cumulocity does: {"error": "<domain>/<kind>", "message": ...}.
struct HttpError {
  int status;
  std::string error;
  std::string message;
};

inline void send_json(Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

inline void send_error(Response& res, const HttpError& e) {
  send_json(res, e.status, {{"error", e.error}, {"message", e.message}});
}

struct Caller {
  std::string tenant;
  std::string user;
  domain::TenantSpace* space = nullptr;
  std::string base;  // "http://host:port"
  // A device token (Bearer): the request was checked against the route's device scope
  // (rest_routes.h); device_id is 0 while the device object does not exist.
  bool device = false;
  std::string serial;
  uint64_t device_id = 0;
};

inline std::optional<size_t> param_size(const Request& req, const char* name, size_t def,
                                        size_t min, size_t max, HttpError* err) {
  if (!req.has_param(name)) return def;
  auto v = req.get_param_value(name);
  size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < min) {
    *err = {400, "general/badRequest",
            std::string("Invalid value of query parameter ") + name + ": '" + v + "'"};
    return std::nullopt;
  }
  return std::min(n, max);
}

// The paging parameters of a list endpoint (param_paging).
struct Paging {
  size_t page_size = 5;
  size_t page = 1;
  bool with_total_pages = false;     // withTotalPages=true
  bool with_total_elements = false;  // withTotalElements=true
  // Either asks for the number of matches (a scan of the whole selection).
  bool count_total() const { return with_total_pages || with_total_elements; }
};

// A page of a list: self/next/prev links that keep the other query parameters, and statistics
// (totalPages when `total` is known; totalElements too when the client asked for it).

// Percent-encodes a query parameter name or value for the links of a collection (RFC 3986
// unreserved characters stay as they are), so that a link carrying a query is a valid URL.
inline std::string query_escape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

inline json paged(const Caller& c, const std::string& path, const Request& req,
                  const char* collection, json items, const Paging& paging, bool more,
                  std::optional<size_t> total = std::nullopt) {
  json out;
  std::string query;
  for (auto& [k, v] : req.params)
    if (k != "currentPage" && k != "pageSize")
      query += "&" + query_escape(k) + "=" + query_escape(v);
  auto link = [&](size_t p) {
    return c.base + path + "?pageSize=" + std::to_string(paging.page_size) +
           "&currentPage=" + std::to_string(p) + query;
  };
  out["self"] = link(paging.page);
  out[collection] = std::move(items);
  out["statistics"] = {{"currentPage", paging.page}, {"pageSize", paging.page_size}};
  if (total) {
    out["statistics"]["totalPages"] = (*total + paging.page_size - 1) / paging.page_size;
    if (paging.with_total_elements) out["statistics"]["totalElements"] = *total;
  }
  if (more) out["next"] = link(paging.page + 1);
  if (paging.page > 1) out["prev"] = link(paging.page - 1);
  return out;
}

// A page of a list held whole in memory (tenants, users, new-device requests, certificates):
// the items of the page through `out`, leaving out those it makes null (gone meanwhile), with
// the list's size as the total.
template <class T, class Out>
json list_page(const Caller& c, const std::string& path, const Request& req, const char* collection,
               const std::vector<T>& all, const Paging& paging, Out out) {
  json items = json::array();
  const size_t begin = (paging.page - 1) * paging.page_size;
  for (size_t i = begin; i < all.size() && i < begin + paging.page_size; ++i)
    if (json item = out(all[i]); !item.is_null()) items.push_back(std::move(item));
  return paged(c, path, req, collection, std::move(items), paging,
               all.size() > begin + paging.page_size, all.size());
}

// A page of stored documents (events, alarms, operations, audit records) as a collection: each
// document through `out` (which adds its links), paged links, and `"truncated": true` in the
// statistics when the scan stopped at its bound before the page was complete.
template <class Out>
json doc_page(const Caller& c, const std::string& path, const Request& req, const char* collection,
              domain::DocPage& page, const Paging& paging, Out out) {
  json items = json::array();
  for (auto& d : page.docs) items.push_back(out(c, std::move(d)));
  json j = paged(c, path, req, collection, std::move(items), paging, page.more, page.total);
  if (page.truncated) j["statistics"]["truncated"] = true;
  return j;
}

// The 404 of a managed object that does not exist (in the caller's tenant).
inline HttpError object_not_found(const std::string& raw_id) {
  return {404, "inventory/Not Found",
          "Finding device data from database failed : No managedObject for id '" + raw_id + "'!"};
}

// Adds "self" links to the object and to the references in its six reference lists.
inline void add_self_links(const Caller& c, json& mo) {
  const std::string self = c.base + "/inventory/managedObjects/" + mo.value("id", "");
  mo["self"] = self;
  for (auto relation : domain::Inventory::kRelations) {
    for (const char* rel :
         {domain::Inventory::children_list(relation), domain::Inventory::parents_list(relation)}) {
      if (!mo.contains(rel) || !mo[rel].is_object()) continue;
      mo[rel]["self"] = self + "/" + rel;
      for (auto& r : mo[rel]["references"]) {
        auto& ref_mo = r["managedObject"];
        ref_mo["self"] = c.base + "/inventory/managedObjects/" + ref_mo.value("id", "");
        r["self"] = self + "/" + rel + "/" + ref_mo.value("id", "");
      }
    }
  }
}

inline json measurement_out(const Caller& c, const domain::Measurement& m) {
  json j = domain::measurement_json(m);
  j["self"] = c.base + "/measurement/measurements/" + j["id"].get<std::string>();
  j["source"]["self"] =
      c.base + "/inventory/managedObjects/" + j["source"]["id"].get<std::string>();
  return j;
}

// Query parameters shared by the collection endpoints. Each returns false after filling `err`.
inline bool param_id(const Request& req, const char* name, uint64_t* out, HttpError* err) {
  if (!req.has_param(name)) return true;
  auto v = req.get_param_value(name);
  auto id = domain::parse_id(v);
  if (!id) {
    *err = {400, "general/badRequest",
            std::string("Invalid value of query parameter ") + name + ": '" + v + "'"};
    return false;
  }
  *out = *id;
  return true;
}

inline bool param_time(const Request& req, const char* name, int64_t* out, HttpError* err) {
  if (!req.has_param(name)) return true;
  auto t = common::parse_iso8601_ms(req.get_param_value(name));
  if (!t) {
    *err = {400, "general/badRequest",
            std::string("Invalid value of query parameter ") + name + ": '" +
                req.get_param_value(name) + "'"};
    return false;
  }
  *out = *t;
  return true;
}

// source, dateFrom and dateTo into the query `q` (its fields of those names) and revert into
// `revert`: the filters every list of a device's data takes, checked in that order.
template <class Query>
bool param_source_window(const Request& req, Query* q, std::optional<bool>* revert, HttpError* err);

// The one parser of boolean query parameters: "true" or "false", anything else 400 (every
// endpoint answers a bad boolean the same way). Absent: true with *out untouched.
inline bool param_bool(const Request& req, const char* name, std::optional<bool>* out,
                       HttpError* err) {
  if (!req.has_param(name)) return true;
  auto v = req.get_param_value(name);
  if (v != "true" && v != "false") {
    *err = {400, "general/badRequest",
            std::string("Invalid value of query parameter ") + name + ": '" + v + "'"};
    return false;
  }
  *out = v == "true";
  return true;
}

template <class Query>
bool param_source_window(const Request& req, Query* q, std::optional<bool>* revert,
                         HttpError* err) {
  return param_id(req, "source", &q->source, err) &&
         param_time(req, "dateFrom", &q->date_from, err) &&
         param_time(req, "dateTo", &q->date_to, err) && param_bool(req, "revert", revert, err);
}

// Comma-separated list parameter ("status=ACTIVE,ACKNOWLEDGED").
inline std::vector<std::string> param_list(const Request& req, const char* name) {
  std::vector<std::string> out;
  if (!req.has_param(name)) return out;
  std::string v = req.get_param_value(name);
  size_t at = 0;
  while (at <= v.size()) {
    size_t comma = v.find(',', at);
    if (comma == std::string::npos) comma = v.size();
    if (comma > at) out.push_back(v.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

// Boolean parameters this server accepts but whose answer does not depend on them (a managed
// object always carries its child and parent references): still validated, so that a bad value
// is a 400 here as on every other endpoint.
inline bool param_bools_ignored(const Request& req, std::initializer_list<const char*> names,
                                HttpError* err) {
  std::optional<bool> unused;
  for (const char* n : names)
    if (!param_bool(req, n, &unused, err)) return false;
  return true;
}

// Filters this server does not implement: answered with 400 instead of ignored, so a client never
// mistakes an unfiltered answer for a filtered one.
inline bool refuse_unsupported(const Request& req, std::initializer_list<const char*> names,
                               HttpError* err) {
  for (const char* n : names)
    if (req.has_param(n)) {
      *err = {400, "general/badRequest",
              std::string("Query parameter ") + n + " is not supported by this server"};
      return true;
    }
  return false;
}

// pageSize (1..kMaxPageSize, default 5), currentPage (from 1), withTotalPages, withTotalElements.
inline std::optional<Paging> param_paging(const Request& req, HttpError* err) {
  auto page_size = param_size(req, "pageSize", 5, 1, kMaxPageSize, err);
  if (!page_size) return std::nullopt;
  auto page = param_size(req, "currentPage", 1, 1, 1u << 20, err);
  if (!page) return std::nullopt;
  std::optional<bool> pages, elements;
  if (!param_bool(req, "withTotalPages", &pages, err) ||
      !param_bool(req, "withTotalElements", &elements, err))
    return std::nullopt;
  return Paging{*page_size, *page, pages.value_or(false), elements.value_or(false)};
}

inline constexpr int kMaxJsonDepth = 32;

// The request body as a JSON object: 400 for bad JSON, nesting deeper than kMaxJsonDepth, or
// anything but an object. (The size limit is the server's payload limit: 413.)
inline std::optional<json> body_object(const Request& req, HttpError* err) {
  bool too_deep = false;
  json j = json::parse(
      req.body,
      [&](int depth, json::parse_event_t, json&) {
        if (depth > kMaxJsonDepth) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep) {
    *err = {400, "general/badRequest",
            "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
    return std::nullopt;
  }
  if (j.is_discarded()) {
    *err = {400, "general/badRequest", "Request body is not valid JSON"};
    return std::nullopt;
  }
  if (!j.is_object()) {
    *err = {400, "general/badRequest", "Request body must be a JSON object"};
    return std::nullopt;
  }
  return j;
}

// The audit records' "user" for a change the caller makes in `tenant`: the user name, qualified
// with the caller's tenant when that is another one (the management admin).
inline std::string actor_in(const Caller& c, const std::string& tenant) {
  return c.tenant == tenant ? c.user : c.tenant + "/" + c.user;
}

inline std::string source_self(const Caller& c, const json& doc) {
  return c.base + "/inventory/managedObjects/" + doc["source"].value("id", "");
}

}  // namespace c8y::rest

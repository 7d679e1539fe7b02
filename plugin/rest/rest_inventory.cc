// /inventory/managedObjects: managed objects, their reference lists (child devices, additions,
// assets) and the series a device has sent (Cumulocity's inventory API).
#include <algorithm>

#include "plugin/domain/inventory.h"
#include "plugin/domain/inventory_query.h"
#include "plugin/domain/measurement.h"
#include "plugin/rest/rest_handlers.h"
#include "plugin/rest/rest_util.h"
#include "plugin/smartrest/custom_templates.h"

namespace c8y::rest::inventory {
namespace {

HttpError internal(const storage::StoreStatus& st) {
  return {500, "general/internalError", st.message};
}

std::optional<uint64_t> json_id(const json& j) {
  if (j.is_string()) return domain::parse_id(j.get<std::string>());
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  return std::nullopt;
}

// Why `mo`, if it carries a template collection, is not a valid one (nullopt: fine or none).
std::optional<std::string> template_collection_error(const json& mo) {
  if (!mo.contains(smartrest::kTemplateCollectionFragment)) return std::nullopt;
  std::vector<smartrest::CustomTemplateError> errors;
  const std::string name = mo.contains("name") && mo["name"].is_string()
                               ? mo["name"].get<std::string>()
                               : std::string("collection");
  if (smartrest::from_managed_object(mo, name, 1, &errors)) return std::nullopt;
  if (errors.empty()) return "invalid template collection";
  return "invalid template collection: " + errors[0].id + ": " + errors[0].text;
}

// query= / q=: Cumulocity's inventory query language (the subset in domain/inventory_query.h).
// q= is a device query: it adds has(c8y_IsDevice), as Cumulocity does. nullopt without either;
// *err filled (400) when the text is refused.
std::optional<domain::InventoryQuery> inventory_query(const Request& req, bool* bad,
                                                      HttpError* err) {
  *bad = false;
  const bool query = req.has_param("query"), q = req.has_param("q");
  if (!query && !q) return std::nullopt;
  *bad = true;
  if (query && q) {
    *err = {400, "general/badRequest", "Use either query or q, not both"};
    return std::nullopt;
  }
  const char* name = query ? "query" : "q";
  const std::string text = req.get_param_value(name);
  // An empty query is no filter: @c8y/client sends query= for an empty query object.
  if (text.find_first_not_of(" \t") == std::string::npos) {
    *bad = false;
    domain::InventoryQuery all;
    if (q) all.require_fragment("c8y_IsDevice");
    return all;
  }
  std::string why;
  auto parsed = domain::InventoryQuery::parse(text, &why);
  if (!parsed) {
    *err = {400, "general/badRequest", std::string("Invalid query parameter ") + name + ": " + why};
    return std::nullopt;
  }
  if (q) parsed->require_fragment("c8y_IsDevice");
  *bad = false;
  return parsed;
}

// The filters of a list or count: type, fragmentType, owner and a query (query= or q=); the
// filters this server does not implement are refused. False after filling `err` (400).
struct Filter {
  std::optional<domain::InventoryQuery> query;
};
bool inventory_filter(const Request& req, Filter* f, HttpError* err) {
  if (refuse_unsupported(req, {"text", "ids", "childAssetId", "childDeviceId"}, err)) return false;
  bool bad = false;
  f->query = inventory_query(req, &bad, err);
  return !bad;
}

// One page of the objects `f` selects.
storage::StoreStatus list_objects(RestContext& ctx, const Caller& c, const Request& req,
                                  const Filter& f, size_t page_size, size_t page,
                                  domain::Inventory::Page* p) {
  domain::Inventory inv(ctx.store, *c.space);
  // A query is evaluated over a scan of the tenant's objects (there is no index): without
  // $orderby the scan stops after the page (unless the total is counted), with it every object
  // is read (domain::Inventory::list).
  return inv.list(req.get_param_value("type"), req.get_param_value("fragmentType"),
                  req.get_param_value("owner"), page_size, page, p, f.query ? &*f.query : nullptr);
}

// The path's object (the route's first capture) with its self links; nullopt after answering 404.
std::optional<json> path_object(RestContext& ctx, const Caller& c, const Request& req,
                                Response& res) {
  const std::string raw = req.matches[1];
  auto id = domain::parse_id(raw);
  domain::Inventory inv(ctx.store, *c.space);
  auto mo = id ? inv.get(*id) : std::nullopt;
  if (!mo) {
    send_error(res, object_not_found(raw));
    return std::nullopt;
  }
  add_self_links(c, *mo);
  return mo;
}

domain::Inventory::Relation relation_of(const std::string& list) {
  for (auto r : domain::Inventory::kRelations)
    if (list == domain::Inventory::children_list(r)) return r;
  return domain::Inventory::Relation::kDevice;
}

// A reference between two objects in one of the parent's lists, as the path names them.
struct Reference {
  uint64_t parent = 0, child = 0;
  std::string raw_parent, raw_child;  // as in the path or body, for the 404
  domain::Inventory::Relation relation = domain::Inventory::Relation::kDevice;
};

// Adds or removes the reference. Done: both objects are reported changed (the broker thread's
// caches and availability). Otherwise false after answering: a 404 naming the missing object, or
// another failure (422 for an add, which refuses an object as its own child; 500 for a remove).
// An add names the child only when it is the one missing (else the parent, also when both are);
// a remove names the parent only when it is the one missing (else the child, which may also be
// missing from the list).
bool change_reference(RestContext& ctx, const Caller& c, Response& res, const Reference& r,
                      bool add) {
  domain::Inventory inv(ctx.store, *c.space);
  uint64_t missing = 0;
  auto st = add ? inv.add_child(r.parent, r.child, r.relation, &missing)
                : inv.remove_child(r.parent, r.child, r.relation, &missing);
  if (st.not_found()) {
    const bool parent_missing = add ? missing != r.child : missing == r.parent;
    send_error(res, object_not_found(parent_missing ? r.raw_parent : r.raw_child));
    return false;
  }
  if (!st.ok()) {
    send_error(res, st.invalid() ? HttpError{422, "validationError", st.message} : internal(st));
    return false;
  }
  ctx.object_changed(c, r.parent, false);
  ctx.object_changed(c, r.child, false);
  return true;
}

}  // namespace

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  Filter f;
  if (!inventory_filter(req, &f, &err)) return send_error(res, err);
  auto paging = param_paging(req, &err);
  if (!paging || !param_bools_ignored(req, {"withParents", "withChildren"}, &err))
    return send_error(res, err);
  domain::Inventory::Page p;
  p.count_total = paging->count_total();
  auto st = list_objects(ctx, c, req, f, paging->page_size, paging->page, &p);
  if (!st.ok()) return send_error(res, internal(st));
  json items = json::array();
  for (auto& mo : p.objects) {
    add_self_links(c, mo);
    items.push_back(std::move(mo));
  }
  send_json(res, 200,
            paged(c, "/inventory/managedObjects", req, "managedObjects", std::move(items), *paging,
                  p.more, p.count_total ? std::optional<size_t>(p.total) : std::nullopt));
}

void count(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  Filter f;
  if (!inventory_filter(req, &f, &err)) return send_error(res, err);
  if (f.query) f.query->clear_order();  // a count needs no order
  domain::Inventory::Page p;
  p.count_total = true;
  auto st = list_objects(ctx, c, req, f, 1, 1, &p);
  if (!st.ok()) return send_error(res, internal(st));
  res.status = 200;
  res.set_content(std::to_string(p.total), "application/json");
}

void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  if (!param_bools_ignored(req, {"withParents", "withChildren"}, &err)) return send_error(res, err);
  auto mo = path_object(ctx, c, req, res);
  if (!mo) return;
  send_json(res, 200, *mo);
}

void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  for (const char* k : {"name", "type"})
    if (body->contains(k) && !(*body)[k].is_string())
      return send_error(res, {422, "validationError", std::string(k) + " must be a string"});
  // A SmartREST 2.0 custom template collection is checked as an s/ut definition is.
  if (auto e = template_collection_error(*body))
    return send_error(res, {422, "validationError", *e});
  domain::Inventory inv(ctx.store, *c.space);
  json mo;
  if (auto st = inv.create(*body, c.user, &mo); !st.ok()) return send_error(res, internal(st));
  ctx.notify(c, "inventory", domain::parse_id(mo["id"].get<std::string>()).value_or(0), "CREATE",
             mo);
  add_self_links(c, mo);
  send_json(res, 201, mo);
}

void update(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  const std::string raw = req.matches[1];
  auto id = domain::parse_id(raw);
  if (!id) return send_error(res, object_not_found(raw));
  json changes = json::object();
  for (auto& [k, v] : body->items())
    if (!domain::Inventory::is_relation_list(k) && k != "lastUpdated") changes[k] = v;
  domain::Inventory inv(ctx.store, *c.space);
  if (changes.contains(smartrest::kTemplateCollectionFragment)) {
    auto current = inv.get(*id);
    if (!current) return send_error(res, object_not_found(raw));
    json next = *current;
    for (auto& [k, v] : changes.items()) next[k] = v;
    if (auto e = template_collection_error(next))
      return send_error(res, {422, "validationError", *e});
  }
  auto st = inv.merge(*id, changes);
  if (st.not_found()) return send_error(res, object_not_found(raw));
  if (!st.ok()) return send_error(res, internal(st));
  auto mo = inv.get(*id);
  if (!mo) return send_error(res, object_not_found(raw));
  ctx.object_changed(c, *id, false);
  ctx.notify(c, "inventory", *id, "UPDATE", *mo);
  add_self_links(c, *mo);
  send_json(res, 200, *mo);
}

void remove(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  const std::string raw = req.matches[1];
  auto id = domain::parse_id(raw);
  domain::Inventory inv(ctx.store, *c.space);
  auto st =
      id ? inv.remove(*id) : storage::StoreStatus{storage::StoreStatus::kNotFound, "not found"};
  if (st.not_found()) return send_error(res, object_not_found(raw));
  if (!st.ok()) return send_error(res, internal(st));
  ctx.object_changed(c, *id, true);
  ctx.notify(c, "inventory", *id, "DELETE", {{"id", raw}});
  res.status = 204;
}

// GET .../{id}/<list>: the references of one list, all on one page.
void children(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto mo = path_object(ctx, c, req, res);
  if (!mo) return;
  const std::string raw = req.matches[1], list = req.matches[2];
  json refs = mo->contains(list) && (*mo)[list].is_object()
                  ? (*mo)[list].value("references", json::array())
                  : json::array();
  if (!refs.is_array()) refs = json::array();
  const size_t n = refs.size();
  send_json(res, 200,
            {{"references", std::move(refs)},
             {"statistics", {{"currentPage", 1}, {"pageSize", std::max<size_t>(n, 1)}}},
             {"self", c.base + "/inventory/managedObjects/" + raw + "/" + list}});
}

// POST .../{id}/<list> {"managedObject": {"id"}}: adds the reference (idempotent).
void add_child(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  Reference r;
  r.raw_parent = req.matches[1];
  auto parent = domain::parse_id(r.raw_parent);
  std::optional<uint64_t> child;
  if (auto m = body->find("managedObject"); m != body->end() && m->is_object() && m->contains("id"))
    child = json_id((*m)["id"]);
  if (!child) return send_error(res, {422, "validationError", "managedObject.id is mandatory"});
  if (!parent) return send_error(res, object_not_found(r.raw_parent));
  r.parent = *parent;
  r.child = *child;
  r.raw_child = domain::format_id(*child);
  r.relation = relation_of(req.matches[2]);
  if (!change_reference(ctx, c, res, r, true)) return;
  send_json(
      res, 201,
      {{"managedObject",
        {{"id", r.raw_child}, {"self", c.base + "/inventory/managedObjects/" + r.raw_child}}}});
}

// DELETE .../{id}/<list>/{childId}: removes the reference (both objects stay).
void remove_child(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  Reference r;
  r.raw_parent = req.matches[1];
  r.raw_child = req.matches[3];
  auto parent = domain::parse_id(r.raw_parent);
  auto child = domain::parse_id(r.raw_child);
  domain::Inventory inv(ctx.store, *c.space);
  if (!parent || !inv.get(*parent)) return send_error(res, object_not_found(r.raw_parent));
  if (!child) return send_error(res, object_not_found(r.raw_child));
  r.parent = *parent;
  r.child = *child;
  r.relation = relation_of(req.matches[2]);
  if (!change_reference(ctx, c, res, r, false)) return;
  res.status = 204;
}

// The measurement fragments / series a device has sent (domain::Measurements::supported_series).
void supported(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  const std::string raw = req.matches[1];
  auto id = domain::parse_id(raw);
  domain::Inventory inv(ctx.store, *c.space);
  if (!id || !inv.get(*id)) return send_error(res, object_not_found(raw));
  std::vector<std::pair<std::string, std::string>> series;
  domain::Measurements ms(ctx.store, *c.space);
  if (auto st = ms.supported_series(*id, &series); !st.ok()) return send_error(res, internal(st));
  json list = json::array();
  if (req.matches[2] == "supportedSeries") {
    for (auto& [fragment, name] : series) list.push_back(fragment + "." + name);
    return send_json(res, 200, {{"c8y_SupportedSeries", std::move(list)}});
  }
  for (size_t i = 0; i < series.size(); ++i)  // sorted: equal fragments are adjacent
    if (i == 0 || series[i].first != series[i - 1].first) list.push_back(series[i].first);
  send_json(res, 200, {{"c8y_SupportedMeasurements", std::move(list)}});
}

}  // namespace c8y::rest::inventory
